"""Repair words glued together where a PDF line broke (`personnesdépositaires`).

Text extracted from Justel PDFs loses the line break between the last word of a
line and the first word of the next one. We put the space back with a French
lexicon (wordfreq, Zipf frequencies) and a scoring rule: a token is split when
its parts are real, frequent enough words and the split is much likelier than
the token itself.
"""

from __future__ import annotations

import functools
import re

from assistant.text import fold

LETTERS = "a-zA-ZÀ-ÖØ-öø-ÿŒœ"
APOSTROPHES = "'’"
# Latin ordinal adverbs of article numbering (art. 417quinquies); wordfreq lacks some.
NUMBER_SUFFIXES = (
    "bis ter quater quinquies sexies septies octies nonies novies decies undecies "
    "duodecies terdecies quaterdecies quindecies sexdecies septdecies er re e ème "
    "ier ière"
).split()
# Elided words that end before an apostrophe (d', l', qu', lorsqu'…).
ELISIONS = {
    "d", "l", "n", "s", "j", "m", "t", "c",
    "qu", "lorsqu", "puisqu", "jusqu", "quoiqu", "quelqu", "presqu",
}
SINGLE_LETTER_WORDS = {"à", "a", "y", "ô"}
# Prefixes that form one word with what follows (antihormonale, cohabitants).
BOUND_PREFIXES = {
    "anti", "auto", "bio", "co", "dé", "ex", "extra", "hyper", "inter", "intra", "micro",
    "multi", "néo", "pluri", "poly", "pré", "re", "ré", "semi", "super", "télé", "trans",
    "tri", "ultra",
}

_LATIN = "|".join(sorted(NUMBER_SUFFIXES[:17], key=len, reverse=True))
NUMBER_SUFFIX_RE = re.compile(rf"(?:(?:{_LATIN})+|ième|ème|ier|ière|er|re|e)(?![a-zà-ÿ])|(?:{_LATIN})+")
WORD_RE = re.compile(rf"[{LETTERS}]+(?:[{APOSTROPHES}][{LETTERS}]+)*[{APOSTROPHES}]?")
TOKEN_RE = re.compile(rf"[{LETTERS}0-9]+")


@functools.lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, float], dict[str, float]]:
    """Zipf frequency by word, and by accent-folded word (for capitals without accents)."""
    import math

    from wordfreq import get_frequency_dict

    exact: dict[str, float] = {}
    folded: dict[str, float] = {}
    for word, freq in get_frequency_dict("fr", wordlist="large").items():
        zipf = math.log10(freq * 1e9)
        exact[word] = zipf
        key = fold(word)
        if zipf > folded.get(key, 0.0):
            folded[key] = zipf
    for suffix in NUMBER_SUFFIXES:
        exact.setdefault(suffix, 3.0)
        folded.setdefault(suffix, 3.0)
    return exact, folded


def zipf(word: str) -> float:
    """Zipf frequency of a word (0 when unknown); capitals are looked up without accents."""
    exact, folded = _lexicon()
    lower = word.lower()
    if word.isupper() or lower == fold(lower):
        # Capitals drop accents in Justel headings (DELIT for DÉLIT).
        return max(exact.get(lower, 0.0), folded.get(fold(word), 0.0))
    return exact.get(lower, 0.0)


def in_lexicon(word: str) -> bool:
    """True when the word (without elision) is a known French word, a number or a suffix."""
    return zipf(word) > 0


