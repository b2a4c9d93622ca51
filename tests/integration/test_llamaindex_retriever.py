"""The retriever as a LlamaIndex BaseRetriever: same units, order and scores as Retriever,
verbatim texts, abstention as an empty list, and no LlamaIndex default model ever asked for."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from llama_index.core.postprocessor import SimilarityPostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode
from llama_index.core.settings import _Settings

from assistant.pipeline import Assistant
from assistant.retrieval.llamaindex import StatuteRetriever

pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures")
from tests.helpers.retrieval_fixtures import QUESTION_458TER, UNIT_458TER  # noqa: E402

pytestmark = pytest.mark.integration

WITNESS = "Un assistant social du CPAS peut-il témoigner en justice sur ce qu'un usager lui a confié ?"
OUT_OF_SCOPE = "Combien de semaines de préavis pour une employée qui démissionne ?"


@pytest.fixture()
def no_default_models(monkeypatch):
    """Asking LlamaIndex's Settings for its LLM or embedding model fails the test (it would
    mean OpenAI by default), and there is no OpenAI key to fall back on."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def refuse(self):
        raise AssertionError("LlamaIndex Settings.llm / Settings.embed_model consulté")

    monkeypatch.setattr(_Settings, "llm", property(refuse))
    monkeypatch.setattr(_Settings, "embed_model", property(refuse))


@pytest.fixture()
def hybrid(retriever_factory):
    return retriever_factory("hybrid")


@pytest.mark.parametrize("question", [QUESTION_458TER, WITNESS])
def test_nodes_are_the_retrieved_units_in_order_with_their_scores(hybrid, small_corpus, no_default_models, question):
    expected = hybrid.retrieve(question, 7)
    nodes = StatuteRetriever(hybrid, small_corpus, k=7).retrieve(question)
    assert not expected.abstained and len(expected.hits) == 7
    assert all(isinstance(n, NodeWithScore) and isinstance(n.node, TextNode) for n in nodes)
    assert [n.node.node_id for n in nodes] == expected.unit_ids
    assert [n.score for n in nodes] == [hit.score for hit in expected.hits]
    for node, hit in zip(nodes, expected.hits):
        unit = small_corpus.unit(hit.unit_id)
        assert node.node.text == unit.plain_text
        assert node.node.metadata["citation"] == unit.id
        assert node.node.metadata["document"] == unit.document
        assert node.node.metadata["via"] == hit.via
        assert node.node.ref_doc_id == unit.document


def test_metadata_names_the_article_and_only_the_label_reaches_a_model(hybrid, small_corpus, no_default_models):
    nodes = StatuteRetriever(hybrid, small_corpus).retrieve(QUESTION_458TER)
    node = next(n.node for n in nodes if n.node.node_id == UNIT_458TER)
    assert node.metadata["label"] == "Code pénal, art. 458ter"
    assert node.metadata["document"] == "code-penal-1867" and node.metadata["kind"] == "article"
    shown = node.get_content(MetadataMode.LLM)
    assert shown.startswith("label: Code pénal, art. 458ter") and shown.endswith(node.text)
    assert "citation:" not in shown and "via:" not in shown


def test_out_of_scope_question_gives_no_node_and_keeps_the_reason(hybrid, small_corpus, no_default_models):
    retriever = StatuteRetriever(hybrid, small_corpus)
    assert retriever.retrieve(OUT_OF_SCOPE) == []
    assert retriever.last_retrieval.abstained and retriever.last_retrieval.signal["scope_topic"]
    assert retriever.retrieve("   ") == [] and retriever.last_retrieval.hits == []


def test_plugs_into_a_node_postprocessor_with_a_query_bundle(hybrid, small_corpus, no_default_models):
    retriever = StatuteRetriever(hybrid, small_corpus, k=10)
    nodes = retriever.retrieve(QueryBundle(query_str=QUESTION_458TER))
    assert [n.node.node_id for n in nodes] == retriever.last_retrieval.unit_ids
    cutoff = nodes[4].score
    kept = SimilarityPostprocessor(similarity_cutoff=cutoff).postprocess_nodes(nodes)
    assert [n.node.node_id for n in kept] == [n.node.node_id for n in nodes if n.score >= cutoff]
    assert 5 <= len(kept) < len(nodes) and UNIT_458TER in [n.node.node_id for n in kept]


def test_async_retrieval_gives_the_same_nodes(hybrid, small_corpus, no_default_models):
    retriever = StatuteRetriever(hybrid, small_corpus, k=5)
    nodes = asyncio.run(retriever.aretrieve(QUESTION_458TER))
    assert [n.node.node_id for n in nodes] == hybrid.retrieve(QUESTION_458TER, 5).unit_ids


def test_the_assistant_offers_its_retriever_to_llamaindex(hybrid, small_corpus):
    retriever = Assistant.as_llamaindex_retriever(SimpleNamespace(retriever=hybrid, corpus=small_corpus), k=3)
    assert retriever.retriever is hybrid and retriever.corpus is small_corpus and retriever.k == 3


@pytest.mark.parametrize("k", [0, 51, 2.5, True])
def test_k_out_of_range_is_refused_in_french(k):
    with pytest.raises(ValueError, match="k doit être un nombre entier compris entre 1 et 50"):
        StatuteRetriever(None, None, k=k)
