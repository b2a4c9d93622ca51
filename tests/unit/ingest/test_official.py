"""Official text → units: broken lines, articles, numbered sections, duplicates (made-up texts)."""

from __future__ import annotations

import pytest

from assistant.ingest.importer import ImportFailure
from assistant.ingest.justel import Article, Heading
from assistant.ingest.official import OfficialTextParser, Section, numbered_headings, reflow


@pytest.fixture(scope="module")
def parser():
    return OfficialTextParser()


@pytest.mark.unit
def test_reflow_joins_broken_lines_and_keeps_paragraphs():
    text = ("Art. 1er. Le travailleur de test est tenu au secret profes-\nsionnel pour les dossiers\n"
            "imaginaires.\nLe conseil fictif en décide.\n§ 2. Le secret ne vaut pas pour\nSaint-\n"
            "ghislain le village de test.\n1° le premier cas ;\n2° le second cas.")
    assert reflow(text) == (
        "Art. 1er. Le travailleur de test est tenu au secret professionnel pour les dossiers imaginaires.\n\n"
        "Le conseil fictif en décide.\n\n"
        "§ 2. Le secret ne vaut pas pour Saint-ghislain le village de test.\n\n"  # not a word: hyphen kept
        "1° le premier cas ;\n\n2° le second cas.")


@pytest.mark.unit
def test_numbered_headings_follow_their_sequence():
    lines = ["1. Introduction", "Texte.", "2. Le secret", "2.1. Les conseillers", "Ils sont tenus :",
             "1. Une liste dans le texte", "2.2. Le personnel", "4. Un saut de numéro", "3. Fin"]
    assert numbered_headings(lines, set()) == {0: [1], 2: [2], 3: [2, 1], 6: [2, 2], 8: [3]}


@pytest.mark.unit
def test_articles_with_headings_page_break_glue_and_markers(parser):
    text = ("Texte\nCHAPITRE I. - Dispositions de test.\nArt. 1er. Le travailleur de test garde le "
            "secretprofessionnel des dossiers\nimaginaires.\n[— fin de la page 1/2 du PDF Justel —]\n"
            "Art. 2. [1 Le conseil fictif peut lever le secret de test.]1\n----------\n"
            "(1)<L 2001-02-03/04, art. 5, 006; En vigueur : 01-03-2001>\nArticle 2bis. Le jardinier de test arrose.")
    parsed = parser.parse(text, "loi")
    assert parsed.shape == "articles"
    assert [type(i) for i in parsed.items] == [Heading, Article, Article, Article]
    art1, art2, art2bis = parsed.units
    assert art1.number == "1" and art1.path == ["CHAPITRE I. - Dispositions de test."]
    # glue repaired by the Code pénal's repairer; the broken line joined
    assert art1.text == ("Art. 1er. Le travailleur de test garde le secret professionnel des dossiers "
                         "imaginaires.")
    assert art2.text.endswith("]1\n\n----------\n\n(1)<L 2001-02-03/04, art. 5, 006; En vigueur : 01-03-2001>")
    assert art2bis.number == "2bis" and art2bis.text.startswith("Article 2bis.")


@pytest.mark.unit
def test_duplicate_article_refused(parser):
    text = "Art. 1er. Premier texte de test.\nArt. 2. Deuxième texte de test.\nArt. 2. Encore le deuxième."
    with pytest.raises(ImportFailure, match=r"article\(s\) en double : art\. 2 \(2 fois\)"):
        parser.parse(text, "loi")


@pytest.mark.unit
def test_saved_page_trailer_is_not_part_of_the_last_article(parser):
    text = "Art. 1er. Texte de test.\nArt. 2. Dernier texte de test.\nSignatures\nLe Ministre de test."
    parsed = parser.parse(text, "loi")
    assert parsed.units[-1].text == "Art. 2. Dernier texte de test."


@pytest.mark.unit
def test_circular_sections_and_parent_headings(parser):
    text = ("Circulaire de test\n1. Objet\nLa circulaire de test explique.\n2. Le secret\n2.1. Les conseillers\n"
            "Ils se taisent.\n2.2. Le personnel\nIl se tait aussi, comme le prévoit l'\nArt. 3. fictif.\n3. Fin\nFin.")
    parsed = parser.parse(text, "circulaire")
    assert parsed.shape == "sections"  # a circular quoting an article stays in sections
    keys = [(type(i).__name__, getattr(i, "key", getattr(i, "text", None))) for i in parsed.items]
    assert keys == [("Section", "preambule"), ("Section", "point-1"), ("Heading", "2. Le secret"),
                    ("Section", "point-2-1"), ("Section", "point-2-2"), ("Section", "point-3")]
    assert parsed.items[3].title == "2.1. Les conseillers"
    assert parsed.items[3].text == "2.1. Les conseillers\n\nIls se taisent."


@pytest.mark.unit
def test_text_without_articles_or_sections_is_one_block(parser):
    parsed = parser.parse("Note de test\nUn seul paragraphe\nsans articles.", "question parlementaire")
    assert parsed.shape == "document"
    assert parsed.items == [Section("", "", "Note de test Un seul paragraphe sans articles.")]


@pytest.mark.unit
def test_headings_styled_but_not_numbered_become_sections(parser):
    text = "Circulaire de test\n\nObjet\n\nLe texte de test.\n\nProcédure fictive\n\nLe conseil imaginaire décide."
    parsed = parser.parse(text, "circulaire", ["Objet", "Procédure fictive"])
    assert parsed.shape == "sections"
    assert [(s.key, s.title, s.text) for s in parsed.items] == [
        ("preambule", "Préambule", "Circulaire de test"), ("section-1", "Objet", "Objet\n\nLe texte de test."),
        ("section-2", "Procédure fictive", "Procédure fictive\n\nLe conseil imaginaire décide.")]