class GlueRepairer:
    """Put back the spaces that PDF extraction dropped at line breaks."""

    def __init__(self, margin: float = 1.0, min_split_score: float = -5.0):
        # margin: how much likelier (log10) a split must be than a known word.
        # min_split_score: floor for splitting an unknown token (sum of log10 p - log10 p).
        self.margin = margin
        self.min_split_score = min_split_score

    def repair(self, text: str) -> str:
        """Return the text with glued words, punctuation and numbers separated."""
        text = self._repair_punctuation(text)
        return WORD_RE.sub(lambda m: self._repair_word(m.group(0)), text)

    # -- punctuation and numbers -------------------------------------------------
    def _repair_punctuation(self, text: str) -> str:
        lower, upper = "a-zà-öø-ÿœ", "A-ZÀ-ÖØ-ÞŒ"
        # "concertation.Toute": a sentence end glued to the next sentence.
        text = re.sub(rf"(?<=[{lower}]{{2}})\.(?=[{upper}][{lower}])", ". ", text)
        # "âge,d'un", "fabrication,l'emmagasinage", "grave,pour".
        text = re.sub(rf"(?<=[{LETTERS}\]\)]),(?=[{LETTERS}])", ", ", text)
        # "526,550bis", "417/56,433quater/1": a list of article numbers, not a decimal.
        text = re.sub(r"(?<=[0-9]),(?=[0-9]+(?:[a-z]+|/[0-9]+))", ", ", text)
        # "bactériologiques(biologiques)".
        text = re.sub(rf"(?<=[{LETTERS}]{{2}})\((?=[{LETTERS}])", " (", text)
        return self._repair_numbers(text)

    def _repair_numbers(self, text: str) -> str:
        def split_number(m: re.Match) -> str:
            head, digits, tail = m.group(1), m.group(2), m.group(3)
            out = digits
            if tail:
                suffix = self._number_suffix(tail)
                rest = tail[len(suffix):]
                if rest and self._is_word(rest):
                    out = digits + suffix + " " + rest
                else:
                    out = digits + tail
            if head and self._is_word(head, strict=True):
                out = head + " " + out
            else:
                out = head + out
            return out

        return re.sub(rf"(?<![{LETTERS}0-9])([{LETTERS}]*)([0-9]+)([{LETTERS}]*)", split_number, text)

    @staticmethod
    def _number_suffix(tail: str) -> str:
        """The numbering suffix at the start of `tail` (`quinquiesdecies`, `bis`, `er`…)."""
        match = NUMBER_SUFFIX_RE.match(tail.lower())
        return tail[: match.end()] if match else ""

    def _is_word(self, part: str, strict: bool = False) -> bool:
        if len(part) == 1:
            return part.lower() in SINGLE_LETTER_WORDS
        # Short strings are common as noise in the lexicon: ask more of them.
        if len(part) <= 3 or strict:
            threshold = 4.0
        elif len(part) <= 5:
            threshold = 2.0
        else:
            threshold = 1.0
        return zipf(part) >= threshold

    # -- letters ------------------------------------------------------------------
    def _repair_word(self, word: str) -> str:
        pieces = re.split(rf"([{APOSTROPHES}])", word)
        # pieces alternate: segment, apostrophe, segment, …
        out = []
        for i in range(0, len(pieces), 2):
            segment = pieces[i]
            elided = i + 1 < len(pieces)  # followed by an apostrophe
            out.append(self._repair_segment(segment, elided))
            if elided:
                out.append(pieces[i + 1])
        return "".join(out)

    def _repair_segment(self, segment: str, elided: bool) -> str:
        if elided:
            return self._split_before_elision(segment)
        if len(segment) < 3:
            return segment
        parts = self.best_split(segment)
        return " ".join(parts)

    def _split_before_elision(self, segment: str) -> str:
        """`mineured'âge` → `mineure d'âge`, `Lorsqu'iln'a` → `Lorsqu'il n'a`."""
        if segment.lower() in ELISIONS or len(segment) < 2:
            return segment
        for elision in sorted(ELISIONS, key=len, reverse=True):
            head = segment[: -len(elision)]
            if segment.lower().endswith(elision) and head and self._is_word(head):
                if not in_lexicon(segment) or zipf(head) - 9 > zipf(segment) + self.margin - 9:
                    return " ".join(self.best_split(head)) + " " + segment[-len(elision):]
        return segment

    def best_split(self, segment: str) -> list[str]:
        """The segment unchanged, or cut into 2–3 words when the lexicon says it was glued."""
        whole = zipf(segment)
        best, best_score = [segment], None
        for parts in self._candidates(segment):
            if not all(self._is_word(p) for p in parts):
                continue
            score = sum(zipf(p) - 9 for p in parts) + 9
            score += 0.5 * sum(self._camel_boundary(a, b) for a, b in zip(parts, parts[1:]))
            if best_score is None or score > best_score:
                best, best_score = parts, score
        if best_score is None:
            return [segment]
        if whole > 0 and best_score < whole + self.margin:
            return [segment]
        if whole == 0 and best_score < self.min_split_score:
            return [segment]
        return best

    @staticmethod
    def _camel_boundary(left: str, right: str) -> int:
        return int(left[-1:].islower() and right[:1].isupper())

    @staticmethod
    def _candidates(segment: str):
        # One PDF line break glues exactly two words: never cut a token in three.
        for i in range(1, len(segment)):
            head = segment[:i]
            if head.lower() not in BOUND_PREFIXES:
                yield [head, segment[i:]]


def out_of_lexicon(text: str) -> list[str]:
    """Word tokens of the text unknown to the lexicon (numbers and article suffixes aside)."""
    unknown = []
    for token in re.findall(rf"[{LETTERS}]+", text):
        if len(token) > 1 and not in_lexicon(token):
            unknown.append(token)
    return unknown
