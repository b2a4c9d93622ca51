"""The reply's text from the ranked units: the lead's templates, the conditions as verbatim
fragments, « À savoir », and nothing cited or quoted that is not in the corpus."""

from __future__ import annotations

import re

import pytest

from assistant.answering.brief import BriefComposer, capped, lead_sentence
from assistant.answering.norms import read_norms
from assistant.corpus.model import Corpus
from tests.conftest import CORPUS_DIR

pytestmark = pytest.mark.unit

P = "code-penal-1867:art-"
QUOTED_RE = re.compile(r"« (.+?) »(?= ;|\.?$|$)")


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.load(CORPUS_DIR)


@pytest.fixture(scope="module")
def composer(corpus) -> BriefComposer:
    return BriefComposer(corpus)


@pytest.fixture(scope="module")
def citing_seconds(corpus) -> BriefComposer:
    """The composer that also cites a second unit the spotted legal questions point at."""
    return BriefComposer(corpus, cite_seconds=True)


def squeeze(text: str) -> str:
    return " ".join(text.split())


def verbatim(quoted: str, unit_text: str) -> bool:
    """Every piece between the « […] » cuts is the unit's own words."""
    return all(squeeze(piece).strip(" ,;:.") in squeeze(unit_text) for piece in quoted.split("[…]") if piece.strip())


def test_may_question_gets_the_permission_its_cases_and_the_duty_beside_it(composer):
    brief = composer.compose([P + "458bis", P + "422bis"], {P + "458bis": 1.0, P + "422bis": 0.8},
                             "Puis-je prévenir le procureur si un enfant est maltraité ?")
    assert brief.kind == "may"
    assert brief.lead.startswith("Code pénal, art. 458bis — une possibilité, pas une obligation, à certaines conditions, dans 2 cas (ci-dessous) : « ")
    assert "peut" in brief.lead and "en informer le procureur du Roi" in brief.lead
    assert [p.kind for p in brief.points] == ["scope", "condition", "condition", "exception"]
    # Whom the permission is for comes first, the thirty article numbers elided.
    assert brief.points[0].text.startswith("et a de ce fait connaissance d'une infraction prévue aux articles […], qui a été commise sur un mineur")
    assert "violence entre partenaires" in brief.points[0].text
    # 422bis is named by 458bis's exception. The question's words are all 458bis's: 422bis adds
    # nothing to the reply, the exception's own words point at it, it is not cited.
    assert brief.cited == (P + "458bis",)
    assert "422bis" in brief.points[-1].text
    # Asked about what 422bis adds (a person in peril, help), « À savoir » states its rule.
    beside = composer.compose([P + "458bis", P + "422bis"], {P + "458bis": 1.0, P + "422bis": 0.8},
                              "Un enfant est en péril grave et personne ne lui porte secours : puis-je prévenir le procureur ?")
    assert beside.cited == (P + "458bis", P + "422bis")
    assert [r.unit_id for r in beside.related] == [P + "422bis"]
    assert beside.related[0].text.startswith("une infraction punie : « Sera puni")


def test_a_related_article_is_stated_by_its_main_rule_not_the_sentence_nearest_the_question(citing_seconds):
    # The question's words (« circonstances », « appel », « sérieux ») sit in 422bis's exemption;
    # « À savoir » still states what 422bis punishes.
    brief = citing_seconds.compose([P + "458", P + "422bis"], {P + "458": 1.0, P + "422bis": 0.9},
                             "Vu les circonstances, cet appel me semble peu sérieux : je peux en parler ?")
    assert [r.unit_id for r in brief.related] == [P + "422bis"]
    assert brief.related[0].text.startswith("une infraction punie : « Sera puni")
    assert "s'abstient de venir en aide" in brief.related[0].text


def test_must_question_on_a_penalty_for_not_acting_is_not_answered_by_its_exemption(composer):
    brief = composer.compose([P + "422bis"], {}, "Suis-je obligée d'intervenir quand une personne est en péril ?")
    assert brief.lead.startswith("Code pénal, art. 422bis — une infraction punie")
    assert "ne pourra être puni" not in brief.lead


