"""Is a question inside what the corpus covers? Nearest example questions (`scope.yaml`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

SCOPE_FILE = Path(__file__).with_name("scope.yaml")


@dataclass
class ScopeVerdict:
    covered: float  # similarity of the closest covered example
    not_covered: float  # … and of the closest example of a topic the corpus does not cover
    topic: str  # that topic, in French

    def outside(self, margin: float) -> bool:
        return self.not_covered > self.covered + margin


@lru_cache(maxsize=4)
def load_scope(path: Path = SCOPE_FILE) -> tuple[list[str], list[tuple[str, str]]]:
    """(covered questions, [(topic, question)] not covered)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    covered = [str(q) for q in raw.get("covered") or []]
    outside = [(str(t["topic"]), str(q)) for t in raw.get("not_covered") or [] for q in t["questions"]]
    return covered, outside


class ScopeGuard:
    """`judge(question vector)` against the example questions, embedded once by `model`.

    `situations` (vectors of the issue cues, retrieval/issues.py) are covered too, with a
    discount: they are many and informal, so an off-topic chat message finds one close
    enough by chance. On the development and out-of-scope sets (eval/README.md) a discount
    of 0.15 removed two of three false refusals of long situations and kept every abstention;
    0.10 and 0.05 let off-topic questions through (out-of-scope abstention 0.92 → 0.76)."""

    def __init__(self, model, path: Path = SCOPE_FILE, situations=(), discount: float = 0.15):
        covered, outside = load_scope(path)
        self.topics = [topic for topic, _ in outside]
        self.covered = normalised(model.get_query_embeddings(covered))
        self.outside = normalised(model.get_query_embeddings([q for _, q in outside]))
        self.situations = normalised(situations) if len(situations) else np.zeros((0, self.covered.shape[1]))
        self.discount = discount

    def judge(self, vector: list[float]) -> ScopeVerdict:
        query = normalised([vector])[0]
        inside, outside = self.covered @ query, self.outside @ query
        covered = float(inside.max())
        if len(self.situations):
            covered = max(covered, float((self.situations @ query).max()) - self.discount)
        best = int(np.argmax(outside))
        return ScopeVerdict(covered, float(outside[best]), self.topics[best])


def normalised(vectors) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    return array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)
