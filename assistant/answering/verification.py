"""Check a generated answer against the extracts it was given: citations, support, numbers.

A small local model can drop a legal condition or cite an article it was never shown. Every
sentence is checked against the units it cites; what is not supported is flagged to the
reader, never silently kept.
"""

from __future__ import annotations

import math
import re

from assistant.corpus.references import ARTICLES_RE, parse_list
from assistant.text import ARTICLE_NUMBER, FrenchAnalyzer
from assistant.types import CheckedSentence, Extract, Verification

CITATION_RE = re.compile(r"\[\s*(\d+(?:\s*[,;-]\s*\d+)*)\s*\]")
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«\"(-])|\n+")
ARTICLE_NUMBER_RE = re.compile(
    r"\b(?:art(?:icle)?s?\.?)\s*((?:\d+(?:er)?[a-z]*(?:/\d+)?)(?:\s*(?:,|et|à|ou)\s*\d+(?:er)?[a-z]*(?:/\d+)?)*)",
    re.IGNORECASE,
)
GAP_RE = re.compile(r"(?:les|ces) extraits ne (?:précisent|disent|mentionnent|couvrent|répondent|indiquent)",
                    re.IGNORECASE)
NUMBER_RE = re.compile(r"\d+(?:er)?[a-z]*(?:/\d+)?", re.IGNORECASE)
# The article a unit is: « code-penal-1867:art-458ter » → 458ter (the 1867 is the act's year).
UNIT_ARTICLE_RE = re.compile(rf":art-({ARTICLE_NUMBER})$", re.IGNORECASE)
# A range end split into what comes before its last whole number and that number: « 417/ », « 22 ».
RANGE_END_RE = re.compile(r"(\D*(?:\d+\D+)*?)(\d+)")
MAX_RANGE = 200  # « articles 1 à 2004 » is not read as showing two thousand articles
# Words a sentence may use without any extract saying them (the answer's own scaffolding).
# A yes or no that only the extracts can give: « Oui, cela dépend de l'extrait [2]. », « Non. »,
# « Vous pouvez [1]. » (once its scaffolding is set aside, nothing else is left to check).
YES_NO_RE = re.compile(r"^\W*(oui|non)\b", re.IGNORECASE)
MODAL_RE = re.compile(r"\b(?:pouvez|pouvons|peut|peuvent|devez|devons|doit|doivent)\b", re.IGNORECASE)
SCAFFOLD = ("oui non cela depend peut doit pouvez devez vous votre selon texte textes extrait extraits "
            "article articles prevoit precise indique dit condition conditions attention cas ainsi "
            "egalement toutefois cependant mais donc alors seulement uniquement")


class Verifier:
    """`check(answer text, extracts)`: a sentence is supported when enough of its words (weighted
    by rarity in the corpus: « avocat » counts more than « personne ») come from the units it
    cites (stemmed, accents folded)."""

    def __init__(self, min_support: float = 0.6, texts: list[str] | None = None):
        self.min_support = min_support
        self.analyzer = FrenchAnalyzer()
        self.scaffold = set(self.analyzer(SCAFFOLD))
        self.idf = inverse_frequencies(self.analyzer, texts or [])

    def check(self, answer: str, extracts: list[Extract]) -> Verification:
        known = {e.number: e for e in extracts}
        text, removed = drop_unknown_citations(answer, set(known))
        # A small model can loop on one sentence: each sentence is kept once.
        parts = self._join_bare_answers(list(dict.fromkeys(split_answer(text))))
        checked = [self._sentence(s, known) for s in parts]
        text = " ".join(c.text if c else part for c, part in zip(checked, parts))
        invented = invented_numbers(text, extracts)
        return Verification(text, tuple(s for s in checked if s), tuple(removed), tuple(invented))

    def _sentence(self, sentence: str, known: dict[int, Extract]) -> CheckedSentence | None:
        citations = [n for n in cited_numbers(sentence) if n in known]
        if GAP_RE.match(sentence.strip()):
            return None  # « Les extraits ne précisent pas … »: what the prompt asks for, not a claim
        words = self._words(sentence)
        if not words:
            if not bare_answer(sentence):
                return None  # « Cela dépend. »: nothing to support
            return self._bare_answer(sentence, citations, known)
        if citations:
            support = max(self._overlap(words, set(self.analyzer(known[n].source))) for n in citations)
            return CheckedSentence(sentence.strip(), tuple(citations), support >= self.min_support,
                                   round(support, 3))
        # The model did not cite: the extract that supports the sentence best is named, if it
        # supports it well (a stricter bar than for a citation the model chose itself).
        scored = [(self._overlap(words, set(self.analyzer(e.source))), e.number) for e in known.values()]
        support, best = max(scored, default=(0.0, 0))
        if support >= max(self.min_support, 0.75):
            return CheckedSentence(attach_citation(sentence.strip(), best), (best,), True, round(support, 3), True)
        return CheckedSentence(sentence.strip(), (), False, round(support, 3))

    def _words(self, sentence: str) -> set[str]:
        return set(self.analyzer(CITATION_RE.sub(" ", sentence))) - self.scaffold

    def _bare_answer(self, sentence: str, citations: list[int], known: dict[int, Extract]) -> CheckedSentence:
        """« Oui, cela dépend de l'extrait [2]. »: a yes or no with nothing else to check is
        supported only by an extract that says it (« Oui, … » in a written answer); otherwise it
        is flagged, cited or not: the extracts give conditions, never a plain yes."""
        sentence = sentence.strip()
        answer = YES_NO_RE.match(sentence)
        sources = citations or list(known)
        stating = [n for n in sources if answer and states(known[n].source, answer.group(1))]
        if not stating:
            return CheckedSentence(sentence, tuple(citations), False, 0.0)
        if citations:
            return CheckedSentence(sentence, tuple(citations), True, 1.0)
        return CheckedSentence(attach_citation(sentence, stating[0]), (stating[0],), True, 1.0, True)

    def _join_bare_answers(self, parts: list[str]) -> list[str]:
        """« Oui. Vous pouvez informer le procureur [1]. » is one answer: a bare, uncited « Oui. »
        is checked with the sentence that follows it, which says what the yes means."""
        joined: list[str] = []
        for part in parts:
            previous = joined[-1] if joined else ""
            if previous and bare_answer(previous) and not cited_numbers(previous) and not self._words(previous):
                joined[-1] = f"{previous} {part}"
            else:
                joined.append(part)
        return joined

    def _overlap(self, words: set[str], source: set[str]) -> float:
        unseen = max(self.idf.values(), default=1.0)  # a word the corpus never uses weighs most
        weight = {w: self.idf.get(w, unseen) for w in words}
        return sum(weight[w] for w in words & source) / sum(weight.values())