def test_asked_what_one_risks_the_article_whose_penalties_are_borrowed_is_stated(composer):
    question = "Si je refuse d'aider quand la police me le demande lors d'un incendie, je risque quoi ?"
    brief = composer.compose([P + "422ter"], {}, question)
    assert "peines prévues à l'article précédent" in brief.lead
    assert brief.cited == (P + "422ter", P + "422bis")
    assert "huit jours à (un an)" in brief.related[0].text
    # Not asked what one risks: the borrowed penalty is not cited (precision).
    assert composer.compose([P + "422ter"], {}, "Dois-je aider quand la police me le demande ?").cited == (P + "422ter",)


def test_asked_what_one_risks_the_unit_that_punishes_leads_when_retrieval_nearly_ties(composer):
    question = "Si je ne réagis pas alors qu'un enfant est en danger grave, je risque quoi ?"
    close = {P + "458bis": 1.0, P + "422bis": 0.9}
    assert composer.compose([P + "458bis", P + "422bis"], close, question).cited[0] == P + "422bis"
    # Not a near tie, but the first unit's rule reserves the second (« sans préjudice des
    # obligations que lui impose l'article 422bis »): the second leads all the same.
    far = {P + "458bis": 1.0, P + "422bis": 0.3}
    assert composer.compose([P + "458bis", P + "422bis"], far, question).cited[0] == P + "422bis"
    # Neither tie nor reservation (458ter names no article that punishes), or not asked what one
    # risks: retrieval's order stays.
    assert composer.compose([P + "458ter", P + "422bis"], {P + "458ter": 1.0, P + "422bis": 0.3}, question).cited[0] == P + "458ter"
    assert composer.compose([P + "458bis", P + "422bis"], close, "Puis-je prévenir le parquet ?").cited[0] == P + "458bis"


def test_asked_what_the_minister_said_his_answer_leads(composer):
    ranked = ["qe-cassart-2025:question", "qe-cassart-2025:reponse", P + "458"]
    brief = composer.compose(ranked, {}, "Le ministre a dit qu'il allait revoir la circulaire ?")
    assert brief.cited[0] == "qe-cassart-2025:reponse"
    assert brief.lead.startswith("Selon ")
    # Asked about the circular, the member's question (which quotes it) keeps its place.
    assert composer.compose(ranked, {}, "Que dit la circulaire sur le fondement du secret ?").cited[0] == "qe-cassart-2025:question"
    # A law or decree ranked first: the answer of a parliamentary question among the first units
    # leads, or the answer of the question found there.
    decree = "decret-cf-2023-06-08-csil-r:arrete-2024-05-16"
    asked = "Le ministre a répondu quoi sur un décret CSIL-R ?"
    assert composer.compose([decree, "qe-bastin-2023-41:reponse", P + "458ter"], {}, asked).cited[0] == "qe-bastin-2023-41:reponse"
    assert composer.compose([decree, "qe-cassart-2025:question", P + "458", "qe-cassart-2025:reponse"], {}, asked).cited[0] == \
        "qe-cassart-2025:reponse"
    # a parliamentary question fourth or fifth: asked what the minister said, its answer leads
    ranked = ["circulaire-2022-06-02:extrait", "loi-1976-07-08-cpas:art-36", P + "458", "qe-cassart-2025:question",
              P + "458ter", "qe-cassart-2025:reponse"]
    assert composer.compose(ranked, {}, "et le ministre compte revoir cette circulaire ?").cited[0] == "qe-cassart-2025:reponse"
    # the answer to the question the asker names before another one ranked higher
    ranked = [decree, "qe-bastin-2023-41:reponse", "qe-bastin-2022-513:reponse"]
    assert composer.compose(ranked, {}, asked, named=("qe-bastin-2022-513",)).cited[0] == "qe-bastin-2022-513:reponse"
    assert composer.compose(ranked, {}, asked).cited[0] == "qe-bastin-2023-41:reponse"
    # Asked what a named text says: that text, or the unit reporting it, before the article first.
    ranked = [P + "458", "qe-cassart-2025:reponse", "circulaire-2022-06-02:extrait"]
    asked = "La circulaire wallonne sur le secret, elle dit quoi en gros ?"
    assert composer.compose(ranked, {}, asked, named=("circulaire-2022-06-02",)).cited[0] == "qe-cassart-2025:reponse"
    assert composer.compose(ranked, {}, asked).cited[0] == P + "458"  # nothing named
    # none among the first three, or a question not about the minister: the law stays first
    assert composer.compose([decree, P + "458", P + "458ter", "qe-bastin-2023-41:reponse"], {}, asked).cited[0] == decree
    assert composer.compose([decree, "qe-bastin-2023-41:reponse"], {}, "Un décret CSIL-R existe ?").cited[0] == decree


