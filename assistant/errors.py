"""One error base: every failure a user can meet carries its French message and an exit code.

The CLI catches `AssistantError` once (`assistant.cli.main.main`) and the chat app once (its
message guard); nothing else turns errors into text. Subclasses say which layer failed, so a
caller can still react to one kind (the chat keeps the passages when the LLM fails).
"""

from __future__ import annotations

# Exit codes of the `assistant` command (README, « Codes de sortie »).
EXIT_INVALID = 2  # bad input or settings: nothing changed
EXIT_REFUSED = 3  # the corpus update was refused by the evaluation gate


class AssistantError(Exception):
    """A failure explained to the user: `str(error)` is the French message."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str = "", exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self)


class UsageError(AssistantError):
    """A bad argument or input: one French line, exit code 2."""


class InvalidQuestion(AssistantError, ValueError):
    """A question or setting that cannot be answered (empty, too long, unreadable)."""


class CorpusInvalid(AssistantError):
    """The corpus has problems; the message lists them."""


class IndexUnavailable(AssistantError):
    """The index is missing, damaged, busy or was replaced; the message says what to do."""
