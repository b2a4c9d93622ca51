"""One settings object, read from `ASSISTANT_*` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@dataclass(frozen=True)
class Settings:
    """Where things live. `ASSISTANT_HOME` is the one user directory (models, feedback…)."""

    home: Path
    corpus_dir: Path
    index_dir: Path

    @classmethod
    def from_env(cls) -> "Settings":
        home = _path("ASSISTANT_HOME", Path.home() / ".local" / "share" / "assistant-cpas")
        return cls(
            home=home,
            corpus_dir=_path("ASSISTANT_CORPUS_DIR", REPO_ROOT / "corpus"),
            index_dir=_path("ASSISTANT_INDEX_DIR", REPO_ROOT / "index"),
        )


def settings() -> Settings:
    """Current settings (re-read each call so tests can change the environment)."""
    return Settings.from_env()