def test_must_question_on_a_permission_says_there_is_no_duty_in_this_text(composer):
    brief = composer.compose([P + "458bis"], {}, "Dois-je prévenir le procureur ?")
    assert brief.lead.startswith("Code pénal, art. 458bis — pas d'obligation dans ce texte, une possibilité")


def test_risk_question_states_the_penalty(composer):
    brief = composer.compose([P + "458"], {}, "Qu'est-ce que je risque si je révèle un secret ?")
    assert brief.lead.startswith("Code pénal, art. 458 — une infraction punie, sauf exception (ci-dessous) : « ")
    assert "seront punis d'un emprisonnement d'un an à trois ans" in brief.lead
    assert brief.points[0].kind == "exception" and brief.points[0].text.startswith("hors le cas où")


def test_what_question_states_the_definition_asked(composer):
    brief = composer.compose(["code-penal-2024:art-2"], {}, "Qu'est-ce qu'un mineur ?")
    assert "une définition : « mineur: toute personne qui n'a pas encore atteint l'âge de dix-huit ans »" in brief.lead
    # no conditions: the article's other words, if any, come as « also »
    assert all(p.kind == "also" for p in brief.points)


def test_asked_what_a_word_means_the_unit_defining_it_leads(composer):
    # Retrieval ranked first the article that uses the words; the one that defines them leads.
    brief = composer.compose([P + "458ter", P + "324bis", P + "458"], {}, "c quoi une organisation criminelle pour le code penal ?")
    assert brief.kind == "what" and brief.cited[0] == P + "324bis"
    assert "une définition" in brief.lead and "organisation criminelle l'association structurée" in brief.lead
    brief = composer.compose([P + "458bis", P + "458ter", "code-penal-2024:art-2"], {}, "Le partenaire, ça vise aussi l'ex ?")
    assert brief.cited[0] == "code-penal-2024:art-2" and "partenaire: la personne" in brief.lead
    # No unit defines the words asked about, or the question asks something else: the order stays.
    assert composer.compose([P + "458ter", P + "324bis"], {}, "Qu'est-ce qu'une concertation de cas ?").cited[0] == P + "458ter"
    assert composer.compose([P + "458ter", P + "324bis"], {}, "Puis-je parler d'une organisation criminelle en concertation ?"
                            ).cited[0] == P + "458ter"


def test_a_unit_without_rules_is_quoted_where_it_meets_the_question(composer):
    brief = composer.compose(["circulaire-2022-06-02:extrait"], {}, "Les conseillers peuvent-ils discuter des dossiers ?")
    assert brief.lead.startswith("Selon Circulaire du 2 juin 2022")
    assert "discuter des dossiers avec un tiers" in brief.lead


def test_a_second_unit_is_cited_only_when_the_spotted_questions_point_at_it_nearly_as_much(citing_seconds, corpus):
    ranked = [P + "458ter", P + "458", "loi-1976-07-08-cpas:art-36"]
    testify = "Puis-je parler d'un dossier en réunion de concertation et témoigner en justice ?"
    # By default the reply cites the unit it starts from (and those its rule names), not a second.
    assert BriefComposer(corpus).compose(ranked, {P + "458ter": 1.0, P + "458": 0.7}, testify).cited == (P + "458ter",)
    composer = citing_seconds
    question = "Puis-je parler d'un dossier en réunion de concertation ?"
    assert composer.compose(ranked, {}, question).cited == (P + "458ter",)
    assert composer.compose(ranked, {P + "458ter": 1.0, P + "458": 0.3}, question).cited == (P + "458ter",)
    # Pointed at nearly as much, it is still cited only for words of the question the first unit
    # does not contain (« témoigner en justice »: 458's exception, not 458ter's).
    assert composer.compose(ranked, {P + "458ter": 1.0, P + "458": 0.7}, question).cited == (P + "458ter",)
    assert composer.compose(ranked, {P + "458ter": 1.0, P + "458": 0.7}, testify).cited == (P + "458ter", P + "458")
    assert composer.compose(ranked, {P + "458ter": 1.0, P + "458": 0.3}, testify).cited == (P + "458ter",)


