"""What the chat UI shows, as Markdown built from the library's objects (no Chainlit here).

The Chainlit app (`assistant/app.py`) only sends these texts; everything a reader sees is
decided and tested here: the verbatim passages with their citations, the unit shown in the
side panel, the model's draft, the corpus listing, the starters file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

import yaml

from assistant.answering.extractive import DRAFT_TITLE, split_sentences
from assistant.config import REPO_ROOT
from assistant.corpus.model import Corpus, CorpusError, Document, Unit, unit_label

MODE_LABELS = {"generative": "rédigée par le modèle local", "extractive": "extraits seuls"}
CORPUS_COMMAND = "Textes du corpus"
STARTERS_FILE = REPO_ROOT / "workshop" / "starters.yaml"
UNIT_ROUTE = "/assistant/unit"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
MARKDOWN_SPECIAL_RE = re.compile(r"([\\`*_{}\[\]<>#|~])")
LINE_START_RE = re.compile(r"^(\s*)(\d+)([.)])(\s)|^(\s*)([-+>])(\s)", re.M)


# -- Markdown helpers ----------------------------------------------------------------------

def escape_markdown(text: str) -> str:
    """Verbatim text shown as typed: no emphasis, list or heading is made of a legal text."""
    text = MARKDOWN_SPECIAL_RE.sub(r"\\\1", text)
    return LINE_START_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}\\{m.group(3)}{m.group(4)}" if m.group(2)
                             else f"{m.group(5)}\\{m.group(6)}{m.group(7)}", text)


def keep_line_breaks(text: str) -> str:
    """Single newlines of the law's enumerations (1°, 2°…) stay line breaks in Markdown."""
    return re.sub(r"(?<!\n)\n(?!\n)", "  \n", text)


def french_date(value) -> str:
    """« 2024-05-28 » → « 28 mai 2024 »; anything else as it is."""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


# -- citations ------------------------------------------------------------------------------

@dataclass
class Citation:
    """A cited unit: its label is the name of the clickable element that opens it."""

    unit_id: str
    label: str
    sentences: list[int] = field(default_factory=list)  # indices in split_sentences(unit.plain_text)

    @property
    def url(self) -> str:
        """Where the side panel reads the unit (served by the app, see `unit_markdown`)."""
        marks = ",".join(map(str, self.sentences))
        return f"{UNIT_ROUTE}/{quote(self.unit_id, safe='')}" + (f"?passages={marks}" if marks else "")

    def to_dict(self) -> dict:
        return {"unit_id": self.unit_id, "label": self.label, "sentences": self.sentences}

    @classmethod
    def from_dict(cls, data: dict) -> "Citation":
        return cls(data["unit_id"], data["label"], list(data.get("sentences") or []))


def citations(reply) -> list[Citation]:
    """One citation per unit quoted (in order), with the sentences the answer quotes from it."""
    corpus, found = reply.corpus, {}
    for quote_ in reply.answer.quotes:
        unit = corpus.unit(quote_.unit_id)
        citation = found.setdefault(unit.id, Citation(unit.id, unit_label(corpus.document_of(unit), unit)))
        sentences = [text for _, text in split_sentences(unit.plain_text)]
        if quote_.text in sentences and sentences.index(quote_.text) not in citation.sentences:
            citation.sentences.append(sentences.index(quote_.text))
    for unit_id in reply.answer.citations:  # the draft may cite a unit no quote came from
        if unit_id not in found:
            unit = corpus.unit(unit_id)
            found[unit_id] = Citation(unit_id, unit_label(corpus.document_of(unit), unit))
    return list(found.values())


# -- the answer ------------------------------------------------------------------------------

def rewritten_line(reply) -> str:
    """The follow-up as the assistant understood it, when it differs from what was typed."""
    if reply.standalone.strip() == reply.question.strip():
        return ""
    return f"*Question comprise : {escape_markdown(reply.standalone)}*"


def passages_markdown(reply) -> str:
    """The first message: verbatim passages, each followed by its (clickable) citation."""
    answer = reply.answer
    head = [line for line in [rewritten_line(reply)] if line]
    if answer.abstained:
        return "\n\n".join(head + [escape_markdown(answer.message)])
    lines = head + ["**Extraits des textes (cités mot pour mot)**"]
    for quote_ in answer.quotes:
        lines.append(f"> « {escape_markdown(quote_.text)} »  \n> — {quote_.label}")
    if answer.notes:
        lines.append("**À savoir**\n" + "\n".join(f"- {escape_markdown(note)}" for note in answer.notes))
    lines.append("*Cliquez sur une référence pour lire l'article entier. Ceci n'est pas un avis juridique.*")
    return "\n\n".join(lines)


