"""Building an index version: chunks embedded (reusing unchanged vectors), one Chroma collection
per model, BM25, chunk records; then published (current.json) or discarded."""

from __future__ import annotations

import json
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from assistant.corpus.model import Corpus
from assistant.errors import IndexUnavailable
from assistant.index.chunks import Chunk, chunk_corpus
from assistant.index.live import read_query_vectors
from assistant.index.pointer import read_pointer, write_pointer
from assistant.index.locks import exclusive_build, say, versions_in_use
from assistant.index.store import COLLECTION_PREFIX, ChromaStore, collection_name
from assistant.text import FrenchAnalyzer, text_hash


@dataclass
class BuildReport:
    version: str
    chunks: int
    added: int
    changed: int
    removed: int
    unchanged: int
    embedded: int
    seconds: float
    switched: bool
    pointer: dict | None = None  # the new version's description (written to current.json when switched)

    def summary(self) -> str:
        if not self.switched:
            return f"Index déjà à jour ({self.chunks} passages, version {self.version})."
        return (f"Index {self.version} en service : {self.chunks} passages ; {self.added} ajoutés, "
                f"{self.changed} modifiés, {self.removed} retirés, {self.unchanged} inchangés ; "
                f"{self.embedded} calculés en {self.seconds:.1f} s.")


