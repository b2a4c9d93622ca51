"""A conversation as a Markdown file (workshop use): each question, the verbatim passages, the
model's draft if any, then every cited text with its version, link and warnings.

Exchanges are plain dicts (kept in the chat session, stored with feedback), with personal
data already masked.
"""

from __future__ import annotations

from datetime import datetime

from assistant.web import privacy
from assistant.answering.extractive import draft_text
from assistant.corpus.model import Corpus, CorpusError, unit_label
from assistant.web.views import escape_markdown, french_date, unit_warnings

HISTORY_TURNS = 6  # previous turns kept with an exchange (follow-ups are judged with them)


def exchange_record(reply, mode: str, history: list[dict] | None = None) -> dict:
    """What is kept of one question and its answer (masked of personal data)."""
    answer = reply.answer
    draft = answer.draft
    return {
        "question": privacy.redact(reply.question),
        "standalone": privacy.redact(reply.standalone),
        "mode": mode,
        "abstained": answer.abstained,
        "passages": answer.message if answer.abstained else answer.passages_text(),
        "draft": draft_text(draft) if draft is not None else "",
        "answer": answer.text(),
        "citations": list(answer.citations),
        "history": [{**turn, "content": privacy.redact(turn["content"])} for turn in (history or [])[-HISTORY_TURNS:]],
        "at": datetime.now().isoformat(timespec="seconds"),
    }


def history_turns(reply) -> list[dict]:
    """The two turns a reply adds to the conversation history (for follow-up questions)."""
    return [{"role": "user", "content": reply.question}, {"role": "assistant", "content": reply.answer.text()}]


def conversation_markdown(exchanges: list[dict], corpus: Corpus, when: datetime | None = None) -> str:
    when = when or datetime.now()
    lines = [f"# Conversation avec l'assistant « secret professionnel » — {french_date(when.date())}, "
             f"{when:%H:%M}", "",
             "> Réponses tirées des seuls textes du corpus, citées mot pour mot. Ce document n'est pas "
             "un avis juridique : vérifiez les textes sur les liens officiels ci-dessous.", ""]
    for number, exchange in enumerate(exchanges, start=1):
        lines += exchange_lines(number, exchange)
    lines += sources_lines(corpus, cited_units(exchanges))
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


def sources_lines(corpus: Corpus, unit_ids: list[str]) -> list[str]:
    if not unit_ids:
        return ["## Sources", "", "Aucun texte cité.", ""]
    lines = ["## Sources", ""]
    for unit_id in unit_ids:
        try:
            unit = corpus.unit(unit_id)
        except CorpusError:
            lines += [f"- {unit_id} (n'est plus dans le corpus)"]
            continue
        document = corpus.document_of(unit)
        meta = document.meta
        version = f"version à jour au {french_date(meta['version'])}" if meta.get("version") else "version non précisée"
        urls = [s["url"] for s in meta.get("sources") or [] if isinstance(s, dict) and s.get("url")]
        lines.append(f"- **{unit_label(document, unit)}** (`{unit_id}`) — {version}"
                     + (f" — {urls[0]}" if urls else ""))
        lines += [f"  - ⚠ {warning}" for warning in unit_warnings(corpus, document, unit)]
    return lines + [""]


def export_filename(when: datetime | None = None) -> str:
    return f"conversation-{(when or datetime.now()):%Y-%m-%d-%H%M}.md"