QUESTIONS = ("Puis-je en parler ?", "Dois-je le signaler ?", "Qu'est-ce que je risque ?", "Qui décide ?",
             "Qu'est-ce que cela veut dire ?", "Que prévoit ce texte pour le travailleur social ?")


def test_every_unit_in_every_kind_of_question_quotes_only_its_own_words(corpus, composer):
    """Whatever the unit and the question, each « … » of the lead, the conditions and « À savoir »
    is verbatim from the unit it names, every cited id is in the corpus, and the lead names its
    unit first."""
    checked = 0
    for unit in corpus.units:
        for question in QUESTIONS:
            brief = composer.compose([unit.id], {}, question)
            label = composer.label(unit)
            assert brief.lead.startswith((f"{label} — ", f"Selon {label} : « ", f"{label} ne dit pas directement ",
                                          f"Selon {label} (question parlementaire, pas un texte de loi) : « ")), \
                brief.lead
            assert all(corpus.unit(u) for u in brief.cited) and brief.cited[0] == unit.id
            statements = [(brief.lead, unit.id)] + [(p.text if p.kind == "also" else f"« {p.text} »", p.unit_id)
                                                    for p in brief.points]
            statements += [(r.text, r.unit_id) for r in brief.related]
            for text, unit_id in statements:
                for quoted in re.findall(r"« (.+?) »", text):
                    assert verbatim(quoted, corpus.unit(unit_id).plain_text), (unit.id, question, quoted)
                    checked += 1
            assert len(brief.lead.split()) <= 100
    assert checked > 300


def test_lead_templates_name_the_form_of_the_rule(corpus):
    norms = {n.modality: n for u in (P + "458", P + "458bis", P + "458ter", P + "422bis")
             for n in read_norms(corpus.unit(u))}
    assert lead_sentence(norms["penalty"], "X", "risk", ()).startswith("X — une infraction punie : « ")
    assert lead_sentence(norms["obligation"], "X", "must", ()).startswith("X — une obligation : « ")
    assert lead_sentence(norms["prohibition"], "X", "may", ()).startswith("X — une interdiction : « ")


def test_a_long_fragment_is_cut_and_the_cut_is_marked():
    text = "un deux trois, quatre cinq six sept"
    assert capped(text, 10) == text
    assert capped(text, 5) == "un deux trois, quatre cinq […]"
    assert capped(text, 5, at_comma=True) == "un deux trois […]"


def test_when_the_best_article_lays_down_no_rule_of_the_kind_asked_the_lead_says_so(composer):
    brief = composer.compose(["loi-2018-07-30-csil-r:art-3"], {}, "Une assistante sociale peut-elle siéger à la CSIL-R ?")
    assert brief.lead.startswith("Loi du 30 juillet 2018 (CSIL-R), art. 3 ne dit pas directement si c'est permis ; "
                                 "il dit : « La CSIL R est composée")
    # Asked what it is, the same article is simply quoted.
    assert composer.compose(["loi-2018-07-30-csil-r:art-3"], {}, "C'est quoi la CSIL-R ?").lead.startswith(
        "Selon Loi du 30 juillet 2018 (CSIL-R), art. 3 : « ")


def test_a_parliamentary_question_quoted_first_is_said_not_to_be_law(composer):
    brief = composer.compose(["qe-cassart-2025:reponse"], {}, "Que dit le ministre sur la circulaire ?")
    assert brief.lead.startswith("Selon Question écrite Cassart (2025) — Réponse du Ministre Desquesnes (avril 2025) "
                                 "(question parlementaire, pas un texte de loi) : « ")


def test_an_exemption_never_leads_before_the_rule_it_exempts_from(composer):
    # « J'appelle » meets « invité à intervenir … l'appel » in 422bis's exemption; the lead still
    # states what 422bis punishes.
    brief = composer.compose([P + "422bis"], {}, "Il m'a fait promettre de ne rien dire. J'appelle le 112 ou je respecte le secret ?")
    assert brief.lead.startswith("Code pénal, art. 422bis — une infraction punie")
    assert "s'abstient de venir en aide" in brief.lead


