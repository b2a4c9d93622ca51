"""The one place where a Reply becomes what a reader sees: plain text for the CLI, Markdown for
the chat and its side panel, Markdown for the conversation export, the JSON of `assistant ask
--json`. Everything is computed from the frozen Reply (assistant/types.py); nothing here
changes it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator
from urllib.parse import quote

from assistant.corpus.model import Corpus, CorpusError, Document, Unit, unit_label
from assistant.text import french_date, split_sentences
from assistant.types import Answer, Draft, Reply

POINTS_TITLE = "Conditions et exceptions, dans les mots de la loi"
ALSO_TITLE = "Le même texte prévoit aussi"
DRAFT_TITLE = "Brouillon rédigé par le modèle local, à vérifier dans les textes cités ci-dessus :"
UNIT_ROUTE = "/assistant/unit"
MARKDOWN_SPECIAL_RE = re.compile(r"([\\`*_{}\[\]<>#|~])")
LINE_START_RE = re.compile(r"^(\s*)(\d+)([.)])(\s)|^(\s*)([-+>])(\s)", re.M)


# -- plain text (CLI, conversation history, the export's answer) -------------------------------

def passages_text(answer: Answer) -> str:
    """The reply (French): « En bref », the conditions in the law's words, « À savoir »; the
    abstention message instead."""
    if answer.abstained:
        return answer.message
    lines = [f"En bref : {answer.lead}", ""]
    for title, points in point_groups(answer):
        lines += [title + " :"] + [f"- {point_text(p)} ({p.label})" for p in points] + [""]
    knows = [f"{r.label} : {r.text}" for r in answer.related] + list(answer.notes)
    if knows:
        lines += ["À savoir :"] + [f"- {line}" for line in knows]
    return "\n".join(lines).rstrip()


def point_groups(answer: Answer) -> list[tuple[str, list]]:
    """The conditions and exceptions of the lead's rule, then the article's other rules."""
    groups = [(POINTS_TITLE, [p for p in answer.points if p.kind != "also"]),
              (ALSO_TITLE, [p for p in answer.points if p.kind == "also"])]
    return [(title, points) for title, points in groups if points]


def point_text(point) -> str:
    """A condition is a verbatim fragment; another rule is already a filled template."""
    return point.text if point.kind == "also" else f"« {point.text} »"


def draft_text(draft: Draft) -> str:
    """The model's verified text, its sources and warnings (French)."""
    if draft.failure:
        return draft.failure
    verification = draft.verification
    lines = [DRAFT_TITLE, "", verification.text if verification else draft.text, ""]
    cited = set(verification.cited_units) if verification else set()
    lines += [f"[{e.number}] {e.label} ({e.unit_id})" for e in draft.extracts if e.number in cited]
    warnings = verification.warnings() if verification else []
    if warnings:
        lines += [""] + [f"⚠ {w}" for w in warnings]
    return "\n".join(lines).rstrip()


def answer_text(reply: Reply) -> str:
    """The answer as a reader sees it (French): passages first, then the model's draft."""
    if reply.answer.abstained or reply.draft is None:
        return passages_text(reply.answer)
    return f"{passages_text(reply.answer)}\n\n{draft_text(reply.draft)}"


def terminal_chunks(reply: Reply, draft_stream=None) -> Iterator[str]:
    """What `assistant ask` prints, piece by piece: the passages at once, then the draft as the
    model writes it (`draft_stream`: Assistant.stream_draft, whose return value is the reply with
    its draft), then its checked version. Without a stream, the reply's own draft is shown."""
    if reply.standalone != reply.question:
        yield f"Question comprise : {reply.standalone}\n\n"
    yield passages_text(reply.answer) + "\n" + whole_text_lines(reply.answer)
    if draft_stream is None:
        draft_stream = _replayed(reply)
    started, pieces = False, iter(draft_stream)
    while True:
        try:
            piece = next(pieces)
        except StopIteration as done:
            reply = done.value or reply
            break
        if not started:
            yield f"\n{DRAFT_TITLE}\n\n"
            started = True
        yield piece
    draft = reply.draft
    if draft is None:
        return
    if draft.failure:
        yield (f"\n\n{draft.failure}" if started else f"\n{draft.failure}") + "\n"
        return
    # Then the checked version: citations to unknown extracts removed, sources, warnings.
    yield f"\n\nVersion vérifiée :\n{draft_text(draft).split(chr(10), 2)[-1].strip()}\n"


