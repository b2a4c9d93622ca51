"""Conversation: turn a follow-up into a standalone question for retrieval."""

from __future__ import annotations

from .index import fold

FOLLOW_UP_STARTS = ("et ", "et,", "mais ", "dans ce cas", "meme chose", "pareil", "alors ", "ok ", "d'accord")


def is_follow_up(question: str) -> bool:
    """Short questions that lean on the conversation (« Et si… ? », « Et pour un conseiller ? »)."""
    folded = fold(question.lower()).strip()
    return folded.startswith(FOLLOW_UP_STARTS) or len(folded.split()) <= 6


def standalone_question(question: str, history: list[dict] | None) -> str:
    """The question as retrieval should see it: a follow-up gets the previous user question."""
    previous = [turn["content"] for turn in history or [] if turn.get("role") == "user" and turn.get("content")]
    if previous and is_follow_up(question):
        return f"{previous[-1].strip()} {question.strip()}"
    return question