def bare_answer(sentence: str) -> bool:
    """Whether a sentence answers yes or no (« Oui, … », « Non. », « Vous pouvez. »)."""
    text = CITATION_RE.sub(" ", sentence)
    return bool(YES_NO_RE.match(text) or MODAL_RE.search(text))


def states(source: str, word: str) -> bool:
    """Whether an extract itself answers « Oui » / « Non » (a sentence of it starts so)."""
    return bool(re.search(rf"(?:^|[.!?:;]\s+|[«\"(]\s*)(?:{word})\b(?!-)", source, re.IGNORECASE))


def inverse_frequencies(analyzer, texts: list[str]) -> dict[str, float]:
    """Smoothed idf of every stem over the texts; empty without texts (then all words weigh 1)."""
    counts: dict[str, int] = {}
    for text in texts:
        for stem in set(analyzer(text)):
            counts[stem] = counts.get(stem, 0) + 1
    total = len(texts)
    return {stem: math.log(1 + total / n) for stem, n in counts.items()}


def attach_citation(sentence: str, number: int) -> str:
    """« … la porte. » → « … la porte [2]. »"""
    match = re.search(r"[.!?…]+$", sentence)
    end = match.start() if match else len(sentence)
    return f"{sentence[:end].rstrip()} [{number}]{sentence[end:]}"


def cited_numbers(text: str) -> list[int]:
    numbers = []
    for group in CITATION_RE.findall(text):
        for start, end in re.findall(r"(\d+)(?:\s*-\s*(\d+))?", group):
            numbers += range(int(start), int(end or start) + 1)
    return list(dict.fromkeys(numbers))


def drop_unknown_citations(text: str, known: set[int]) -> tuple[str, list[int]]:
    """Remove references to extracts that were not given; keep the others."""
    removed: list[int] = []

    def keep(match: re.Match) -> str:
        numbers = cited_numbers(match.group(0))
        kept = [n for n in numbers if n in known]
        removed.extend(n for n in numbers if n not in known)
        return f"[{', '.join(map(str, kept))}]" if kept else ""

    cleaned = CITATION_RE.sub(keep, text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned), removed


def split_answer(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END_RE.split(text) if s.strip() and not s.strip().startswith("#")]


def invented_numbers(text: str, extracts: list[Extract]) -> list[str]:
    """Article numbers in the answer that are the number of no article shown: neither an
    extract's own article (`…:art-458ter`) nor an article its text refers to. Any other number
    of an extract (a date, an amount, a § number, the « 1867 » of a unit id) does not vouch for
    « article 1867 »."""
    shown = shown_article_numbers(extracts)
    found = []
    for group in ARTICLE_NUMBER_RE.findall(text):
        for number in NUMBER_RE.findall(group):
            if article_key(number) not in shown and number not in found:
                found.append(number)
    return found


def shown_article_numbers(extracts: list[Extract]) -> set[str]:
    """Comparison keys of the article numbers the extracts show."""
    shown = set()
    for extract in extracts:
        own = UNIT_ARTICLE_RE.search(extract.unit_id)
        if own:
            shown.add(article_key(own.group(1)))
        for chunk in (extract.label, extract.text, extract.source):
            for match in ARTICLES_RE.finditer(chunk):
                for first, last in parse_list(match.group("list")):
                    shown.update(article_key(n) for n in number_range(first, last))
    return shown


def number_range(first: str, last: str | None) -> list[str]:
    """« 417/7 à 417/22 » → 417/7, 417/8, …, 417/22 (the text shows every article between);
    ends that do not differ by their last whole number only are kept as they are."""
    if last is None:
        return [first]
    start, end = RANGE_END_RE.fullmatch(first), RANGE_END_RE.fullmatch(last)
    if not (start and end and start.group(1) == end.group(1)):
        return [first, last]
    low, high = int(start.group(2)), int(end.group(2))
    if not 0 <= high - low <= MAX_RANGE:
        return [first, last]
    return [f"{start.group(1)}{n}" for n in range(low, high + 1)]


def article_key(number: str) -> str:
    """« 1er » and « 1 » are the same article; case does not matter (« 458Bis »)."""
    return re.sub(r"^(\d+)er$", r"\1", number.lower())
