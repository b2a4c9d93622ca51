"""Issue spotting: the recurring legal questions of professional secrecy in a CPAS (issues.yaml),
each linked to the units that answer it and described by short situations in practitioners'
words (cues). A question is matched to the cues, question to question; the issues it is
closest to vote for their units.

Why: a statute's wording and a social worker's situation share few words (« la police
m'appelle pour savoir si… » vs « hors le cas où il est appelé à rendre témoignage »); the
cues bridge them. They were written from the legal texts and a description of the users
only, by writers who saw no evaluation question (eval/README.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import yaml

from assistant.text import FrenchAnalyzer, text_hash

ISSUES_FILE = Path(__file__).with_name("issues.yaml")


@dataclass(frozen=True)
class Issue:
    id: str
    title: str
    units: tuple[str, ...]  # most decisive first
    cues: tuple[str, ...]
    # Answers only « what does the author risk? » (issues.yaml `asks: infraction`): the same
    # neglected child raises « must I report? » (art. 458bis, 422bis) when the question asks
    # what to do, so the issue votes only when the question asks about an offence.
    offence_only: bool = False


def load_issues(path: Path = ISSUES_FILE) -> list[Issue]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [Issue(str(entry["id"]), str(entry["title"]), tuple(entry["units"]),
                  tuple(str(cue) for cue in entry["cues"]), entry.get("asks") == "infraction")
            for entry in raw.get("issues", [])]


def cue_texts(issues: list[Issue]) -> list[str]:
    """Every cue once, in catalogue order: what the index embeds as questions."""
    return list(dict.fromkeys(cue for issue in issues for cue in issue.cues))


class IssueSpotter:
    """`rank(question vector, question words)` → units of the issues the question raises, best first.

    Each issue scores the mean of its `neighbours` closest cues (cosine, e5) plus `lexical` × the BM25 score of the
    question against the issue's words (title and cues as one text): e5 alone confused close
    issues (« les membres du conseil… tenus au secret ? » fell nearer to the participants of a
    case consultation than to the council members). The issues within `temperature` of the
    best weigh most: weight exp((score − best) / temperature), so a question close to one
    issue gets its units, and one between two issues gets both; an issue's first unit counts
    fully, its second half, and so on. The retriever's settings (temperature 0.02, lexical
    0.005) were chosen by cross-validation on the tuning sets (eval/tune_fusion.py). Two
    neighbours rather than one (session 8, tuning sets): one cue close by accident no longer
    decides alone; hit@1 situations 0.786 → 0.804, question-parlementaire 0.791 → 0.767,
    dans-le-sujet 0.650 → 0.850 (short questions sit between issues); three: 0.804 / 0.744 / 0.800.
    A second encoder (the universal sentence encoder, `second`) adds its own cue match, weighted 0.1
    (session 15): the two models err on different questions. On the ten tuning sets, right first
    units 274 → 283 of 351 (with temperature 0.03); weight and temperature chosen on nine sets and
    scored on the tenth, 279 against 274 for e5 alone (eval/tune_issue_encoders.py)."""

    def __init__(self, issues: list[Issue], vectors: dict[str, list[float]], known_units: set[str],
                 temperature: float = 0.02, top_issues: int = 8, lexical: float = 0.005, neighbours: int = 2,
                 second: tuple[dict[str, list[float]], float] | None = None):
        self.neighbours = neighbours
        self.issues = [Issue(i.id, i.title, tuple(u for u in i.units if u in known_units), i.cues, i.offence_only)
                       for i in issues]
        self.offence_only = np.array([i.offence_only for i in self.issues], dtype=bool)
        self.temperature, self.top_issues, self.lexical = temperature, top_issues, lexical
        self.analyzer = FrenchAnalyzer()
        self.bm25 = bm25s.BM25()
        self.bm25.index([self.analyzer(" ".join([i.title, *i.cues])) for i in self.issues], show_progress=False)
        self.owner, self.matrix, self.members = self._cue_matrix(vectors)
        # A second encoder's cue vectors and its weight: its cue match is added to e5's.
        self.second = (*self._cue_matrix(second[0]), second[1]) if second else None

    def _cue_matrix(self, vectors: dict[str, list[float]]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """(issue of each cue, unit cue vectors, cue rows of each issue) for the cues that have a vector."""
        cues = [(n, cue) for n, issue in enumerate(self.issues) for cue in issue.cues if text_hash(cue) in vectors]
        owner = np.array([n for n, _ in cues], dtype=np.int64)
        matrix = np.asarray([vectors[text_hash(cue)] for _, cue in cues], dtype=np.float32)
        matrix = matrix.reshape(len(cues), -1) if cues else np.zeros((0, 1), dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return owner, matrix / np.where(norms == 0, 1.0, norms), [np.flatnonzero(owner == n) for n in range(len(self.issues))]

    def _closeness(self, matrix: np.ndarray, members: list[np.ndarray], vector) -> np.ndarray:
        """Per issue, the mean cosine of its `neighbours` cues closest to the question."""
        query = np.asarray(vector, dtype=np.float32)
        similarity = matrix @ (query / (np.linalg.norm(query) or 1.0))
        return np.array([np.sort(similarity[m])[-self.neighbours:].mean() if len(m) else -np.inf for m in members])

    def rank(self, vector, text: str = "", second_vector=None, offence: bool = False) -> list[tuple[str, float]]:
        """`second_vector`: the question by the second encoder, when the spotter has one;
        `offence`: whether the question asks about an offence (offence-only issues vote then only)."""
        if not len(self.owner):
            return []
        best = self._closeness(self.matrix, self.members, vector)
        if self.second is not None and second_vector is not None and len(self.second[0]):
            _, matrix, members, weight = self.second
            best = best + weight * np.nan_to_num(self._closeness(matrix, members, second_vector), neginf=0.0)
        words = [w for w in self.analyzer(text) if w in self.bm25.vocab_dict]
        if words and self.lexical:
            best = best + self.lexical * self.bm25.get_scores(words)
        if not offence and self.offence_only.any():
            best = np.where(self.offence_only, -np.inf, best)
        weight = np.exp((best - best.max()) / self.temperature)
        scores: dict[str, float] = {}
        for n in np.argsort(-best, kind="stable")[:self.top_issues]:
            for position, unit_id in enumerate(self.issues[n].units):
                scores[unit_id] = scores.get(unit_id, 0.0) + float(weight[n]) / (1 + position)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