def draft_heading() -> str:
    return f"**{DRAFT_TITLE}**\n\n"


def draft_markdown(draft) -> str:
    """The model's text once verified: unknown citations removed, its sources, warnings."""
    if draft.failure:
        return f"{draft_heading()}*{escape_markdown(draft.failure)}*"
    verification = draft.verification
    text = verification.text if verification else draft.text
    lines = [draft_heading().strip(), escape_markdown(text)]
    cited = set(verification.cited_units) if verification else set()
    sources = [f"\\[{e.number}\\] {e.label}" for e in draft.extracts if e.number in cited]
    if sources:
        lines.append("Sources du brouillon :  \n" + "  \n".join(sources))
    for warning in verification.warnings() if verification else []:
        lines.append(f"⚠ {escape_markdown(warning)}")
    return "\n\n".join(lines)


# -- the side panel: one unit in full ---------------------------------------------------------

def unit_markdown(corpus: Corpus, unit_id: str, highlighted: list[int] | None = None) -> str:
    """The whole unit: place, version, official link, warnings, then the verbatim text with the
    quoted sentences highlighted (bold italics, coloured by the app's stylesheet)."""
    try:
        unit = corpus.unit(unit_id)
    except CorpusError:
        return f"Le texte « {escape_markdown(unit_id)} » n'est pas dans le corpus."
    document = corpus.document_of(unit)
    lines = []  # the label is the panel's title
    if unit.path:
        lines.append("*" + " › ".join(escape_markdown(heading) for heading in unit.path) + "*")
    lines.append(version_line(document))
    lines += [f"> ⚠ {escape_markdown(warning)}" for warning in unit_warnings(corpus, document, unit)]
    lines += source_lines(document)
    lines += ["---", highlighted_text(unit, highlighted or [])]
    if highlighted:
        lines.append("*Les passages en surbrillance sont ceux que cite la réponse.*")
    return "\n\n".join(lines)


def version_line(document: Document) -> str:
    meta = document.meta
    if meta.get("version"):
        return f"Version à jour au {french_date(meta['version'])}."
    if meta.get("date"):
        return f"Version à jour au : non précisée (texte du {french_date(meta['date'])})."
    return "Version à jour au : non précisée."


def unit_warnings(corpus: Corpus, document: Document, unit: Unit) -> list[str]:
    """Partial and replaced texts: what a reader must know before relying on the unit."""
    meta, warnings = document.meta, []
    if not document.complete or unit.partial:
        warnings.append("Texte partiel : " + (unit.note or meta.get("missing") or "voir le document") + ".")
    elif unit.note:
        warnings.append(f"Note : {unit.note}")
    if meta.get("replaced_by"):
        target = corpus.documents.get(meta["replaced_by"])
        since = f" depuis le {french_date(meta['replaced_on'])}" if meta.get("replaced_on") else ""
        name = target.label if target else meta["replaced_by"]
        warnings.append(f"Texte remplacé par « {name} »{since}. {meta.get('replaced_note') or ''}".strip())
    return warnings


def source_lines(document: Document) -> list[str]:
    urls = [s["url"] for s in document.meta.get("sources") or [] if isinstance(s, dict) and s.get("url")]
    if not urls:
        return ["Lien officiel : aucun dans le corpus."]
    lines = [f"Lien officiel : {link(urls[0])}"]
    if urls[1:]:
        lines.append("Autres sources : " + " · ".join(link(u) for u in urls[1:]))
    return lines


def link(url: str) -> str:
    """A Markdown link named after its site (full addresses are long and unreadable)."""
    site = re.sub(r"^https?://(www\.)?", "", url).split("/")[0]
    return f"[{escape_markdown(site)}]({url.replace(')', '%29').replace(' ', '%20')})"


def highlighted_text(unit: Unit, highlighted: list[int]) -> str:
    """The verbatim text, paragraph by paragraph, with the chosen sentences highlighted."""
    text = unit.plain_text
    spans = sorted(span for i, (_, sentence) in enumerate(split_sentences(text))
                   if i in highlighted and (span := locate(sentence, text)))
    out, last = [], 0
    for start, end in spans:
        if start < last:
            continue
        out += [escape_markdown(text[last:start]), emphasised(escape_markdown(text[start:end]))]
        last = end
    out.append(escape_markdown(text[last:]))
    return keep_line_breaks("".join(out))


