"""Justel consolidated texts: split a PDF-to-text extraction into headings and articles,
and read the amendment markers that Justel leaves in the wording.

Justel marks each change in the text itself: `[1 new words ]1` brackets, inline notes
`<L 2017-07-06/24, art. 313, 124; En vigueur : 03-08-2017>` and numbered footnotes
`(1)<L …>` after a `----------` rule. We keep that wording verbatim (`text`) and derive a
reading version without markers (`plain_text`) and a structured history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
FOOTNOTE_RULE = "----------"
# `<L 2017-07-06/24, art. 313, 124; En vigueur : 03-08-2017>`, `<Inséré par L …>`, `<AR59 …>`.
# One marker in the Code closes with ")" instead of ">" at the end of its line (art. 22).
INLINE_MARKER_RE = re.compile(
    r"<(?=[^<>]*(?:\bart\.|\bvigueur|\d{2}-\d{2}-\d{4}))(?:[^<>]{3,400}>|[^<>\n]{3,400}\)$)", re.M
)
BRACKET_RE = re.compile(r"\[\d+\s|\]\d+")
FOOTNOTE_RE = re.compile(r"^\((\d+)\)\s*(<[^<>]+>)", re.M)
ACT_RE = re.compile(
    r"(?P<action>Inséré|inséré|Abrogé|abrogé|Rétabli|rétabli|Remplacé|remplacé|Modifié|modifié)?"
    r"(?:\s*par)?\s*(?P<act>(?:L|AR|AL|A\.R\.|Décret|DCF|DRW|ORD)\s?(?:\d+\s)?"
    r"(?:\d{4}-\d{2}-\d{2}/\d+|\d{2}-\d{2}-\d{4}))"
    r"(?:,\s*art\.\s*(?P<article>[^,;>]+))?"
)
IN_FORCE_RE = re.compile(r"En\s?vigueur\s*:\s*(?P<value>[^>(]*?\d{2}-\d{2}-\d{4}|indéterminée[^>]*)")
DATE_RE = re.compile(r"(\d{2})-(\d{2})-(\d{4})")


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


def iso_date(value: str) -> str:
    """`03-08-2017` → `2017-08-03`."""
    match = DATE_RE.search(value)
    return f"{match.group(3)}-{match.group(2)}-{match.group(1)}" if match else value


def plain_text(text: str) -> str:
    """Justel wording without its markers: no `[1 … ]1`, no `<L …>`, no footnotes."""
    body = text.split(FOOTNOTE_RULE)[0]
    body = INLINE_MARKER_RE.sub("", body)
    body = BRACKET_RE.sub("", body)
    body = re.sub(r"[ \t]+", " ", body)
    body = re.sub(r" +([.,;:)\]])", r"\1", body)
    body = re.sub(r"\( +", "(", body)
    lines = [line.strip() for line in body.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def history(text: str) -> list[dict]:
    """Amendments recorded in the wording: amending act, its article, action, in-force date."""
    entries = []
    footnotes = text.split(FOOTNOTE_RULE, 1)[1] if FOOTNOTE_RULE in text else ""
    for ref, marker in FOOTNOTE_RE.findall(footnotes):
        entries.append(parse_marker(marker, ref))
    body = text.split(FOOTNOTE_RULE)[0]
    for match in INLINE_MARKER_RE.finditer(body):
        entries.append(parse_marker(match.group(0), None))
    return entries


def parse_marker(marker: str, ref: str | None) -> dict:
    """One `<L 2017-07-06/24, art. 313, 124; En vigueur : 03-08-2017>` note as a dict."""
    flat = " ".join(marker.split())
    act = ACT_RE.search(flat)
    return {
        "ref": ref,
        "act": act.group("act") if act else None,
        "act_date": act_date(act.group("act")) if act else None,
        "article": act.group("article").strip() if act and act.group("article") else None,
        "action": (act.group("action") or "modifié").lower() if act else "modifié",
        "in_force": in_force_date(flat),
        "marker": flat,
    }


def in_force_date(marker: str) -> str | None:
    """ISO date of "En vigueur : 03-08-2017"; Justel's words when undetermined; else None."""
    match = IN_FORCE_RE.search(marker)
    if not match:
        return None
    value = match.group("value").strip()
    return value if value.startswith("indéterminée") else iso_date(value)


def act_date(act: str) -> str | None:
    """Date of the amending act: `L 2017-07-06/24` → `2017-07-06`, `L 29-10-1919` → `1919-10-29`."""
    match = re.search(r"(\d{4}-\d{2}-\d{2})/", act)
    if match:
        return match.group(1)
    match = DATE_RE.search(act)
    return iso_date(match.group(0)) if match else None


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
