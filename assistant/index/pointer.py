"""`current.json`: which version of the index is live (written atomically, read defensively)."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.errors import IndexUnavailable
from assistant.files import write_atomically


def read_pointer(index_dir: Path) -> dict | None:
    """The live version's description, None when there is no index; damaged → IndexUnavailable."""
    path = index_dir / "current.json"
    try:
        pointer = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        pointer = None
    if not (isinstance(pointer, dict) and isinstance(pointer.get("version"), str)
            and isinstance(pointer.get("models"), dict)):
        raise IndexUnavailable(f"{path} est illisible ou abîmé : reconstruisez l'index "
                               "avec « assistant index build --force ».")
    return pointer


def write_pointer(index_dir: Path, pointer: dict) -> None:
    """Replaced in one step: a reader sees the old version or the new one, never half a file."""
    write_atomically(index_dir / "current.json", json.dumps(pointer, indent=1))
