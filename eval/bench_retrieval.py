"""Retrieval latency on the real index and on a synthetic 25,000-unit index.

Usage:
    OMP_NUM_THREADS=2 .venv/bin/python eval/bench_retrieval.py [--units 25000] [--queries 40]
    # the same against a Chroma server (`chroma run --port 8010 --path /tmp/chroma`): the synthetic
    # index is written there (and removed after), the real one is an index built with that server
    ASSISTANT_CHROMA_URL=http://127.0.0.1:8010 ASSISTANT_INDEX_DIR=/tmp/index-serveur .venv/bin/assistant index build
    OMP_NUM_THREADS=2 .venv/bin/python eval/bench_retrieval.py --chroma-url http://127.0.0.1:8010 \
        --index-dir /tmp/index-serveur

The real-corpus figure uses the live index (build it first: `assistant index build`).
The synthetic index holds 25,000 units made by recombining sentences of the real corpus;
their vectors are random unit vectors (embedding 25,000 passages with e5 would take about
an hour here, and search time does not depend on the values). Queries are embedded for
real, so the figure includes query embedding, both Chroma searches, BM25 and fusion.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import settings  # noqa: E402
from assistant.corpus.model import Corpus  # noqa: E402
from assistant.models.embeddings import embeddings_for  # noqa: E402
from assistant.evaluation.gold import load_gold  # noqa: E402
from assistant.index.build import IndexBuilder, write_bm25  # noqa: E402
from assistant.index.chunks import Chunk  # noqa: E402
from assistant.index.live import LiveIndex  # noqa: E402
from assistant.index.store import collection_name  # noqa: E402
from assistant.retrieval.retriever import Retriever  # noqa: E402

ROOT = Path(__file__).resolve().parent
CHROMA_URL: str | None = None  # --chroma-url, else ASSISTANT_CHROMA_URL


def questions(limit: int) -> list[str]:
    items = load_gold([ROOT / "gold" / "question-parlementaire.jsonl"])
    return [i.question for i in items][:limit]


def timed(retriever: Retriever, queries: list[str]) -> dict:
    for model in retriever.embeddings.values() if isinstance(retriever.embeddings, dict) else []:
        getattr(model, "_asked", {}).clear()  # recent questions' vectors are kept: embed them anew
    retriever.retrieve("échauffement", 10)
    latencies = []
    for query in queries:
        started = time.perf_counter()
        retriever.retrieve(query, 10)
        latencies.append((time.perf_counter() - started) * 1000)
    ordered = sorted(latencies)
    return {"p50": round(statistics.median(ordered), 1), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
            "n": len(ordered)}


def synthetic_index(corpus: Corpus, units: int, folder: Path, embeddings: dict) -> LiveIndex:
    """Write a 25k-chunk version by hand (random vectors), reusing the real writers."""
    import numpy as np

    rng = random.Random(7)
    sentences = [s for u in corpus.units for s in u.plain_text.split(". ") if len(s) > 40]
    # Each synthetic passage belongs to a real unit (in turn): the retriever skips units the
    # corpus does not have, and fusion, cross-references and the prior must do their usual work.
    owners = corpus.units
    chunks = [Chunk(f"{owners[n % len(owners)].id}#synth-{n}", owners[n % len(owners)].id,
                    owners[n % len(owners)].document, None, f"Synthétique {n}",
                    ". ".join(rng.sample(sentences, 4)), f"h{n}") for n in range(units)]
    version = "vsynthetic"
    (folder / "versions" / version).mkdir(parents=True)
    from assistant.index.store import chroma_client
    from assistant.index.pointer import write_pointer

    client = chroma_client(folder, CHROMA_URL)
    builder = IndexBuilder(folder, embeddings, progress=False, chroma_url=CHROMA_URL)
    generator = np.random.default_rng(7)
    dims = {name: len(model.get_query_embedding("dimension")) for name, model in embeddings.items()}
    for name, dim in dims.items():
        vectors = generator.normal(size=(units, dim)).astype("float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        builder._write_collection(client, collection_name(name, version), chunks, vectors.tolist())
    write_bm25(folder / "versions" / version / "bm25", chunks)
    (folder / "versions" / version / "chunks.json").write_text(
        json.dumps([c.__dict__ for c in chunks], ensure_ascii=False), encoding="utf-8")
    write_pointer(folder, {"version": version, "models": {n: m.model_name for n, m in embeddings.items()},
                           "chunks": units, "units": units})
    return LiveIndex(folder, chroma_url=CHROMA_URL)


def drop_synthetic(folder: Path, embeddings: dict) -> None:
    """A Chroma server outlives the run: leave nothing of the synthetic index on it."""
    from assistant.index.store import chroma_client

    client = chroma_client(folder, CHROMA_URL)
    for name in embeddings:
        try:
            client.delete_collection(collection_name(name, "vsynthetic"))
        except Exception:
            pass  # not there


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=25000)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--chroma-url", help="serveur Chroma à mesurer (comme ASSISTANT_CHROMA_URL)")
    parser.add_argument("--index-dir", type=Path, help="index réel (défaut : ASSISTANT_INDEX_DIR ou index/)")
    args = parser.parse_args()
    global CHROMA_URL
    config = settings()
    CHROMA_URL = args.chroma_url or config.chroma_url
    where = f"serveur Chroma {CHROMA_URL}" if CHROMA_URL else "Chroma intégré"
    corpus = Corpus.load(config.corpus_dir)
    embeddings = embeddings_for(config)
    queries = questions(args.queries)
    real = timed(Retriever(corpus, LiveIndex(args.index_dir or config.index_dir, chroma_url=CHROMA_URL), embeddings), queries)
    print(f"Index réel ({len(corpus.units)} unités, {where}) : p50 {real['p50']} ms, p95 {real['p95']} ms")
    with tempfile.TemporaryDirectory() as folder:
        drop_synthetic(Path(folder), embeddings)
        try:
            started = time.perf_counter()
            index = synthetic_index(corpus, args.units, Path(folder), embeddings)
            built = time.perf_counter() - started
            synthetic = timed(Retriever(corpus, index, embeddings), queries)
        finally:
            drop_synthetic(Path(folder), embeddings)
    print(f"Index synthétique ({args.units} unités, {where}, écrit en {built:.0f} s) : "
          f"p50 {synthetic['p50']} ms, p95 {synthetic['p95']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