def test_a_rule_other_than_the_first_leads_only_when_the_question_names_its_rare_words(composer):
    # « poursuivre » and « poursuite » stem apart (poursuivr / poursuit) but are one word here:
    # 458ter § 2 on prosecution answers.
    asked = composer.compose([P + "458ter"], {}, "Ce qu'on dit en concertation, la police peut s'en servir pour poursuivre le père ?")
    assert "ne peuvent donner lieu à la poursuite pénale que des seuls délits" in asked.lead
    # No rare word shared with a later rule: the article's first rule.
    plain = composer.compose([P + "458ter"], {}, "Une concertation de cas, c'est permis ?")
    assert "Il n'y a pas d'infraction" in plain.lead or "peut exclusivement" in plain.lead
    assert "poursuite pénale" not in plain.lead


def test_stems_sharing_a_long_beginning_are_one_word():
    from assistant.answering.brief import same_word
    assert same_word("poursuit", "poursuivr")
    assert same_word("vulnerabilit", "vulner")
    assert not same_word("proteg", "protect")
    assert not same_word("conseil", "consent")


def test_asked_what_one_risks_the_aggravated_penalty_and_its_condition_are_listed(composer):
    brief = composer.compose([P + "422bis"], {}, "Si je ne fais rien et que c'est un enfant, je risque quoi ?")
    aggravation = [p for p in brief.points if "portée à deux ans" in p.text]
    assert aggravation and "mineure d'âge" in aggravation[0].text
    # Not asked what one risks, and no word of it in the question: not listed.
    assert not [p for p in composer.compose([P + "422bis"], {}, "Dois-je intervenir ?").points if "portée à deux ans" in p.text]


def test_a_rule_listed_brings_the_penalty_that_points_back_at_it(composer):
    brief = composer.compose([P + "458ter"], {}, "Un participant à la concertation a tout raconté à l'école ensuite : il peut ?")
    line = next(p.text for p in brief.points if "Les participants sont tenus au secret" in p.text)
    assert "Toute personne violant ce secret sera punie des peines prévues à l'article 458" in line


def test_the_offence_the_situation_describes_is_cited_when_the_rule_lists_it_and_retrieval_ranks_it_close(composer):
    ranked = [P + "458bis", P + "422bis", P + "409"]
    question = "Une collègue pense à une excision de la fille de 8 ans. On peut faire quoi ?"
    close = composer.compose(ranked, {P + "458bis": 1.0, P + "422bis": 0.8}, question,
                             {P + "458bis": 1.0, P + "422bis": 0.5, P + "409": 0.4})
    assert close.cited == (P + "458bis", P + "422bis", P + "409")
    assert close.related[-1].text.startswith("une des infractions visées par l'art. 458bis : « Quiconque aura pratiqué")
    # Far below the first unit, or not among 458bis's offences (422ter), or beside a rule with no
    # list of offences (458): not cited.
    far = composer.compose(ranked, {P + "458bis": 1.0}, question, {P + "458bis": 1.0, P + "422bis": 0.5, P + "409": 0.2})
    assert P + "409" not in far.cited
    unlisted = composer.compose([P + "458bis", P + "422ter"], {P + "458bis": 1.0}, question, {P + "458bis": 1.0, P + "422ter": 0.9})
    assert P + "422ter" not in unlisted.cited
    other_rule = composer.compose([P + "458", P + "409"], {P + "458": 1.0}, question, {P + "458": 1.0, P + "409": 0.9})
    assert P + "409" not in other_rule.cited


def test_the_sentence_going_on_from_the_rule_stated_is_listed_whatever_the_words(composer):
    # 458ter: « Il n'y a pas d'infraction … concertation organisée » then « Cette concertation peut
    # exclusivement être organisée soit en vue de … » (its purposes); no word of the question in it.
    brief = composer.compose([P + "458ter"], {}, "Une réunion entre services sur une famille, c'est permis ?")
    assert "Il n'y a pas d'infraction" in brief.lead
    line = next(p.text for p in brief.points if "Cette concertation peut exclusivement" in p.text)
    assert "soit en vue de protéger l'intégrité physique et psychique" in line


