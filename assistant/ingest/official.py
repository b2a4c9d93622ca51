"""An official text (extracted from PDF, web page, DOCX or plain text) → corpus units.

Three shapes: articles (`Art. 1er.`, `Article 3.`, with Livre / Titre / Chapitre headings:
the Justel parser does the splitting, glue repair and marker handling), numbered sections
(`1.`, `2.1.`: circulars), or one block (a text with neither). Lines broken by the PDF
layout are joined back into paragraphs before splitting.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import yaml

from assistant.ingest.glue import GlueRepairer, in_lexicon
from assistant.ingest.importer import ImportFailure
from assistant.ingest.justel import ARTICLE_START_RE, HEADING_RE, Article, Heading, JustelDocument, JustelParser, drop_page_markers

NUMBERED_RE = re.compile(r"^(?P<number>\d{1,2}(?:\.\d{1,2}){1,3}\.?|\d{1,2}\.)\s+(?P<title>\S.{0,150})$")
# Lines that start a new paragraph whatever precedes them.
STRUCTURE_RE = re.compile(
    rf"^(?:{ARTICLE_START_RE.pattern[1:]}|§\s*\d+|\d+°|[a-z]\)|[-–•▪]\s|\[— fin de la page"
    r"|\d{1,2}(?:\.\d{1,2})*\.?\s+[A-ZÀ-Ý«]|-{5,}$|\(\d+\)\s*<)"
    r"|^(?:LIVRE|TITRE|CHAPITRE|Section|Sous-section)\s+[0-9IVXLC]+")
FOOTNOTE_RULE_RE = re.compile(r"^-{5,}$")  # Justel: numbered amendment notes follow it, one per line
TERMINAL_RE = re.compile(r"[.:;!?][»\"')\]\d]*$")
# Justel web pages go on after the last article with these sections (and navigation links).
TRAILER_LINES = {"fin", "début", "signature", "signatures", "modification(s)", "préambule", "rapport au roi",
                 "travaux parlementaires", "version(s) archivée(s)", "versions archivées", "liste des modifications",
                 "image(s)", "haut de page", "retour"}


@dataclass
class Section:
    key: str  # point-2-1 | preambule
    title: str
    text: str


@dataclass
class ParsedText:
    shape: str  # articles | sections | document
    items: list  # Heading | Article | Section
    header: dict = field(default_factory=dict)  # Justel facts (version, in_force, eli) when printed

    @property
    def units(self) -> list:
        return [item for item in self.items if not isinstance(item, Heading)]


class OfficialTextParser:
    """`parse(text, kind, headings)` → ParsedText; duplicates and empty texts refused."""

    def __init__(self, repairer: GlueRepairer | None = None):
        self.repairer = repairer or GlueRepairer()

    def parse(self, text: str, kind: str | None = None, headings: list[str] | None = None) -> ParsedText:
        hints = set(headings or [])
        text = reflow(drop_page_markers(text), hints)
        numbered = numbered_headings(text.split("\n"), hints)
        has_articles = bool(ARTICLE_START_RE.search(text))
        if len(numbered) >= 2 and (kind == "circulaire" or not has_articles):
            return ParsedText("sections", self._sections(text, numbered, hints))
        styled = styled_headings(text.split("\n"), hints)
        if len(styled) >= 2 and (kind == "circulaire" or not has_articles):
            # Headings styled as such (Word, <h2>) but numbered automatically: no number in the text.
            return ParsedText("sections", self._sections(text, styled, hints, prefix="section-"))
        if has_articles:
            document = JustelParser(self.repairer).parse(cut_trailer(text))
            check_duplicates(document)
            return ParsedText("articles", document.items, document.header)
        return ParsedText("document", [Section("", "", self.repairer.repair(text))])

    def _sections(self, text: str, numbered: dict[int, list[int]], hints: set[str], prefix: str = "point-") -> list:
        lines = text.split("\n")
        starts = sorted(numbered) + [len(lines)]
        items = []
        preamble = "\n".join(lines[:starts[0]]).strip()
        if preamble:
            items.append(Section("preambule", "Préambule", self.repairer.repair(preamble)))
        for position, end in zip(starts, starts[1:]):
            number = numbered[position]
            heading = lines[position].strip()
            body = "\n".join(lines[position + 1:end]).strip()
            has_children = end < len(lines) and len(numbered.get(end, [])) > len(number)
            if has_children:
                items.append(Heading(len(number), heading))
            if body or not has_children:
                items.append(Section(prefix + "-".join(map(str, number)), heading[:120],
                                     self.repairer.repair(f"{heading}\n\n{body}".strip())))
        return items


def reflow(text: str, hints: set[str] = frozenset()) -> str:
    """Join lines that the page layout broke; keep real paragraph starts apart (blank line)."""
    out: list[str] = []
    for line in text.split("\n"):
        if not line:
            if out and out[-1]:
                out.append("")
            continue
        previous = out[-1] if out else ""
        if previous and continues(previous, line, hints):
            out[-1] = join_broken(previous, line)
        else:
            if previous:
                out.append("")
            out.append(line)
    return "\n".join(out).strip()


def continues(previous: str, line: str, hints: set[str]) -> bool:
    """Does `line` go on with the sentence of `previous` (a line broken by the layout)?"""
    if STRUCTURE_RE.match(line) or line in hints or previous in hints or NUMBERED_RE.match(line):
        return False
    if line.lower() in TRAILER_LINES or previous.lower() in TRAILER_LINES or FOOTNOTE_RULE_RE.match(previous):
        return False
    if HEADING_RE.match(previous) or NUMBERED_RE.match(previous) or TERMINAL_RE.search(previous):
        return line[:1].islower()
    return True


def join_broken(previous: str, line: str) -> str:
    """`profes-` + `sionnel` → `professionnel` when that is a word; `Saint-` + `Gilles` keeps its hyphen."""
    match = re.search(r"(\w+)-$", previous)
    if match and line[:1].islower():
        word = re.match(r"\w+", line)
        joined = match.group(1) + (word.group(0) if word else "")
        if in_lexicon(joined.lower()):
            return previous[:-1] + line
        return previous + line
    return f"{previous} {line}"


def numbered_headings(lines: list[str], hints: set[str]) -> dict[int, list[int]]:
    """Line position → section number, for lines numbered in sequence (1., 1.1., 1.2., 2.)."""
    found, counters = {}, []
    for position, line in enumerate(lines):
        match = NUMBERED_RE.match(line.strip())
        if not match or not looks_like_heading(match.group("title")) and line.strip() not in hints:
            continue
        number = [int(part) for part in match.group("number").rstrip(".").split(".")]
        if follows(counters, number) or (line.strip() in hints and number not in found.values()):
            found[position] = number
            counters = number
    return found


def styled_headings(lines: list[str], hints: set[str]) -> dict[int, list[int]]:
    """Line position → order (1, 2, 3…) of the lines the source styled as headings."""
    positions = [n for n, line in enumerate(lines) if line.strip() in hints]
    return {position: [order] for order, position in enumerate(positions, start=1)}


def looks_like_heading(title: str) -> bool:
    return title[:1].isupper() and len(title) <= 150 and not re.search(r"[;,]$", title)


def follows(counters: list[int], number: list[int]) -> bool:
    """1 after nothing, 2 after 1.3, 1.1 after 1, 1.2 after 1.1…"""
    depth = len(number)
    if depth > len(counters) + 1:
        return False
    expected = counters[:depth - 1] + [(counters[depth - 1] + 1) if depth <= len(counters) else 1]
    return number == expected


def cut_trailer(text: str) -> str:
    """Drop what a saved Justel page prints after the last article (signatures, links…)."""
    first = ARTICLE_START_RE.search(text)
    if not first:
        return text
    lines = text[first.start():].split("\n")
    for n, line in enumerate(lines):
        if line.strip().lower() in TRAILER_LINES:
            return text[:first.start()] + "\n".join(lines[:n])
    return text


def check_duplicates(document: JustelDocument) -> None:
    counts = Counter(article.number for article in document.articles)
    doubled = [number for number, count in counts.items() if count > 1]
    if doubled:
        listed = ", ".join(f"art. {n} ({counts[n]} fois)" for n in doubled[:10])
        raise ImportFailure(f"article(s) en double : {listed}. Un texte consolidé peut montrer plusieurs versions "
                            "d'un même article (version future, version abrogée) : ne gardez que la version en vigueur "
                            "dans le fichier, puis relancez.")


def to_corpus_file(parsed: ParsedText, meta: dict) -> str:
    """The corpus file (docs/corpus-format.md) for a parsed text and its header fields."""
    header = dict(meta)
    for key in ("version", "in_force"):
        if parsed.header.get(key) and not header.get(key):
            header[key] = parsed.header[key]
    front = yaml.safe_dump(header, allow_unicode=True, sort_keys=False, width=100)
    parts = [f"---\n{front}---\n"]
    for item in parsed.items:
        if isinstance(item, Heading):
            parts.append(f"{'#' * item.level} {' '.join(item.text.split())}\n")
        elif isinstance(item, Article):
            parts.append(f"::: art-{item.number}\n{item.text}\n:::\n")
        elif item.key:
            parts.append(f"::: {item.key} | {item.title}\n{item.text}\n:::\n")
        else:
            parts.append(f"::: (document)\n{item.text}\n:::\n")
    return "\n".join(parts)
