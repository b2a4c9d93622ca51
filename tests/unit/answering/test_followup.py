"""Follow-up questions rewritten into one standalone question (deterministic, no model)."""

from __future__ import annotations

import time

import pytest

from assistant.answering.followup import is_follow_up, parse, standalone_question

pytestmark = pytest.mark.unit

ADO = "Une ado de 15 ans me dit que son beau-père la frappe, je peux prévenir le parquet ?"
GAMIN = "Un gamin de 9 ans est frappé chez lui : je peux prévenir le parquet ?"
ENFANT = ("Un enfant me confie qu'il est battu à la maison. Puis-je en parler au procureur du Roi malgré le "
          "secret professionnel ?")
AS = "Je suis assistante sociale : puis-je signaler au procureur des violences sur un mineur ?"
POLICE = "La police peut-elle consulter le dossier social d'un usager du CPAS ?"
TEMOIN = "Je suis appelée à témoigner en justice au sujet d'un usager. Dois-je parler ?"
DOSSIER = "La police me demande le dossier d'un usager, dois-je le donner ?"
CONCERTATION = "Puis-je partager des informations confidentielles lors d'une concertation de cas ?"
INFORMAL = "une ado de 15 ans me dit que son beau pere la frappe je peux prevenir le parquet"
ANSWER = "Extraits des textes : Code pénal, art. 458bis… Oui, vous pouvez informer le procureur du Roi."


def history(*questions: str) -> list[dict]:
    turns = []
    for question in questions:
        turns += [{"role": "user", "content": question}, {"role": "assistant", "content": ANSWER}]
    return turns