def locate(sentence: str, text: str) -> tuple[int, int] | None:
    """Where a whitespace-normalised sentence sits in the original text."""
    pattern = r"\s+".join(re.escape(word) for word in sentence.split())
    match = re.search(pattern, text)
    return match.span() if match else None


def emphasised(text: str) -> str:
    """Bold italics on each paragraph (Markdown emphasis cannot cross a blank line)."""
    return "\n\n".join(f"***{part.strip()}***" if part.strip() else part for part in text.split("\n\n"))


# -- the corpus listing ---------------------------------------------------------------------

def corpus_listing_markdown(corpus: Corpus) -> str:
    """Every document with its completeness and version (« Textes du corpus »)."""
    rows = ["| Texte | Complet ? | Version à jour au | À savoir |", "|---|---|---|---|"]
    for document in sorted(corpus.documents.values(), key=lambda d: d.label.lower()):
        meta = document.meta
        complete = "oui" if document.complete else "**partiel**"
        version = french_date(meta["version"]) if meta.get("version") else "non précisée"
        remarks = []
        if not document.complete and meta.get("missing"):
            remarks.append("manque : " + shorten(meta["missing"], 140))
        if meta.get("replaced_by"):
            target = corpus.documents.get(meta["replaced_by"])
            remarks.append(f"remplacé par « {target.label if target else meta['replaced_by']} »"
                           + (f" depuis le {french_date(meta['replaced_on'])}" if meta.get("replaced_on") else ""))
        remarks.append(f"{len(document.units)} unité(s)")
        cells = [escape_markdown(document.label), complete, version, escape_markdown(" ; ".join(remarks))]
        rows.append("| " + " | ".join(cells) + " |")
    return (f"**Textes du corpus** ({len(corpus.documents)} documents, {len(corpus.units)} unités)\n\n"
            + "\n".join(rows)
            + "\n\nL'assistant ne répond qu'à partir de ces textes. Un texte partiel peut ne pas contenir "
              "la disposition utile : vérifiez sur le lien officiel.")


def shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def is_corpus_command(text: str) -> bool:
    return " ".join(text.lower().split()).strip(" /!?.") in {CORPUS_COMMAND.lower(), "textes", "corpus"}


# -- starters (one plain file that trainers edit) ---------------------------------------------

@dataclass(frozen=True)
class Starter:
    title: str
    question: str


def starters_file() -> Path:
    """`ASSISTANT_STARTERS`, else workshop/starters.yaml."""
    value = os.environ.get("ASSISTANT_STARTERS", "").strip()
    return Path(value).expanduser() if value else STARTERS_FILE


def load_starters(path: Path | None = None) -> tuple[list[Starter], list[str]]:
    """(starters, problems in French). A broken entry is skipped, never fatal: the chat starts."""
    path = path or starters_file()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError:
        return [], [f"{path} : fichier des questions de départ introuvable"]
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", -1) + 1
        return [], [f"{path}:{line} : YAML invalide"]
    if not isinstance(raw, list):
        return [], [f"{path} : le fichier doit être une liste d'entrées « titre » + « question »"]
    starters, problems = [], []
    for number, entry in enumerate(raw, start=1):
        title = str(entry.get("titre") or "").strip() if isinstance(entry, dict) else ""
        question = str(entry.get("question") or "").strip() if isinstance(entry, dict) else ""
        if not title or not question:
            problems.append(f"{path} : entrée n° {number} ignorée (il faut « titre » et « question »)")
            continue
        starters.append(Starter(title, question))
    return starters, problems


def waiting_text(position: int) -> str:
    """Shown under the draft title while another participant's answer is being written."""
    ahead = "une autre réponse" if position <= 1 else f"{position} autres réponses"
    return f"*En attente… le modèle local rédige {ahead} avant la vôtre (une à la fois).*"


LOADING_TEXT = "*Chargement des textes et des modèles (quelques secondes, la première fois seulement)…*"
EMPTY_EXPORT_TEXT = "Rien à exporter pour l'instant : posez d'abord une question."
ERROR_TEXT = ("Une erreur inattendue est survenue et la réponse n'a pas pu être affichée. Réessayez ; si "
              "cela se reproduit, signalez-le à la personne qui gère l'assistant.")
STOPPED_TEXT = "Réponse interrompue."
