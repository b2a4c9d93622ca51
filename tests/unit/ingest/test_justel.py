"""The Justel parser against the hand-separated key articles (version B) of the sources."""

import re

import pytest

from assistant.corpus.markers import history, parse_marker, plain_text
from assistant.ingest.justel import JustelParser, drop_page_markers, heading_level
from tests.conftest import SOURCES_DIR

RAW = SOURCES_DIR / "code-penal-1867.justel-2024-05-28.raw.txt"
ORACLE = SOURCES_DIR / "code-penal-1867.articles-cles.md"


def squash(text: str) -> str:
    return " ".join(text.split())


def oracle_articles() -> dict[str, str]:
    """Article number → version (B) text from articles-cles.md."""
    sections = re.split(r"\n## ", ORACLE.read_text(encoding="utf-8"))
    found = {}
    for section in sections:
        title = re.match(r"Art\. (\S+)", section)
        version_b = re.search(r"### \(B\)[^\n]*\n(.*?)\n### \(A\)", section, re.S)
        if title and version_b:
            found[title.group(1)] = version_b.group(1).strip()
    return found


@pytest.fixture(scope="module")
def code():
    return JustelParser().parse(RAW.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_the_eight_key_articles_match_the_hand_separated_version(code):
    expected = oracle_articles()
    assert len(expected) == 8
    by_number = {article.number: article for article in code.articles}
    for number, text in expected.items():
        assert squash(by_number[number].text) == squash(text), number


@pytest.mark.slow
def test_whole_code_is_split_into_unique_articles_without_table_of_contents(code):
    numbers = [article.number for article in code.articles]
    assert len(numbers) >= 800
    assert len(numbers) == len(set(numbers))
    assert numbers[0] == "1" and numbers[-1] == "566"
    assert all("fin de la page" not in article.text for article in code.articles)
    assert not any("Table des matières" in article.text for article in code.articles)


@pytest.mark.slow
def test_articles_know_their_livre_titre_chapitre(code):
    article = next(a for a in code.articles if a.number == "137")
    assert article.path[0].startswith("LIVRE 2.")
    assert article.path[1].startswith("TITRE Iter. - DES INFRACTIONS TERRORISTES.")
    article = next(a for a in code.articles if a.number == "458ter")
    assert [p.split(".")[0] for p in article.path] == ["LIVRE 2", "TITRE VIII", "CHAPITRE VI"]


@pytest.mark.slow
def test_header_facts_are_read(code):
    assert code.header["version"] == "2024-05-28"
    assert code.header["in_force"] == "1867-10-15"
    assert code.header["eli"].endswith("/1867060850/justel")


@pytest.mark.unit
def test_page_footer_inside_a_sentence_becomes_a_space():
    text = "le décret\n\n[— fin de la page 115/137 du PDF Justel —]\n\nou l'ordonnance"
    assert drop_page_markers(text) == "le décret ou l'ordonnance"


@pytest.mark.unit
def test_page_footer_between_paragraphs_keeps_the_break():
    text = "et de police :\n\n[— fin de la page 12/137 du PDF Justel —]\n\n\n\n1° L'amende;"
    assert drop_page_markers(text) == "et de police :\n\n1° L'amende;"


@pytest.mark.unit
def test_plain_text_drops_markers_and_footnotes():
    text = ("Art. 458.Les médecins [1 celui où la loi]1 à faire. <L 1996-06-30/34, art. 10, 017; "
            "En vigueur : 26-07-1996>\n\n----------\n\n(1)<L 2017-07-06/24, art. 312, 124; En vigueur : 03-08-2017>")
    assert plain_text(text) == "Art. 458.Les médecins celui où la loi à faire."


@pytest.mark.unit
def test_plain_text_drops_the_parenthesis_a_marker_leaves_empty():
    text = "Art. 442bis.(inséré par <L 1998-10-30/34, art. 2, En vigueur : 27-12-1998>) Quiconque aura harcelé"
    assert plain_text(text) == "Art. 442bis. Quiconque aura harcelé"
    assert plain_text("Art. 13. (Abrogé)") == "Art. 13. (Abrogé)"  # says something: kept


@pytest.mark.unit
def test_history_reads_footnotes_and_inline_markers():
    text = ("Art. 458ter. [1 § 1er. Il n'y a pas d'infraction.]1 <L 1996-06-30/34, art. 10, 017; "
            "En vigueur : 26-07-1996>\n----------\n(1)<Inséré par L 2017-07-06/24, art. 313, 124; En vigueur : 03-08-2017>")
    first, second = history(text)
    assert first == {"ref": "1", "act": "L 2017-07-06/24", "act_date": "2017-07-06", "article": "313",
                     "action": "inséré", "in_force": "2017-08-03",
                     "marker": "<Inséré par L 2017-07-06/24, art. 313, 124; En vigueur : 03-08-2017>"}
    assert second["ref"] is None and second["act_date"] == "1996-06-30" and second["in_force"] == "1996-07-26"


@pytest.mark.unit
def test_old_style_markers_without_in_force_date():
    marker = parse_marker("<L 29-10-1919, art. 90>", None)
    assert marker["act_date"] == "1919-10-29" and marker["article"] == "90" and marker["in_force"] is None
    marker = parse_marker("<Abrogé par L 2003-12-19/34,art. 10, 046; En vigueur : 08-01-2004>", "2")
    assert marker["action"] == "abrogé" and marker["in_force"] == "2004-01-08"


@pytest.mark.unit
@pytest.mark.parametrize("heading, level", [
    ("LIVRE 2. - DES INFRACTIONS", 1), ("TITRE Iter. - DES INFRACTIONS TERRORISTES.", 2),
    ("CHAPITRE VI. - DE QUELQUES AUTRES DELITS", 3), ("Section II. - Des peines", 4),
    ("Sous-section 1ère [1 - De", 5), ("(DISPOSITIONS COMMUNES AUX SECTIONS II, III ET IV).", 4),
    ("DISPOSITION PARTICULIERE.", 3),
])
def test_heading_levels(heading, level):
    assert heading_level(heading) == level
