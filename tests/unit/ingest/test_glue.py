import pytest

from assistant.ingest.glue import GlueRepairer, in_lexicon, out_of_lexicon, zipf

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def repairer():
    return GlueRepairer()


@pytest.mark.parametrize("glued, expected", [
    ("personnesdépositaires", "personnes dépositaires"),
    ("d'unemprisonnement", "d'un emprisonnement"),
    ("Codebelge de laNavigation", "Code belge de la Navigation"),
    ("mineured'âge", "mineure d'âge"),
    ("Lorsqu'iln'a", "Lorsqu'il n'a"),
    ("l’infractionqui", "l’infraction qui"),
    ("DESFAUSSES INFORMATIONS", "DES FAUSSES INFORMATIONS"),
])
def test_glued_words_are_separated(repairer, glued, expected):
    assert repairer.repair(glued) == expected


@pytest.mark.parametrize("glued, expected", [
    ("concertation.Toute personne", "concertation. Toute personne"),
    ("âge,d'un état", "âge, d'un état"),
    ("526,550bis", "526, 550bis"),
    ("417/56,433quater/1", "417/56, 433quater/1"),
    ("bactériologiques(biologiques)", "bactériologiques (biologiques)"),
    ("du 21mars 1991", "du 21 mars 1991"),
    ("du1er février", "du 1er février"),
    ("442quinquiesà 442nonies", "442quinquies à 442nonies"),
])
def test_punctuation_and_numbers_glued_at_line_breaks(repairer, glued, expected):
    assert repairer.repair(glued) == expected


@pytest.mark.parametrize("text", [
    "Art. 458.Les médecins",          # Justel's own article heading: kept as printed
    "En vigueur :01-01-2002",
    "un taux de 3,6 pour cent",       # a decimal is not a list of articles
    "433quinquiesdecies",             # compound Latin numbering
    "lesquels ladite quelqu'un lorsque auquel pourtant",
    "antihormonale cohabitants renumérotée",
    "<L 2017-07-06/24, art. 313, 124; En vigueur : 03-08-2017>",
    "DELIT",
])
def test_correct_text_is_left_alone(repairer, text):
    assert repairer.repair(text) == text


def test_capitals_without_accents_are_known_words():
    assert zipf("DELITS") > 3 and zipf("délits") > 3
    assert in_lexicon("quinquies") and not in_lexicon("personnesdépositaires")


def test_out_of_lexicon_counts_glued_tokens():
    assert out_of_lexicon("les personnesdépositaires du secret et peinesseulement") == [
        "personnesdépositaires", "peinesseulement"]
