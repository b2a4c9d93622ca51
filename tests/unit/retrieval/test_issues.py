"""Issue spotting: the catalogue is well formed and linked to the corpus, and the spotter ranks
the units of the issues a question is closest to."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from assistant.corpus.model import Corpus
from assistant.retrieval.issues import Issue, IssueSpotter, cue_texts, load_issues
from assistant.text import text_hash

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]


def test_every_issue_is_linked_to_units_of_the_corpus_and_has_cues():
    corpus = Corpus.load(ROOT / "corpus")
    known = {unit.id for unit in corpus.units}
    issues = load_issues()
    assert len(issues) >= 30
    assert len({issue.id for issue in issues}) == len(issues)
    for issue in issues:
        assert issue.units and set(issue.units) <= known, issue.id
        assert len(issue.cues) >= 8, issue.id
    # A cue belongs to one issue: shared, it would vote for both.
    assert len(cue_texts(issues)) == sum(len(issue.cues) for issue in issues)


def test_cues_never_cite_an_article_number():
    """Cues are situations in users' words; an article number would match on the number."""
    for issue in load_issues():
        for cue in issue.cues:
            assert not re.search(r"\b(art\.?|article|§)\s*\d", cue, re.IGNORECASE), cue


def spotter(temperature: float = 0.01, neighbours: int = 1) -> IssueSpotter:
    issues = [Issue("a", "A", ("u1", "u2"), ("cue a1", "cue a2")),
              Issue("b", "B", ("u3", "gone"), ("cue b1",)),
              Issue("c", "C", ("u2",), ("cue c1",))]
    vectors = {text_hash("cue a1"): [1.0, 0.0, 0.0], text_hash("cue a2"): [0.9, 0.0, 0.1],
               text_hash("cue b1"): [0.0, 1.0, 0.0], text_hash("cue c1"): [0.0, 0.0, 1.0]}
    return IssueSpotter(issues, vectors, {"u1", "u2", "u3"}, temperature, neighbours=neighbours)


def test_the_closest_issue_leads_with_its_first_unit():
    ranked = spotter().rank([1.0, 0.05, 0.0])
    assert [unit for unit, _ in ranked[:2]] == ["u1", "u2"]
    scores = dict(ranked)
    # Its second unit counts half; a far issue (b, c) weighs almost nothing.
    assert scores["u2"] == pytest.approx(scores["u1"] / 2, rel=1e-3)
    assert scores["u3"] < 1e-6 * scores["u1"]
    # A unit absent from the corpus is never returned.
    assert "gone" not in scores


def test_a_question_between_two_issues_gets_both():
    ranked = dict(spotter().rank([0.7, 0.7, 0.0]))  # as close to a's best cue as to b's
    assert ranked["u1"] == pytest.approx(ranked["u3"])
    # A wider temperature mixes further issues in.
    far = dict(spotter(temperature=1.0).rank([1.0, 0.0, 0.0]))
    assert far["u3"] > 0.3 * far["u1"]


def test_one_cue_close_by_accident_does_not_decide_alone():
    # Issue a: one cue right on the question, the other far; issue b: two cues both close.
    issues = [Issue("a", "A", ("u1",), ("cue a1", "cue a2")), Issue("b", "B", ("u2",), ("cue b1", "cue b2"))]
    vectors = {text_hash("cue a1"): [1.0, 0.0], text_hash("cue a2"): [0.0, 1.0],
               text_hash("cue b1"): [0.95, 0.31], text_hash("cue b2"): [0.93, 0.37]}
    assert IssueSpotter(issues, vectors, {"u1", "u2"}, neighbours=1).rank([1.0, 0.0])[0][0] == "u1"
    assert IssueSpotter(issues, vectors, {"u1", "u2"}, neighbours=2).rank([1.0, 0.0])[0][0] == "u2"
    # An issue with fewer cues than neighbours averages those it has.
    lone = [Issue("c", "C", ("u3",), ("cue a1",))]
    assert IssueSpotter(lone, vectors, {"u3"}, neighbours=2).rank([1.0, 0.0])[0][0] == "u3"


