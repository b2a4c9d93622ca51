"""The kind of answer a question asks for, read from its words."""

import pytest

from assistant.answering.questions import PREFERRED, question_kind

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("question", "kind"), [
    ("Puis-je en parler à mon collègue ?", "may"),
    ("Est-ce que je peux transmettre le rapport ?", "may"),
    ("Suis-je obligée de répondre à la mutuelle ?", "must"),
    ("Faut-il prévenir la direction ?", "must"),
    ("Qu'est-ce que je risque si je me tais ?", "risk"),
    # The risk is what is asked even when a duty is named.
    ("Quelle sanction si je dois parler et que je ne le fais pas ?", "risk"),
    ("Elle risque quelque chose si elle répète tout ?", "risk"),
    # A danger someone runs is not a penalty asked about.
    ("Et ses deux petites sœurs, qui risquent la même chose ?", "general"),
    ("Il risque vraiment de la tuer, je peux prévenir la police ?", "may"),
    ("Les jeunes à risque du quartier, on en parle en réunion ?", "general"),
    # A risk ruled out asks whether it is allowed.
    ("On peut en parler à la réunion sans se mettre en faute ?", "may"),
    ("Je peux prévenir l'école sans risquer d'être poursuivie ?", "may"),
    ("Je peux le dire sans être sanctionnée ?", "may"),
    ("Qu'est-ce que je risque si je parle sans son accord ?", "risk"),
    ("Qui décide de la convocation de la cellule ?", "who"),
    ("Qu'est-ce qu'une personne vulnérable au sens du Code ?", "what"),
    ("Que dit la circulaire sur les conseillers ?", "authority"),
    ("Le secret professionnel des assistants sociaux.", "general"),
    ("Il faut quoi comme texte pour organiser une réunion ?", "general"),
    ("Le décret définit-il le mot « intervenant » ?", "what"),
    # As typed in a chat.
    ("c quoi un mineur pour la loi ?", "what"),
    ("Le partenaire, ça vise aussi l'ex ?", "what"),
    ("Une bande de jeunes, c'est une organisation au sens du Code pénal ?", "what"),
    # Asked in English (a colleague from abroad, a trainer's case).
    ("Am I allowed to report this to the public prosecutor despite professional secrecy?", "may"),
    ("Do I have to tell the police where he lives?", "must"),
    ("Could I be prosecuted for telling his school?", "risk"),
    ("What does vulnerable person mean in the Criminal Code?", "what"),
])
def test_question_kind(question, kind):
    assert question_kind(question) == kind


def test_accents_and_case_do_not_change_the_kind():
    assert question_kind("SUIS-JE OBLIGÉE de parler ?") == question_kind("suis-je obligee de parler ?") == "must"


def test_every_kind_has_an_order_of_rules():
    kinds = {question_kind(q) for q in ("Puis-je ?", "Dois-je ?", "Je risque quoi ?", "Qui décide ?",
                                       "C'est quoi un secret ?", "Et la circulaire ?", "Bonjour")}
    assert kinds == set(PREFERRED)
