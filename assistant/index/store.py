"""The search index: chunks of units, their vectors in Chroma, a French BM25 beside them.

Layout under the index directory:
    current.json             which version is live (replaced atomically, last step of a build)
    chroma/                  Chroma PersistentClient (collection `chunks-<version>`), unless
                             ASSISTANT_CHROMA_URL points at a Chroma server
    versions/<version>/      chunks.json (chunk records) and bm25/ (bm25s files)

A build writes a whole new version and switches `current.json` only when it is complete,
so a crash or an error mid-build leaves the previous version live. Vectors of chunks whose
content hash did not change are copied from the live version instead of re-embedded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.corpus.model import Corpus, Unit, unit_label
from assistant.errors import IndexUnavailable
from assistant.text import ARTICLE_NUMBER, PART_RE, FrenchAnalyzer

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

MAX_CHUNK_CHARS = 1200
EMBED_CHARS = 600
COLLECTION_PREFIX = "chunks-"
PARAGRAPH_RE = re.compile(r"(?m)^(?=§\s*\d+(?:er)?\.)")
# "§ 2." or, for the first paragraph, "Art. 137. § 1er." at the start of a piece.
# A run of three or more article numbers ("417/7 à 417/22, 433quater/1 et 442nonies"):
# meaningless to a sentence encoder, and it can fill the whole embedded window (art. 458bis).
NUMBER_RUN_RE = re.compile(rf"{ARTICLE_NUMBER}(?:(?:\s*,\s*|\s+(?:à|et|ou)\s+){ARTICLE_NUMBER}){{2,}}")


@dataclass
class Chunk:
    id: str
    unit_id: str
    document: str
    part: str | None
    context: str
    text: str
    hash: str = ""

    @property
    def for_embedding(self) -> str:
        # Embedding cost grows with length and e5 reads 512 tokens at most; BM25 sees it all.
        text = NUMBER_RUN_RE.sub("(…)", self.text)
        text = text if len(text) <= EMBED_CHARS else text[:EMBED_CHARS].rsplit(" ", 1)[0]
        return f"{self.context}\n{text}"


# -- chunking -------------------------------------------------------------------------

def chunk_corpus(corpus: Corpus) -> list[Chunk]:
    """Every unit as one or more chunks (long articles split by §), each with its context line."""
    chunks = []
    for unit in corpus.units:
        context = context_line(corpus, unit)
        for n, (part, text) in enumerate(split_unit(unit.plain_text)):
            chunk = Chunk(f"{unit.id}#{n}", unit.id, unit.document, part, context, text)
            chunk.hash = hashlib.sha256(chunk.for_embedding.encode()).hexdigest()[:32]
            chunks.append(chunk)
    return chunks


def context_line(corpus: Corpus, unit: Unit) -> str:
    """« Code pénal, art. 458ter — Chapitre VI. - De quelques autres délits… »: what, where."""
    document = corpus.document_of(unit)
    parts = [unit_label(document, unit)]
    if unit.path:
        parts.append(sentence_case(strip_markers(unit.path[-1])))
    if unit.kind != "article" and document.meta.get("title") not in (None, document.label):
        parts.append(str(document.meta["title"]))
    return " — ".join(parts)


def sentence_case(heading: str) -> str:
    """Justel prints headings in capitals; e5 reads them better (and shorter) in lower case."""
    letters = [c for c in heading if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        return heading[:1] + heading[1:].lower()
    return heading


def strip_markers(text: str) -> str:
    return " ".join(re.sub(r"<[^<>]*>|\[\d+\s?|\]\d+", "", text).split())


def split_unit(text: str) -> list[tuple[str | None, str]]:
    """[(part label, text)]: one piece, or § by §, then paragraph groups, under MAX_CHUNK_CHARS."""
    if len(text) <= MAX_CHUNK_CHARS:
        return [(None, text)]
    pieces = []
    for block in (b.strip() for b in PARAGRAPH_RE.split(text) if b.strip()):
        match = PART_RE.match(block)
        part = f"§ {match.group(1)}" if match else None
        for piece in group_paragraphs(block):
            pieces.append((part, piece))
    return pieces


def group_paragraphs(block: str) -> list[str]:
    if len(block) <= MAX_CHUNK_CHARS:
        return [block]
    groups, current = [], ""
    for paragraph in block.split("\n\n"):
        if current and len(current) + len(paragraph) > MAX_CHUNK_CHARS:
            groups.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    return groups + ([current] if current else [])



# -- storage ----------------------------------------------------------------------------

def chroma_client(index_dir: Path):
    """Chroma server when ASSISTANT_CHROMA_URL is set, else an embedded store under index/."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    url = os.environ.get("ASSISTANT_CHROMA_URL")
    if url:
        from urllib.parse import urlparse

        try:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            valid = parsed.scheme in ("http", "https") and bool(parsed.hostname) and (parsed.port or 8000) > 0
        except ValueError:  # « http://[bad », a port beyond 65535…
            valid = False
        if not valid:
            raise IndexUnavailable(f"ASSISTANT_CHROMA_URL invalide (« {url} ») : attendu une adresse comme "
                                   "http://hote:8000, ou retirez la variable pour le stockage intégré.")
        return bounded(with_retries(lambda: http_client(parsed, settings)))
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=settings)


