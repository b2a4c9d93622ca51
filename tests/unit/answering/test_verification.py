"""Verification of generated answers: citations, support, invented article numbers."""

from __future__ import annotations

import pytest

from assistant.answering.verification import Extract, Verifier, cited_numbers, drop_unknown_citations, invented_numbers

pytestmark = pytest.mark.unit

TEXT_458BIS = ("Toute personne qui, par état ou par profession, est dépositaire de secrets et a de ce fait "
               "connaissance d'une infraction commise sur un mineur peut en informer le procureur du Roi, "
               "lorsqu'il existe un danger grave et imminent pour l'intégrité physique ou mentale du mineur.")
TEXT_458 = ("Les médecins et toutes autres personnes dépositaires, par état ou par profession, des secrets "
            "qu'on leur confie, qui les auront révélés, seront punis d'un emprisonnement d'un an à trois ans.")
EXTRACTS = [Extract(1, "code-penal-1867:art-458bis", "Code pénal, art. 458bis", TEXT_458BIS[:120], TEXT_458BIS),
            Extract(2, "code-penal-1867:art-458", "Code pénal, art. 458", TEXT_458, TEXT_458)]


@pytest.fixture(scope="module")
def verifier():
    return Verifier(texts=[TEXT_458BIS, TEXT_458, "Le gardien ouvre la porte.", "Le facteur passe le matin."])


def test_supported_sentence_passes_and_its_citation_maps_to_the_unit(verifier):
    checked = verifier.check("Oui, vous pouvez informer le procureur du Roi d'une infraction sur un mineur "
                             "en cas de danger grave et imminent [1].", EXTRACTS)
    [sentence] = checked.sentences
    assert sentence.supported and sentence.citations == (1,)
    assert checked.cited_units == [1] and not checked.warnings()


def test_sentence_citing_the_wrong_extract_is_flagged(verifier):
    checked = verifier.check("Vous pouvez informer le procureur du Roi en cas de danger grave pour un mineur [2].",
                             EXTRACTS)
    assert checked.unsupported and "non étayée" in checked.warnings()[0]


def test_claim_about_a_word_no_extract_uses_is_flagged(verifier):
    checked = verifier.check("Oui, un avocat peut toujours révéler les secrets de son client [2].", EXTRACTS)
    assert [s.supported for s in checked.sentences] == [False]


def test_citation_to_an_extract_not_given_is_removed(verifier):
    checked = verifier.check("Le secret révélé est puni d'un emprisonnement [2, 7]. Voir aussi [9].", EXTRACTS)
    assert checked.removed_citations == (7, 9)
    assert "[2]" in checked.text and "7" not in checked.text and "[9]" not in checked.text
    assert any("inexistants" in w for w in checked.warnings())


def test_article_number_in_no_extract_is_flagged(verifier):
    checked = verifier.check("L'article 458 punit la révélation [2]. L'article 29 du Code d'instruction "
                             "criminelle oblige à dénoncer [2].", EXTRACTS)
    assert checked.invented_numbers == ("29",)
    assert invented_numbers("Selon l'art. 458bis et l'article 458 [1].", EXTRACTS) == []


# An extract full of numbers that are not article numbers: a date, an amount, a § number, a
# year in the unit id, and article references in its text (a single one and a range).
TEXT_458TER = ("Art. 458ter. § 2. La concertation est organisée par la loi du 12 décembre 2004 ; l'amende "
               "est de 26 euros. Les articles 458bis et 417/7 à 417/22 restent applicables, ainsi que "
               "l'art. 422bis et l'article 1er.")
NUMBERED = [Extract(1, "code-penal-1867:art-458ter", "Code pénal, art. 458ter", TEXT_458TER[:80], TEXT_458TER)]


