"""The index on a real Chroma server (ASSISTANT_CHROMA_URL), and a server that is not there."""

from __future__ import annotations

import gc
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import pipeline as engine
from assistant.cli.main import main
from assistant.config import Settings
from assistant.corpus.model import Corpus
from assistant.index.store import COLLECTION_PREFIX
from assistant.errors import IndexUnavailable
from assistant.index.live import LiveIndex
from assistant.retrieval.issues import cue_texts, load_issues
from assistant.retrieval.retriever import Retriever

# The session fixtures (small corpus and index), registered once for every module.
pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures")
from tests.helpers.retrieval_fixtures import QUESTION_458TER, UNIT_458TER, use_small_index  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_client(port: int):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A Chroma server on a free port, stopped at the end of the module."""
    if not CHROMA.exists():
        pytest.skip(f"{CHROMA} introuvable")
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen([str(CHROMA), "run", "--host", "127.0.0.1", "--port", str(port),
                                "--path", str(folder / "data")], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, error = time.monotonic() + 30, None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                server_client(port).heartbeat()
                break
            except Exception as caught:  # not up yet
                error = caught
                time.sleep(0.3)
        else:
            pytest.fail(f"le serveur Chroma ne répond pas après 30 s ({error!r})")
        if process.poll() is not None:
            pytest.fail("le serveur Chroma s'est arrêté : " + (folder / "server.log").read_text(errors="replace"))
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture
def server_settings(tmp_path, monkeypatch, chroma_server, small_index) -> Settings:
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", f"http://127.0.0.1:{chroma_server}")
    monkeypatch.setenv("ASSISTANT_SECOND_EMBEDDING", "none")
    monkeypatch.delenv("ASSISTANT_EMBEDDING", raising=False)
    corpus_dir = tmp_path / "corpus-small"
    shutil.copytree(small_index.corpus_dir, corpus_dir)
    return Settings(home=tmp_path / "home", corpus_dir=corpus_dir, index_dir=tmp_path / "index-server",
                    second_embedding="none", chroma_url=f"http://127.0.0.1:{chroma_server}")


def collection_names(port: int) -> set[str]:
    return {getattr(c, "name", c) for c in server_client(port).list_collections()}


def test_build_and_search_on_a_chroma_server(server_settings, chroma_server, monkeypatch, capsys):
    settings = server_settings
    report = engine.build_index(settings, progress=False)
    assert report.switched and report.chunks > 0
    assert report.embedded == report.chunks + len(cue_texts(load_issues()))  # e5 only: passages and issue cues
    pointer = json.loads((settings.index_dir / "current.json").read_text(encoding="utf-8"))
    assert list(pointer["models"]) == ["main"]
    assert not (settings.index_dir / "chroma").exists()  # the vectors are on the server

    name = f"{COLLECTION_PREFIX}main-{report.version}"
    assert name in collection_names(chroma_server)
    assert server_client(chroma_server).get_collection(name).count() == report.chunks

    index = LiveIndex(settings.index_dir, chroma_url=settings.chroma_url)
    assert list(index.collections) == ["main"]
    corpus = Corpus.load(settings.corpus_dir)
    models = engine.embeddings_for(settings)
    assert list(models) == ["main"]
    retrieval = Retriever(corpus, index, models).retrieve(QUESTION_458TER, 10)
    assert not retrieval.abstained
    assert UNIT_458TER in retrieval.unit_ids[:3]
    dense = Retriever(corpus, index, models, "dense").retrieve(QUESTION_458TER, 10)
    assert UNIT_458TER in dense.unit_ids

    # The CLI reads the same server.
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(settings.index_dir))
    assert main(["ask", QUESTION_458TER, "--json"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert UNIT_458TER in reply["citations"]

    # An incremental build on the server keeps the previous collection there (processes that
    # share the server still read it until they restart), and drops it at the next build.
    path = settings.corpus_dir / "code-penal-1867.md"
    running = LiveIndex(settings.index_dir, chroma_url=settings.chroma_url)  # another process, started before the update

    def change_and_build(old: str, new: str):
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        start = int(time.time())
        while int(time.time()) == start:  # version names have a one-second resolution
            time.sleep(0.05)
        return engine.build_index(settings, progress=False)

    second = change_and_build("ont déposé ou fait déposer des objets à l'établissement.",
                              "ont déposé ou fait déposer des objets à l'établissement. Modifié.")
    assert second.switched and second.changed == 1 and second.embedded == 1
    names = collection_names(chroma_server)
    assert f"{COLLECTION_PREFIX}main-{second.version}" in names and name in names
    assert UNIT_458TER in Retriever(corpus, running, models).retrieve(QUESTION_458TER, 10).unit_ids[:3]
    # Those readers (as processes on another machine, which no reader mark of this one shows) are gone:
    del running, index
    gc.collect()  # the assistant of `ask` above, held in reference cycles
    third = change_and_build("établissement. Modifié.", "établissement. Modifié deux fois.")
    names = collection_names(chroma_server)
    assert third.switched and f"{COLLECTION_PREFIX}main-{third.version}" in names
    assert f"{COLLECTION_PREFIX}main-{second.version}" in names and name not in names


def test_closed_port_build_is_a_french_error(tmp_path, monkeypatch, small_index, embeddings):
    port = free_port()  # nothing listens there
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", f"http://127.0.0.1:{port}")
    settings = Settings(home=tmp_path / "home", corpus_dir=small_index.corpus_dir, index_dir=tmp_path / "index",
                        chroma_url=f"http://127.0.0.1:{port}")
    with pytest.raises(IndexUnavailable) as caught:
        engine.build_index(settings, embeddings=embeddings, progress=False)
    message = str(caught.value)
    assert f"serveur Chroma injoignable à http://127.0.0.1:{port}" in message
    assert "ASSISTANT_CHROMA_URL" in message
    assert not (tmp_path / "index" / "current.json").exists()


def test_closed_port_cli_is_a_french_error(tmp_path, monkeypatch, capsys, small_index):
    use_small_index(monkeypatch, small_index, tmp_path / "index")
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", f"127.0.0.1:{free_port()}")  # without http://
    assert main(["index", "build"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : serveur Chroma injoignable") and "Traceback" not in err

    # An index whose vectors live on a server that is down: `ask` says so too.
    index_dir = tmp_path / "index-copy"
    shutil.copytree(small_index.index_dir, index_dir)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index_dir))
    assert main(["ask", QUESTION_458TER]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : serveur Chroma injoignable") and "Traceback" not in err
