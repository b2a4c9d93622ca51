"""The retriever as a LlamaIndex `BaseRetriever`, for people who compose their own pipeline.

    from assistant.pipeline import Assistant

    nodes = Assistant().as_llamaindex_retriever(k=5).retrieve("Puis-je témoigner en justice ?")
    for node in nodes:
        print(node.node.metadata["label"], node.score)

One `NodeWithScore` per unit `Retriever.retrieve` returns, in its order and with its score
(a fused reciprocal-rank score, not a cosine: compare scores only within one question). The
node's id is the citation id (« code-penal-1867:art-458ter ») and its text the unit's verbatim
plain text. Nothing here asks LlamaIndex's `Settings` for a model: no LLM, no embedding model,
no network; the question is embedded by the assistant's own local models.

An abstention (question outside the corpus, article absent, pure injection) gives an empty
list; `last_retrieval` keeps the whole `Retrieval` (its `abstained` and `signal` say why).
"""

from __future__ import annotations

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode

from assistant.corpus.model import Corpus, unit_label
from assistant.retrieval.retriever import Hit, Retrieval, Retriever

MAX_K = 50  # as `assistant ask --k`

# Said to a model that reads the node (MetadataMode.LLM): which text it is; the rest is for code.
LLM_METADATA = ("label",)


class StatuteRetriever(BaseRetriever):
    """`retrieve(question)` (inherited; a `str` or a `QueryBundle`) → list[NodeWithScore].

    Only `query_str` of a QueryBundle is read: the assistant embeds the question itself, with
    the models its index was built with, so a bundle's own `embedding` would not match it.
    """

    def __init__(self, retriever: Retriever, corpus: Corpus, k: int = 10,
                 callback_manager: CallbackManager | None = None):
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ValueError(f"k doit être un nombre entier compris entre 1 et {MAX_K}.")
        # Our own manager: without one, LlamaIndex would fall back on its global Settings.
        super().__init__(callback_manager=callback_manager or CallbackManager())
        self.retriever, self.corpus, self.k = retriever, corpus, k
        # The last question's Retrieval (abstention and its reasons). One per retriever object:
        # threads that share it should read the nodes, or use one StatuteRetriever each.
        self.last_retrieval: Retrieval | None = None

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        retrieval = self.retriever.retrieve(query_bundle.query_str, self.k)
        self.last_retrieval = retrieval
        if retrieval.abstained:
            return []
        return [self.node(hit) for hit in retrieval.hits]

    def node(self, hit: Hit) -> NodeWithScore:
        unit = self.corpus.unit(hit.unit_id)
        document = self.corpus.document_of(unit)
        metadata = {
            "citation": unit.id,
            "label": unit_label(document, unit),
            "document": document.id,
            "document_label": document.label,
            "kind": unit.kind,
            "number": unit.number,
            "title": unit.title,
            "version": document.meta.get("version"),
            "complete": document.complete and not unit.partial,
            "via": hit.via,  # dense model, bm25, issues, both, or reference (cited by a unit above it)
        }
        hidden = [key for key in metadata if key not in LLM_METADATA]
        node = TextNode(
            id_=unit.id,
            text=unit.plain_text,
            metadata=metadata,
            excluded_llm_metadata_keys=hidden,
            excluded_embed_metadata_keys=hidden,
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=document.id)},
        )
        return NodeWithScore(node=node, score=hit.score)


__all__ = ["StatuteRetriever"]