@pytest.mark.parametrize("earlier, follow_up, expected", [
    # a person named then taken up by a pronoun: a new point about the same facts
    (ADO, "Et le beau-père, il risque quoi ?",
     "Une ado de 15 ans me dit que son beau-père la frappe : le beau-père, il risque quoi ?"),
    # « si …, je risque quoi ? » about someone only a pronoun names: the earlier situation's
    (ADO, "ok mais si je fais rien et qu'il lui arrive qqch ce soir, je risque quoi moi ?",
     "Une ado de 15 ans me dit que son beau-père la frappe : si je fais rien et qu'il lui arrive qqch ce soir, je risque quoi moi ?"),
    # « les autres », « ce que j'ai dit »: people and words of the earlier situation
    (CONCERTATION, "et les autres, ils peuvent répéter ce que j'ai dit ?",
     "Partager des informations confidentielles lors d'une concertation de cas : les autres, ils peuvent répéter ce que j'ai dit ?"),
    # a question of its own in spoken order (no modal, no question word): the earlier question
    # whole, then this one, which is what is asked
    (POLICE, "ok et le juge d'instruction lui il a plus de droits que la police pour ça ?",
     "La police peut-elle consulter le dossier social d'un usager du CPAS : le juge d'instruction lui il a plus de "
     "droits que la police pour ça ?"),
    (ADO, "et la directrice de l'école est déjà au courant depuis des mois ?",
     "Une ado de 15 ans me dit que son beau-père la frappe, je peux prévenir le parquet : la directrice de l'école "
     "est déjà au courant depuis des mois ?"),
    # a changed fact: the age the situation gives is replaced; another fact is the hypothesis
    (ADO, "et si elle a 17 ans ?",
     "Une ado de 17 ans me dit que son beau-père la frappe : je peux prévenir le parquet ?"),
    (ADO, "elle a 12 ans", "Une ado de 12 ans me dit que son beau-père la frappe : je peux prévenir le parquet ?"),
    (GAMIN, "et s'il est majeur ?", "Un gamin est frappé chez lui : je peux prévenir le parquet s'il est majeur ?"),
    (AS, "Et si la victime est majeure ?",
     "Je suis assistante sociale : puis-je signaler au procureur des violences sur un mineur si la victime est "
     "majeure ?"),
    # another person: the one the situation (or the legal point) names is replaced, as an age is
    (ADO, "et si c'est un adulte ?", "Un adulte me dit que son beau-père la frappe : je peux prévenir le parquet ?"),
    (AS, "et si c'est une personne handicapée ?",
     "Je suis assistante sociale : puis-je signaler au procureur des violences sur une personne handicapée ?"),
    (ADO, "et si c'est grave ?",  # not a person: a hypothesis
     "Une ado de 15 ans me dit que son beau-père la frappe : je peux prévenir le parquet si c'est grave ?"),
    (INFORMAL, "et si elle a 17 ans",
     "Une ado de 17 ans me dit que son beau pere la frappe : je peux prevenir le parquet ?"),
    # another addressee, with the preposition the verb wants
    (ADO, "et à la police ?", "Une ado de 15 ans me dit que son beau-père la frappe : je peux prévenir la police ?"),
    (ADO, "même chose pour le directeur de l'école ?",
     "Une ado de 15 ans me dit que son beau-père la frappe : je peux prévenir le directeur de l'école ?"),
    (ADO, "Même chose pour le directeur de l’école", # typographic apostrophe, no question mark
     "Une ado de 15 ans me dit que son beau-père la frappe : je peux prévenir le directeur de l’école ?"),
    (ENFANT, "et au juge ?",
     "Un enfant me confie qu'il est battu à la maison : puis-je en parler au juge malgré le secret professionnel ?"),
    (ENFANT, "et avec ses parents ?",
     "Un enfant me confie qu'il est battu à la maison : puis-je en parler à ses parents malgré le secret "
     "professionnel ?"),
    (AS, "et à la police ?",
     "Je suis assistante sociale : puis-je signaler à la police des violences sur un mineur ?"),
    # another requester, or the asker's own role
    (POLICE, "et le juge ?", "Le juge peut-il consulter le dossier social d'un usager du CPAS ?"),
    (POLICE, "et pour un conseiller ?", "Un conseiller peut-il consulter le dossier social d'un usager du CPAS ?"),
    (DOSSIER, "et si c'est le juge d'instruction qui le demande ?",
     "Le juge d'instruction me demande le dossier d'un usager : dois-je le donner ?"),
    # « qui » and another verb: who does what in the facts, a hypothesis (not a new requester)
    (ADO, "Et si c'est sa mère qui la frappe ?",
     "Une ado de 15 ans me dit que son beau-père la frappe : je peux prévenir le parquet si c'est sa mère qui la frappe ?"),
    (DOSSIER, "et si c'est le juge d'instruction ?",
     "Le juge d'instruction me demande le dossier d'un usager : dois-je le donner ?"),
    (AS, "Et pour un conseiller ?",
     "Je suis conseiller : puis-je signaler au procureur des violences sur un mineur ?"),
    (CONCERTATION, "Et pour un conseiller ?",
     "Un conseiller peut-il partager des informations confidentielles lors d'une concertation de cas ?"),
    ("Ai-je le droit de consulter le dossier d'un usager ?", "et la présidente ?",
     "La présidente a-t-elle le droit de consulter le dossier d'un usager ?"),
    # an elliptical question keeps the earlier legal point
    (ADO, "pourquoi ?",
     "Une ado de 15 ans me dit que son beau-père la frappe : je peux prévenir le parquet, pourquoi ?"),
    (ADO, "je risque quoi ?",
     "Une ado de 15 ans me dit que son beau-père la frappe : je peux prévenir le parquet, je risque quoi ?"),
    (TEMOIN, "et si je refuse ?",
     "Je suis appelée à témoigner en justice au sujet d'un usager : que se passe-t-il si je refuse de parler ?"),
    (CONCERTATION, "et si je refuse ?",
     "Que se passe-t-il si je refuse de partager des informations confidentielles lors d'une concertation de cas ?"),
    (DOSSIER, "et si je refuse", "La police me demande le dossier d'un usager : que se passe-t-il si je refuse de "
                                 "le donner ?"),
    (ADO, "même sans son accord ?",
     "Une ado de 15 ans me dit que son beau-père la frappe : je peux prévenir le parquet même sans son accord ?"),
    # a question of its own that leans on the earlier situation (pronouns, « dans ce cas »)
    (ADO, "je peux lui en parler ?", "Une ado de 15 ans me dit que son beau-père la frappe : je peux lui en parler ?"),
    (ENFANT, "Mais dans ce cas, qui décide si la réunion peut avoir lieu sans l'usager ?",
     "Un enfant me confie qu'il est battu à la maison : qui décide si la réunion peut avoir lieu sans l'usager ?"),
    (DOSSIER, "Et le directeur général du CPAS peut-il le consulter ?",
     "La police me demande le dossier d'un usager : le directeur général du CPAS peut-il le consulter ?"),
    # the pronoun stands before an infinitive, long enough to be a question of its own
    (ENFANT, "Ok et moi j'ai le droit d'y parler de son dossier sans me mettre en faute ?",
     "Un enfant me confie qu'il est battu à la maison : moi j'ai le droit d'y parler de son dossier sans me mettre "
     "en faute ?"),
    # « c'est quoi » is the earlier question, not the relative « qui a déménagé »
    ("Une association nous invite à une réunion pour une famille qu'on suit et qui a déménagé à Namur. "
     "C'est quoi exactement ?", "Et j'ai le droit d'y parler de son dossier ?",
     "Une association nous invite à une réunion pour une famille qu'on suit et qui a déménagé à Namur : "
     "j'ai le droit d'y parler de son dossier ?"),
    (CONCERTATION, "je peux en parler à la famille ?",
     "Partager des informations confidentielles lors d'une concertation de cas : je peux en parler à la famille ?"),
    ("Que dit l'article 458 ?", "et le 458bis ?", "Que dit l'article 458bis ?"),
    # « ça » after a question word is the earlier matter: a question of its own, on that situation
    ("Une école organise une réunion de réseau pour un enfant qu'on suit : je peux y aller ?",
     "ok mais qui l'organise normalement, et comment ça marche ?",
     "Une école organise une réunion de réseau pour un enfant qu'on suit : qui l'organise normalement, et comment ça marche ?"),
    ("Une école organise une réunion de réseau pour un enfant qu'on suit : je peux y aller ?",
     "d'accord mais qui choisit les personnes présentes, et comment ça se passe ensuite ?",
     "Une école organise une réunion de réseau pour un enfant qu'on suit : qui choisit les personnes présentes, et "
     "comment ça se passe ensuite ?"),
])
def test_a_follow_up_becomes_one_standalone_question(earlier, follow_up, expected):
    rewritten = standalone_question(follow_up, history(earlier))
    assert rewritten == expected
    assert rewritten.count("?") == 1 and rewritten.endswith(" ?")
    assert earlier not in rewritten or earlier == expected  # never the earlier question glued in front


