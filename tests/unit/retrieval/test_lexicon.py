"""Everyday words → legal words appended to retrieval queries."""

from __future__ import annotations

import pytest

from assistant.retrieval.lexicon import LEXICON_FILE, expand, legal_terms, load_lexicon, spell_out

pytestmark = pytest.mark.unit


def test_everyday_words_bring_the_legal_wording():
    terms = legal_terms("Prévenir le parquet pour un enfant ?")
    assert "informer le procureur du Roi" in terms
    assert "mineur" in terms


def test_matching_ignores_case_and_accents():
    assert legal_terms("TÉMOIN au Tribunal") == legal_terms("temoin au tribunal")
    assert "témoignage en justice" in legal_terms("temoin au tribunal")


def test_star_matches_word_endings_but_not_inside_words():
    assert "procureur du Roi" in legal_terms("les procureurs")
    assert "mineur" not in legal_terms("Le problème du fichier")  # "fils" is not inside "fichier"


def test_hash_matches_any_number():
    assert "mineur" in legal_terms("une petite de 12 ans")
    assert "mineur" in legal_terms("elle a 3 ans")


def test_each_legal_phrase_once_and_question_kept_first():
    expanded = expand("Le parquet, le procureur, le substitut")
    assert expanded.startswith("Le parquet, le procureur, le substitut (")
    assert expanded.count("procureur du Roi") == 1


def test_question_without_everyday_words_is_unchanged():
    assert expand("Que prévoit l'article 458ter ?") == "Que prévoit l'article 458ter ?"


def test_shipped_lexicon_loads_and_every_entry_has_words_and_legal_text():
    entries = load_lexicon(LEXICON_FILE)
    assert len(entries) >= 15
    assert all(pattern.pattern and legal.strip() for pattern, legal, _ in entries)


def test_custom_lexicon_file(tmp_path):
    path = tmp_path / "lexique.yaml"
    path.write_text("- words: [toubib*]\n  legal: médecin\n", encoding="utf-8")
    [(pattern, legal, setting)] = load_lexicon(path)
    assert legal == "médecin" and pattern.search("les toubibs") and not pattern.search("tout") and not setting


def test_the_words_of_the_cpas_setting_can_be_left_out():
    question = "Un usager a tagué la voiture de l'assistante sociale du CPAS"
    assert any("secrets" in legal for legal in legal_terms(question))
    assert not any("secrets" in legal for legal in legal_terms(question, setting=False))
    assert expand(question, setting=False) == question


def test_spell_out_follows_each_known_acronym_with_its_meaning():
    text = spell_out("C'est combien le RIS ? Le SAJ et l'AS du CPAS en parlent.")
    assert "RIS (revenu d'intégration sociale)" in text
    assert "SAJ (service de l'aide à la jeunesse)" in text
    assert "AS (assistant social)" in text


def test_spell_out_leaves_lower_case_words_and_longer_words_alone():
    # "as" (avoir) and "ONEMPLOI" are not the acronyms AS and ONEM.
    question = "Tu as vu ONEMPLOI et la CSIL-R ?"
    assert spell_out(question) == question


def test_a_question_in_english_gets_the_texts_french_words():
    expanded = expand("My client is elderly and her grandson hits her. Can I report it to the prosecutor?")
    for words in ("procureur du Roi", "informer le procureur du Roi", "personne vulnérable", "violence coups"):
        assert words in expanded
    # English words that are French words too are left out: « son » (his/her), « court ».
    assert legal_terms("Son dossier est court, je peux en parler ?") == legal_terms("Le dossier est bref, je peux en parler ?")