def _replayed(reply: Reply):
    if reply.draft is not None and reply.draft.text:
        yield reply.draft.text
    return reply


def whole_text_lines(answer: Answer) -> str:
    """In the terminal the whole article is one command away (the chat's side panel)."""
    if answer.abstained:
        return ""
    return "\n" + "".join(f"Texte entier : assistant corpus show {unit_id}\n" for unit_id in answer.citations)


def terminal_text(reply: Reply) -> str:
    return "".join(terminal_chunks(reply))


# -- JSON (`assistant ask --json`) ---------------------------------------------------------------

def reply_json(reply: Reply) -> dict:
    answer = reply.answer
    units = [{"id": h.unit_id, "score": round(h.score, 5), "text": reply.corpus.unit(h.unit_id).plain_text}
             for h in reply.retrieval.hits] if not answer.abstained else []
    out = {"question": reply.question, "answer": answer_text(reply), "abstained": answer.abstained,
           "citations": reply.citations, "units": units, "notes": list(answer.notes)}
    # The reply's parts, as the chat shows them: lead, conditions (verbatim), « À savoir » (empty
    # for an abstention: the keys are the same for every reply).
    out.update(lead=answer.lead, kind=answer.kind,
               conditions=[{"id": p.unit_id, "label": p.label, "text": p.text, "kind": p.kind} for p in answer.points],
               related=[{"id": r.unit_id, "label": r.label, "text": r.text} for r in answer.related])
    if reply.standalone != reply.question:
        out["standalone_question"] = reply.standalone
    draft = reply.draft
    if draft is not None:
        verification = draft.verification
        out["draft"] = {"text": verification.text if verification else draft.text, "failure": draft.failure,
                        "citations": draft.citations,
                        "warnings": verification.warnings() if verification else [],
                        "first_token_ms": round(draft.first_token_ms), "total_ms": round(draft.total_ms)}
    return out


# -- Markdown helpers --------------------------------------------------------------------------

def escape_markdown(text: str) -> str:
    """Verbatim text shown as typed: no emphasis, list or heading is made of a legal text."""
    text = MARKDOWN_SPECIAL_RE.sub(r"\\\1", text)
    return LINE_START_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}\\{m.group(3)}{m.group(4)}" if m.group(2)
                             else f"{m.group(5)}\\{m.group(6)}{m.group(7)}", text)


def keep_line_breaks(text: str) -> str:
    """Single newlines of the law's enumerations (1°, 2°…) stay line breaks in Markdown."""
    return re.sub(r"(?<!\n)\n(?!\n)", "  \n", text)


# -- the chat: citations, passages, draft ------------------------------------------------------

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


def citations(reply: Reply) -> list[Citation]:
    """One citation per unit quoted (in order), with the sentences the answer quotes from it."""
    corpus, found = reply.corpus, {}
    for quote_ in reply.answer.quotes:
        unit = corpus.unit(quote_.unit_id)
        citation = found.setdefault(unit.id, Citation(unit.id, unit_label(corpus.document_of(unit), unit)))
        sentences = [text for _, text in split_sentences(unit.plain_text)]
        if quote_.text in sentences and sentences.index(quote_.text) not in citation.sentences:
            citation.sentences.append(sentences.index(quote_.text))
    for unit_id in reply.citations:  # the draft may cite a unit no quote came from
        if unit_id not in found:
            unit = corpus.unit(unit_id)
            found[unit_id] = Citation(unit_id, unit_label(corpus.document_of(unit), unit))
    return list(found.values())


