"""What is kept of each exchange of a chat conversation (for follow-ups, the export and feedback):
plain dicts kept in the chat session and stored with feedback, personal data already masked.
The conversation file itself is rendered by assistant/render.py (`conversation_markdown`).
"""

from __future__ import annotations

from datetime import datetime

from assistant import render
from assistant.types import Reply
from assistant.web import privacy

# Turns kept, in the session and with each exchange: 6, as follow-ups are rewritten from the last 4 at most.
HISTORY_TURNS = 6


def exchange_record(reply: Reply, mode: str, history: list[dict] | None = None) -> dict:
    """What is kept of one question and its answer (masked of personal data)."""
    answer = reply.answer
    return {
        "question": privacy.redact(reply.question),
        "standalone": privacy.redact(reply.standalone),
        "mode": mode,
        "abstained": answer.abstained,
        "passages": render.passages_text(answer),
        "draft": render.draft_text(reply.draft) if reply.draft is not None else "",
        "answer": render.answer_text(reply),
        "citations": list(reply.citations),
        "history": [{**turn, "content": privacy.redact(turn["content"])} for turn in (history or [])[-HISTORY_TURNS:]],
        "at": datetime.now().isoformat(timespec="seconds"),
    }


def history_turns(reply: Reply) -> list[dict]:
    """The two turns a reply adds to the conversation history (for follow-up questions)."""
    return [{"role": "user", "content": reply.question}, {"role": "assistant", "content": render.answer_text(reply)}]


def export_filename(when: datetime | None = None) -> str:
    """The downloaded file's name: what it is, then the date and time of the export
    (`conversation-secret-professionnel-2026-01-02-09h05.md`), which also sorts files by date."""
    return f"conversation-secret-professionnel-{(when or datetime.now()):%Y-%m-%d-%Hh%M}.md"


def export_notice(questions: int, name: str) -> str:
    """The message that carries the file."""
    return f"Conversation exportée ({questions} question{'s' if questions > 1 else ''}) : {name}"
