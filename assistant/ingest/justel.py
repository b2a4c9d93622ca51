"""Justel consolidated texts: split a PDF-to-text extraction into headings and articles,
and read the amendment markers that Justel leaves in the wording.

Justel marks each change in the text itself: `[1 new words ]1` brackets, inline notes
`<L 2017-07-06/24, art. 313, 124; En vigueur : 03-08-2017>` and numbered footnotes
`(1)<L …>` after a `----------` rule. We keep that wording verbatim (`text`); the corpus reads
the markers (assistant/corpus/markers.py: `plain_text`, `history`) in every unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.corpus.markers import iso_date
from assistant.ingest.glue import GlueRepairer
from assistant.text import ARTICLE_NUMBER

PAGE_MARKER_RE = re.compile(r"\s*\[— fin de la page \d+/\d+ du PDF Justel —\]\s*")
ARTICLE_START_RE = re.compile(rf"^(?:Art\.|Article)\s*({ARTICLE_NUMBER})\s*\.", re.M)
HEADING_LEVELS = {"LIVRE": 1, "TITRE": 2, "CHAPITRE": 3, "Section": 4, "Sous-section": 5}
HEADING_RE = re.compile(
    r"^(LIVRE|TITRE|CHAPITRE|Section|Sous-section)\s+[0-9IVXLC]+[a-zèé/0-9]*\b.*$"
    r"|^\(?DISPOSITIONS?\s+[A-ZÉÈ ,]+.*$",
    re.M,
)


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Article:
    number: str
    text: str
    path: list[str] = field(default_factory=list)


@dataclass
class JustelDocument:
    """What the extraction holds: Justel header facts and the body, in order."""

    header: dict
    items: list  # Heading | Article, in document order

    @property
    def articles(self) -> list[Article]:
        return [item for item in self.items if isinstance(item, Article)]


class JustelParser:
    """Parse the text of a Justel PDF export (as extracted) into headings and articles."""

    def __init__(self, repairer: GlueRepairer | None = None):
        self.repairer = repairer or GlueRepairer()

    def parse(self, raw: str) -> JustelDocument:
        """Split a raw Justel extraction; glued words are repaired, page footers dropped."""
        raw = raw.replace("\r\n", "\n")
        header = self._header(raw)
        body = drop_page_markers(self._body(raw))
        items, path = [], {}
        for kind, chunk in self._chunks(body):
            chunk = self._tidy(self.repairer.repair(chunk))
            if kind == "heading":
                level = heading_level(chunk)
                path = {k: v for k, v in path.items() if k < level}
                path[level] = chunk
                items.append(Heading(level, chunk))
            else:
                number = ARTICLE_START_RE.match(chunk).group(1)
                items.append(Article(normalise_number(number), chunk, [path[k] for k in sorted(path)]))
        return JustelDocument(header, items)

    @staticmethod
    def _header(raw: str) -> dict:
        """Facts Justel prints before the table of contents."""
        found = {}
        patterns = {
            "dossier": r"Dossier numéro\s*:\s*([0-9-]+/[0-9]+)",
            "version": r"publiées jusqu'au\s*(\d{2}-\d{2}-\d{4})",
            "publication": r"Publication\s*:\s*Moniteur belge du\s*(\d{2}-\d{2}-\d{4})",
            "in_force": r"Entrée en vigueur\s*:\s*(\d{2}-\d{2}-\d{4})",
            "eli": r"(https?://www\.ejustice\.just\.fgov\.be/eli/[^\s]*?/justel)",
        }
        for key, pattern in patterns.items():
            match = re.search(pattern, raw)
            if match:
                found[key] = iso_date(match.group(1)) if key != "eli" and key != "dossier" else match.group(1)
        return found

    @staticmethod
    def _body(raw: str) -> str:
        """The text after the table of contents (Justel prints `Texte` where it starts)."""
        start = re.search(r"Texte\s*(?=LIVRE|TITRE|CHAPITRE|Art\.|Article)", raw)
        if start:
            return raw[start.end():]
        first = ARTICLE_START_RE.search(raw)
        return raw[first.start():] if first else raw

    @staticmethod
    def _chunks(body: str):
        """Yield ("heading"|"article", text) in order; text before the first unit is dropped."""
        starts = [(m.start(), "heading") for m in HEADING_RE.finditer(body)]
        starts += [(m.start(), "article") for m in ARTICLE_START_RE.finditer(body)]
        starts.sort()
        for (pos, kind), (end, _) in zip(starts, starts[1:] + [(len(body), None)]):
            yield kind, body[pos:end]

    @staticmethod
    def _tidy(chunk: str) -> str:
        lines = [line.strip() for line in chunk.strip().split("\n")]
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text)


def drop_page_markers(text: str) -> str:
    """Remove page footers; a footer that cut a sentence becomes the space it replaced."""

    def replace(match: re.Match) -> str:
        before = match.string[: match.start()].rstrip()
        after = match.string[match.end():].lstrip()
        # A sentence goes on across the page when it resumes in lower case after a word.
        continues = before[-1:].isalpha() or before[-1:] == ","
        return " " if continues and after[:1].islower() else "\n\n"

    return PAGE_MARKER_RE.sub(replace, text)


def heading_level(text: str) -> int:
    """Level of a Justel heading (LIVRE 1, TITRE 2, CHAPITRE 3, Section 4, Sous-section 5)."""
    word = text.split()[0].strip("(")
    if word in HEADING_LEVELS:
        return HEADING_LEVELS[word]
    return 4 if "SECTIONS" in text.upper().split(".")[0] else 3


def normalise_number(number: str) -> str:
    """`1er` → `1`; other numbers (458ter, 417/7) as printed."""
    return re.sub(r"^(\d+)er$", r"\1", number)


def to_corpus_file(document: JustelDocument, meta: dict) -> str:
    """A corpus file (docs/corpus-format.md) for a parsed Justel text."""
    import yaml

    header = dict(meta)
    for key in ("version", "in_force"):
        header.setdefault(key, document.header.get(key))
    front = yaml.safe_dump(header, allow_unicode=True, sort_keys=False, width=100)
    parts = [f"---\n{front}---\n"]
    for item in document.items:
        if isinstance(item, Heading):
            parts.append(f"{'#' * item.level} {' '.join(item.text.split())}\n")
        else:
            parts.append(f"::: art-{item.number}\n{item.text}\n:::\n")
    return "\n".join(parts)