@pytest.mark.parametrize("question", [
    "Puis-je partager des informations confidentielles lors d'une concertation de cas ?",
    "La police peut-elle consulter le dossier d'un usager ?",
    "Quelle peine risque un travailleur social qui révèle un secret professionnel ?",
    "Que dit l'article 458 du Code pénal ?",
    "Et si un usager me confie qu'il a commis un vol, dois-je le dénoncer à la police ?",
    "Où puis-je trouver le texte de la loi organique des CPAS ?",
    "Un assistant social du CPAS peut-il témoigner en justice sur ce qu'un usager lui a confié ?",
    "un usager me dit qu il va frapper sa femme ce soir je dois prevenir la police",
    # Spoken word order, no inversion: their own subject and question.
    "Et la police, elle peut exiger le dossier ?",
    "et le juge peut me forcer à témoigner ?",
])
def test_a_new_standalone_question_is_kept_as_typed(question):
    assert not is_follow_up(question)
    assert standalone_question(question, history(ADO)) == question
    assert standalone_question(question, history(ADO, "et à la police ?")) == question


@pytest.mark.parametrize("message, question", [
    ("ok merci. autre chose : un conseiller veut lire un dossier, je fais quoi ?",
     "un conseiller veut lire un dossier, je fais quoi ?"),
    ("Autre question, la police peut venir au CPAS sans mandat ?", "la police peut venir au CPAS sans mandat ?"),
    ("rien à voir : et si un usager me menace ?", "et si un usager me menace ?"),
])
def test_a_message_announcing_another_subject_is_not_glued_to_the_earlier_question(message, question):
    assert not is_follow_up(message)
    assert standalone_question(message, history(ADO)) == message
    # and the next follow-up builds on the new subject, not on the earlier one
    assert "beau-père" not in standalone_question("et si c'est la nuit ?", history(ADO, message))