def http_client(parsed, settings):
    """A quick heartbeat first, with a deadline: creating the client has none and would wait forever
    on a server that hangs."""
    import chromadb
    import httpx

    ssl, port = parsed.scheme == "https", parsed.port or 8000
    httpx.get(f"{'https' if ssl else 'http'}://{parsed.hostname}:{port}/api/v2/heartbeat",
              timeout=httpx.Timeout(CHROMA_TIMEOUT, connect=min(5.0, CHROMA_TIMEOUT)))
    return chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl, settings=settings)


# Chroma's HTTP client waits forever by default: a server that hangs (stopped, overloaded, cut
# off without a reset) would freeze every question. One request gets this long at most.
CHROMA_TIMEOUT = 30.0


def bounded(client):
    """The client with a deadline on each request (its httpx session; the version is pinned)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(CHROMA_TIMEOUT, connect=min(5.0, CHROMA_TIMEOUT))
    return client


# A Chroma server that does not answer (restarting, overloaded, network blip) is asked again
# after these pauses, then the user gets a French error: 3.75 s at most, nothing half-written
# goes live (a build switches current.json only at its end).
CHROMA_RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0)


def unreachable(error: Exception) -> bool:
    """The server did not answer (as opposed to answering with an error)."""
    import httpx

    return (isinstance(error, (httpx.TransportError, ConnectionError))
            or (isinstance(error, ValueError) and "Could not connect" in str(error)))


def silent(error: Exception) -> bool:
    """The server was reached but did not answer in time."""
    import httpx

    return isinstance(error, (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout, TimeoutError))


def with_retries(call, delays: tuple[float, ...] | None = None):
    """`call()`, tried again with growing pauses while the Chroma server does not answer."""
    delays = CHROMA_RETRY_DELAYS if delays is None else delays
    for attempt, pause in enumerate((*delays, None), start=1):
        try:
            return call()
        except Exception as error:
            if silent(error):  # it took the request and went quiet: asking again would stack up waits
                raise IndexUnavailable(f"le serveur Chroma ({os.environ.get('ASSISTANT_CHROMA_URL', '')}) ne "
                                       f"répond plus (aucune réponse en {CHROMA_TIMEOUT:g} s) : vérifiez-le, "
                                       "puis reposez la question.") from None
            if not unreachable(error):
                raise
            if pause is None:
                url = os.environ.get("ASSISTANT_CHROMA_URL", "")
                raise IndexUnavailable(f"serveur Chroma injoignable à {url} ({error.__class__.__name__}, "
                                       f"{attempt} essais en {sum(delays):g} s) : vérifiez qu'il tourne, "
                                       "ou retirez ASSISTANT_CHROMA_URL.") from None
            time.sleep(pause)


def read_pointer(index_dir: Path) -> dict | None:
    """The live version's description, None when there is no index; damaged → IndexUnavailable."""
    path = index_dir / "current.json"
    try:
        pointer = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        pointer = None
    if not (isinstance(pointer, dict) and isinstance(pointer.get("version"), str)
            and isinstance(pointer.get("models"), dict)):
        raise IndexUnavailable(f"{path} est illisible ou abîmé : reconstruisez l'index "
                               "avec « assistant index build --force ».")
    return pointer


def write_pointer(index_dir: Path, pointer: dict) -> None:
    temporary = index_dir / "current.json.tmp"
    temporary.write_text(json.dumps(pointer, indent=1), encoding="utf-8")
    os.replace(temporary, index_dir / "current.json")


