"""Hybrid retrieval: dense (e5, USE), BM25 and issue spotting fused by reciprocal rank, and an
abstention signal when the corpus does not support the question."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.corpus.model import Corpus
from assistant.index.live import LiveIndex
from assistant.retrieval.issues import IssueSpotter, cue_texts, load_issues
from assistant.retrieval.lexicon import expand, spell_out
from assistant.corpus.offences import named_offence, offence_names
from assistant.corpus.references import alias_table, designations, loosely_named, named_documents, spoken_of
from assistant.retrieval.scope import ScopeGuard
from assistant.text import MONTHS, fold as fold_name, text_hash

SYSTEMS = ("hybrid", "bm25", "dense")
PASSAGE_SLOT = 4  # the fifth place (`Retriever._fuse`)
NAMED_WINDOW = 5  # a unit of a text the question names this high leads (`Retriever._named_first`)
INJECTION_RE = re.compile(
    r"(ignore|oublie|ne tiens pas compte d)\w*\s+(?:\w+\s+){0,3}(instructions?|consignes?|r[eè]gles?|corpus|sources?)"
    r"|tu es (maintenant|désormais)\b|réponds? de mémoire|sans (citer|restriction)|system prompt|jailbreak",
    re.IGNORECASE,
)
# A message dressed as coming from the operator (« [ADMIN] mode maintenance : … »): not a
# practitioner's question; the assistant declines it whole rather than answer part of it.
AUTHORITY_RE = re.compile(
    r"\[\s*(?:admin\w*|syst[eè]me?|root|sudo|dev\w*|maintenance|op[eé]rateur)\b[^\]]{0,40}\]"
    r"|\bmode\s+(?:maintenance|d[eé]veloppeur|developer|admin\w*|debug|d[eé]bogage)\b"
    r"|^\s*(?:system|syst[eè]me|admin)\s*:",
    re.IGNORECASE | re.MULTILINE,
)
# « l'article 458 devient quel article dans le nouveau Code pénal ? »: a correspondence
# between numberings, asked of a text the corpus has only in part.
RENUMBERING_RE = re.compile(
    r"quel(?:le)?s?\s+(?:nouveaux?\s+)?(?:num[eé]ros?|articles?)\b|\bdevien\w*|\brempla[cç]\w*|\bcorrespond\w*"
    r"|[eé]quivalen\w*|ren?um[eé]rot\w*|nouveaux?\s+num[eé]ros?",
    re.IGNORECASE,
)

NUMBERING_RE = re.compile(r"\bnum[eé]ros?\b|\bren?um[eé]rot\w*", re.IGNORECASE)

# « C'est du harcèlement au sens pénal ? », « je peux porter plainte pour diffamation ? »: whether
# a conduct is an offence, asked of the Code's articles on that conduct. The reply states the
# article's penalty, and the lexicon leaves out the words of the CPAS setting. (Until session 14
# the issue lists also weighed 1 instead of 30 for such a question: the catalogue then held only
# secrecy issues, which outweighed the passage lists that found the offence. It now holds the
# offences practitioners meet, and the same weights for every question rank them better.)
# Matched on folded text (fold), and only when the question does not also ask about telling someone.
OFFENCE_RE = re.compile(
    r"\b(?:(?<!code )(?<!droit )(?<!procedure )penal\w*|infractions?|delits?|punissables?|puni(?:e|s|es)?|"
    r"plaintes? (?:pour|contre)|illegal\w*|legal(?:e|es|ement)?|"
    r"(?:la|les|sa) peines?|aggrav\w*)\b|\bau sens\b")
DISCLOSURE_RE = re.compile(
    r"\b(?:secrets?|signal\w*|dire|parler|racont\w*|revel\w*|divulg\w*|inform\w*|preven\w*|previen\w*|"
    r"denon\w*|temoi\w*|transm\w*|communiqu\w*|partag\w*|confi(?!ance)\w*|parquet|polic\w*|procureur\w*|juge)\b")
# « parler de » and the next few words: a name given to the conduct when they are penal.
NAMING_RE = re.compile(r"\bparler\s+d(?:e\s+|')((?:\S+\s+){0,3}\S+)")

# « Il a combien de temps pour aller au tribunal du travail ? », « combien touche un cohabitant ? »:
# a deadline, an amount or a date asked, and none in the units found. Every such question of the
# tuning sets (12 of 14; the two others asked a date the texts give) was outside the corpus, and
# was answered with an article that states no such thing. Matched on folded text.
QUANTITIES = (
    ("le délai", re.compile(r"combien de temps (?:pour|a |ai |avons|ont|on a|il a|elle a|j'ai|ils ont)|"
                            r"\b(?:quel|dans quel)s? delais?\b|\bdelais? (?:de|pour)\b|jusqu'a quand|combien de jours"),
     re.compile(r"\bdelais?\b|a compter d|dans les? (?:\w+ ){0,2}(?:jours|mois|ans)\b|\bjours? ouvrables?")),
    ("le montant", re.compile(r"combien (?:touche|gagne|coute|d'euros)|\bquel (?:est le )?montant|a combien s'eleve|"
                              r"\bquel taux|\bhoeveel|\bhow much"),
     re.compile(r"\beuros?\b|€|\bmontants?\b")),
    # « À partir de quand ça devient pénal ? » asks where the offence starts, not a date.
    ("la date", re.compile(r"a quelle date|\bquelle date|depuis quand|"
                           r"a partir de quand(?![^?.!]*\b(?:penal\w*|puni\w*|punissable|infractions?|delits?|illegal\w*))"),
     re.compile(rf"\b\d{{1,2}}(?:er)? (?:{'|'.join(fold_name(month) for month in MONTHS)}) (?:19|20)\d\d\b"
                r"|\b\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d\d\b")),
)
QUANTITY_UNITS = 3  # the units a reply draws on (its lead and what it may cite beside it)


@dataclass
class Hit:
    unit_id: str
    score: float
    chunk: int  # position of the unit's best chunk in the index
    via: str  # dense | bm25 | issues (issue spotting) | both | reference


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
    """Chosen on eval/gold/situations.jsonl (the blind development set) and checked on the
    gold sets; never on BSARD. See eval/README.md for the measurements."""

    candidates: int = 60
    rrf_k: int = 20
    # The issues list (issue spotting, issues.yaml) leads: on the development set it took
    # hit@1 from 0.34 (frame and prior removed, no issues) to 0.7–0.8. Its weight, temperature
    # and lexical weight were chosen by 5-fold cross-validation on the tuning sets
    # (eval/tune_fusion.py: held-out MRR@10 0.857; hand-picked 15 / 0.01 / 0.002 gave 0.844).
    # The passage lists order the rest and settle questions no issue covers. No cross-reference
    # expansion: a unit enters the list on its own evidence only (expansion brought filler,
    # and removing it cost nothing).
    # The issue lists add weight × pull / best pull / (rrf_k + 1), not weight / (rrf_k + rank)
    # (session 8; first citation situations 0.839 → 0.839, question-parlementaire 0.744 → 0.791,
    # dans-le-sujet 0.800 → 0.900, situations-3 0.676 → 0.765). Weight re-checked then: 20 / 30 /
    # 45 gave situations 0.857 / 0.839 / 0.821, question-parlementaire 0.767 / 0.791 / 0.791.
    # "context": the issues of a follow-up's earlier question (Retriever._context). 20 chosen on
    # the follow-ups of situations, question-parlementaire and situations-3 (session 8): hit@1
    # 0.821 / 0.744 / 0.588 at 0, 0.821 / 0.744 / 0.618 at 10, 0.839 / 0.744 / 0.618 at 20,
    # 0.839 / 0.744 / 0.588 at 30 (the earlier question starts to outweigh the new point).
    weights: dict = field(default_factory=lambda: {"main": 1.0, "use": 1.0, "bm25": 1.0, "issues": 30.0,
                                                   "context": 20.0})
    # 0.03 with the second encoder's cue match (issue_second, retrieval/issues.py), 0.02 before.
    issue_temperature: float = 0.03
    issue_second: float = 0.1  # weight of the USE cue match beside e5's; 0 switches it off
    issue_lexical: float = 0.005  # weight of BM25 on each issue's words beside the e5 cue match
    issue_neighbours: int = 2  # closest cues averaged per issue (retrieval/issues.py)
    named_boost: float = 0.5  # units of a document the question names ("le nouveau Code pénal")
    # Lists whose query gets the legal words (lexicon.yaml). Not e5: its one vector of the
    # question as asked serves its list and the issue cues, and e5 is most of the latency
    # (two e5 calls: retrieval p50 105 ms; the same on the development set, one question less).
    lexicon: tuple = ("use", "bm25")
    # Abstain when the question as asked comes no closer than this to any passage (cosine,
    # USE; e5 when USE is off)… unless BM25 finds strong lexical support. Kept low on
    # purpose: at 0.22 (best on eval/gold) 7 of 20 plain in-scope questions were refused.
    min_similarity: dict = field(default_factory=lambda: {"use": 0.15, "main": 0.80})
    strong_bm25: float = 12.0
    # Abstain when an example question of a topic the corpus does not cover (scope.yaml) is
    # closer than any covered example by more than this; None switches the check off.
    scope_margin: float | None = 0.05
    # … by more than 0.07 when BM25 finds strong lexical support (strong_bm25), as for the
    # distance above (session 16, tuning sets: 2 in-scope questions whose right unit came first
    # no longer refused; no out-of-corpus question of any set answered, hors-sujet included; at
    # 0.08 one out-of-corpus question of the tuning sets would be).
    supported_scope_margin: float = 0.02


class Retriever:
    """One obvious entry point: `retrieve(question, k)`."""

    def __init__(self, corpus: Corpus, index: LiveIndex, embeddings: dict, system: str = "hybrid",
                 settings: RetrievalSettings | None = None):
        if system not in SYSTEMS:
            raise ValueError(f"système inconnu : {system}")
        self.corpus, self.index, self.system = corpus, index, system
        self.embeddings = {name: model for name, model in embeddings.items() if name in index.collections}
        self.settings = settings or RetrievalSettings()
        self.known_units = {u.id for u in corpus.units}
        self.issues = load_issues()
        self.spotter = self._spotter() if system == "hybrid" and self.settings.weights.get("issues") else None
        self.aliases = alias_table(corpus)
        self.designations = designations(corpus)
        self.offence_names = offence_names(corpus)
        self.judge_model = "use" if "use" in self.embeddings else "main"
        self.scope = None if self.settings.scope_margin is None else ScopeGuard(
            self.embeddings[self.judge_model], situations=[vector for _, vector in self._cue_vectors(self.judge_model)])

    def _spotter(self) -> IssueSpotter | None:
        if "main" not in self.embeddings:
            return None
        vectors = {text_hash(cue): vector for cue, vector in self._cue_vectors("main")}
        second = None
        if "use" in self.embeddings and self.settings.issue_second:
            second = ({text_hash(cue): vector for cue, vector in self._cue_vectors("use")}, self.settings.issue_second)
        return IssueSpotter(self.issues, vectors, self.known_units, self.settings.issue_temperature,
                            lexical=self.settings.issue_lexical, neighbours=self.settings.issue_neighbours,
                            second=second)

    def _cue_vectors(self, model: str) -> list[tuple[str, list[float]]]:
        """(cue, vector) in catalogue order. The vectors come with the index (Assistant brings an
        index without them up to date); cues added since are embedded here, for this process only."""
        stored = self.index.query_vectors(model)
        cues = cue_texts(self.issues)
        missing = [cue for cue in cues if text_hash(cue) not in stored]
        if missing:
            stored = {**stored, **{text_hash(c): v for c, v in
                                   zip(missing, self.embeddings[model].get_query_embeddings(missing))}}
        return [(cue, stored[text_hash(cue)]) for cue in cues]

    def retrieve(self, question: str, k: int = 10, context: str = "") -> Retrieval:
        """`context`: the conversation's earlier question, for a follow-up (see _context)."""
        started = time.perf_counter()
        stripped = strip_injection(question)
        query = spell_out(stripped)
        offence = asks_offence(query, self.offence_names)
        lists, as_asked, asked = self._search(query, offence)
        if context and self.spotter is not None:
            lists["context"] = self._context(context)
        named = named_documents(query, self.aliases) + loosely_named(query, self.designations)
        ranked = self._fuse(lists, frozenset(named))
        if self.system == "hybrid":
            ranked = self._named_first(ranked, set(named))
        signal = {name: (hits[0][1] if hits else 0.0) for name, hits in lists.items() if name not in ("issues", "context")}
        signal["as_asked"] = as_asked
        # How strongly the legal questions spotted point at each unit: the reply cites a second
        # unit only when they point at it nearly as much as at the first (answering/brief.py).
        signal["issue_units"] = dict(lists.get("issues", [])[:10])
        signal["injection"] = stripped != question
        signal["offence"] = offence  # the reply states the penalty (answering/brief.py)
        hits = ranked[:k]
        signal["missing"] = missing_article(query, self.corpus, self.aliases) \
            or unknown_numbering(query, self.corpus, self.aliases)
        signal["authority"] = bool(AUTHORITY_RE.search(question))
        signal["unsettled"] = unsettled_quantity(query, (self.corpus.unit(h.unit_id).plain_text
                                                         for h in hits[:QUANTITY_UNITS]))
        if asked is not None and self.scope is not None:
            verdict = self.scope.judge(asked)
            margin = self.settings.scope_margin
            if signal.get("bm25", 0.0) >= self.settings.strong_bm25:
                margin += self.settings.supported_scope_margin
            signal.update(scope_covered=verdict.covered, scope_outside=verdict.not_covered,
                          scope_topic=verdict.topic if verdict.outside(margin) else "")
        # A question that names a text of the corpus, and finds it first (or a unit that refers to
        # it: the parliamentary answer that speaks of « la circulaire wallonne »), asks what that
        # text says, whatever else it mentions (« le décret flamand de 2024 … il renvoie au RGPD ? »).
        signal["named"] = bool(hits) and bool(spoken_of(self.corpus, hits[0].unit_id) & set(named))
        signal["named_documents"] = list(dict.fromkeys(named))
        abstained = not query.strip() or bool(signal["missing"]) or signal["authority"] or bool(signal["unsettled"]) or \
            (self._unsupported(signal) and not signal["named"])
        return Retrieval(question, hits, abstained, signal, (time.perf_counter() - started) * 1000)

    def _search(self, query: str, offence: bool = False) -> tuple[dict[str, list[tuple[int, float]]], float, list | None]:
        """Hits per list (chunk positions for each dense model and "bm25", unit ids for
        "issues"), the abstention similarity, and the vector of the question as asked.
        `offence`: whether the question asks about an offence: then the lexicon adds no words
        of the CPAS setting (lexicon.yaml), and the offence-only issues vote (issues.py)."""
        if not query.strip():
            return {name: [] for name in [*self.embeddings, "bm25", "issues"]}, 0.0, None
        n = self.settings.candidates
        # Every list is computed even for one-list systems: abstention reads their top scores.
        expanded = expand(query, not offence)  # once per question, whichever lists use it
        text = {name: expanded if name in self.settings.lexicon else query for name in [*self.embeddings, "bm25"]}
        # The question as asked, beside the lexicon-expanded one, in the same call: the judge
        # reads how close it comes to the corpus (abstention), and e5 matches it to the issue
        # cues, which are questions too.
        as_asked = {self.judge_model, "main" if self.spotter else ""}
        texts = {name: list(dict.fromkeys([text[name], *([query] if name in as_asked else [])])) for name in self.embeddings}
        vectors = {name: dict(zip(texts[name], model.get_query_embeddings(texts[name])))
                   for name, model in self.embeddings.items()}
        lists = {name: self.index.dense(name, vectors[name][text[name]], n) for name in self.embeddings}
        asked = vectors[self.judge_model][query]
        closest = self.index.dense(self.judge_model, asked, 1)
        lists["bm25"] = self.index.lexical(text["bm25"], n)
        lists["issues"] = self.spotter.rank(vectors["main"][query], expanded, vectors.get("use", {}).get(query), offence) \
            if self.spotter else []
        return lists, (closest[0][1] if closest else 0.0), asked

    def _context(self, context: str) -> list[tuple[str, float]]:
        """The legal questions the conversation's earlier question raised: a follow-up (« et si
        c'est un adulte handicapé ? ») usually stays on them, though its rewriting carries words
        that point elsewhere."""
        query = spell_out(strip_injection(context))
        if not query.strip():
            return []
        second = self.embeddings["use"].get_query_embeddings([query])[0] \
            if self.spotter.second is not None and "use" in self.embeddings else None
        return self.spotter.rank(self.embeddings["main"].get_query_embeddings([query])[0], expand(query), second)

    def _fuse(self, chunk_lists: dict, named: frozenset = frozenset()) -> list[Hit]:
        used = {"hybrid": list(chunk_lists), "bm25": ["bm25"], "dense": ["main"]}[self.system]
        lists = {name: [(u, self.unit_chunk[u]) for u, _ in chunk_lists[name] if u in self.unit_chunk]
                 if name in ("issues", "context")
                 else unit_ranking(self.index, chunk_lists[name]) for name in used}
        weights = self.settings.weights
        scores: dict[str, float] = {}
        passages: dict[str, float] = {}  # the passage lists alone, without the issue lists
        best_chunk: dict[str, int] = {}
        seen_in: dict[str, set] = {}
        for name, ranking in lists.items():
            # The issue lists weigh each unit by its pull (RRF's rank alone made an issue's second
            # unit, counted half, worth 0.95 of its first: the passage lists then decided).
            pulls = dict(chunk_lists[name]) if name in ("issues", "context") else {}
            top = max(pulls.values(), default=0.0) or 1.0
            for rank, (unit_id, chunk) in enumerate(ranking, start=1):
                if unit_id not in self.known_units:
                    continue  # indexed but gone from the corpus (an update refused by `corpus update`)
                if pulls:
                    share = weights.get(name, 1.0) * pulls[unit_id] / top / (self.settings.rrf_k + 1)
                else:
                    share = weights.get(name, 1.0) / (self.settings.rrf_k + rank)
                    passages[unit_id] = passages.get(unit_id, 0.0) + share
                scores[unit_id] = scores.get(unit_id, 0.0) + share
                best_chunk.setdefault(unit_id, chunk)
                seen_in.setdefault(unit_id, set()).add(name)
        if named and self.system == "hybrid":
            boost = 1 + self.settings.named_boost
            scores = {u: v * boost if u.split(":")[0] in named else v for u, v in scores.items()}
        order = sorted(scores, key=lambda u: -scores[u])
        # The issue lists outweigh the passage lists (weight 30), and a situation no issue covers
        # (« entre parents et enfants le vol n'est pas puni ? ») got the issues' units only: the
        # unit the passage lists agree on most keeps a place among the first five. Tuning sets:
        # hit@5 situations-5 +1, situations-6 +2, question-parlementaire −1 (a second unit of a
        # parliamentary question already there), first units unchanged.
        best_passage = max(passages, key=lambda u: passages[u], default=None) if len(lists) > 1 else None
        if best_passage is not None and best_passage not in order[:PASSAGE_SLOT + 1]:
            order.remove(best_passage)
            order.insert(PASSAGE_SLOT, best_passage)
        return [Hit(u, scores[u], best_chunk[u], "both" if len(seen_in[u]) > 1 else next(iter(seen_in[u])))
                for u in order]

    def _named_first(self, ranked: list[Hit], named: set[str]) -> list[Hit]:
        """A question that names a text of the corpus (« le décret maltraitance de 2004 m'oblige à
        agir ? ») is answered from it when one of its units is among the first NAMED_WINDOW, unless
        the first unit speaks of that text (the minister's answer about « la circulaire »). The
        score boost alone (named_boost) left art. 458bis, which the issues of child abuse all
        vote for, above the decree named. Tuning sets: +1 first unit of 384, none lost."""
        if not named or not ranked or ranked[0].unit_id.split(":")[0] in named \
                or spoken_of(self.corpus, ranked[0].unit_id) & named:
            return ranked
        found = next((n for n, hit in enumerate(ranked[:NAMED_WINDOW]) if hit.unit_id.split(":")[0] in named), None)
        return ranked if found is None else [ranked[found], *ranked[:found], *ranked[found + 1:]]

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
    r"\b(?:articles?\s+|art\.?\s*)(?P<number>\d+(?:er)?[a-z]*(?:/\d+)?)(?:\s*,?\s*(?:§|al(?:inéa|\.))\s*\d+(?:er)?)?"
    r"\s*,?\s*(?:de la|du|de l'|des)\s+(?P<act>[^?.!;]{3,80})",
    re.IGNORECASE,
)