def rewritten_line(reply: Reply) -> str:
    """The follow-up as the assistant understood it, when it differs from what was typed."""
    if reply.standalone.strip() == reply.question.strip():
        return ""
    return f"*Question comprise : {escape_markdown(reply.standalone)}*"


def passages_markdown(reply: Reply) -> str:
    """The reply in the chat: the lead in bold at the top, the conditions as a list of verbatim
    fragments, « À savoir »; the cited units are the pills under it (« Voir le texte »)."""
    answer = reply.answer
    head = [line for line in [rewritten_line(reply)] if line]
    if answer.abstained:
        return "\n\n".join(head + [escape_markdown(answer.message)])
    lines = head + [f"**En bref — {escape_markdown(answer.lead)}**"]
    for title, points in point_groups(answer):
        lines.append(f"{title} :\n" + "\n".join(
            f"- {escape_markdown(point_text(p))} — *{escape_markdown(p.label)}*" for p in points))
    knows = [f"**{escape_markdown(r.label)}** : {escape_markdown(r.text)}" for r in answer.related]
    knows += [escape_markdown(note) for note in answer.notes]
    if knows:
        lines.append("**À savoir**\n" + "\n".join(f"- {line}" for line in knows))
    lines.append("*Voir le texte : cliquez sur une référence pour lire l'article entier. "
                 "Ceci n'est pas un avis juridique.*")
    return "\n\n".join(lines)


def draft_heading() -> str:
    return f"**{DRAFT_TITLE}**\n\n"


def draft_markdown(draft: Draft | None) -> str:
    """The model's text once verified: unknown citations removed, its sources, warnings."""
    if draft is None:
        return draft_heading()
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


# -- the side panel: one unit in full ----------------------------------------------------------

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
    """Partial and replaced texts: what a reader must know before relying on the unit. A unit
    that says what it lacks gives its own partial-text line instead of the document's."""
    shared = document_warnings(corpus, document)
    if not document.complete or unit.partial:
        own = [partial_warning(unit.note or document.meta.get("missing"))]
        shared = shared[0 if document.complete else 1:]  # the document's partial line, replaced
    else:
        own = [f"Note : {unit.note}"] if unit.note else []
    return own + shared


def document_warnings(corpus: Corpus, document: Document) -> list[str]:
    """The warnings that hold for every unit of the document (partial text, replaced text)."""
    meta, warnings = document.meta, []
    if not document.complete:
        warnings.append(partial_warning(meta.get("missing")))
    if meta.get("replaced_by"):
        target = corpus.documents.get(meta["replaced_by"])
        since = f" depuis le {french_date(meta['replaced_on'])}" if meta.get("replaced_on") else ""
        name = target.label if target else meta["replaced_by"]
        warnings.append(f"Texte remplacé par « {name} »{since}. {meta.get('replaced_note') or ''}".strip())
    return warnings


def partial_warning(what: str | None) -> str:
    return "Texte partiel : " + (what or "voir le document").rstrip(".") + "."


# Only an official publisher is « officiel » (Justel / Moniteur belge, Wallex, Gallilex, the
# parliaments, the courts' own sites); any other address is a copy consulted, and says so.
OFFICIAL_HOSTS = ("ejustice.just.fgov.be", "wallex.wallonie.be", "gallilex.cfwb.be", "parlement-wallonie.be",
                  "pfwb.be", "lachambre.be", "dekamer.be", "senate.be", "const-court.be", "juportal.be")


def source_urls(document: Document) -> list[str]:
    return [s["url"] for s in document.meta.get("sources") or [] if isinstance(s, dict) and s.get("url")]


def is_official(url: str) -> bool:
    host = re.sub(r"^https?://", "", url).split("/")[0].lower()
    return any(host == name or host.endswith("." + name) for name in OFFICIAL_HOSTS)


def official_urls(document: Document) -> list[str]:
    return [url for url in source_urls(document) if is_official(url)]


def consulted_urls(document: Document) -> list[str]:
    return [url for url in source_urls(document) if not is_official(url)]


