"""Conversation: turn a follow-up into a standalone question for retrieval."""

from __future__ import annotations

import re

from assistant.text import fold, shorten

FOLLOW_UP_STARTS = ("et ", "et,", "mais ", "dans ce cas", "meme chose", "pareil", "alors ", "ok ", "d'accord")
REWRITE_PROMPT = (
    "Réécris la dernière question de l'utilisateur en une seule question autonome, compréhensible sans "
    "la conversation, en français, en gardant ses mots et tout ce qu'elle demande. N'y réponds pas. "
    "Écris seulement la question réécrite."
)


def is_follow_up(question: str) -> bool:
    """Short questions that lean on the conversation (« Et si… ? », « Et pour un conseiller ? »)."""
    folded = fold(question.lower()).strip()
    return folded.startswith(FOLLOW_UP_STARTS) or len(folded.split()) <= 6


def previous_questions(history: list[dict] | None) -> list[str]:
    return [turn["content"] for turn in history or [] if turn.get("role") == "user" and turn.get("content")]


def standalone_question(question: str, history: list[dict] | None) -> str:
    """The question as retrieval should see it: a follow-up gets the previous user question."""
    previous = previous_questions(history)
    if previous and is_follow_up(question):
        return f"{previous[-1].strip()} {question.strip()}"
    return question



class FollowUpRewriter:
    """`rewrite(question, history)`: the model rewrites follow-ups; any doubt → the heuristic."""

    def __init__(self, llm):
        self.llm = llm

    def rewrite(self, question: str, history: list[dict] | None) -> str:
        fallback = standalone_question(question, history)
        if fallback == question:
            return question  # not a follow-up: nothing to rewrite
        try:
            written = self._ask(question, history)
        except Exception:  # the heuristic is always there: a model failure costs nothing
            return fallback
        return written if plausible(written, question) else fallback

    def _ask(self, question: str, history: list[dict]) -> str:
        from llama_index.core.llms import ChatMessage

        turns = "\n".join(f"{'Utilisateur' if t['role'] == 'user' else 'Assistant'} : {shorten(t['content'], 300)}"
                          for t in history[-4:] if t.get("content"))
        content = f"Conversation :\n{turns}\n\nDernière question : {question}\n\nQuestion réécrite :"
        messages = [ChatMessage(role="system", content=REWRITE_PROMPT), ChatMessage(role="user", content=content)]
        return str(self.llm.chat(messages).message.content or "").strip().strip('"«» ')



def plausible(written: str, question: str) -> bool:
    """One question, not an answer, not a citation, not much longer than the conversation needs."""
    return (10 <= len(written) <= max(300, 3 * len(question)) and "[" not in written and "\n" not in written
            and written.endswith("?") and not re.match(r"(?i)(oui|non)\b", written))