ABBREVIATED_ACT_RE = re.compile(r"(?:CIC|C\.\s?I\.\s?Cr\.|C\.\s?civ\.|RGPD|CIR|CDLD|CWASS)(?![\w-])", re.IGNORECASE)


def missing_article(query: str, corpus: Corpus, aliases: list | None = None) -> str:
    """An article asked by number whose act is named but is not in the corpus (or lacks it)."""
    aliases = aliases if aliases is not None else alias_table(corpus)
    for match in ASKED_ARTICLE_RE.finditer(query):
        act, number = fold_name(match.group("act")), re.sub(r"^(\d+)er$", r"\1", match.group("number"))
        doc_id = next((d for alias, d in aliases
                       if act.startswith(alias) or (len(act) >= 8 and alias.startswith(act))), None)
        if doc_id is None and re.match(r"(code|loi|decret|arrete|ordonnance)\b", act):
            return f"article {number} {match.group('act').strip()}"
        # Acts practitioners name by their initials (« l'art. 46bis/1 du CIC », « l'article 15
        # du RGPD »): none of them is in the corpus.
        initials = ABBREVIATED_ACT_RE.match(match.group("act"))
        if doc_id is None and initials:
            return f"article {number} du {initials.group(0).strip()}"
        if doc_id and f"{doc_id}:art-{number}" not in {u.id for u in corpus.documents[doc_id].units}:
            return f"article {number} ({corpus.documents[doc_id].label})"
    return ""