class IndexBuilder:
    """Build a new index version from the corpus, reusing the vectors of unchanged chunks.

    `embeddings` maps a short name ("e5", "use") to a LlamaIndex embedding; each model has
    its own Chroma collection `chunks-<name>-<version>`.
    """

    def __init__(self, index_dir: Path, embeddings: dict, progress: bool = True, chroma_url: str | None = None,
                 notify: Callable[[str], None] = say, queries: list[str] = ()):
        self.index_dir = index_dir
        # Question-like texts the retrieval matches questions against (the issue cues):
        # embedded as queries, stored with the version, reused by content hash.
        self.queries = list(dict.fromkeys(queries))
        self.embeddings = embeddings
        self.progress = progress
        self.store = ChromaStore(index_dir, chroma_url)
        self.notify = notify  # told, in French, when another process holds the build lock

    def models(self) -> dict[str, str]:
        return {name: model.model_name for name, model in self.embeddings.items()}

    def build(self, corpus: Corpus, force: bool = False, switch: bool = True) -> BuildReport:
        """A new version when the corpus changed; `switch=False` leaves it beside the live one
        (a candidate: `publish` or `discard` it after checking it). One build at a time per
        index folder: a second process waits, then finds the index up to date."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with exclusive_build(self.index_dir, self.notify):
            return self._build(corpus, force, switch)

    def _build(self, corpus: Corpus, force: bool, switch: bool) -> BuildReport:
        started = time.perf_counter()
        chunks = chunk_corpus(corpus)
        pointer = read_pointer(self.index_dir)
        if pointer and pointer.get("models") != self.models():
            pointer, force = None if force else pointer, True  # another model: nothing to reuse
        client = self.store.client
        old = self._live_chunks(pointer) if pointer else {}
        diff = compare(old, chunks)
        old_queries = {name: read_query_vectors(self.index_dir, pointer, name) for name in self.embeddings} \
            if pointer and not force else {}
        same_queries = all(set(vectors) == {text_hash(q) for q in self.queries} for vectors in old_queries.values()) \
            and bool(old_queries)
        if pointer and not force and same_queries and not (diff["added"] or diff["changed"] or diff["removed"]):
            return BuildReport(pointer["version"], len(chunks), 0, 0, 0, len(chunks), 0, 0.0, False, pointer)
        version = time.strftime("v%Y%m%d-%H%M%S") + f"-{uuid.uuid4().hex[:8]}"
        folder = self.index_dir / "versions" / version
        folder.mkdir(parents=True)
        try:
            embedded = self._write_version(client, pointer, old, chunks, version, force)
            embedded += self._write_queries(folder, old_queries)
        except Exception as error:
            self._discard_quietly(version)  # no half-written version left behind
            if isinstance(error, OSError) or type(error).__module__.startswith("chromadb"):
                raise IndexUnavailable(f"écriture de la version {version} impossible ({error.__class__.__name__} : "
                                       f"{str(error)[:120]}) ; l'index en service n'a pas changé (espace disque ? "
                                       "droits d'écriture ?).") from None
            raise
        new_pointer = {"version": version, "models": self.models(), "chunks": len(chunks),
                       "units": len(corpus.units), "built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if switch:
            self.publish(new_pointer, client)
        return BuildReport(version, len(chunks), len(diff["added"]), len(diff["changed"]), len(diff["removed"]),
                           len(diff["unchanged"]), embedded, time.perf_counter() - started, switch, new_pointer)

    def _write_version(self, client, pointer, old: dict, chunks: list[Chunk], version: str, force: bool) -> int:
        """Vectors (reused or computed), Chroma collections, BM25 and chunk records of a new version;
        returns how many vectors were computed."""
        embedded = 0
        for name, model in self.embeddings.items():
            reused = {} if force else self._reusable_vectors(client, pointer, name, old, chunks)
            vectors = self._embed(model, chunks, reused, name)
            embedded += len(chunks) - len(reused)
            self._write_collection(client, collection_name(name, version), chunks, vectors)
        folder = self.index_dir / "versions" / version
        write_bm25(folder / "bm25", chunks)
        (folder / "chunks.json").write_text(json.dumps([asdict(c) for c in chunks], ensure_ascii=False),
                                            encoding="utf-8")
        return embedded

    def _write_queries(self, folder: Path, old: dict[str, dict]) -> int:
        """queries-<model>.npz: the query vectors of `self.queries`, reusing the previous version's;
        returns how many were computed."""
        computed_count = 0
        hashes = [text_hash(q) for q in self.queries]
        for name, model in self.embeddings.items():
            known = old.get(name, {})
            todo = [q for q, h in zip(self.queries, hashes) if h not in known]
            computed = dict(zip((text_hash(q) for q in todo), model.get_query_embeddings(todo))) if todo else {}
            computed_count += len(todo)
            vectors = np.asarray([known.get(h) if h in known else computed[h] for h in hashes], dtype=np.float32)
            np.savez(folder / f"queries-{name}.npz", hashes=np.array(hashes), vectors=vectors)
        return computed_count

    def _discard_quietly(self, version: str) -> None:
        try:
            self.discard(version)
        except Exception:  # the disk or the server that failed the build may fail this too
            pass

    def publish(self, pointer: dict, client=None) -> None:
        """Make a built version live, then remove the others, except those that running processes
        on this machine still read (an eval finishes on the version it started with). On a Chroma
        server the previous version also stays until the next build: app processes on other
        machines still read it until they restart (removed at once, their questions were refused)."""
        with exclusive_build(self.index_dir):
            previous = read_pointer(self.index_dir) if self.store.url else None
            write_pointer(self.index_dir, pointer)
            keep = {pointer["version"]} | ({previous["version"]} if previous else set())
            try:
                keep |= versions_in_use(self.index_dir)
                self._drop_other_versions(client or self.store.client, keep)
            except Exception:  # the new version is live; the next build removes what is left
                pass

    def discard(self, version: str) -> None:
        """Remove a candidate version that was not published (the live one is never touched)."""
        live = read_pointer(self.index_dir)
        if live and live["version"] == version:
            return
        client = self.store.client
        for name in self.embeddings:
            try:
                client.delete_collection(collection_name(name, version))
            except Exception:
                pass  # never created (the build stopped before it)
        shutil.rmtree(self.index_dir / "versions" / version, ignore_errors=True)

    def _live_chunks(self, pointer: dict) -> dict[str, Chunk]:
        path = self.index_dir / "versions" / pointer["version"] / "chunks.json"
        try:
            return {c["id"]: Chunk(**c) for c in json.loads(path.read_text(encoding="utf-8"))}
        except (FileNotFoundError, json.JSONDecodeError, TypeError):
            return {}  # a damaged live version: rebuild everything

    def _reusable_vectors(self, client, pointer, name: str, old: dict[str, Chunk], chunks: list[Chunk]) -> dict:
        wanted = {c.hash for c in chunks}
        ids = [c.id for c in old.values() if c.hash in wanted]
        if not pointer or not ids:
            return {}
        try:
            collection = client.get_collection(collection_name(name, pointer["version"]), embedding_function=None)
            found = collection.get(ids=ids, include=["embeddings", "metadatas"])
        except Exception:
            return {}  # the old collection is gone or damaged: embed again
        return {meta["hash"]: list(vector) for meta, vector in zip(found["metadatas"], found["embeddings"])}

    def _embed(self, model, chunks: list[Chunk], reused: dict, name: str) -> list:
        todo = list({c.hash: c for c in chunks if c.hash not in reused}.values())
        computed = {}
        batch = 16
        bar = progress_bar(len(todo), f"Vecteurs {name}") if self.progress and todo else None
        for start in range(0, len(todo), batch):
            group = todo[start:start + batch]
            for chunk, vector in zip(group, model.get_text_embedding_batch([c.for_embedding for c in group])):
                computed[chunk.hash] = vector
            if bar:
                bar.update(len(group))
        if bar:
            bar.close()
        return [reused.get(c.hash) or computed[c.hash] for c in chunks]

    def _write_collection(self, client, name: str, chunks: list[Chunk], vectors: list) -> None:
        # get_or_create and upsert: a call retried after a lost reply must not fail or duplicate.
        collection = self.store.retry(lambda: client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}))
        for start in range(0, len(chunks), 500):
            group = chunks[start:start + 500]
            self.store.retry(lambda: collection.upsert(
                ids=[c.id for c in group], embeddings=vectors[start:start + 500],
                metadatas=[{"unit_id": c.unit_id, "document": c.document, "hash": c.hash} for c in group],
                documents=[c.text for c in group]))

    def _drop_other_versions(self, client, keep: set[str]) -> None:
        """Remove the versions not kept (older ones, and leftovers of crashed builds)."""
        for collection in client.list_collections():
            name = getattr(collection, "name", collection)
            if name.startswith(COLLECTION_PREFIX) and not any(name.endswith("-" + k) for k in keep):
                client.delete_collection(name)
        for folder in (self.index_dir / "versions").iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)


def compare(old: dict[str, Chunk], new: list[Chunk]) -> dict[str, list[str]]:
    """Chunk ids added, changed (same id, new content), removed and unchanged."""
    new_by_id = {c.id: c for c in new}
    return {
        "added": [i for i in new_by_id if i not in old],
        "changed": [i for i, c in new_by_id.items() if i in old and old[i].hash != c.hash],
        "removed": [i for i in old if i not in new_by_id],
        "unchanged": [i for i, c in new_by_id.items() if i in old and old[i].hash == c.hash],
    }


def write_bm25(folder: Path, chunks: list[Chunk]) -> None:
    import bm25s

    analyzer = FrenchAnalyzer()
    retriever = bm25s.BM25()
    retriever.index([analyzer(f"{c.context}\n{c.text}") or ["∅"] for c in chunks], show_progress=False)
    retriever.save(str(folder), show_progress=False)


def progress_bar(total: int, label: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="passage", file=sys.stderr, disable=None)  # None: no bar when not a terminal