def test_a_parliamentary_question_designated_by_its_year_leads(composer):
    decree = "decret-cf-2023-06-08-csil-r:arrete-2024-05-16"
    ranked = [decree, "qe-bastin-2023-41:reponse", P + "458ter", "qe-cassart-2025:question", "qe-bastin-2022-79:question"]
    asked = "Une députée avait interpellé le gouvernement en 2022 sur les cellules de sécurité, elle disait quoi ?"
    assert composer.compose(ranked, {}, asked).cited[0] == "qe-bastin-2022-79:question"
    # the minister's answer of that year's question, when his answer is asked
    ranked = [decree, "qe-bastin-2023-41:reponse", P + "458ter", "qe-bastin-2022-513:question", "qe-bastin-2022-513:reponse"]
    assert composer.compose(ranked, {}, "Qu'avait répondu le ministre en 2022 ?").cited[0] == "qe-bastin-2022-513:reponse"
    # A year dating another text the question names, or no parliamentary question spoken of:
    # retrieval's order stays.
    ranked = ["qe-cassart-2025:reponse", P + "458", "qe-bastin-2022-79:question"]
    asked = "La circulaire de 2022 sera revue, a dit le ministre ?"
    assert composer.compose(ranked, {}, asked, named=("circulaire-2022-06-02",)).cited[0] == "qe-cassart-2025:reponse"
    assert composer.compose([decree, "qe-bastin-2022-79:question"], {}, "Le décret existe depuis 2022 ?").cited[0] == decree


def test_a_ministers_answer_gives_more_of_its_sentences_within_a_budget(composer):
    question = "La circulaire donne-t-elle une liste exhaustive des exceptions, et le ministre va-t-il solliciter une révision ?"
    brief = composer.compose(["qe-cassart-2025:reponse"], {}, question)
    assert "ne prévoit pas de liste exhaustive" in brief.lead
    also = [p.text for p in brief.points if p.kind == "also"]
    assert any("éventuelle révision" in t for t in also) and any("établies par la loi" in t for t in also)
    from assistant.answering.brief import FILL_WORDS, MAX_PROSE_WORDS

    unit = composer.corpus.unit("qe-cassart-2025:reponse")
    assert sum(len(t.split()) for t in composer.more_prose(unit, set(composer.analyzer(question)))) <= MAX_PROSE_WORDS
    assert len(brief.lead.split()) + sum(len(t.split()) for t in also) <= FILL_WORDS


def test_a_related_article_opening_on_a_preamble_is_stated_by_the_rule_the_question_names(citing_seconds):
    composer = citing_seconds
    question = "Un mineur en danger, je dois intervenir ? Il n'a pas encore dix-huit ans."
    brief = composer.compose([P + "422bis", "code-penal-2024:art-2"], {P + "422bis": 1.0, "code-penal-2024:art-2": 0.9}, question)
    line = next(r.text for r in brief.related if r.unit_id == "code-penal-2024:art-2")
    assert line.startswith("une définition : « mineur: toute personne qui n'a pas encore atteint")
    # An article opening on its rule keeps it (422bis: the offence, not its aggravation for minors).
    other = composer.compose([P + "458bis", P + "422bis"], {P + "458bis": 1.0, P + "422bis": 0.9}, "Un mineur est en péril grave : je peux prévenir ?")
    assert next(r.text for r in other.related if r.unit_id == P + "422bis").startswith("une infraction punie : « Sera puni")


def test_a_short_reply_shows_more_of_its_article_within_a_budget(composer, monkeypatch):
    from assistant.answering.brief import FILL_WORDS

    # 422ter is one long sentence: the lead cuts it, the calamities it lists follow verbatim.
    brief = composer.compose([P + "422ter"], {}, "Si je refuse d'aider pendant une inondation, je suis puni ?")
    assert any("naufrage, inondation, incendie" in p.text for p in brief.points), brief.points
    # The publisher's annotations under an article (« A. L'arrêt de la Cour d'arbitrage … ») are not its text.
    brief = composer.compose(["loi-1976-07-08-cpas:art-1"], {}, "La loi organique définit la mission du CPAS comment ?")
    assert any("Toute personne a droit à l'aide sociale" in p.text for p in brief.points)
    assert not any("Cour d'arbitrage" in p.text for p in brief.points)
    # A reply already long (458ter, two paragraphs) gets nothing more.
    asked = "Je peux parler en concertation de cas ?"
    long = composer.compose([P + "458ter"], {}, asked)
    assert len(" ".join([long.lead, *(p.text for p in long.points)]).split()) > FILL_WORDS
    monkeypatch.setattr("assistant.answering.brief.FILL_WORDS", 0)
    assert composer.compose([P + "458ter"], {}, asked).points == long.points


