"""The reply's text: « En bref » (one sentence that answers the kind of question asked, from the
rule of the best unit), the conditions and exceptions as verbatim fragments, and « À savoir »
(the rule the article points to, a second unit when retrieval is as sure of it, version notes).

Every legal statement is a fixed French template filled with verbatim fragments read by
assistant/answering/norms.py; the templates say only what the rule's form says (possibility,
obligation, interdiction, penalty), never « oui » or « non »."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import cached_property

from assistant.answering.norms import EDITORIAL_NOTE_RE, Norm, read_norms, sentences
from assistant.answering.questions import PREFERRED, question_kind
from assistant.corpus.model import Corpus, CorpusError, Unit, unit_label
from assistant.corpus.references import ARTICLES_RE, NUMBER_RE, alias_table, cited_in, spoken_of
from assistant.text import FrenchAnalyzer, fold, split_sentences
from assistant.types import Point, Quote, Related

MAX_POINTS = 4
MAX_POINT_WORDS = 45
MAX_CORE_WORDS = 55
MAX_ADDRESSEE_WORDS = 24  # « Les médecins, …, par état ou par profession, des secrets qu'on leur confie » (22)
MAX_LEAD_PENALTY_WORDS = 14  # the whole penalty when asked what one risks
MAX_RELATED = 3
MAX_ALSO = 2
# A reply shorter than this (words shown) gets more of its leading unit's text (`rest`). Chosen on
# the tuning sets (session 12): at 160, facts situations 0.694 → 0.720, question-parlementaire
# 0.651 → 0.663, situations-5 0.677 → 0.692, situations-6 0.591 → 0.616, words p50 ≤ 197
# everywhere; at 185, question-parlementaire 0.698 but situations-3 197 → 214 words p50. Session
# 14 (replies shorter since): 185 takes facts situations 0.723 → 0.735, situations-5 0.752 → 0.768,
# situations-7 0.687 → 0.717, situations-8 0.561 → 0.636, words p50 ≤ 185 on every tuning set.
FILL_WORDS = 185
NOTE_WORDS = 20
MIN_FILL_WORDS = 5
MIN_HEAD_CHARS = 12  # « si le coupable »: a point's words before « […] » that tell its sentence
HEADING_WORDS = 6
MIN_FOCUS_IDF = 2.0  # a word in fewer than one unit in seven
FOCUS_BACK = 12  # words a focused fragment may start before the question's word
FOCUS_AFTER = 16  # and end after it, at a comma FOCUS_MIN_AFTER words on or later
FOCUS_MIN_AFTER = 6
MAX_TITLE_WORDS = 10  # a sentence this short without final punctuation is a title
MAX_PROSE_WORDS = 60  # 90: words p50 question-parlementaire 180 → 230
MIN_SHARED_PREFIX = 7  # « poursui »: shorter runs join unrelated words (« protég », « protect »)
MIN_STEM = 5  # shortest stem that may hold another (« vulner » ⊂ « vulnerabilit »)
MIN_ALSO_RELEVANCE = 3.0  # about one rare word shared with the question (idf of a word in 5% of units)
# A second unit is cited when the legal questions spotted point at it with at least this share
# of their strongest pull (issue spotting, retrieval/issues.py), among the next three units.
# On the tuning sets (situations, question-parlementaire, dans-le-sujet; 119 answerable items),
# citing the first unit only: precision 0.78, recall 0.57; the first three: 0.40 / 0.82; this
# rule at 0.6: 0.75 / 0.70 (best F1 of 0.3–0.8; adding a fused-score rule gained 0.006).
SECOND_RATIO = 0.6
# Whether such a second unit is cited, or only weighed (« que risque-t-on » near ties, `punishing`).
# Session 12: on the two newest blind sets (situations-5 and -6, tuning sets by then) the seconds
# cited added no expected unit and cost precision (0.712 → 0.808 and 0.651 → 0.717 without them,
# recall unchanged); on the older tuning sets, where the ratio had been chosen, they brought recall
# (situations 0.684 vs 0.625, question-parlementaire 0.740 vs 0.682) at a lower precision; BSARD
# lost one (recall 0.941 → 0.882). A reply that cites one unit it is sure of was preferred.
CITE_SECONDS = False
SECOND_WINDOW = 3
# An offence listed in the rule's scope is cited when retrieval ranks it among its first three
# units with at least this share of the first's fused score (`matched_offence`). Chosen on
# situations, question-parlementaire, dans-le-sujet and situations-3 (session 9): rank ≤ 3
# alone cited 4 right, 1 wrong and 2 not expected offences; with 0.25, 4 right and 1 wrong.
OFFENCE_WINDOW = 3
OFFENCE_RATIO = 0.25
OFFENCE_KINDS = ("may", "what", "who", "general")  # read as « what do I risk » for an offence question
LEAD_WINDOW = 3  # a unit ranked this high may lead when it answers the kind asked (`leading`)
DEFINED_TERM_WORDS = 4
MIN_TERM_CHARS = 4  # « viol »
DETERMINERS = {"un", "une", "le", "la", "les", "des", "l", "d", "de", "du"}
MIN_ELIDED_NUMBERS = 4
# Who the assistant answers: social workers of a CPAS (`with_readers`). Matched on folded text.
READERS_RE = re.compile(r"\b(?:assistants? soci(?:al|aux)|travailleurs? soci(?:al|aux)|centres? publics? d'action sociale|cpas)\b")
GLOSS = {
    "justification": "pas d'infraction, à certaines conditions",
    "exemption": "pas de peine",
    "permission": "une possibilité, pas une obligation",
    "obligation": "une obligation",
    "prohibition": "une interdiction",
    "penalty": "une infraction punie",
    "definition": "une définition",
    "procedure": "ce que prévoit le texte",
}
MINISTER_RE = re.compile(r"\b(?:ministre|repondu|reponse)\b")  # « qu'a dit le ministre ? »
# « le député … fin 2022 », « le ministre avait répondu quoi en 2022 ? »: a parliamentary question
# designated by its year.
PARLIAMENT_RE = re.compile(r"\b(?:ministre|deputee?s?|parlementaires?|question ecrite|interpell\w*|repondu)\b")
YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")
PARLIAMENT_WINDOW = 5  # a parliamentary question this high may lead (its year named, its minister asked)
# What a reader must know of a document that is not law when the lead quotes it.
NOT_LAW = {"question parlementaire": "question parlementaire, pas un texte de loi"}
UNSETTLED = {"may": "si c'est permis", "must": "si c'est obligatoire", "risk": "ce que l'on risque"}
# A sentence opening on what the previous one said: « Toute personne violant ce secret … ».
BACK_REFERENCE_RE = re.compile(r"^(?:\S+\s+){0,3}(?:ce|cet|cette|ces)\s", re.I)
ARTICLE_REF_RE = re.compile(r"\barticles? (\d+(?:/\d+)?(?:bis|ter|quater|quinquies|sexies|septies|octies)?)\b", re.I)


@dataclass(frozen=True)
class Brief:
    lead: str
    points: tuple[Point, ...]
    related: tuple[Related, ...]
    cited: tuple[str, ...]
    quotes: tuple[Quote, ...]
    kind: str


class BriefComposer:
    """`compose(unit_ids, scores, question)` → Brief, from the ranked units of a retrieval."""

    def __init__(self, corpus: Corpus, second_ratio: float = SECOND_RATIO, cite_seconds: bool = CITE_SECONDS):
        self.corpus = corpus
        self.second_ratio = second_ratio
        self.cite_seconds = cite_seconds
        self.analyzer = FrenchAnalyzer()

    @cached_property
    def aliases(self) -> list:
        """The documents' names (corpus/references.py), read once per composer."""
        return alias_table(self.corpus)

    @cached_property
    def idf(self) -> dict[str, float]:
        """How rare each word (stem) is among the corpus's units, read once per composer."""
        units = [set(self.analyzer(u.plain_text)) for u in self.corpus.units]
        counts: dict[str, int] = {}
        for words in units:
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        return {w: math.log(len(units) / n) for w, n in counts.items()}

    def relevance(self, text: str, terms: set[str]) -> float:
        """The rarity-weighted words a sentence shares with the question: « secret » is in most
        units and weighs little, « concertation » or « huis clos » weigh much."""
        words = set(self.analyzer(text))
        score = 0.0
        for term in terms:
            if term in words:
                score += self.idf.get(term, 0.0)
            elif len(term) >= MIN_STEM and (word := next((w for w in words if same_word(w, term)), None)):
                # « vulnérable » and « vulnérabilité » stem apart (vulner / vulnerabilit): one
                # stem holding the other is the same word for choosing a sentence.
                score += self.idf.get(term) or self.idf.get(word, 0.0)
        return score

    def compose(self, unit_ids: list[str], pull: dict[str, float], question: str,
                scores: dict[str, float] | None = None, named: tuple[str, ...] = (),
                offence: bool = False) -> Brief:
        """`unit_ids`: the ranked units; `pull`: how strongly the spotted legal questions point
        at each unit (Retrieval.signal["issue_units"]; empty: only the first unit is cited);
        `scores`: retrieval's fused score of each unit (empty: no offence is matched); `named`:
        the documents the question names (Retrieval.signal["named_documents"]); `offence`: whether
        it asks if a conduct is an offence (Retrieval.signal["offence"], read once, by retrieval)."""
        kind = question_kind(question)
        if kind in OFFENCE_KINDS and offence:
            # « C'est du harcèlement au sens pénal ? », « je peux porter plainte pour … ? »: the
            # article's penalty says whether and how the conduct is punished; its other sentences
            # (« le juge doit prendre en considération … ») answer nothing asked.
            kind = "risk"
        terms = set(self.analyzer(question))
        leading = self.leading(unit_ids, pull, question, kind, named)
        unit_ids = [leading, *(u for u in unit_ids if u != leading)]
        primary = self.corpus.unit(unit_ids[0])
        norm = self.choose(primary, kind, terms)
        label = self.label(primary)
        points = self.points(norm, primary, terms)
        nature = self.corpus.document_of(primary).meta.get("kind") or ""
        lead = lead_sentence(norm, label, kind, tuple(points), primary.kind == "article", nature)
        points += self.also(primary, norm, terms, kind)
        points = tuple(points)
        stated = [norm]  # the rule stated for each cited unit, in order
        related = []
        penalties = self.penalty_sources(norm, primary) if kind == "risk" else []
        offences = self.matched_offence(norm, primary, unit_ids, scores or {})
        offence_ids = {u.id for u in offences}
        reserved = self.referenced(norm, primary)
        seconds = self.seconds(unit_ids, pull) if self.cite_seconds else []
        optional = {u.id for u in reserved + seconds}
        unanswered = self.unanswered(terms, primary) if optional else set()
        for other in reserved + penalties + seconds + offences:
            if other.id in {n.unit_id for n in stated} or len(related) >= MAX_RELATED:
                continue
            if other.id in optional and self.relevance(other.plain_text, unanswered) < MIN_ALSO_RELEVANCE:
                continue
            other_norm = self.main_rule(other, kind, terms)
            # Why an offence stands here: the lead's rule lists it.
            gloss = f"une des infractions visées par l'art. {primary.number}" if other.id in offence_ids else None
            related.append(Related(other.id, self.label(other), statement(other_norm, gloss)))
            stated.append(other_norm)
        points = self.rest(primary, terms, lead, points, related)
        quotes = tuple(q for n in stated for q in self.quotes(n))
        return Brief(lead, points, tuple(related), tuple(n.unit_id for n in stated), quotes, kind)

    def rest(self, unit: Unit, terms: set[str], lead: str, points: tuple[Point, ...],
             related: list[Related]) -> tuple[Point, ...]:
        """`points` and the leading unit's other sentences, verbatim, while the reply stays short
        (FILL_WORDS): a reply of 60 words said « refuse ou néglige de porter à une personne […] » and
        left out the circumstances the article lists. Those sharing rare words with the question
        first, then in the text's order; the whole text stays one click away. A sentence a point
        already states with « […] » is shown whole in that point, not a second time below it
        (art. 410bis: « Si le coupable […] les peines seront … » and then « Si le coupable, étant
        un élève … »)."""
        shown = fold(" ".join([lead, *(p.text for p in points), *(r.text for r in related)]))
        label = self.label(unit)
        # The words the reply will show (render.passages_text): each line with its citation, the
        # headings, and about NOTE_WORDS of version note.
        words = 3 + len(lead.split()) + sum(len(f"{p.text} {p.label}".split()) for p in points) \
            + sum(len(f"{r.label} {r.text}".split()) for r in related) + NOTE_WORDS \
            + HEADING_WORDS * (1 + any(p.kind != "also" for p in points))
        elided = {n: head for n, p in enumerate(points) if p.kind == "also" and p.unit_id == unit.id
                  and len(head := elided_head(p.text)) >= MIN_HEAD_CHARS}
        candidates = [(part, piece) for part, sentence in text_sentences(unit.plain_text)
                      for piece in re.split(r"(?<=;)\s+", sentence)
                      if len(piece.split()) >= MIN_FILL_WORDS and fold(piece)[:40] not in shown
                      and not heading_like(piece)]
        distant = {i: self.relevance(candidates[i][1], terms) < MIN_ALSO_RELEVANCE for i in range(len(candidates))}
        points, kept = list(points), []
        # The elided points first, the shortest completion first (art. 410bis: its three-line
        # penalty scale before the forty words on pupils' relatives), then new sentences.
        completions, completed = [], set()
        for i, (_, sentence) in enumerate(candidates):
            same = next((n for n, head in elided.items() if fold(sentence).startswith(head)), None)
            if same is not None:
                del elided[same]
                completed.add(i)
                text = f"{points[same].text.split('«', 1)[0]}« {self.focused(sentence, MAX_POINT_WORDS, terms, unit)} »"
                completions.append((distant[i], len(text.split()) - len(points[same].text.split()), i, same, text))
        for _, grown, _, same, text in sorted(completions):
            if words + grown <= FILL_WORDS:
                points[same] = replace(points[same], text=text)
                words += grown
        for i in sorted((i for i in range(len(candidates)) if i not in completed), key=lambda i: (distant[i], i)):
            part, sentence = candidates[i]
            text = f"{self.focused(sentence, MAX_POINT_WORDS, terms, unit)} {label} {part}"
            if words + len(text.split()) > FILL_WORDS:
                continue
            kept.append(i)
            words += len(text.split())
        return tuple(points) + tuple(Point(unit.id, f"{label}, {candidates[i][0]}" if candidates[i][0] else label,
                                           f"« {self.focused(candidates[i][1], MAX_POINT_WORDS, terms, unit)} »", "also")
                                     for i in sorted(kept))

    def unanswered(self, terms: set[str], unit: Unit) -> set[str]:
        """The question's words the leading unit does not contain: a further unit is cited for
        what it adds to the reply, not for the words the first one already answers."""
        words = set(self.analyzer(unit.plain_text))
        return {t for t in terms if t not in words and not (len(t) >= MIN_STEM and any(same_word(w, t) for w in words))}

    def leading(self, unit_ids: list[str], pull: dict[str, float], question: str, kind: str,
                named: tuple[str, ...] = ()) -> str:
        """The unit the reply starts from: retrieval's first, unless among the next few one
        answers the kind of question asked where the first does not (a definition, a penalty,
        the minister's own answer)."""
        window = unit_ids[:LEAD_WINDOW]
        dated = self.dated(unit_ids[:PARLIAMENT_WINDOW], question, named)
        if dated and dated[0] != unit_ids[0]:
            # « Un député avait fait remarquer fin 2022 … » names the parliamentary question of
            # that year: it leads (its answer when the minister's answer is asked).
            ordered = [dated[0], *(u for u in unit_ids if u != dated[0])]
            minister = MINISTER_RE.search(fold(question)) and self.ministers_answer(ordered, named)
            return minister or dated[0]
        if kind == "what":
            found = self.defining(window, question)
        elif kind == "risk":
            found = self.punishing(unit_ids, pull)
        elif kind == "authority" and MINISTER_RE.search(fold(question)):
            found = self.ministers_answer(unit_ids, named)
        elif kind == "authority":
            found = self.speaking_of(window, named)
        else:
            found = None
        return found or unit_ids[0]

    def dated(self, unit_ids: list[str], question: str, named: tuple[str, ...] = ()) -> list[str]:
        """The parliamentary units among `unit_ids` whose document is dated a year the question
        names, when it speaks of a parliamentary question (PARLIAMENT_RE). Not a year that dates
        another text the question names (« la circulaire de 2022 … et le ministre ? »)."""
        folded = fold(question)
        years = set(YEAR_RE.findall(folded)) if PARLIAMENT_RE.search(folded) else set()
        years -= {year_of(self.corpus.documents[d]) for d in named
                  if d in self.corpus.documents and self.corpus.documents[d].meta.get("kind") != "question parlementaire"}
        return [u for u in unit_ids if years and self.parliamentary(u)
                and year_of(self.corpus.document_of(self.corpus.unit(u))) in years]

    def defining(self, unit_ids: list[str], question: str) -> str | None:
        """Asked what a word means, the unit among the first ones that defines a term the question
        names (« c quoi une organisation criminelle ? » → « Constitue une organisation criminelle
        l'association … », art. 324bis), though retrieval ranked the article using the word first."""
        asked = " " + " ".join(re.findall(r"\w+", fold(question))) + " "
        for unit_id in unit_ids:
            unit = self.corpus.unit(unit_id)
            if unit.kind != "article":
                continue
            for norm in read_norms(unit):
                if norm.modality == "definition" and named_definition(norm, asked):
                    return unit_id
        return None

    def ministers_answer(self, unit_ids: list[str], named: tuple[str, ...] = ()) -> str | None:
        """Asked what the minister said, the minister's answer: rather than the member's question
        of the same parliamentary question (the question quotes the circular; the answer is the
        minister's), and rather than a law or decree ranked first (« la Région wallonne a fait un
        décret ? le ministre a répondu quoi ? »), when a parliamentary question is among the first
        units; the one the question names (« au député Bastin en 2022 ») before another."""
        asked = [u for u in unit_ids[:PARLIAMENT_WINDOW] if self.parliamentary(u)]
        found = next((u for u in asked if u.split(":")[0] in named), asked[0] if asked else None)
        if found is not None and not self.corpus.unit(found).title.startswith("Réponse"):
            document = found.split(":")[0]
            found = next((u for u in unit_ids if u.split(":")[0] == document
                          and self.corpus.unit(u).title.startswith("Réponse")), found)
        return found if found != unit_ids[0] else None

    def speaking_of(self, unit_ids: list[str], named: tuple[str, ...]) -> str | None:
        """Asked what a text the question names says (« la circulaire wallonne, elle dit quoi ? »),
        the first unit that is that text or reports it (the parliamentary question quoting the
        circular), rather than the Code pénal article retrieval ranked first."""
        return next((u for u in unit_ids if spoken_of(self.corpus, u) & set(named)), None)

    def parliamentary(self, unit_id: str) -> bool:
        return self.corpus.document_of(self.corpus.unit(unit_id)).meta.get("kind") == "question parlementaire"

    def punishing(self, unit_ids: list[str], pull: dict[str, float]) -> str | None:
        """Asked what one risks, the second unit when the first punishes nothing (art. 458bis
        permits), the second does (art. 422bis) and the spotted legal questions point at it
        nearly as much (the rule that cites a second unit, `seconds`)."""
        first = self.corpus.unit(unit_ids[0])
        if len(unit_ids) < 2 or self.punishes(first):
            return None
        # Or the first unit's own rule reserves the second (« sans préjudice des obligations que
        # lui impose l'article 422bis »): what one risks is there.
        reserved = {u.id for norm in read_norms(first) for u in self.referenced(norm, first)} \
            if first.kind == "article" else set()
        if unit_ids[1] not in {u.id for u in self.seconds(unit_ids, pull)} | reserved:
            return None
        return unit_ids[1] if self.punishes(self.corpus.unit(unit_ids[1])) else None

    @staticmethod
    def punishes(unit: Unit) -> bool:
        return unit.kind == "article" and any(modality_of(n) == "penalty" for n in read_norms(unit))

    def main_rule(self, unit: Unit, kind: str, terms: set[str]) -> Norm:
        """The rule « À savoir » states for a related unit: an article's first rule (its first
        penalty when the question asks what one risks), not the sentence nearest the question's
        words: those picked « l'abstenant ne pourra être puni » as the rule of art. 422bis beside
        a question on a child in danger, and its aggravation beside one on an adult's savings. A
        unit with no rules: its sentence nearest the question."""
        if unit.kind != "article":
            return self.choose(unit, "general", terms)
        first = read_norms(unit)[0]
        # A preamble or a title (« Les dispositions qui suivent forment le livre II », « La
        # protection de l'identité de la victime ») states nothing: the rule the question's words
        # point at (« mineur: toute personne qui … »).
        preamble = first.modality == "procedure" and not first.addressee
        return self.choose(unit, "risk" if kind == "risk" else "general", terms if preamble else set())

    def choose(self, unit: Unit, kind: str, terms: set[str]) -> Norm:
        """The rule to state: of the kind the question asks for, else the one sharing most words
        with the question, else the article's first (main) rule."""
        if unit.kind != "article":
            # A question, an answer, a judgment, an extract: no rule to read, its sentence
            # closest to the question is quoted.
            best = self.best_sentence(unit, terms)
            return Norm(unit.id, "procedure", "", best, sentence=best)
        norms = read_norms(unit)
        order = PREFERRED.get(kind, ())

        def key(item):
            index, norm = item
            # « ne pourra être puni » reads as a permission but answers neither « may I » nor
            # « must I »: it exempts from the penalty the article's main rule lays down.
            modality = "exemption" if modality_of(norm) == "exemption" else norm.modality
            rank = order.index(modality) if modality in order else len(order)
            if modality == "exemption":
                # An exemption presupposes the rule it exempts from; stated first, « pas de
                # peine : l'abstenant ne pourra être puni » answered « j'appelle le 112 ou je
                # respecte le secret ? ». It stays among the article's other rules (`also`).
                rank = len(order) + 1
            # Among rules of the kind asked, the first (the article's main rule); among
            # definitions or rules of no preferred kind, the one the question's words point at.
            by_words = rank == len(order) or norm.modality == "definition"
            relevance = self.relevance(norm.sentence, terms) if by_words else 0.0
            # Below about one rare shared word the words point nowhere: the first rule stays
            # (« Il m'a fait promettre de rien dire à personne » put the aggravation of 422bis,
            # « portée à deux ans lorsque la personne … », before the rule it aggravates).
            # A definition is found by the one word it defines (« mineur »), however common.
            floor = 0.0 if norm.modality == "definition" else MIN_ALSO_RELEVANCE
            return (rank, -relevance if relevance >= floor else 0, index)

        return min(enumerate(norms), key=key)[1]

    def best_sentence(self, unit: Unit, terms: set[str]) -> str:
        return next((s for _, s in self.ranked_sentences(unit, terms)), "")

    def ranked_sentences(self, unit: Unit, terms: set[str]) -> list[tuple[float, str]]:
        """[(relevance, sentence)], most relevant first (text order among equals)."""
        texts = [s for _, s in sentences(unit.plain_text)]
        # A heading in capitals (« COUR CONSTITUTIONNELLE ») says nothing: it was quoted in a reply.
        said = [s for s in texts if len(s.split()) >= MIN_FILL_WORDS and any(c.islower() for c in s)] or texts
        scored = [(self.relevance(s, terms), -i, s) for i, s in enumerate(said)]
        return [(score, s) for score, _, s in sorted(scored, reverse=True)]

    def also(self, unit: Unit, chosen: Norm, terms: set[str], kind: str = "general") -> list[Point]:
        """The unit's other rules (or, in a question or answer, its other sentences) that share
        rare words with the question: what the question asks may be in the second paragraph.
        Listed whatever the words: the sentence that goes on from the rule stated and, asked what
        one risks, the article's other penalties."""
        label = self.label(unit)
        if unit.kind != "article":
            return [Point(unit.id, label, f"« {text} »", "also") for text in self.more_prose(unit, terms)]
        norms = read_norms(unit)
        going_on = continuation(norms, chosen)
        before = antecedent(norms, chosen)
        punishing = kind == "risk" and modality_of(chosen) == "penalty"

        def forced(index: int, norm: Norm) -> bool:
            # « portée à deux ans lorsque la personne … est mineure d'âge » answers « je risque
            # quoi ? » whatever words the question used for the victim.
            return index in (going_on, before) or (punishing and modality_of(norm) == "penalty")

        others = [(self.relevance(n.sentence, terms), i, n) for i, n in enumerate(norms)
                  if n.sentence != chosen.sentence and not heading_like(n.sentence)]
        picked = sorted((item for item in others if item[0] >= MIN_ALSO_RELEVANCE or forced(item[1], item[2])),
                        key=lambda item: (not forced(item[1], item[2]), -item[0], item[1]))
        # The continuation, and the rule a lead pointing back names, are part of the rule stated.
        limit = MAX_ALSO + (going_on is not None) + (before is not None)
        return [Point(unit.id, f"{label}, {n.part}" if n.part else label, statement(n) + sanction(norms, i, chosen), "also")
                for _, i, n in sorted(picked[:limit], key=lambda item: item[1])]

    def more_prose(self, unit: Unit, terms: set[str]) -> list[str]:
        """A minister's answer or a member's question is a few sentences of prose: those after the
        best one that share rare words with the question, within MAX_PROSE_WORDS."""
        kept, words = [], 0
        for score, sentence in self.ranked_sentences(unit, terms)[1:]:
            text = self.focused(sentence, MAX_POINT_WORDS, terms, unit)
            if score < MIN_ALSO_RELEVANCE or kept and words + len(text.split()) > MAX_PROSE_WORDS:
                break
            kept.append(text)
            words += len(text.split())
        return kept

    def points(self, norm: Norm, unit: Unit, terms: set[str] = frozenset()) -> list[Point]:
        label = self.label(unit)
        out = []
        if norm.verb == ":":  # a definition's text is its lead, not a condition
            return out
        for kind, fragments in (("scope", norm.scope), ("condition", norm.conditions), ("exception", norm.exceptions)):
            for fragment in fragments:
                where = f"{label}, {fragment.part}" if fragment.part else label
                out.append(Point(unit.id, where, self.focused(elide_lists(fragment.text), MAX_POINT_WORDS, terms, unit), kind))
        return out[:MAX_POINTS]

    def focused(self, text: str, max_words: int, terms: set[str], unit: Unit) -> str:
        """`capped`, unless a rare word of the question lies past the cut: then the fragment's first
        words, « […] », and the clause holding that word (art. 458bis's victims, asked about a young
        woman « avec un handicap mental »: « … en raison de son âge, d'un état de grossesse, […] d'une
        infirmité ou d'une déficience physique ou mentale »). Verbatim pieces only. The words naming
        the text itself (« arrêt », « décret ») point nowhere in it."""
        words = text.split()
        if len(words) <= max_words + FOCUS_BACK or not terms:  # a short overrun loses little as cut
            return capped(text, max_words)  # most fragments: nothing analysed
        terms = terms - set(self.analyzer(self.label(unit)))
        stems = [self.analyzer(word) for word in words]
        shown = {stem for group in stems[:max_words] for stem in group}
        wanted = {t for t in terms if t not in shown and self.idf.get(t, 0.0) >= MIN_FOCUS_IDF}
        at = next((i for i in range(max_words, len(words)) if any(
            stem in wanted or (len(stem) >= MIN_STEM and any(same_word(stem, t) for t in wanted))
            for stem in stems[i])), None)
        if at is None:
            return capped(text, max_words)
        # The clause holding the word: from the comma before it (at most FOCUS_BACK words back)
        # to a comma after it (FOCUS_MIN_AFTER to FOCUS_AFTER words on); the first words fill the rest.
        start = next((i + 1 for i in range(at - 1, max(at - FOCUS_BACK, 0) - 1, -1) if words[i].endswith((",", ";"))),
                     max(at - FOCUS_BACK // 2, 0))
        end = next((i + 1 for i in range(at + FOCUS_MIN_AFTER, min(at + FOCUS_AFTER, len(words)))
                    if words[i].endswith((",", ";"))),
                   min(at + FOCUS_AFTER, len(words)))
        room = max_words - (end - start)
        if room < MIN_FILL_WORDS:
            return capped(text, max_words)
        head = capped(" ".join(words[:start]), room, at_comma=True).removesuffix(" […]").rstrip(" ,;:")
        if len(head.split()) < room // 2:  # « Dès lors, … »: a comma too early to cut at
            head = capped(" ".join(words[:start]), room).removesuffix(" […]").rstrip(" ,;:")
        tail = " ".join(words[start:end]).rstrip(" ,;:")
        return f"{head} […] {tail}" + (" […]" if end < len(words) else "")

    def referenced(self, norm: Norm, unit: Unit) -> list[Unit]:
        """Units of the same document that the rule's exceptions name (« sans préjudice des
        obligations que lui impose l'article 422bis »). Also citing the article a penalty refers
        to (« peines prévues à l'article 458 ») lowered citation precision on situations and
        question-parlementaire (0.747 → 0.741, 0.690 → 0.678) and gained nothing: left out."""
        out = []
        for fragment in norm.exceptions:
            for number in ARTICLE_REF_RE.findall(fragment.text):
                try:
                    out.append(self.corpus.unit(f"{unit.document}:art-{number}"))
                except CorpusError:
                    continue
        return out

    def penalty_sources(self, norm: Norm, unit: Unit) -> list[Unit]:
        """The article whose penalties the rule borrows (« Sera puni des peines prévues à
        l'article précédent »): asked what one risks, that article says it. Only for that kind
        of question: always citing it lowered precision (see `referenced`)."""
        if unit.kind != "article" or not norm.penalty:
            return []
        return [self.corpus.unit(ref) for ref in cited_in(norm.penalty, unit, self.corpus, self.aliases) if ":art-" in ref]

    def matched_offence(self, norm: Norm, unit: Unit, unit_ids: list[str], scores: dict[str, float]) -> list[Unit]:
        """The offence the situation describes, when the rule's scope lists offences by article
        (« a de ce fait connaissance d'une infraction prévue aux articles 372 à 377, …, 409, …, 425
        et 426 », art. 458bis) and retrieval ranks one of them among its first units, close to
        the top: the reader sees which offence of the list the facts would be."""
        if not norm.scope or not scores:
            return []
        listed = {ref for fragment in norm.scope for ref in cited_in(fragment.text, unit, self.corpus, self.aliases)}
        best = scores.get(unit_ids[0], 0.0)
        found = next((u for u in unit_ids[1:OFFENCE_WINDOW] if u in listed), None)
        if found is None or best <= 0 or scores.get(found, 0.0) < OFFENCE_RATIO * best:
            return []
        return [self.corpus.unit(found)]

    def seconds(self, unit_ids: list[str], pull: dict[str, float]) -> list[Unit]:
        """The next units the spotted legal questions point at nearly as much as their best."""
        best = max(pull.values(), default=0.0)
        if best <= 0:
            return []
        return [self.corpus.unit(u) for u in unit_ids[1:1 + SECOND_WINDOW] if pull.get(u, 0.0) >= self.second_ratio * best]

    def quotes(self, norm: Norm) -> list[Quote]:
        """The unit's sentences the stated rule comes from, highlighted in the whole text."""
        unit_id = norm.unit_id
        unit = self.corpus.unit(unit_id)
        label = self.label(unit)
        probe = norm.sentence[:60]
        found = [(part, s) for part, s in split_sentences(unit.plain_text) if probe and (probe in s or s in norm.sentence)]
        return [Quote(unit_id, label + (f", {part}" if part else ""), s) for part, s in found[:3]]

    def label(self, unit: Unit) -> str:
        return unit_label(self.corpus.document_of(unit), unit)


def year_of(document) -> str:
    """« 2022 » for a document dated « 2022-06-30 » ("" when undated)."""
    return str(document.meta.get("date") or "")[:4]


def text_sentences(text: str) -> list[tuple[str, str]]:
    """The text's sentences (norms.sentences) without the publisher's annotations: Justel lists
    the judgments about an article under « A. », « B. » (« L'arrêt de la Cour d'arbitrage du …
    a statué sur la question préjudicielle … »), and marks its own notes « (NOTE: … »."""
    out, annotation = [], False
    for part, sentence in sentences(text):
        if re.match(r"[A-Z]\.(?:\s|$)", sentence.strip()):
            annotation = True
        elif not annotation and not EDITORIAL_NOTE_RE.match(sentence):
            out.append((part, sentence))
    return out


def continuation(norms: tuple[Norm, ...], chosen: Norm) -> int | None:
    """The index of the sentence that goes on from the rule stated (« Cette concertation peut
    exclusivement être organisée soit en vue de … » after 458ter's « Il n'y a pas d'infraction …
    dans le cadre d'une concertation organisée »): it belongs with it, whatever the question's
    words. A penalty pointing back is its `sanction`, not a continuation."""
    index = next((i + 1 for i, n in enumerate(norms) if n.sentence == chosen.sentence), None)
    if index is None or index >= len(norms) or modality_of(norms[index]) == "penalty" \
            or not BACK_REFERENCE_RE.match(norms[index].sentence):
        return None
    return index


def antecedent(norms: tuple[Norm, ...], chosen: Norm) -> int | None:
    """The index of the rule a penalty stated points back at (« Toute personne violant ce secret
    sera punie … » after « Les participants sont tenus au secret relativement aux secrets
    communiqués durant la concertation »): without it, « ce secret » says not which secret. The
    mirror of `sanction`."""
    index = next((i - 1 for i, n in enumerate(norms) if n.sentence == chosen.sentence), None)
    if index is None or index < 0 or modality_of(chosen) != "penalty" or not BACK_REFERENCE_RE.match(chosen.sentence):
        return None
    return index


def sanction(norms: tuple[Norm, ...], index: int, chosen: Norm) -> str:
    """The penalty that follows a rule and points back at it (« Les participants sont tenus au
    secret … » then « Toute personne violant ce secret sera punie des peines prévues à l'article
    458 »), appended to the rule's line: the rule's consequence shares no word with the question."""
    if index + 1 >= len(norms):
        return ""
    following = norms[index + 1]
    if modality_of(following) != "penalty" or following.sentence == chosen.sentence or not BACK_REFERENCE_RE.match(following.sentence):
        return ""
    return f" ; « {capped(following.sentence.rstrip('.'), 20)} »"


def same_word(word: str, term: str) -> bool:
    """Two stems of one word for choosing a sentence: one holds the other (« vulner » ⊂
    « vulnerabilit »), or they share a long beginning (« poursuivr » of « poursuivre » and
    « poursuit » of « poursuite »)."""
    if len(word) < MIN_STEM:
        return False
    if word.startswith(term) or term.startswith(word):
        return True
    return len(term) >= MIN_SHARED_PREFIX and word[:MIN_SHARED_PREFIX] == term[:MIN_SHARED_PREFIX]


def lead_sentence(norm: Norm, label: str, kind: str, points: tuple[Point, ...], article: bool = True,
                  nature: str = "") -> str:
    """« Code pénal, art. 458bis — une possibilité, pas une obligation, à certaines conditions, dans 2 cas (ci-dessous) :
    « Toute personne … peut […] en informer le procureur du Roi ». »"""
    modality = modality_of(norm)
    if article and kind in UNSETTLED and modality in ("procedure", "definition"):
        # Asked « may I / must I / what do I risk », the best article lays down no such rule: say
        # so, then what it does say.
        return f"{label} ne dit pas directement {UNSETTLED[kind]} ; il dit : « {core(norm)} »."
    if modality == "procedure" and not norm.addressee:
        what = f" ({NOT_LAW[nature]})" if nature in NOT_LAW else ""
        return f"Selon {label}{what} : « {capped(norm.action, MAX_CORE_WORDS)} »."
    gloss = GLOSS[modality]
    if kind == "must" and modality == "permission":
        gloss = "pas d'obligation dans ce texte, une possibilité"
    elif kind == "must" and modality in ("justification", "exemption"):
        gloss = f"pas d'obligation dans ce texte ; {gloss}"
    conditions = [p for p in points if p.kind == "condition"]
    exceptions = [p for p in points if p.kind == "exception"]
    # The scope (« et a de ce fait connaissance d'une infraction … ») is listed first: « 2 cas »
    # alone, above four items, read as if the scope were one of them.
    scoped = ", à certaines conditions," if any(p.kind == "scope" for p in points) else ","
    if conditions and all(p.text.lower().startswith("soit") for p in conditions) and len(conditions) > 1:
        tail = f"{scoped} dans {len(conditions)} cas (ci-dessous)"
    elif conditions:
        tail = ", à certaines conditions (ci-dessous)"
    elif exceptions:
        tail = ", sauf exception (ci-dessous)"
    else:
        tail = ""
    penalty_words = MAX_CORE_WORDS if kind == "risk" else MAX_LEAD_PENALTY_WORDS
    return f"{label} — {gloss}{tail} : « {core(norm, max_penalty_words=penalty_words)} »."


def named_definition(norm: Norm, asked: str) -> str:
    """The term a definition defines when the question names it ("" otherwise): the longest run
    of the definition's first words, articles and numbering left out, found in the question as
    a phrase (« partenaire » of « partenaire: la personne … », « organisation criminelle » of
    « Constitue une organisation criminelle l'association … »). `asked`: the folded question's
    words, space-separated, with a space at each end."""
    words = [w for w in re.findall(r"\w+", fold(norm.action)) if w not in DETERMINERS and not w.isdigit()]
    found = ""
    for n in range(1, min(DEFINED_TERM_WORDS, len(words)) + 1):
        term = " ".join(words[:n])
        if f" {term} " in asked:
            found = term
    return found if len(found) >= MIN_TERM_CHARS else ""


def statement(norm: Norm, gloss: str | None = None) -> str:
    """A related rule in one line: its form (or `gloss`, why the unit is cited), its core words
    and, briefly, its conditions (« Cette concertation peut exclusivement être organisée » says
    little without them)."""
    modality = modality_of(norm)
    if modality == "procedure" and not norm.addressee:
        return f"« {capped(norm.action, 30)} »"
    # A definition's text is already its core.
    # A penalty's conduct is its core (« celui qui s'abstient de venir en aide … »); its conditions
    # (« soit qu'il ait constaté par lui-même … ») added 25 words a line and are one click away.
    # An aggravation has no conduct of its own (« La peine … est portée à deux ans lorsque la
    # personne … est mineure d'âge »): its condition is what it says.
    conditions = "".join(f" ; « {capped(f.text, 20)} »" for f in norm.conditions[:2]
                         if norm.verb != ":" and (modality != "penalty" or not norm.action))
    # A penalty stated first (« Sera puni d'un emprisonnement de huit jours à (un an) et d'une
    # amende … , celui qui s'abstient … ») would fill the line before the conduct: its first
    # words say enough beside the rule the lead states.
    return f"{gloss or GLOSS[modality]} : « {core(norm, 40, max_penalty_words=8)} »{conditions}"


def modality_of(norm: Norm) -> str:
    verb = norm.verb.lower()
    if verb.startswith("il n"):
        return "justification"
    return "exemption" if verb.startswith("ne ") and "puni" in verb else norm.modality


def core(norm: Norm, max_words: int = MAX_CORE_WORDS, max_penalty_words: int = MAX_CORE_WORDS) -> str:
    """Who, the rule's verb, what (and the penalty), verbatim and in the text's order; what lies
    between them is elided with « […] »."""
    if norm.verb == ":":  # « terme : définition », from a list of definitions
        return capped(norm.sentence.rstrip(" ;,."), max_words)
    addressee = norm.addressee
    if not (norm.action and norm.action in addressee):  # « celui qui s'abstient … » is the conduct
        addressee = capped(addressee, MAX_ADDRESSEE_WORDS, at_comma=True)
    penalty = capped(norm.penalty, max_penalty_words, at_comma=True)
    # A long conduct (« Quiconque aura, alors qu'il connaissait …, frauduleusement abusé … ») is cut
    # before it fills the fragment: the penalty after it stays.
    action = norm.action
    room = max_words - sum(len(p.split()) for p in (addressee, norm.verb, penalty) if p and p not in action)
    if penalty and len(action.split()) > room > 0:
        action = capped(action, room)
    pieces = [p for p in (addressee, norm.verb, action, penalty) if p]
    sentence = norm.sentence
    located = sorted(((sentence.find(p.removesuffix(" […]")), p) for p in pieces if p.removesuffix(" […]") in sentence),
                     key=lambda item: item[0])
    out, end = "", None
    for start, piece in located:
        if end is not None and start < end:
            continue  # a piece inside another (the offender named in the action)
        if end is None:
            out = piece
        else:
            gap = sentence[end:start]
            out += gap if gap.strip(" ,") == "" else (" " if out.endswith("[…]") else " […] ")
            out += piece
        end = start + len(piece.removesuffix(" […]"))
    if out and end is not None and sentence[end:].strip()[:1].isalnum() and not out.endswith("[…]"):
        out += " […]"  # cut mid-clause (a long subject is kept to its first words): say so
    return capped(with_readers(out, sentence), max_words) if out else capped(norm.sentence, max_words)


def with_readers(out: str, sentence: str) -> str:
    """The items of an elided list that name the assistant's readers (READERS_RE) put back:
    art. 410bis raises the penalty for violence « envers un conducteur, un accompagnateur, …, un
    assistant social ou un psychologue d'un service public, …, un membre du centre public d'action
    sociale, … »; cut after its second item, the lead left out the one that concerns the asker."""
    fragments = [f for f in re.split(r"\s*\[…\]\s*", out) if f]
    spans, position = [], 0
    for fragment in fragments:
        start = sentence.find(fragment, position)
        if start < 0:
            return out
        spans.append((start, start + len(fragment)))
        position = start + len(fragment)
    found = [readers_named(sentence[end:start]) for (_, end), (start, _) in zip(spans, spans[1:])]
    if not any(found):
        return out  # as it was, to the character (« ut[…] » is the source's own cut)
    pieces = [fragments[0]]
    for runs, fragment in zip(found, fragments[1:]):
        pieces += [" […] " + "".join(f"{run}, […] " for run in runs), fragment]
    return "".join(pieces) + (" […]" if out.endswith("[…]") else "")


def readers_named(span: str) -> list[str]:
    """The runs of consecutive list items in `span` that name a reader, each verbatim."""
    items = span.split(",")
    runs, current = [], []
    for item in items:
        if READERS_RE.search(fold(item)):
            current.append(item)
        elif current:
            runs.append(",".join(current).strip())
            current = []
    if current:
        runs.append(",".join(current).strip())
    return runs


def heading_like(sentence: str) -> bool:
    """A title, a list's opening words or one of its dashed items, which say nothing on their
    own: « Les définitions générales », « Pour l'application du présent Code, l'on entend par: »,
    « - un ministre ou secrétaire d'Etat; » (the new Code pénal's art. 2 filled a reply with four
    of them)."""
    text = sentence.strip()
    untitled = len(text.split()) <= MAX_TITLE_WORDS and not re.search(r"[.;!?»)\]]$", text)
    return text.endswith(":") or text.startswith(("-", "–")) or untitled


def elided_head(text: str) -> str:
    """The folded words a point quotes before its first « […] » ("" when it elides nothing)."""
    quoted = text.split("«", 1)[-1]
    return fold(quoted.split("[…]", 1)[0]).strip(" ,;:") if "[…]" in quoted else ""


def elide_lists(text: str) -> str:
    """« prévue aux articles 417/7 à 417/22, 417/24 à …, 442quinquies à 442nonies, qui » → « prévue
    aux articles […], qui »: thirty numbers would fill the fragment before the words that matter
    (who the victims are); the numbers stay in the whole text, one click away."""
    def elide(match: re.Match) -> str:
        numbers = [n for n in NUMBER_RE.findall(match.group("list")) if n != "à"]
        if len(numbers) < MIN_ELIDED_NUMBERS:
            return match.group(0)
        return match.group(0)[:match.start("list") - match.start()] + "[…]"

    return ARTICLES_RE.sub(elide, text)


def capped(text: str, max_words: int, at_comma: bool = False) -> str:
    """The first words of a verbatim fragment, « […] » marking the cut (at its last comma within
    the limit when `at_comma`: « Les médecins, …, sages-femmes et toutes autres personnes
    dépositaires […] »)."""
    words = text.split()
    if len(words) <= max_words:
        return text
    head = " ".join(words[:max_words])
    if at_comma and "," in head:
        head = head[:head.rindex(",")]
    return head.rstrip(" ,;:") + " […]"
