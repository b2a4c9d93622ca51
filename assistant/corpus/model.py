"""The corpus: one Markdown file per legal document → units (articles, sections) with
stable ids, their verbatim text, a plain reading text, history, headings and references.

File format: docs/corpus-format.md. Every problem found while reading (corpus/reader.py) is
kept as a `Problem(file, line, message)` in French, so `corpus check` can list them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assistant.corpus import references
from assistant.corpus.markers import history, plain_text
from assistant.errors import AssistantError


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Unit:
    """One citable unit: an article, a section, or a whole document."""

    id: str
    document: str
    kind: str  # article | section | document
    number: str | None
    title: str
    path: list[str]
    text: str
    line: int
    note: str | None = None
    partial: bool = False
    references: list[str] = field(default_factory=list)

    @property
    def plain_text(self) -> str:
        return plain_text(self.text)

    @property
    def history(self) -> list[dict]:
        return history(self.text)


@dataclass
class Document:
    id: str
    meta: dict
    file: Path
    units: list[Unit] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.meta.get("label") or self.meta.get("title") or self.id

    @property
    def complete(self) -> bool:
        return bool(self.meta.get("complete"))


class CorpusError(AssistantError):
    """Raised when a unit or document asked for does not exist."""


@dataclass
class Corpus:
    documents: dict[str, Document]
    problems: list[Problem]

    @classmethod
    def load(cls, directory: Path) -> "Corpus":
        """Read every `*.md` file of the directory; problems are collected, never raised."""
        from assistant.corpus.reader import read_document  # it builds this module's Units: imported here

        documents, problems = {}, []
        if not directory.is_dir():
            problems.append(Problem(str(directory), 0, "dossier du corpus introuvable"))
            return cls(documents, problems)
        for path in sorted(directory.glob("*.md")):
            document = read_document(path, problems)
            if document is None:
                continue
            if document.id in documents:
                line = document.meta["__lines__"].get("id", 1)
                problems.append(Problem(str(path), line, f"id de document en double : « {document.id} » "
                                        f"(déjà dans {documents[document.id].file.name})"))
                continue
            documents[document.id] = document
        corpus = cls(documents, problems)
        corpus._check_links()
        references.resolve_all(corpus)
        return corpus

    @property
    def units(self) -> list[Unit]:
        return [unit for document in self.documents.values() for unit in document.units]

    def unit(self, unit_id: str) -> Unit:
        """The unit with this id (a document id alone gives its first unit)."""
        if not hasattr(self, "_by_id"):  # built once: answers look units up on every question
            self._by_id = {unit.id: unit for unit in self.units}
        if unit_id in self._by_id:
            return self._by_id[unit_id]
        if unit_id in self.documents and self.documents[unit_id].units:
            return self.documents[unit_id].units[0]
        raise CorpusError(f"aucune unité « {unit_id} » dans le corpus")

    def document_of(self, unit: Unit) -> Document:
        return self.documents[unit.document]

    def _check_links(self) -> None:
        for document in self.documents.values():
            target = document.meta.get("replaced_by")
            if target and target not in self.documents:
                line = document.meta.get("__lines__", {}).get("replaced_by", 1)
                self.problems.append(Problem(str(document.file), line,
                                             f"replaced_by renvoie à un document absent du corpus : « {target} »"))

    def unit_dict(self, unit: Unit) -> dict:
        """A unit as `corpus list --json` shows it."""
        document = self.document_of(unit)
        return {
            "id": unit.id,
            "document": unit.document,
            "kind": unit.kind,
            "number": unit.number,
            "title": unit.title,
            "label": unit_label(document, unit),
            "path": unit.path,
            "text": unit.text,
            "plain_text": unit.plain_text,
            "references": unit.references,
            "history": unit.history,
            "version": document.meta.get("version"),
            "complete": document.complete and not unit.partial,
            "note": unit.note,
        }


def unit_label(document: Document, unit: Unit) -> str:
    """Human label: « Code pénal, art. 458ter », « Question écrite Cassart (2025) — Réponse »."""
    if unit.kind == "article":
        return f"{document.label}, art. {unit.number}"
    if unit.kind == "section":
        return f"{document.label} — {unit.title}"
    return document.label


def describe(corpus: Corpus, unit: Unit) -> str:
    """A unit as a reader sees it: label, place, version notes, the text."""
    document = corpus.document_of(unit)
    meta = document.meta
    lines = [unit_label(document, unit), f"id : {unit.id}"]
    if unit.path:
        lines.append("Place : " + " > ".join(unit.path))
    if meta.get("version"):
        lines.append(f"Version à jour au {meta['version']}")
    if not document.complete or unit.partial:
        lines.append("Texte partiel : " + (unit.note or meta.get("missing") or "voir le document"))
    elif unit.note:
        lines.append(f"Note : {unit.note}")
    if meta.get("in_force"):
        lines.append(f"En vigueur depuis le {meta['in_force']}")
    if meta.get("replaced_by"):
        target = corpus.documents.get(meta["replaced_by"])
        since = f" depuis le {meta['replaced_on']}" if meta.get("replaced_on") else ""
        name = target.label if target else meta["replaced_by"]
        lines.append(f"Remplacé par « {name} »{since} : {meta.get('replaced_note') or ''}".rstrip(" :"))
    changes = unit.history
    if changes:
        lines.append("Modifications : " + "; ".join(
            f"{h['act'] or h['marker']}" + (f" (en vigueur : {h['in_force']})" if h.get("in_force") else "")
            for h in changes[:6]) + (" …" if len(changes) > 6 else ""))
    for source in meta.get("sources") or []:
        if isinstance(source, dict) and source.get("url"):
            lines.append(f"Source : {source['url']}")
    if unit.references:
        lines.append("Renvois : " + ", ".join(unit.references[:20]) + (" …" if len(unit.references) > 20 else ""))
    lines += ["", unit.text]
    return "\n".join(lines)
