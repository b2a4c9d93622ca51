"""Gold sets: JSONL files of questions with the citations expected (or an expected abstention)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError


class GoldError(AssistantError):
    """A gold file that cannot be read; message in French."""


@dataclass
class GoldItem:
    id: str
    question: str
    history: list
    expected: list[str]
    must_mention: list
    answerable: bool
    family: str = ""  # the kind of situation, for the per-family miss table


def load_gold(paths: list[Path]) -> list[GoldItem]:
    """Read JSONL gold files (`history` optional, as in the BSARD file)."""
    from assistant.pipeline import InvalidQuestion, clean_question

    items = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise GoldError(f"fichier d'évaluation illisible : {path} ({error.__class__.__name__})") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                items.append(GoldItem(raw["id"], raw["question"], raw.get("history") or [],
                                      raw.get("expected_citations") or [], raw.get("answer_must_mention") or [],
                                      bool(raw.get("answerable", True)), str(raw.get("family") or "")))
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise GoldError(f"{path}:{number}: ligne invalide ({error.__class__.__name__})") from None
            try:  # the assistant would refuse it: say so here, with the line
                clean_question(items[-1].question)
            except InvalidQuestion as error:
                raise GoldError(f"{path}:{number}: question refusée ({error})") from None
    return items