def test_asked_whether_a_conduct_is_an_offence_the_penalty_leads(composer):
    asked = "Un voisin me suit partout et m'appelle la nuit, c'est du harcèlement au sens pénal ?"
    brief = composer.compose([P + "442bis"], {}, asked, offence=True)
    assert "sera puni d'une peine d'emprisonnement de quinze jours à deux ans" in brief.lead, brief.lead
    assert "inséré par" not in brief.lead  # the emptied parenthesis of Justel's marker
    # The traite article opens with its definition; asked whether a situation is an offence,
    # its penalty leads (retrieval says the question is one: Retrieval.signal["offence"]).
    asked = "Un patron garde le passeport d'un ouvrier qui dort sur le chantier, c'est une infraction ?"
    assert "sera punie d'un emprisonnement d'un an à cinq ans" in composer.compose([P + "433quinquies"], {}, asked,
                                                                                  offence=True).lead
    assert composer.compose([P + "433quinquies"], {}, asked).lead.startswith("Code pénal, art. 433quinquies — une définition")


def test_a_heading_in_capitals_is_never_quoted(composer):
    # « COUR CONSTITUTIONNELLE » opens the judgment: it was quoted as « what the text also provides ».
    brief = composer.compose(["c-const-2019-44:extrait"], {}, "La Cour constitutionnelle a dit quoi dans cet arrêt ?")
    assert "COUR CONSTITUTIONNELLE" not in brief.lead
    assert not any("COUR CONSTITUTIONNELLE" in p.text for p in brief.points)


def test_an_elided_list_keeps_the_items_that_name_the_reader(composer):
    # Art. 410bis lists the persons whose aggressor risks more; the lead kept the first two and
    # left out the social worker and the CPAS member who ask.
    asked = "Un usager m'a frappée au guichet du CPAS, ça change la peine ?"
    lead = composer.compose([P + "410bis"], {}, asked, offence=True).lead
    assert "un conducteur, un accompagnateur […] un assistant social ou un psychologue d'un service public, […] " \
           "un membre du centre public d'action sociale, […] les peines seront celles prévues" in lead, lead
    # A list that names no reader is cut as before, and the source's own cuts stay as they are.
    from assistant.answering.brief import with_readers
    assert with_readers("un conducteur […] les peines", "un conducteur, un facteur, les peines") == "un conducteur […] les peines"
    assert with_readers("cadre juridique ut[…]", "cadre juridique ut[…]") == "cadre juridique ut[…]"


def test_a_sentence_a_point_elides_is_shown_whole_there_not_twice(composer, monkeypatch):
    asked = "Un usager m'a frappée au guichet du CPAS, ça change la peine ?"
    monkeypatch.setattr("assistant.answering.brief.FILL_WORDS", 400)
    texts = [p.text for p in composer.compose([P + "410bis"], {}, asked, offence=True).points]
    # Each sentence of the article once: « Si le coupable … » is not both elided and whole.
    assert sum("le coupable" in t for t in texts) == 1, texts
    # Shown whole in its point, which keeps its reading (« une infraction punie : »).
    assert any(t.startswith("une infraction punie : « Les peines sont les suivantes: 1° dans les cas visés aux "
                            "articles 398, 399 et 405, le maximum") for t in texts), texts
    # Without room, the point stays as it was, and nothing repeats it.
    monkeypatch.setattr("assistant.answering.brief.FILL_WORDS", 0)
    texts = [p.text for p in composer.compose([P + "410bis"], {}, asked, offence=True).points]
    assert sum("le coupable" in t for t in texts) == 1 and any("Les peines sont les suivantes […]" in t for t in texts), texts


