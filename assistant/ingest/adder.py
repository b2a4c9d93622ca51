"""`assistant corpus add`: an official file → a reviewable corpus file, checked before it is written.

Nothing is written unless the new file passes `corpus check` together with the rest of the
corpus; a document replaced by its complete version keeps its id (and its aliases, label,
replacement notes), and the old file is kept in ASSISTANT_HOME/corpus-backups/.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from assistant.corpus.model import Corpus
from assistant.corpus.reader import DOC_ID_RE, JURISDICTIONS, KINDS, read_document
from assistant.text import fold
from assistant.ingest.formats import TextExtractor
from assistant.ingest.glue import out_of_lexicon
from assistant.files import write_atomically
from assistant.ingest.importer import ImportFailure
from assistant.ingest.official import OfficialTextParser, ParsedText, to_corpus_file

# Kept from the document being replaced unless the command gives a new value.
CARRIED_OVER = ("title", "label", "kind", "jurisdiction", "date", "replaced_by", "replaced_on", "replaced_note",
                "aliases", "description")
NEW_DOCUMENT_FIELDS = {"title": "--title", "kind": "--kind", "jurisdiction": "--jurisdiction", "date": "--date"}
# What trainers type for a level of power, folded (no case, no accents) → the corpus's value.
JURISDICTION_ALIASES = {
    "wallonie": "Région wallonne", "region wallonne": "Région wallonne", "rw": "Région wallonne",
    "federal": "fédéral", "etat federal": "fédéral", "belgique": "fédéral",
    "communaute francaise": "Communauté française", "fwb": "Communauté française",
    "federation wallonie-bruxelles": "Communauté française",
    "communaute flamande": "Communauté flamande", "flandre": "Communauté flamande",
}


@dataclass
class DocumentInfo:
    """What the command line says about the document (None: not given)."""

    id: str
    title: str | None = None
    label: str | None = None
    kind: str | None = None
    jurisdiction: str | None = None
    date: str | None = None
    version: str | None = None
    in_force: str | None = None
    sources: list[str] = field(default_factory=list)
    missing: str | None = None  # given: the text is partial, and this is what it lacks


@dataclass
class AddResult:
    target: Path
    parsed: ParsedText
    format: str
    pages: int | None
    replaced: bool
    backup: Path | None
    unknown_words: list[str]

    def summary(self) -> str:
        counts = {"articles": "article(s)", "sections": "section(s)", "document": "bloc (document sans articles)"}
        units = len(self.parsed.units)
        headings = len(self.parsed.items) - units
        what = f"{units} {counts[self.parsed.shape]}" + (f", {headings} intitulé(s)" if headings else "")
        pages = f", {self.pages} page(s)" if self.pages else ""
        lines = [f"{self.target} {'remplacé' if self.replaced else 'écrit'} ({self.format}{pages}) : {what}."]
        if self.backup:
            lines.append(f"Ancienne version gardée dans {self.backup}.")
        if self.unknown_words:
            sample = ", ".join(self.unknown_words[:8])
            lines.append(f"À relire : {len(self.unknown_words)} mot(s) hors lexique (p. ex. {sample}).")
        lines.append("Relisez le fichier, puis publiez avec « assistant corpus update » (l'index en service ne "
                     "change qu'après l'évaluation).")
        return "\n".join(lines)


class CorpusAdder:
    """`add(path, info, replace)` → AddResult; ImportFailure (French) leaves the corpus untouched."""

    def __init__(self, corpus_dir: Path, backup_dir: Path, today: datetime.date | None = None):
        self.corpus_dir, self.backup_dir = corpus_dir, backup_dir
        self.today = today or datetime.datetime.now(datetime.timezone.utc).date()
        self.extractor, self.parser = TextExtractor(), OfficialTextParser()

    def add(self, path: Path, info: DocumentInfo, replace: bool = False) -> AddResult:
        check_id(info.id)
        target = self.corpus_dir / f"{info.id}.md"
        extracted = self.extractor.extract(path)
        previous = self._previous(info.id, target, replace)
        meta = document_meta(info, previous)
        parsed = self.parser.parse(extracted.text, meta.get("kind"), extracted.headings)
        eli = parsed.header.get("eli")
        if eli and eli not in {source.get("url") for source in meta["sources"] if isinstance(source, dict)}:
            meta["sources"].append({"url": eli, "note": "ELI Justel, lu dans le fichier"})
        meta["provenance"] = {"file": path.name, "sha256": extracted.sha256, "format": extracted.format,
                              **({"pages": extracted.pages} if extracted.pages else {}),
                              "added": self.today.isoformat(), "command": "assistant corpus add"}
        content = to_corpus_file(parsed, meta)
        self._check(info.id, content)
        backup = self._backup(target) if previous is not None else None
        write_atomically(target, content)
        words = sorted(set(out_of_lexicon("\n".join(unit.text for unit in parsed.units))))
        return AddResult(target, parsed, extracted.format, extracted.pages, previous is not None, backup, words)

    def _previous(self, doc_id: str, target: Path, replace: bool) -> dict | None:
        """The header of the document this one replaces; refuses a silent collision."""
        if not target.exists():
            return None
        if not replace:
            raise ImportFailure(f"un document « {doc_id} » existe déjà ({target}) : ajoutez --replace pour le "
                                "remplacer par ce fichier (son id et ses citations sont conservés), ou choisissez "
                                "un autre --id.")
        document = read_document(target, [])
        return {k: v for k, v in document.meta.items() if k != "__lines__"} if document else {}

    def _check(self, doc_id: str, content: str) -> None:
        """The new file, with the rest of the corpus, must pass `corpus check`."""
        with tempfile.TemporaryDirectory(prefix="corpus-add-") as folder:
            staged = Path(folder)
            for path in self.corpus_dir.glob("*.md"):
                if path.name != f"{doc_id}.md":
                    shutil.copy(path, staged / path.name)
            (staged / f"{doc_id}.md").write_text(content, encoding="utf-8")
            problems = Corpus.load(staged).problems
        if problems:
            shown = "\n".join(f"  {p.file.replace(folder, str(self.corpus_dir))}:{p.line}: {p.message}"
                              for p in problems[:15])
            raise ImportFailure(f"le fichier produit ne passe pas « corpus check » ({len(problems)} problème(s)) ; "
                                f"rien n'a été écrit :\n{shown}")

    def _backup(self, target: Path) -> Path:
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = self.backup_dir / f"{target.stem}.{stamp}.md"
        shutil.copy2(target, backup)
        return backup


def check_id(doc_id: str) -> None:
    if not DOC_ID_RE.match(doc_id or ""):
        raise ImportFailure(f"id invalide « {doc_id} » : minuscules, chiffres et tirets seulement "
                            "(p. ex. « circulaire-2022-06-02 »).")


def canonical(value: str, allowed: set[str], aliases: dict[str, str]) -> str:
    """The allowed spelling of `value` whatever its case and accents ("decret" → "décret"); else unchanged."""
    known = {fold(name): name for name in allowed} | aliases
    return known.get(fold(str(value)), value)


def document_meta(info: DocumentInfo, previous: dict | None) -> dict:
    """The header fields, in the order of docs/corpus-format.md."""
    given = {"title": info.title, "label": info.label, "kind": info.kind, "jurisdiction": info.jurisdiction,
             "date": info.date}
    base = {key: previous.get(key) for key in CARRIED_OVER if previous and previous.get(key) is not None}
    values = {**base, **{k: v for k, v in given.items() if v}}
    lacking = [flag for key, flag in NEW_DOCUMENT_FIELDS.items() if not values.get(key)]
    if lacking:
        raise ImportFailure(f"nouveau document « {info.id} » : indiquez aussi {', '.join(lacking)} "
                            "(voir « assistant corpus add --help »).")
    values["kind"] = canonical(values["kind"], KINDS, {})
    values["jurisdiction"] = canonical(values["jurisdiction"], JURISDICTIONS, JURISDICTION_ALIASES)
    if values["kind"] not in KINDS:
        raise ImportFailure(f"nature inconnue « {values['kind']} » (admises : {', '.join(sorted(KINDS))}).")
    meta = {"id": info.id, "title": values["title"], "label": values.get("label") or values["title"],
            "kind": values["kind"], "jurisdiction": values["jurisdiction"], "date": str(values["date"])}
    if info.version:
        meta["version"] = info.version
    if info.in_force:
        meta["in_force"] = info.in_force
    old_sources = (previous or {}).get("sources") or []
    meta["sources"] = [{"url": url} for url in info.sources] or list(old_sources)
    meta["complete"] = info.missing is None
    meta["missing"] = info.missing
    for key in ("replaced_by", "replaced_on", "replaced_note", "aliases", "description"):
        if key in values:
            meta[key] = values[key]
    return meta
