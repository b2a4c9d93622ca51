"""A deadline, an amount or a date asked of texts that state none: the reply abstains."""

import pytest

from assistant.answering.extractive import abstention_message
from assistant.corpus.model import Corpus
from assistant.retrieval.retriever import unsettled_quantity

PENALTY = ("Sera puni d'un emprisonnement de huit jours à un an et d'une amende de cinquante euros à "
           "cinq cents euros, celui qui …")
SECRET = "Les personnes dépositaires des secrets qu'on leur confie … les auront révélés, seront punies."
DEADLINE = "Le recours est introduit dans les trois mois de la notification de la décision."
DATED = "Le Gouvernement a adopté le 29 septembre 2022 un avant-projet de décret."


@pytest.mark.unit
@pytest.mark.parametrize("question, texts, expected", [
    ("Il a combien de temps pour aller au tribunal du travail ?", [SECRET, PENALTY], "le délai"),
    ("dans quel délai le CPAS doit-il répondre ?", [SECRET], "le délai"),
    ("combien de jours de congé j'ai par an ?", [PENALTY], "le délai"),  # « huit jours » is a penalty
    ("Il a combien de temps pour introduire son recours ?", [SECRET, DEADLINE], ""),
    ("Combien touche un cohabitant au RIS ?", [SECRET], "le montant"),
    ("Hoeveel bedraagt het leefloon ?", [SECRET], "le montant"),
    ("Il risque combien d'euros d'amende ?", [PENALTY], ""),  # the penalty states it
    ("Le décret entre en vigueur à quelle date ?", [SECRET], "la date"),
    ("Depuis quand la FWB a-t-elle un texte ?", [SECRET, DATED], ""),
    ("Je peux prévenir le parquet ?", [SECRET], ""),  # no quantity asked
    ("Il risque combien de temps de prison ?", [PENALTY], ""),  # a penalty, not a deadline
    ("À partir de quand le nouveau Code s'applique ?", [SECRET], "la date"),
    # where an offence starts, not a date
    ("Frigo vide, enfants pas lavés : à partir de quand ça devient pénal pour la mère ?", [PENALTY], ""),
])
def test_a_quantity_asked_must_be_stated_by_the_units_found(question, texts, expected):
    assert unsettled_quantity(question, texts) == expected


@pytest.mark.unit
def test_the_abstention_says_which_quantity_the_texts_do_not_fix(tmp_path):
    message = abstention_message(Corpus.load(tmp_path), unsettled="le délai")
    assert message.startswith("Les textes du corpus que cette question rejoint ne fixent pas le délai que vous demandez")
    assert "service juridique de votre CPAS" in message


@pytest.mark.unit
def test_the_units_are_read_only_when_a_quantity_is_asked():
    def unread():
        raise AssertionError("a unit's text was read for a question that asks no quantity")
        yield ""

    assert unsettled_quantity("Je peux prévenir le parquet ?", unread()) == ""
    # Asked twice in one question, each is checked against the same texts.
    assert unsettled_quantity("Quel délai, et quel montant ?", iter([DEADLINE])) == "le montant"