def source_lines(document: Document) -> list[str]:
    official, consulted = official_urls(document), consulted_urls(document)
    lines = [f"Lien officiel : {link(official[0])}" if official else "Lien officiel : aucun dans le corpus."]
    if official[1:]:
        lines.append("Autres liens officiels : " + " · ".join(link(u) for u in official[1:]))
    if consulted:
        lines.append("Copie consultée (non officielle) : " + " · ".join(link(u) for u in consulted))
    return lines


def link(url: str) -> str:
    """A Markdown link named after its site (full addresses are long and unreadable)."""
    site = re.sub(r"^https?://(www\.)?", "", url).split("/")[0]
    # Two links to one site (Justel's consolidated text and its PDF) read as the same link twice.
    site += " (PDF)" if url.lower().split("?")[0].endswith(".pdf") else ""
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


# -- the conversation export ---------------------------------------------------------------------
# Exchanges are the plain dicts kept in the chat session (web/export.py `exchange_record`): a
# resumed conversation has only them, so the export is rendered from them, not from Replies.

def conversation_markdown(exchanges: list[dict], corpus: Corpus, when: datetime | None = None) -> str:
    when = when or datetime.now()
    lines = [f"# Conversation avec l'assistant « secret professionnel » — {french_date(when.date())}, "
             f"{when:%H:%M}", "",
             "> Réponses tirées des seuls textes du corpus ; les passages entre guillemets sont cités "
             "mot pour mot. Ce document n'est pas un avis juridique : vérifiez les textes sur les liens "
             "officiels ci-dessous.", ""]
    for number, exchange in enumerate(exchanges, start=1):
        lines += exchange_lines(number, exchange)
    lines += sources_markdown(corpus, cited_units(exchanges))
    return "\n".join(lines).rstrip() + "\n"


def exchange_lines(number: int, exchange: dict) -> list[str]:
    # What the user typed stays text in any Markdown viewer: no heading, link or HTML made of it.
    lines = [f"## Question {number}", "", escape_markdown(exchange["question"]), ""]
    if exchange.get("standalone") and exchange["standalone"] != exchange["question"]:
        lines += [f"*Question comprise : {escape_markdown(exchange['standalone'])}*", ""]
    lines += ["### Réponse", "", exchange["passages"], ""]
    if exchange.get("draft"):
        lines += [exchange["draft"], ""]
    return lines


def cited_units(exchanges: list[dict]) -> list[str]:
    return list(dict.fromkeys(unit_id for exchange in exchanges for unit_id in exchange.get("citations") or []))


def sources_markdown(corpus: Corpus, unit_ids: list[str]) -> list[str]:
    """Cited units grouped by document: the document's version, link and warnings once, then
    its units (a unit's own note under it). Three articles of one code used to repeat its
    « texte remplacé » warning three times."""
    if not unit_ids:
        return ["## Sources", "", "Aucun texte cité.", ""]
    lines, by_document, gone = ["## Sources", ""], {}, []
    for unit_id in unit_ids:
        try:
            unit = corpus.unit(unit_id)
        except CorpusError:
            gone.append(unit_id)
            continue
        by_document.setdefault(unit.document, []).append(unit)
    for document_id, units in by_document.items():
        document = corpus.documents[document_id]
        meta = document.meta
        version = f"version à jour au {french_date(meta['version'])}" if meta.get("version") else "version non précisée"
        official, consulted = official_urls(document), consulted_urls(document)
        where = (f" — {official[0]}" if official
                 else f" — copie consultée (non officielle) : {consulted[0]}" if consulted else "")
        shared = document_warnings(corpus, document)
        lines.append(f"- **{document.label}** — {version}{where}")
        lines += [f"  - ⚠ {warning}" for warning in shared]
        for unit in units:
            lines.append(f"  - **{unit_label(document, unit)}** (`{unit.id}`)")
            lines += [f"    - ⚠ {warning}" for warning in unit_warnings(corpus, document, unit) if warning not in shared]
    lines += [f"- {unit_id} (n'est plus dans le corpus)" for unit_id in gone]
    return lines + [""]