def unknown_numbering(query: str, corpus: Corpus, aliases: list) -> str:
    """Which article of a partial document replaces a numbered one: the corpus cannot say (the
    new Code pénal's secrecy articles are not in it), so the question is not answered from
    the old article."""
    # « c'est quel numéro d'article maintenant ? » asks the numbering without giving the old one.
    if not (RENUMBERING_RE.search(query) and re.search(r"\b\d{2,3}(?:er|bis|ter|quater)?\b", query)
            or NUMBERING_RE.search(query)):
        return ""
    for doc_id in named_documents(query, aliases):
        document = corpus.documents[doc_id]
        if document.meta.get("complete") is False:
            return f"la correspondance des numéros d'articles dans ce texte, {document.label}, que le corpus n'a qu'en partie"
    return ""


def unsettled_quantity(question: str, texts: Iterable[str]) -> str:
    """What the question asks for (« le délai », « le montant », « la date ») when none of `texts`
    states one ("" otherwise). The texts are read only when a quantity is asked."""
    folded = fold_name(question)
    asked = [(what, stated) for what, asking, stated in QUANTITIES if asking.search(folded)]
    if not asked:
        return ""
    found = [fold_name(text) for text in texts]
    return next((what for what, stated in asked if not any(stated.search(text) for text in found)), "")


