"""The live index as one process reads it: chunk records, Chroma collections, BM25."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from assistant.errors import IndexUnavailable
from assistant.index.chunks import Chunk
from assistant.index.pointer import read_pointer
from assistant.index.locks import register_reader
from assistant.index.store import ChromaStore, collection_name
from assistant.text import FrenchAnalyzer


class LiveIndex:
    """The live version: chunk records, the Chroma collection and the BM25 model."""

    def __init__(self, index_dir: Path, pointer: dict | None = None, chroma_url: str | None = None):
        """The live version, or the version `pointer` describes (a candidate being evaluated).
        It stays this version for the life of the object, even if a build publishes another one:
        the version is marked as read, and builds keep it (index/locks.py)."""
        pointer = pointer or read_pointer(index_dir)
        if pointer is None:
            raise IndexUnavailable(f"aucun index dans {index_dir} : lancez « assistant index build ».")
        self.pointer, self.index_dir = pointer, index_dir
        register_reader(index_dir, pointer["version"], self)
        folder = index_dir / "versions" / pointer["version"]
        try:
            records = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
            self.chunks = [Chunk(**record) for record in records]
            self.bm25 = load_bm25(folder / "bm25")
            self.store = ChromaStore(index_dir, chroma_url)
            client = self.store.client
            names = {name: collection_name(name, pointer["version"]) for name in pointer["models"]}
            self.collections = {name: self.store.retry(lambda: client.get_collection(full, embedding_function=None))
                                for name, full in names.items()}
        except IndexUnavailable:
            raise
        except Exception as error:
            raise IndexUnavailable(f"index {pointer['version']} incomplet ou abîmé ({error.__class__.__name__}) : "
                              "reconstruisez-le avec « assistant index build --force ».") from None
        self.by_id = {c.id: i for i, c in enumerate(self.chunks)}
        self._matrices: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in self.collections:  # read now: a file damaged later does not stop a running process
            self._vectors(name)
        self.analyzer = FrenchAnalyzer()

    def dense(self, model: str, vector: list[float], n: int) -> list[tuple[int, float]]:
        """(chunk position, cosine similarity) for one model's vectors, best first.

        Exact search over the vectors Chroma stores, read once: Chroma's approximate HNSW
        answered differently from one process to the next and lost true neighbours (21 of
        40 dense top-30 lists differed from the exhaustive one); at ~1,100 chunks the exact
        product costs under a millisecond."""
        positions, matrix = self._vectors(model)
        query = np.asarray(vector, dtype=np.float32)
        query /= np.linalg.norm(query) or 1.0
        similarity = matrix @ query
        n = min(n, len(similarity))
        top = np.argpartition(-similarity, n - 1)[:n] if n < len(similarity) else np.arange(len(similarity))
        # Ties broken by chunk position, so the order never depends on the partition.
        order = sorted(top.tolist(), key=lambda i: (-float(similarity[i]), int(positions[i])))
        return [(int(positions[i]), float(similarity[i])) for i in order]

    def _vectors(self, model: str) -> tuple[np.ndarray, np.ndarray]:
        """Chunk positions and unit-length vectors of one model, read from Chroma once."""
        if model not in self._matrices:
            try:
                found = self.store.retry(lambda: self.collections[model].get(include=["embeddings"]))
            except IndexUnavailable:
                raise
            except Exception as error:  # the files changed under the running process
                raise IndexUnavailable(self._unreadable(error)) from None
            known = [(self.by_id[i], e) for i, e in zip(found["ids"], found["embeddings"]) if i in self.by_id]
            positions = np.array([p for p, _ in known], dtype=np.int64)
            matrix = np.asarray([e for _, e in known], dtype=np.float32).reshape(len(known), -1)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            self._matrices[model] = (positions, matrix / np.where(norms == 0, 1.0, norms))
        return self._matrices[model]

    def _unreadable(self, error: Exception) -> str:
        """French advice: a newer version went live (restart) or this one is damaged (rebuild)."""
        try:
            live = read_pointer(self.index_dir)
        except Exception:  # the pointer itself is unreadable: rebuilding is the advice anyway
            live = None
        if live and live.get("version") != self.pointer["version"]:
            return (f"l'index a été mis à jour depuis le démarrage (version {live['version']} en service) : "
                    "redémarrez l'assistant pour l'utiliser.")
        return (f"l'index {self.pointer['version']} est devenu illisible ({error.__class__.__name__}) : "
                "reconstruisez-le avec « assistant index build --force », puis redémarrez l'assistant.")

    def version_note(self) -> str:
        """Which version this object read, and whether another one went live meanwhile (French)."""
        try:
            live = (read_pointer(self.index_dir) or {}).get("version")
        except IndexUnavailable:
            live = None
        note = f"Index lu : version {self.pointer['version']}"
        if live and live != self.pointer["version"]:
            note += (f" (la version {live} a été publiée pendant l'exécution : ces résultats portent tous sur "
                     f"{self.pointer['version']} ; relancez pour mesurer la nouvelle)")
        return note + "."

    def query_vectors(self, model: str) -> dict[str, list[float]]:
        """hash → vector of the question-like texts built with this version (the issue cues)."""
        return read_query_vectors(self.index_dir, self.pointer, model)

    def lexical(self, text: str, n: int) -> list[tuple[int, float]]:
        """(chunk position, BM25 score), best first; zero-score hits dropped."""
        tokens = self.analyzer(text)
        known = [t for t in tokens if t in self.bm25.vocab_dict]
        if not known:
            return []
        positions, scores = self.bm25.retrieve([known], k=min(n, len(self.chunks)), show_progress=False)
        return [(int(p), float(s)) for p, s in zip(positions[0], scores[0]) if s > 0]


def read_query_vectors(index_dir: Path, pointer: dict | None, name: str) -> dict[str, list[float]]:
    """hash → query vector stored with a version (empty when absent or unreadable)."""
    if not pointer:
        return {}
    try:
        with np.load(index_dir / "versions" / pointer["version"] / f"queries-{name}.npz") as stored:
            return {str(h): v for h, v in zip(stored["hashes"], stored["vectors"])}
    except (OSError, KeyError, ValueError):
        return {}


def load_bm25(folder: Path):
    import bm25s

    return bm25s.BM25.load(str(folder), show_progress=False)