def test_a_long_conduct_is_cut_before_the_penalty_is(composer):
    # Art. 442quater's conduct is 58 words: the lead keeps the abuse and the penalty after it.
    asked = "Son neveu a vidé le compte de sa tante qui perd la tête : qu'est-ce que le pénal prévoit ?"
    lead = composer.compose([P + "442quater"], {}, asked, offence=True).lead
    assert "frauduleusement abusé de cette faiblesse" in lead, lead
    assert "sera puni d'une peine d'un mois à deux ans d'emprisonnement" in lead, lead
    assert len(lead.split()) <= 80, lead


def test_titles_and_the_openings_of_lists_are_never_listed_alone(composer, monkeypatch):
    # The new Code pénal's art. 2 carries the book's headings and « l'on entend par: »; a reply
    # listed four of them as what the text « also » provides.
    monkeypatch.setattr("assistant.answering.brief.FILL_WORDS", 400)
    asked = "Le nouveau Code pénal donne une définition générale de partenaire ?"
    brief = composer.compose(["code-penal-2024:art-2"], {}, asked)
    texts = [p.text for p in brief.points]
    assert texts and not any(t.endswith(":") or "Les définitions générales »" in t or "« -" in t
                             or "entend par: »" in t for t in texts), texts
    from assistant.answering.brief import heading_like
    assert heading_like("Les infractions de droit commun et leurs peines")
    assert not heading_like("L'amende sera appliquée autant de fois qu'il y a de victimes.")


def test_a_long_condition_shows_the_clause_holding_the_questions_rare_word(composer, corpus):
    # Art. 458bis's victims run past the cut: asked about a woman « avec une déficience mentale »,
    # the point shows its first words and the clause naming her, not only the first 45 words.
    asked = "Une jeune femme de 22 ans avec une déficience mentale est frappée par son frère : je peux prévenir le procureur ?"
    scope = next(p.text for p in composer.compose([P + "458bis"], {}, asked).points if p.kind == "scope")
    assert scope.startswith("et a de ce fait connaissance") and "d'une déficience physique ou mentale" in scope, scope
    assert verbatim(scope, corpus.unit(P + "458bis").plain_text) and len(scope.split()) <= 50, scope
    # A question whose words the first words already hold gets the plain cut.
    plain = "Une ado de 15 ans est frappée par son père : je peux prévenir le procureur ?"
    scope = next(p.text for p in composer.compose([P + "458bis"], {}, plain).points if p.kind == "scope")
    assert "déficience" not in scope and scope.endswith("[…]"), scope


def test_a_long_sentence_shown_below_the_lead_is_focused_on_the_question_too(composer, corpus):
    # The Flemish decree's definitions are one long sentence: cut at 45 words it stopped before
    # the data-protection regulation the question asks about.
    unit = "decret-fl-2024-03-29-refuges:art-2"
    asked = "Le décret flamand sur les refuges parle du règlement sur la protection des données ?"
    texts = [p.text for p in composer.compose([unit], {}, asked).points]
    assert any("règlement général sur la protection des données" in t for t in texts), texts
    assert all(verbatim(t.split("«", 1)[1].rsplit("»", 1)[0], corpus.unit(unit).plain_text) for t in texts), texts
    # Words that only name the text (« décret ») point nowhere in it.
    text = "un mot " * 35 + "le décret final, et la protection des données."
    assert composer.focused(text, 45, {"decret"}, corpus.unit(unit)) == capped(text, 45)
    assert "protection des données" in composer.focused(text, 45, {"decret", "protect"}, corpus.unit(unit))


def test_a_penalty_pointing_back_brings_the_rule_it_punishes(composer):
    # « Toute personne violant ce secret sera punie … »: which secret is the sentence before it.
    asked = "Après une réunion de concertation, un éducateur a tout raconté au voisin : il risque quoi ?"
    brief = composer.compose([P + "458ter"], {}, asked, offence=True)
    assert "violant ce secret" in brief.lead, brief.lead
    assert any("Les participants sont tenus au secret" in p.text for p in brief.points), [p.text for p in brief.points]
    from assistant.answering.brief import antecedent
    norms = read_norms(composer.corpus.unit(P + "458ter"))
    first = norms[0]
    assert antecedent(norms, first) is None  # nothing before the first rule, nor a rule pointing back