def asks_offence(question: str, names: tuple = ()) -> bool:
    """Whether the question asks if a conduct is an offence (or how it is punished), in penal
    words or by the name the code gives the offence (`names`, corpus/offences.py: « c'est de la
    traite des êtres humains, ça ? »), and not about telling someone what one knows."""
    folded = fold_name(question)
    # A question that names the code asks what its text says (« le nouveau Code pénal définit
    # « partenaire » ? elle est harcelée par son ex »), like « code pénal » in OFFENCE_RE.
    named = named_offence(folded, names) and not re.search(r"\bcode\b", folded)
    # « On peut parler d'une infraction ? », « peut-on parler d'abus de faiblesse ? » name the
    # conduct; « parler » there tells no one anything.
    told = NAMING_RE.sub(lambda m: "" if OFFENCE_RE.search(m.group(1)) or named_offence(m.group(1), names)
                         else m.group(0), folded)
    return bool(OFFENCE_RE.search(folded) or named) and not DISCLOSURE_RE.search(told)


def strip_injection(question: str) -> str:
    """Remove sentences that try to change the assistant's rules; keep any real question."""
    sentences = re.split(r"(?<=[.!?:])\s+", question.strip())
    kept = [s for s in sentences if not INJECTION_RE.search(s)]
    text = " ".join(kept)
    return re.sub(r"^\s*question\s*:\s*", "", text, flags=re.IGNORECASE)