# -- building ---------------------------------------------------------------------------

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

    def __init__(self, index_dir: Path, embeddings: dict, progress: bool = True):
        self.index_dir = index_dir
        self.embeddings = embeddings
        self.progress = progress

    def models(self) -> dict[str, str]:
        return {name: model.model_name for name, model in self.embeddings.items()}

    def build(self, corpus: Corpus, force: bool = False, switch: bool = True) -> BuildReport:
        """A new version when the corpus changed; `switch=False` leaves it beside the live one
        (a candidate: `publish` or `discard` it after checking it)."""
        started = time.perf_counter()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        chunks = chunk_corpus(corpus)
        pointer = read_pointer(self.index_dir)
        if pointer and pointer.get("models") != self.models():
            pointer, force = None if force else pointer, True  # another model: nothing to reuse
        client = chroma_client(self.index_dir)
        old = self._live_chunks(pointer) if pointer else {}
        diff = compare(old, chunks)
        if pointer and not force and not (diff["added"] or diff["changed"] or diff["removed"]):
            return BuildReport(pointer["version"], len(chunks), 0, 0, 0, len(chunks), 0, 0.0, False, pointer)
        version = time.strftime("v%Y%m%d-%H%M%S") + f"-{uuid.uuid4().hex[:8]}"
        folder = self.index_dir / "versions" / version
        folder.mkdir(parents=True)
        try:
            embedded = self._write_version(client, pointer, old, chunks, version, force)
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

    def _discard_quietly(self, version: str) -> None:
        try:
            self.discard(version)
        except Exception:  # the disk or the server that failed the build may fail this too
            pass

    def publish(self, pointer: dict, client=None) -> None:
        """Make a built version live, then remove the others. On a Chroma server the previous
        version stays until the next build: the app processes sharing the server still read it
        until they restart (removed at once, each of their questions was refused)."""
        previous = read_pointer(self.index_dir) if os.environ.get("ASSISTANT_CHROMA_URL") else None
        write_pointer(self.index_dir, pointer)
        keep = {pointer["version"]} | ({previous["version"]} if previous else set())
        try:
            self._drop_other_versions(client or chroma_client(self.index_dir), keep)
        except Exception:  # the new version is live; the next build removes what is left
            pass

    def discard(self, version: str) -> None:
        """Remove a candidate version that was not published (the live one is never touched)."""
        live = read_pointer(self.index_dir)
        if live and live["version"] == version:
            return
        client = chroma_client(self.index_dir)
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

    @staticmethod
    def _write_collection(client, name: str, chunks: list[Chunk], vectors: list) -> None:
        # get_or_create and upsert: a call retried after a lost reply must not fail or duplicate.
        collection = with_retries(lambda: client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}))
        for start in range(0, len(chunks), 500):
            group = chunks[start:start + 500]
            with_retries(lambda: collection.upsert(
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


def collection_name(model: str, version: str) -> str:
    return f"{COLLECTION_PREFIX}{model}-{version}"


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


# -- reading the live index -------------------------------------------------------------

class LiveIndex:
    """The live version: chunk records, the Chroma collection and the BM25 model."""

    def __init__(self, index_dir: Path, pointer: dict | None = None):
        """The live version, or the version `pointer` describes (a candidate being evaluated)."""
        pointer = pointer or read_pointer(index_dir)
        if pointer is None:
            raise IndexUnavailable(f"aucun index dans {index_dir} : lancez « assistant index build ».")
        self.pointer, self.index_dir = pointer, index_dir
        folder = index_dir / "versions" / pointer["version"]
        try:
            records = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
            self.chunks = [Chunk(**record) for record in records]
            self.bm25 = load_bm25(folder / "bm25")
            client = chroma_client(index_dir)
            names = {name: collection_name(name, pointer["version"]) for name in pointer["models"]}
            self.collections = {name: with_retries(lambda: client.get_collection(full, embedding_function=None))
                                for name, full in names.items()}
        except IndexUnavailable:
            raise
        except Exception as error:
            raise IndexUnavailable(f"index {pointer['version']} incomplet ou abîmé ({error.__class__.__name__}) : "
                              "reconstruisez-le avec « assistant index build --force ».") from None
        self.by_id = {c.id: i for i, c in enumerate(self.chunks)}
        self.analyzer = FrenchAnalyzer()

    def dense(self, model: str, vector: list[float], n: int) -> list[tuple[int, float]]:
        """(chunk position, cosine similarity) for one model's vectors, best first."""
        try:
            found = with_retries(lambda: self.collections[model].query(
                query_embeddings=[vector], n_results=min(n, len(self.chunks)), include=["distances"]))
        except IndexUnavailable:
            raise
        except Exception as error:  # the files changed under the running process
            raise IndexUnavailable(self._unreadable(error)) from None
        return [(self.by_id[i], 1.0 - d) for i, d in zip(found["ids"][0], found["distances"][0])]

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

    def lexical(self, text: str, n: int) -> list[tuple[int, float]]:
        """(chunk position, BM25 score), best first; zero-score hits dropped."""
        tokens = self.analyzer(text)
        known = [t for t in tokens if t in self.bm25.vocab_dict]
        if not known:
            return []
        positions, scores = self.bm25.retrieve([known], k=min(n, len(self.chunks)), show_progress=False)
        return [(int(p), float(s)) for p, s in zip(positions[0], scores[0]) if s > 0]


def load_bm25(folder: Path):
    import bm25s

    return bm25s.BM25.load(str(folder), show_progress=False)
