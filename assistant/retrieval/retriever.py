"""Hybrid retrieval: dense (e5) and BM25 fused by reciprocal rank, cross-reference
expansion, and an abstention signal when the corpus does not support the question."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from assistant.corpus.model import Corpus
from assistant.index.live import LiveIndex
from assistant.retrieval.lexicon import expand, spell_out
from assistant.corpus.references import alias_table, named_documents
from assistant.retrieval.scope import ScopeGuard
from assistant.text import fold as fold_name

SYSTEMS = ("hybrid", "bm25", "dense")
INJECTION_RE = re.compile(
    r"(ignore|oublie|ne tiens pas compte d)\w*\s+(?:\w+\s+){0,3}(instructions?|consignes?|r[eè]gles?|corpus|sources?)"
    r"|tu es (maintenant|désormais)\b|réponds? de mémoire|sans (citer|restriction)|system prompt|jailbreak",
    re.IGNORECASE,
)


@dataclass
class Hit:
    unit_id: str
    score: float
    chunk: int  # position of the unit's best chunk in the index
    via: str  # dense | bm25 | both | reference


@dataclass
class Retrieval:
    question: str
    hits: list[Hit]
    abstained: bool
    signal: dict = field(default_factory=dict)
    latency_ms: float = 0.0

    @property
    def unit_ids(self) -> list[str]:
        return [hit.unit_id for hit in self.hits]


@dataclass
class RetrievalSettings:
    """Tuned on eval/gold (never on BSARD); see eval/README.md for the measurements."""

    candidates: int = 60
    rrf_k: int = 20
    weights: dict = field(default_factory=lambda: {"main": 1.0, "use": 1.0, "bm25": 1.0})
    named_boost: float = 0.5  # units of a document the question names ("le nouveau Code pénal")
    topic_boost: float = 0.4  # weight of the topical prior (see topical_prior)
    prior_max_references: int = 10  # units citing more (bulk lists) give no prior
    # Every question comes from a social worker bound by secrecy: say so to the retrievers.
    frame: str = "secret professionnel"
    framed: tuple = ("main", "use", "bm25")  # lists whose query carries the frame
    lexicon: tuple = ("main", "use", "bm25")  # lists whose query gets the legal words (lexicon.yaml)
    expand_top: int = 3  # cross-references of the first N units join the list
    # One reference per unit: 458ter cites the whole Titre Iter, and a second slot let a
    # terrorism article ride into the top 3 of nearly every question (gold hit@5 0.907 → 0.930).
    expand_per_unit: int = 1
    # Abstain when the question as asked comes no closer than this to any passage (cosine,
    # USE; e5 when USE is off)… unless BM25 finds strong lexical support. Kept low on
    # purpose: at 0.22 (best on eval/gold) 7 of 20 plain in-scope questions were refused.
    min_similarity: dict = field(default_factory=lambda: {"use": 0.15, "main": 0.80})
    strong_bm25: float = 12.0
    # Abstain when an example question of a topic the corpus does not cover (scope.yaml) is
    # closer than any covered example by more than this; None switches the check off.
    scope_margin: float | None = 0.05


class Retriever:
    """One obvious entry point: `retrieve(question, k)`."""

    def __init__(self, corpus: Corpus, index: LiveIndex, embeddings: dict, system: str = "hybrid",
                 settings: RetrievalSettings | None = None):
        if system not in SYSTEMS:
            raise ValueError(f"système inconnu : {system}")
        self.corpus, self.index, self.system = corpus, index, system
        self.embeddings = {name: model for name, model in embeddings.items() if name in index.collections}
        self.settings = settings or RetrievalSettings()
        self.references = {u.id: u.references for u in corpus.units}
        self.prior = topical_prior(corpus, max_references=self.settings.prior_max_references) \
            if self.settings.topic_boost else {}
        self.aliases = alias_table(corpus)
        self.judge_model = "use" if "use" in self.embeddings else "main"
        self.scope = ScopeGuard(self.embeddings[self.judge_model]) if self.settings.scope_margin is not None else None

    def retrieve(self, question: str, k: int = 10) -> Retrieval:
        started = time.perf_counter()
        stripped = strip_injection(question)
        query = spell_out(stripped)
        lists, as_asked, asked = self._search(query)
        ranked = self._fuse(lists, frozenset(named_documents(query, self.aliases)))
        signal = {name: (hits[0][1] if hits else 0.0) for name, hits in lists.items()}
        signal["as_asked"] = as_asked
        signal["injection"] = stripped != question
        hits = self._expand(ranked)[:k]
        signal["missing"] = missing_article(query, self.corpus, self.aliases)
        if asked is not None and self.scope is not None:
            verdict = self.scope.judge(asked)
            signal.update(scope_covered=verdict.covered, scope_outside=verdict.not_covered,
                          scope_topic=verdict.topic if verdict.outside(self.settings.scope_margin) else "")
        abstained = not query.strip() or bool(signal["missing"]) or self._unsupported(signal)
        return Retrieval(question, hits, abstained, signal, (time.perf_counter() - started) * 1000)

    def _search(self, query: str) -> tuple[dict[str, list[tuple[int, float]]], float, list | None]:
        """Chunk hits per list (one per dense model, and "bm25"), the abstention similarity, and
        the vector of the question as asked."""
        if not query.strip():
            return {name: [] for name in [*self.embeddings, "bm25"]}, 0.0, None
        n = self.settings.candidates
        # Every list is computed even for one-list systems: abstention reads their top scores.
        expanded = expand(query)  # once per question, whichever lists use it
        text = {name: self._query_for(name, query, expanded) for name in [*self.embeddings, "bm25"]}
        # Abstention reads how close the question *as asked* comes to the corpus: the frame
        # pulls every question (even a recipe) towards the secrecy articles. The judge (USE,
        # cheap) embeds both texts in one call; without USE, e5 is asked a second time.
        judge = self.judge_model
        vectors = {name: [text[name]] for name in self.embeddings}
        vectors[judge].append(query)
        vectors = {name: model.get_query_embeddings(vectors[name]) for name, model in self.embeddings.items()}
        lists = {name: self.index.dense(name, vectors[name][0], n) for name in self.embeddings}
        asked = vectors[judge][-1]
        closest = self.index.dense(judge, asked, 1)
        lists["bm25"] = self.index.lexical(text["bm25"], n)
        return lists, (closest[0][1] if closest else 0.0), asked

    def _query_for(self, name: str, query: str, expanded: str) -> str:
        if name in self.settings.lexicon:
            query = expanded
        return f"{self.settings.frame} {query}".strip() if name in self.settings.framed else query

    def _fuse(self, chunk_lists: dict, named: frozenset = frozenset()) -> list[Hit]:
        used = {"hybrid": list(chunk_lists), "bm25": ["bm25"], "dense": ["main"]}[self.system]
        lists = {name: unit_ranking(self.index, chunk_lists[name]) for name in used}
        weights = self.settings.weights
        scores: dict[str, float] = {}
        best_chunk: dict[str, int] = {}
        seen_in: dict[str, set] = {}
        for name, ranking in lists.items():
            for rank, (unit_id, chunk) in enumerate(ranking, start=1):
                if unit_id not in self.references:
                    continue  # indexed but gone from the corpus (an update refused by `corpus update`)
                scores[unit_id] = scores.get(unit_id, 0.0) + weights.get(name, 1.0) / (self.settings.rrf_k + rank)
                best_chunk.setdefault(unit_id, chunk)
                seen_in.setdefault(unit_id, set()).add(name)
        if self.prior and self.system == "hybrid":
            scores = {u: v * (1 + self.settings.topic_boost * self.prior.get(u, 0.0)) for u, v in scores.items()}
        if named and self.system == "hybrid":
            boost = 1 + self.settings.named_boost
            scores = {u: v * boost if u.split(":")[0] in named else v for u, v in scores.items()}
        order = sorted(scores, key=lambda u: -scores[u])
        return [Hit(u, scores[u], best_chunk[u], "both" if len(seen_in[u]) > 1 else next(iter(seen_in[u])))
                for u in order]

    def _expand(self, ranked: list[Hit]) -> list[Hit]:
        if self.system != "hybrid" or not self.settings.expand_top:
            return ranked
        return expand_references(ranked, self.references, self.unit_chunk,
                                 self.settings.expand_top, self.settings.expand_per_unit)

    @property
    def unit_chunk(self) -> dict[str, int]:
        if not hasattr(self, "_unit_chunk"):
            self._unit_chunk = {}
            for i, chunk in enumerate(self.index.chunks):
                self._unit_chunk.setdefault(chunk.unit_id, i)
        return self._unit_chunk

    def _unsupported(self, signal: dict) -> bool:
        too_far = signal.get("as_asked", 0.0) < self.settings.min_similarity[self.judge_model]
        return bool(signal.get("scope_topic")) or (too_far and signal.get("bm25", 0.0) < self.settings.strong_bm25)


def expand_references(ranked: list[Hit], references: dict[str, list[str]], unit_chunk: dict[str, int],
                       top: int, per_unit: int) -> list[Hit]:
    """Units cited by the first `top` hits join the list right below the hit that cites them
    (at most `per_unit` each, the best ranked first); a cited unit already lower in the list
    moves up, one not in the list comes in as « reference »."""
    position = {hit.unit_id: i for i, hit in enumerate(ranked)}
    out, placed = [], set()
    for i, hit in enumerate(ranked):
        if hit.unit_id in placed:
            continue
        out.append(hit)
        placed.add(hit.unit_id)
        if i >= top:
            continue
        cited = [r for r in references.get(hit.unit_id, []) if r not in placed and r in unit_chunk]
        cited.sort(key=lambda r: position.get(r, len(ranked)))
        for ref in cited[:per_unit]:
            if ref not in position:
                out.append(Hit(ref, hit.score * 0.99, unit_chunk[ref], "reference"))
            elif position[ref] > i:  # found anyway: moved up, keeps how it was found
                found = ranked[position[ref]]
                out.append(Hit(ref, hit.score * 0.99, found.chunk, found.via))
            else:
                continue
            placed.add(ref)
    return out


def topical_prior(corpus: Corpus, damping: float = 0.5, steps: int = 20, max_references: int = 1000) -> dict[str, float]:
    """How close each unit is to the corpus's topic, by personalised PageRank on references.

    The seeds are the units of the documents gathered for the topic (everything but the
    codes, which are here whole): the articles they cite, and the articles those cite, rank
    high; the rest of the Code pénal stays near zero. Scaled to [0, 1].
    """
    units = corpus.units
    seeds = [u.id for u in units if corpus.document_of(u).meta.get("kind") != "code"]
    if not seeds:
        return {}
    neighbours: dict[str, set] = {u.id: set() for u in units}
    for unit in units:
        if len(unit.references) > max_references:
            continue  # a bulk reference ("le Titre Iter", a list of 50 offences) says little of each one
        for ref in unit.references:
            if ref in neighbours:  # undirected: citing and cited are both close
                neighbours[unit.id].add(ref)
                neighbours[ref].add(unit.id)
    restart = {u: 1 / len(seeds) for u in seeds}
    rank = dict(restart)
    for _ in range(steps):
        following = {u: (1 - damping) * restart.get(u, 0.0) for u in neighbours}
        for unit_id, value in rank.items():
            linked = neighbours.get(unit_id)
            if linked:
                share = damping * value / len(linked)
                for other in linked:
                    following[other] += share
        rank = following
    # The seeds themselves are not boosted: the prior is for finding, inside the codes,
    # the provisions the topic documents lean on.
    coded = {u: v for u, v in rank.items() if v > 0 and u not in restart}
    top = max(coded.values(), default=0.0) or 1.0
    # A fourth root flattens the mass that bulk references ("Titre Iter", ranges) pour in.
    return {u: (v / top) ** 0.25 for u, v in coded.items()}


def unit_ranking(index: LiveIndex, chunk_hits: list[tuple[int, float]]) -> list[tuple[str, int]]:
    """Chunk hits → units in order of their best chunk."""
    seen, ranking = set(), []
    for position, _score in chunk_hits:
        unit_id = index.chunks[position].unit_id
        if unit_id not in seen:
            seen.add(unit_id)
            ranking.append((unit_id, position))
    return ranking


ASKED_ARTICLE_RE = re.compile(
    r"\barticles?\s+(?P<number>\d+(?:er)?[a-z]*(?:/\d+)?)(?:\s*,?\s*(?:§|al(?:inéa|\.))\s*\d+(?:er)?)?"
    r"\s*,?\s*(?:de la|du|de l'|des)\s+(?P<act>[^?.!;]{3,80})",
    re.IGNORECASE,
)


def missing_article(query: str, corpus: Corpus, aliases: list | None = None) -> str:
    """An article asked by number whose act is named but is not in the corpus (or lacks it)."""
    aliases = aliases if aliases is not None else alias_table(corpus)
    for match in ASKED_ARTICLE_RE.finditer(query):
        act, number = fold_name(match.group("act")), re.sub(r"^(\d+)er$", r"\1", match.group("number"))
        doc_id = next((d for alias, d in aliases
                       if act.startswith(alias) or (len(act) >= 8 and alias.startswith(act))), None)
        if doc_id is None and re.match(r"(code|loi|decret|arrete|ordonnance)\b", act):
            return f"article {number} {match.group('act').strip()}"
        if doc_id and f"{doc_id}:art-{number}" not in {u.id for u in corpus.documents[doc_id].units}:
            return f"article {number} ({corpus.documents[doc_id].label})"
    return ""


def strip_injection(question: str) -> str:
    """Remove sentences that try to change the assistant's rules; keep any real question."""
    sentences = re.split(r"(?<=[.!?:])\s+", question.strip())
    kept = [s for s in sentences if not INJECTION_RE.search(s)]
    text = " ".join(kept)
    return re.sub(r"^\s*question\s*:\s*", "", text, flags=re.IGNORECASE)