def test_cues_without_a_vector_are_left_out():
    issues = [Issue("a", "A", ("u1",), ("cue a1", "no vector"))]
    spot = IssueSpotter(issues, {text_hash("cue a1"): [1.0, 0.0]}, {"u1"})
    assert len(spot.owner) == 1 and spot.rank(np.array([0.0, 1.0]))[0][0] == "u1"
    assert IssueSpotter(issues, {}, {"u1"}).rank([1.0, 0.0]) == []


def test_the_question_words_settle_a_near_tie_between_issues():
    issues = [Issue("a", "Concertation de cas entre services", ("u1",), ("réunion entre services",)),
              Issue("b", "Conseillers de l'action sociale", ("u2",), ("un conseiller parle d'un dossier",))]
    vectors = {text_hash("réunion entre services"): [1.0, 0.0], text_hash("un conseiller parle d'un dossier"): [0.9995, 0.03]}
    spot = IssueSpotter(issues, vectors, {"u1", "u2"})
    assert spot.rank([1.0, 0.0])[0][0] == "u1"  # by the vectors alone: a
    assert spot.rank([1.0, 0.0], "le conseiller de l'action sociale a parlé")[0][0] == "u2"
    assert IssueSpotter(issues, vectors, {"u1", "u2"}, lexical=0.0).rank(
        [1.0, 0.0], "le conseiller de l'action sociale a parlé")[0][0] == "u1"


def test_a_second_encoder_settles_what_the_first_leaves_tied():
    # By e5 the question is as close to a's cue as to b's; the second encoder sees it near b only.
    issues = [Issue("a", "A", ("u1",), ("cue a1",)), Issue("b", "B", ("u2",), ("cue b1",))]
    first = {text_hash("cue a1"): [1.0, 0.0], text_hash("cue b1"): [0.0, 1.0]}
    second = {text_hash("cue a1"): [1.0, 0.0], text_hash("cue b1"): [0.0, 1.0]}
    tied = [0.7, 0.7]
    alone = IssueSpotter(issues, first, {"u1", "u2"}, lexical=0.0)
    assert dict(alone.rank(tied))["u1"] == pytest.approx(dict(alone.rank(tied))["u2"])
    both = IssueSpotter(issues, first, {"u1", "u2"}, lexical=0.0, second=(second, 0.1))
    assert both.rank(tied, "", [0.1, 1.0])[0][0] == "u2"
    assert both.rank(tied, "", [1.0, 0.1])[0][0] == "u1"
    # Without the question's second vector (a spotter used on e5 alone), the tie stays.
    assert dict(both.rank(tied))["u1"] == pytest.approx(dict(both.rank(tied))["u2"])


def test_an_offence_only_issue_votes_only_when_the_question_asks_about_an_offence():
    # Same situation, two questions: « must I report? » (issue a) and « what does he risk? » (b).
    issues = [Issue("a", "A", ("report",), ("cue a1",)),
              Issue("b", "B", ("offence",), ("cue b1",), offence_only=True)]
    vectors = {text_hash("cue a1"): [1.0, 0.1], text_hash("cue b1"): [1.0, 0.0]}
    spotter = IssueSpotter(issues, vectors, {"report", "offence"})
    assert spotter.rank([1.0, 0.0], offence=True)[0][0] == "offence"
    asked_what_to_do = dict(spotter.rank([1.0, 0.0]))
    assert next(iter(asked_what_to_do)) == "report"
    assert asked_what_to_do.get("offence", 0.0) == 0.0


def test_the_catalogue_marks_offence_only_issues_with_asks_infraction():
    marked = {issue.id for issue in load_issues() if issue.offence_only}
    assert "privation-soins-enfant" in marked and "mineur-maltraite-signalement" not in marked
