"""Corpus units as chunks: long articles split by §, each with its context line and a content
hash (unchanged text is never embedded again)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.corpus.model import Corpus, Unit, unit_label
from assistant.text import ARTICLE_NUMBER, PART_RE, text_hash

MAX_CHUNK_CHARS = 1200
EMBED_CHARS = 600
PARAGRAPH_RE = re.compile(r"(?m)^(?=§\s*\d+(?:er)?\.)")
# "§ 2." or, for the first paragraph, "Art. 137. § 1er." at the start of a piece.
# A run of three or more article numbers ("417/7 à 417/22, 433quater/1 et 442nonies"):
# meaningless to a sentence encoder, and it can fill the whole embedded window (art. 458bis).
NUMBER_RUN_RE = re.compile(rf"{ARTICLE_NUMBER}(?:(?:\s*,\s*|\s+(?:à|et|ou)\s+){ARTICLE_NUMBER}){{2,}}")


@dataclass
class Chunk:
    id: str
    unit_id: str
    document: str
    part: str | None
    context: str
    text: str
    hash: str = ""

    @property
    def for_embedding(self) -> str:
        # Embedding cost grows with length and e5 reads 512 tokens at most; BM25 sees it all.
        text = NUMBER_RUN_RE.sub("(…)", self.text)
        text = text if len(text) <= EMBED_CHARS else text[:EMBED_CHARS].rsplit(" ", 1)[0]
        return f"{self.context}\n{text}"


def chunk_corpus(corpus: Corpus) -> list[Chunk]:
    """Every unit as one or more chunks (long articles split by §), each with its context line."""
    chunks = []
    for unit in corpus.units:
        context = context_line(corpus, unit)
        for n, (part, text) in enumerate(split_unit(unit.plain_text)):
            chunk = Chunk(f"{unit.id}#{n}", unit.id, unit.document, part, context, text)
            chunk.hash = text_hash(chunk.for_embedding)
            chunks.append(chunk)
    return chunks


def context_line(corpus: Corpus, unit: Unit) -> str:
    """« Code pénal, art. 458ter — Chapitre VI. - De quelques autres délits… »: what, where."""
    document = corpus.document_of(unit)
    parts = [unit_label(document, unit)]
    if unit.path:
        parts.append(sentence_case(strip_markers(unit.path[-1])))
    if unit.kind != "article" and document.meta.get("title") not in (None, document.label):
        parts.append(str(document.meta["title"]))
    return " — ".join(parts)


def sentence_case(heading: str) -> str:
    """Justel prints headings in capitals; e5 reads them better (and shorter) in lower case."""
    letters = [c for c in heading if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        return heading[:1] + heading[1:].lower()
    return heading


def strip_markers(text: str) -> str:
    return " ".join(re.sub(r"<[^<>]*>|\[\d+\s?|\]\d+", "", text).split())


def split_unit(text: str) -> list[tuple[str | None, str]]:
    """[(part label, text)]: one piece, or § by §, then paragraph groups, under MAX_CHUNK_CHARS."""
    if len(text) <= MAX_CHUNK_CHARS:
        return [(None, text)]
    pieces = []
    for block in (b.strip() for b in PARAGRAPH_RE.split(text) if b.strip()):
        match = PART_RE.match(block)
        part = f"§ {match.group(1)}" if match else None
        for piece in group_paragraphs(block):
            pieces.append((part, piece))
    return pieces


def group_paragraphs(block: str) -> list[str]:
    if len(block) <= MAX_CHUNK_CHARS:
        return [block]
    groups, current = [], ""
    for paragraph in block.split("\n\n"):
        if current and len(current) + len(paragraph) > MAX_CHUNK_CHARS:
            groups.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    return groups + ([current] if current else [])
