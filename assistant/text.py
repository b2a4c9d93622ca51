"""French text helpers shared by every layer: accent folding, the BM25 analyzer, article numbers,
paragraph labels, shortening, dates, sentence splitting. Pure functions; no storage, no models."""

from __future__ import annotations

import hashlib
import re
from datetime import date
import unicodedata

# An article number as Belgian texts write it: 458, 1er, 458ter, 417/7, 433quater/1.
ARTICLE_NUMBER = r"\d+(?:er)?(?:[a-z]+)?(?:/\d+(?:[a-z]+)?)*"
# "§ 2." or, for the first paragraph, "Art. 137. § 1er." at the start of a piece.
PART_RE = re.compile(r"^(?:Art(?:icle)?\.?\s*[\w/]+\.\s*(?:\[\d+\s*)?)?§\s*(\d+(?:er)?)")


def fold(text: str) -> str:
    """Lower case, accents off, typographic apostrophe as ', runs of spaces as one:
    « L’Intégrité  » → « l'integrite ». The one comparison key for names, words and questions."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("’", "'"))
    return " ".join("".join(c for c in decomposed if unicodedata.category(c) != "Mn").split())


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters cut at a word, then « … ». Kept instead of textwrap.shorten,
    which cuts shorter to fit its placeholder: the model's prompts (and the measured drafts)
    were built with this cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


class FrenchAnalyzer:
    """Words for BM25 and overlap scores: folded, French stop words out, Snowball stems."""

    def __init__(self):
        import Stemmer  # PyStemmer: imported here, only the processes that analyse text pay for it
        from bm25s.stopwords import STOPWORDS_FRENCH

        self._stemmer = Stemmer.Stemmer("french")
        self._stopwords = set(STOPWORDS_FRENCH) | {fold(w) for w in STOPWORDS_FRENCH}

    def __call__(self, text: str) -> list[str]:
        # Folded first: "integrite" typed without accents must meet "intégrité".
        words = [w for w in re.findall(r"\w+", fold(text)) if w not in self._stopwords]
        return self._stemmer.stemWords(words)


def text_hash(text: str) -> str:
    """Content hash of a text to embed: unchanged text is never embedded again."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def french_date(value) -> str:
    """« 2024-05-28 » → « 28 mai 2024 »; anything else as it is."""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


# Sentence ends, except after abbreviations that Justel puts before numbers ("Art. 458") and after
# initials ("F. Daoût").
SENTENCE_RE = re.compile(r"(?<=[.;:!?])(?<!\bArt\.)(?<!\bart\.)(?<!\bal\.)(?<!\bn°)(?<!\b[A-ZÀ-Ý]\.)\s+(?=[A-ZÀ-Ý0-9§(«\"])|\n\n+")
HEADING_ONLY_RE = re.compile(r"^(?:Art(?:icle)?\.?\s*[\w/]+\.|§\s*\d+(?:er)?\.|\d+°)$")


def split_sentences(text: str) -> list[tuple[str | None, str]]:
    """[(§ label or None, sentence)] in order; the § is the one the sentence falls under."""
    out, part, carry = [], None, ""
    for sentence in (s.strip() for s in SENTENCE_RE.split(text)):
        if not sentence:
            continue
        if len(sentence) < 12 or HEADING_ONLY_RE.match(sentence):  # "Art. 458ter.", "§ 2.": keep with the next
            carry = f"{carry} {sentence}".strip()
            continue
        sentence = f"{carry} {sentence}".strip()
        carry = ""
        match = PART_RE.match(sentence)
        if match:
            part = f"§ {match.group(1)}"
        out.append((part, " ".join(sentence.split())))
    if carry:
        out.append((part, carry))
    return out
