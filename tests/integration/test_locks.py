"""Processes sharing one index folder: two first starts racing, an eval while a build publishes,
two corpus updates at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import filelock
import pytest

from assistant import pipeline
from assistant.cli.main import main
from assistant.config import REPO_ROOT
from assistant.errors import IndexUnavailable
from assistant.index.live import LiveIndex
from assistant.index.locks import IndexBusy, exclusive_build, exclusive_update, versions_in_use
from assistant.index.pointer import read_pointer

pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures")
from tests.helpers.retrieval_fixtures import QUESTION_458TER, UNIT_458TER, copy_index, use_small_index  # noqa: E402

pytestmark = pytest.mark.integration


def versions(index_dir: Path) -> list[str]:
    return sorted(p.name for p in (index_dir / "versions").iterdir())


def held(path: Path) -> bool:
    """Whether another process holds the lock file (a second lock object of this process would
    conflict with it too: flock locks belong to open files)."""
    probe = filelock.FileLock(path, thread_local=False)
    try:
        probe.acquire(timeout=0)
    except filelock.Timeout:
        return True
    probe.release()
    return False


def change_459(corpus_dir: Path) -> None:
    path = corpus_dir / "code-penal-1867.md"
    text = path.read_text(encoding="utf-8")
    marker = "::: art-459"
    start = text.index(marker)
    end = text.index("\n:::", start + len(marker))
    path.write_text(text[:end] + " Modifié pour le test." + text[end:], encoding="utf-8")


@pytest.mark.slow
def test_two_first_starts_racing_build_once_and_both_answer(tmp_path, small_index):
    """Two `assistant ask` on an empty index folder: one builds, the other says it waits, then
    both answer from the same single version (before: both built, each removed the other's
    version, and neither could answer)."""
    index_dir = tmp_path / "index"
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(small_index.corpus_dir), "ASSISTANT_INDEX_DIR": str(index_dir),
           "ASSISTANT_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1", "ANONYMIZED_TELEMETRY": "False"}
    for name in ("ASSISTANT_CHROMA_URL", "ASSISTANT_EMBEDDING", "ASSISTANT_SECOND_EMBEDDING"):
        env.pop(name, None)
    command = [sys.executable, "-m", "assistant.cli", "ask", QUESTION_458TER]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=REPO_ROOT)
    deadline = time.monotonic() + 120
    while not ((index_dir / "build.lock").exists() and held(index_dir / "build.lock")):
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the first process never started building"
        time.sleep(0.05)
    second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=REPO_ROOT)
    outputs = [process.communicate(timeout=600) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    for out, err in outputs:
        assert UNIT_458TER in out, (out, err)
        assert "Traceback" not in err
    waited = [err for _, err in outputs if "Un autre processus construit déjà l'index" in err]
    assert len(waited) == 1, outputs
    assert "Un autre processus" in outputs[1][1]  # the one that came second
    assert len(versions(index_dir)) == 1 and read_pointer(index_dir)["version"] == versions(index_dir)[0]


def test_a_reader_keeps_its_version_through_a_publication(tmp_path, small_index, embeddings, monkeypatch):
    """A process reading version A while a build publishes B goes on reading A, whole; A is removed
    by the next build once nobody reads it."""
    monkeypatch.delenv("ASSISTANT_CHROMA_URL", raising=False)
    settings = copy_index(small_index, tmp_path)
    reader = LiveIndex(settings.index_dir)
    old = reader.pointer["version"]
    change_459(settings.corpus_dir)
    report = pipeline.build_index(settings, embeddings=embeddings, progress=False)
    assert report.switched and report.version != old
    assert versions_in_use(settings.index_dir) >= {old}
    assert versions(settings.index_dir) == sorted([old, report.version])
    hits = reader.dense("main", embeddings["main"].get_query_embedding("concertation de cas"), 5)
    assert hits and reader.lexical("concertation de cas", 5)
    assert f"la version {report.version} a été publiée" in reader.version_note()
    del reader
    change_459(settings.corpus_dir)
    third = pipeline.build_index(settings, embeddings=embeddings, progress=False)
    assert versions(settings.index_dir) == [third.version]


def test_eval_during_a_publication_finishes_on_one_version_and_says_which(tmp_path, small_index, embeddings,
                                                                          monkeypatch, capsys):
    settings = copy_index(small_index, tmp_path)
    use_small_index(monkeypatch, small_index, settings.index_dir)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setattr("assistant.models.embeddings.make_embeddings", lambda *args, **kwargs: embeddings)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(
        f'{{"id": "q{n}", "question": "{QUESTION_458TER}", "history": [], '
        f'"expected_citations": ["{UNIT_458TER}"], "answer_must_mention": [], "answerable": true}}'
        for n in range(3)) + "\n", encoding="utf-8")
    started = read_pointer(settings.index_dir)["version"]
    published = []

    from assistant.retrieval.retriever import Retriever
    real_retrieve = Retriever.retrieve

    def retrieve_then_publish(self, query, k=10):
        if not published:  # another process publishes while the eval runs
            change_459(settings.corpus_dir)
            published.append(pipeline.build_index(settings, embeddings=embeddings, progress=False).version)
        return real_retrieve(self, query, k)

    monkeypatch.setattr(Retriever, "retrieve", retrieve_then_publish)
    code = main(["eval", "--gold", str(gold), "--json", str(tmp_path / "out.json")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert published and published[0] != started
    assert f"Index lu : version {started}" in err
    assert f"la version {published[0]} a été publiée pendant l'exécution" in err
    assert '"hit@5": 1.0' in (tmp_path / "out.json").read_text(encoding="utf-8")


def test_a_second_corpus_update_is_refused_in_french(tmp_path, small_index, monkeypatch, capsys):
    settings = copy_index(small_index, tmp_path)
    use_small_index(monkeypatch, small_index, settings.index_dir)
    other = filelock.FileLock(settings.index_dir / "update.lock", thread_local=False)  # another process's
    other.acquire()
    try:
        code = main(["corpus", "update"])
    finally:
        other.release()
    err = capsys.readouterr().err
    assert code == 2
    assert "une autre mise à jour du corpus est en cours" in err and "Traceback" not in err
    assert read_pointer(settings.index_dir)["version"] == read_pointer(small_index.index_dir)["version"]


def test_build_lock_waits_for_the_holder_then_goes_on(tmp_path):
    """The second holder is told in French, waits, and gets the lock once it is free."""
    other = filelock.FileLock(tmp_path / "build.lock", thread_local=False)
    other.acquire()
    told = []

    def notify(text: str) -> None:
        told.append(text)
        other.release()  # the other build finishes as soon as we said we wait

    with exclusive_build(tmp_path, notify=notify):
        assert told and told[0].startswith("Un autre processus construit déjà l'index")
    assert not held(tmp_path / "build.lock")  # released on leaving


def test_update_lock_is_refused_at_once_when_held(tmp_path):
    other = filelock.FileLock(tmp_path / "update.lock", thread_local=False)
    other.acquire()
    try:
        with pytest.raises(IndexBusy) as raised, exclusive_update(tmp_path):
            pass
    finally:
        other.release()
    assert isinstance(raised.value, IndexUnavailable) and raised.value.exit_code == 2
    with exclusive_update(tmp_path):  # free again
        pass