@pytest.mark.parametrize("number", ["2", "12", "2004", "1867", "26", "417"])
def test_a_number_that_is_no_article_shown_does_not_vouch_for_an_article(number):
    # « 2 » is a § number, « 12 » and « 2004 » a date, « 1867 » the act's year in the unit id,
    # « 26 » an amount, « 417 » only the start of « 417/7 »: none is an article number shown.
    assert invented_numbers(f"Selon l'article {number}, le secret est levé [1].", NUMBERED) == [number]


@pytest.mark.parametrize("cited", ["l'article 458ter", "l'art. 458TER", "l'article 458bis", "l'article 422bis",
                                   "l'article 417/7", "l'article 417/15", "l'article 417/22", "l'article 1",
                                   "l'article 1er", "les articles 458bis et 458ter"])
def test_article_numbers_the_extracts_show_are_not_invented(cited):
    # The extract's own article (from its unit id), the articles its text refers to, every
    # article of a range it names, and « 1er » written as « 1 ».
    assert invented_numbers(f"Selon {cited}, le secret est levé [1].", NUMBERED) == []


def test_an_article_outside_a_named_range_is_invented():
    assert invented_numbers("L'article 417/23 s'applique [1].", NUMBERED) == ["417/23"]


def test_uncited_sentence_needs_strong_support(verifier):
    checked = verifier.check("Les médecins qui révèlent des secrets sont punis d'emprisonnement.", EXTRACTS)
    assert checked.sentences[0].supported
    # The extract that supports it is named, and marked as added by verification.
    assert checked.sentences[0].citations == (2,) and checked.sentences[0].attributed
    assert checked.text == "Les médecins qui révèlent des secrets sont punis d'emprisonnement [2]."
    checked = verifier.check("Il faut toujours prévenir le directeur du service.", EXTRACTS)
    assert not checked.sentences[0].supported


def test_repeated_sentences_are_kept_once(verifier):
    looping = "Le secret révélé est puni [2]. " * 5
    checked = verifier.check(looping, EXTRACTS)
    assert len(checked.sentences) == 1 and checked.text.count("puni") == 1


@pytest.mark.parametrize("draft", ["Oui, cela dépend de l'extrait [2].", "Oui [1].", "Non, selon l'extrait [1].",
                                   "Vous pouvez [1].", "Oui.", "Non.", "« Oui », selon les textes."])
def test_a_bare_yes_or_no_the_extracts_do_not_state_is_flagged(verifier, draft):
    # Nothing in it to check but the yes or no: the extracts give conditions, never a plain yes.
    checked = verifier.check(draft, EXTRACTS)
    [sentence] = checked.sentences
    assert not sentence.supported and sentence.support == 0.0
    assert checked.warnings() == [f"Phrase non étayée par les extraits cités, à vérifier : « {draft} »"]
    assert checked.text == draft  # flagged, never rewritten


def test_a_bare_yes_is_judged_with_the_sentence_that_says_what_it_means(verifier):
    supported = ("Oui. Vous pouvez informer le procureur du Roi d'une infraction sur un mineur en cas de danger "
                 "grave et imminent [1].")
    checked = verifier.check(supported, EXTRACTS)
    [sentence] = checked.sentences
    assert sentence.supported and sentence.citations == (1,) and checked.text == supported
    assert not checked.warnings()
    checked = verifier.check("Oui. Il faut toujours prévenir le directeur du service [2].", EXTRACTS)
    assert [s.supported for s in checked.sentences] == [False]
    # A cited « Oui » is a claim about that extract: a supported sentence after it does not cover it.
    checked = verifier.check("Oui, cela dépend de l'extrait [2]. Les médecins qui révèlent des secrets sont "
                             "punis d'emprisonnement [2].", EXTRACTS)
    assert [s.supported for s in checked.sentences] == [False, True]


def test_an_extract_that_itself_answers_yes_supports_a_bare_yes(verifier):
    written = ("Oui, le CPAS peut communiquer ces informations au procureur du Roi lorsque la loi le prévoit. "
               "Non-assistance : voir l'article 422bis.")
    extracts = EXTRACTS + [Extract(3, "qe-cassart-2025:reponse", "Réponse", written[:80], written)]
    [cited] = verifier.check("Oui [3].", extracts).sentences
    assert cited.supported
    [uncited] = verifier.check("Oui.", extracts).sentences
    assert uncited.supported and uncited.citations == (3,) and uncited.attributed
    # « Non-assistance » does not answer « Non ».
    assert not verifier.check("Non [3].", extracts).sentences[0].supported


