"""The scope check: example questions of covered and not covered topics (scope.yaml)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answering.extractive import abstention_message
from assistant.corpus.model import Corpus
from assistant.retrieval.scope import SCOPE_FILE, ScopeGuard, ScopeVerdict, load_scope, normalised



@pytest.mark.unit
def test_shipped_scope_file_has_both_sides_and_french_topics():
    covered, outside = load_scope(SCOPE_FILE)
    assert len(covered) >= 30 and len(outside) >= 30
    topics = {topic for topic, _ in outside}
    assert len(topics) >= 6 and all(topic[:1].islower() for topic in topics)  # « porte sur {topic} »


@pytest.mark.unit
def test_verdict_margin():
    verdict = ScopeVerdict(covered=0.50, not_covered=0.58, topic="le droit du travail")
    assert verdict.outside(0.05) and not verdict.outside(0.10)


@pytest.mark.integration
def test_guard_on_a_custom_scope_file(tmp_path, embeddings):
    path = tmp_path / "scope.yaml"
    path.write_text(
        "covered:\n  - Puis-je révéler un secret professionnel à la police ?\n"
        "not_covered:\n  - topic: la cuisine\n    questions:\n      - Donne-moi une recette de tarte aux pommes.\n",
        encoding="utf-8")
    guard = ScopeGuard(embeddings["use"], path)
    recipe = guard.judge(embeddings["use"].get_query_embedding("Une recette de tarte au sucre ?"))
    secret = guard.judge(embeddings["use"].get_query_embedding("La police peut-elle me faire lever le secret ?"))
    assert recipe.topic == "la cuisine" and recipe.outside(0.05)
    assert not secret.outside(0.05)


def test_situations_count_as_covered_with_a_discount(tmp_path, embeddings):
    """A long situation told in a user's words is far from the covered examples, which are
    questions; the issue cues (situations) cover it, less a discount."""
    path = tmp_path / "scope.yaml"
    path.write_text(
        "covered:\n  - Puis-je révéler un secret professionnel à la police ?\n"
        "not_covered:\n  - topic: le droit de la famille\n    questions:\n      - Comment fixer la pension alimentaire "
        "d'un enfant après un divorce ?\n", encoding="utf-8")
    model = embeddings["use"]
    situation = "Le fils de Mme D. gère sa pension, elle maigrit et n'a plus vu de médecin depuis des mois"
    cue = "Une dame âgée dont le fils garde la pension semble négligée et dénutrie"
    vector = model.get_query_embedding(situation)
    plain = ScopeGuard(model, path).judge(vector)
    helped = ScopeGuard(model, path, situations=[model.get_query_embedding(cue)]).judge(vector)
    assert helped.covered > plain.covered
    assert helped.covered == pytest.approx(float(np.dot(*normalised([vector, model.get_query_embedding(cue)]))) - 0.15,
                                           abs=1e-5)
    assert ScopeGuard(model, path, situations=[model.get_query_embedding(cue)], discount=1.0).judge(vector).covered \
        == pytest.approx(plain.covered)


@pytest.mark.integration
@pytest.mark.parametrize("question", ["Combien de semaines de préavis pour une employée qui démissionne ?",
                                      "À quelle heure ferme le CPAS de Wavre le vendredi ?"])
def test_questions_outside_the_corpus_abstain_and_name_the_topic(retriever_factory, question):
    retrieval = retriever_factory("hybrid").retrieve(question, 10)
    assert retrieval.abstained
    assert retrieval.signal["scope_topic"]


@pytest.mark.unit
def test_abstention_message_names_the_topic(tmp_path):
    corpus = Corpus.load(tmp_path)  # empty corpus: the message still reads well
    message = abstention_message(corpus, topic="le droit du travail")
    assert "porter sur le droit du travail, que le corpus ne couvre pas" in message
    assert "le secret professionnel" in message