def test_without_history_nothing_changes():
    for question in ("Et si la victime est majeure ?", "pourquoi ?", "et à la police ?"):
        assert standalone_question(question, []) == question
        assert standalone_question(question, None) == question


def test_thanks_is_not_rewritten_and_does_not_break_the_thread():
    assert standalone_question("merci", history(ADO)) == "merci"
    assert standalone_question("et au juge ?", history(ENFANT, "merci")) == \
        "Un enfant me confie qu'il est battu à la maison : puis-je en parler au juge malgré le secret professionnel ?"


def test_multi_turn_follow_ups_build_on_each_other():
    turns = [ADO]
    expected = [
        ("et si elle a 17 ans ?",
         "Une ado de 17 ans me dit que son beau-père la frappe : je peux prévenir le parquet ?"),
        ("et à la police ?", "Une ado de 17 ans me dit que son beau-père la frappe : je peux prévenir la police ?"),
        ("pourquoi ?", "Une ado de 17 ans me dit que son beau-père la frappe : je peux prévenir la police, pourquoi ?"),
        # « pourquoi ? » was asked once: the next follow-up builds on the legal point, not on it
        ("même sans son accord ?",
         "Une ado de 17 ans me dit que son beau-père la frappe : je peux prévenir la police même sans son accord ?"),
    ]
    for follow_up, rewritten in expected:
        assert standalone_question(follow_up, history(*turns)) == rewritten
        turns.append(follow_up)


def test_the_latest_standalone_user_question_is_the_one_followed():
    # A new question replaces the earlier one; the assistant's text is never read.
    turns = history(ADO, CONCERTATION)
    assert standalone_question("et avec la police ?", turns) == \
        "Puis-je partager des informations confidentielles lors d'une concertation de cas, et avec la police ?"
    turns[-1]["content"] = "La police peut-elle consulter le dossier ? Le juge aussi ?"  # assistant turn
    assert "juge" not in standalone_question("pourquoi ?", turns)


def test_the_situation_is_shortened_and_the_rewrite_is_fast():
    long_situation = "Une ado de 15 ans me dit que son beau-père la frappe " + "et la menace " * 40
    earlier = f"{long_situation}, je peux prévenir le parquet ?"
    started = time.perf_counter()
    rewritten = standalone_question("et à la police ?", history(earlier, "et si elle a 17 ans ?"))
    assert time.perf_counter() - started < 0.1
    assert len(rewritten) < 260 and rewritten.endswith("je peux prévenir la police ?")
    assert "17 ans" in rewritten


def test_parse_splits_situation_and_legal_point():
    frame = parse(ADO)
    assert (frame.situation, frame.ask, frame.self_ask) == (
        "Une ado de 15 ans me dit que son beau-père la frappe", "je peux prévenir le parquet", True)
    frame = parse(POLICE)
    assert (frame.situation, frame.ask, frame.self_ask) == ("", POLICE[:-2], False)
    assert parse(INFORMAL).ask == "je peux prevenir le parquet"
    # No modal and no question word: the last sentence asks, the ones before tell the situation.
    frame = parse("Un voisin frappe son chien tous les soirs. C'est considéré comme de la maltraitance par la loi ?")
    assert (frame.situation, frame.ask) == ("Un voisin frappe son chien tous les soirs",
                                            "C'est considéré comme de la maltraitance par la loi")


def test_follow_up_detection():
    for question in ("Et si la victime est majeure ?", "Même chose pour un éducateur ?", "pourquoi ?",
                     "je peux lui en parler ?", "Mais dans ce cas, qui décide si la réunion peut avoir lieu ?",
                     "et si je refuse ?", "je risque quoi ?"):
        assert is_follow_up(question), question