def test_hedging_without_yes_or_no_is_not_counted(verifier):
    assert verifier.check("Cela dépend [2].", EXTRACTS).sentences == ()


def test_citation_parsing():
    assert cited_numbers("a [1] b [2, 3] c [4-6] d [1]") == [1, 2, 3, 4, 5, 6]
    assert drop_unknown_citations("x [1, 5] y [5].", {1}) == ("x [1] y.", [5, 5])


def test_saying_what_the_extracts_do_not_cover_is_not_a_claim(verifier):
    checked = verifier.check("Les extraits ne précisent pas la durée de conservation du dossier.", EXTRACTS)
    assert checked.sentences == () and not checked.warnings()


def test_a_cited_extract_needs_less_support_than_an_uncited_sentence(verifier):
    # About 0.65 of the sentence comes from extract 2: enough when the model cited it (0.6),
    # not enough for verification to attribute it on its own (0.75).
    said = "Les médecins qui révèlent des secrets sont punis d'emprisonnement et d'amende"
    [cited] = verifier.check(f"{said} [2].", EXTRACTS).sentences
    assert cited.supported and 0.6 <= cited.support < 0.75
    [uncited] = verifier.check(f"{said}.", EXTRACTS).sentences
    assert not uncited.supported and not uncited.attributed and uncited.citations == ()


def test_a_sentence_citing_two_extracts_is_judged_on_the_better_one(verifier):
    [sentence] = verifier.check("Les médecins qui révèlent des secrets sont punis [1, 2].", EXTRACTS).sentences
    assert sentence.citations == (1, 2) and sentence.supported


def test_a_rare_word_the_extract_does_not_say_outweighs_common_words_it_says():
    texts = ["Le gardien ouvre la porte.", "Le gardien ferme la porte le soir.", "Le gardien lave la porte.",
             "Le facteur passe."]
    verifier = Verifier(texts=texts)
    extracts = [Extract(1, "test:a", "Texte A", texts[0], texts[0])]
    # « gardien » and « porte » (in 3 texts of 4) are said; « facteur » (in 1) and « zèbre » (in
    # none: weighs most) are not: two words of three do not make the sentence supported.
    for unsaid in ("facteur", "zèbre"):
        [sentence] = verifier.check(f"Le gardien de la porte est un {unsaid} [1].", extracts).sentences
        assert not sentence.supported, (unsaid, sentence.support)
    [sentence] = verifier.check("Le gardien ouvre la porte le soir [1].", extracts).sentences
    assert sentence.supported


def test_headings_of_the_answer_are_not_sentences(verifier):
    checked = verifier.check("# Réponse\nLes médecins qui révèlent des secrets sont punis [2].", EXTRACTS)
    assert [s.text for s in checked.sentences] == ["Les médecins qui révèlent des secrets sont punis [2]."]


def test_a_very_long_range_shows_only_its_ends():
    extracts = [Extract(1, "loi-x:art-9", "Loi X, art. 9", "Les articles 1er à 500 sont abrogés.",
                        "Les articles 1er à 500 sont abrogés.")]
    assert invented_numbers("Les articles 1, 500 et 250 sont abrogés [1].", extracts) == ["250"]


def test_the_unit_id_alone_shows_its_article_and_each_invented_number_is_listed_once():
    # Neither label nor text says « 458ter »: the unit id does.
    extracts = [Extract(1, "code-penal-1867:art-458ter", "Code pénal", TEXT_458, TEXT_458)]
    answer = "L'article 458ter le permet [1]. L'article 29 aussi, et encore l'article 29 [1]."
    assert invented_numbers(answer, extracts) == ["29"]
