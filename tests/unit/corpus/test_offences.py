"""The offences the Code names in its headings, and the questions that name one."""

import pytest

from assistant.corpus.model import Corpus
from assistant.corpus.offences import named_offence, offence_names
from assistant.retrieval.retriever import asks_offence
from tests.conftest import CORPUS_DIR

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def names():
    return offence_names(Corpus.load(CORPUS_DIR))


def test_the_codes_headings_name_its_offences(names):
    assert ("harcel",) in names  # « CHAPITRE IVbis. - DU HARCELEMENT »
    assert ("traite", "etres", "humain") in names  # « DE LA TRAITE DES ETRES HUMAINS »
    assert ("abus", "confia") in names  # « Section II. - Des abus de confiance », one title of several parts
    # A part of a title that is a bare word of a list names nothing (« des actions, des obligations »),
    # nor does a whole book (« Des infractions et de leur répression en particulier »), nor a group
    # of victims inserted later (« [et de personnes vulnérables] »).
    assert ("obliga",) not in names and ("action",) not in names
    assert not any(name[:2] == ("leur", "repres") for name in names)
    assert ("person", "vulner") not in names


@pytest.mark.parametrize("question, expected", [
    ("Le patron garde son passeport et le fait dormir à la cave : c'est de la traite des êtres humains ?", True),
    ("Son ex la harcèle de messages jour et nuit, elle peut faire quoi ?", True),
    ("Le fils vide le compte de sa mère : c'est un abus de confiance ?", True),
    ("Comment le nouveau Code définit-il la personne vulnérable ?", False),
    # Naming the code asks what its text says.
    ("Le nouveau Code pénal définit « partenaire » ? Elle est harcelée par son ex.", False),
    # Telling someone stays a secrecy question.
    ("Elle est harcelée par son ex : je peux prévenir la police ?", False),
    # « parler de » followed by the conduct's name names it; followed by anything else, it tells.
    ("Le fils vide le compte de son père malade. On peut parler d'une infraction ?", True),
    ("Son ex la suit partout : est-ce qu'on peut parler de harcèlement ?", True),
    ("Elle est harcelée par son ex : je peux en parler à la police ?", False),
    ("Je peux parler de son harcèlement à la police ?", False),
])
def test_a_question_naming_an_offence_asks_whether_a_conduct_is_one(names, question, expected):
    assert asks_offence(question, names) is expected
    assert named_offence("Son ex la harcèle de messages", names) == ("harcel",)


def test_without_the_names_only_penal_words_count():
    assert not asks_offence("Son ex la harcèle de messages jour et nuit, elle peut faire quoi ?")
