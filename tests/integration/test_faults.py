"""Faults: kill -9 during an index build, an index damaged or deleted under a running assistant,
a model file truncated or altered, a model server that crashes or stalls mid-answer, a Chroma
server that goes down. Each time: a French message, the previous data intact, nothing lost.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant import pipeline as engine
from assistant.index import store as index_module
from assistant.config import REPO_ROOT, Settings, settings
from assistant.corpus.model import Corpus
from assistant.errors import IndexUnavailable
from assistant.index.live import LiveIndex
from assistant.index.store import chroma_client, collection_name
from assistant.index.pointer import read_pointer, write_pointer
from assistant.models.llm import ModelUnavailable
from assistant.models.model_file import QWEN_CODER_1_5B, ensure_model
from assistant.retrieval.retriever import Retriever
from tests.conftest import run_cli
from tests.helpers.sse import ChatCompletionStream, serving

pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures")
from tests.helpers.retrieval_fixtures import QUESTION_458TER, UNIT_458TER, copy_index, use_small_index  # noqa: E402

pytestmark = pytest.mark.integration

MARKER = "zythogalactique"
ADDED = f"Phrase ajoutée pour vérifier la reprise après interruption, {MARKER}."


def point_at(monkeypatch, settings_: Settings) -> None:
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(settings_.corpus_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(settings_.index_dir))
    monkeypatch.delenv("ASSISTANT_CHROMA_URL", raising=False)
    monkeypatch.delenv("ASSISTANT_SECOND_EMBEDDING", raising=False)
    monkeypatch.delenv("ASSISTANT_EMBEDDING", raising=False)


def change_458(corpus_dir: Path) -> None:
    path = corpus_dir / "code-penal-1867.md"
    anchor = "soit moyennant une autorisation motivée du procureur du Roi."
    text = path.read_text(encoding="utf-8")
    assert anchor in text
    path.write_text(text.replace(anchor, f"{anchor} {ADDED}", 1), encoding="utf-8")


def collections(index_dir: Path) -> set[str]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(index_dir / "chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    return {getattr(c, "name", c) for c in client.list_collections()}


# -- kill -9 during an index build ----------------------------------------------------------------

@pytest.mark.slow
def test_kill_9_during_an_index_build_leaves_the_previous_index_live(tmp_path, monkeypatch, capsys, small_index,
                                                                      embeddings):
    paths = copy_index(small_index, tmp_path)
    point_at(monkeypatch, paths)
    change_458(paths.corpus_dir)
    pointer_before = (paths.index_dir / "current.json").read_bytes()
    live = json.loads(pointer_before)["version"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    builder = subprocess.Popen([sys.executable, "-m", "assistant.cli", "index", "build", "--force"], env=env,
                               cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    versions = paths.index_dir / "versions"
    try:
        deadline = time.monotonic() + 120
        while {p.name for p in versions.iterdir()} == {live}:  # the new version's folder: embedding starts
            assert builder.poll() is None and time.monotonic() < deadline, "la construction n'a pas commencé"
            time.sleep(0.05)
        time.sleep(0.5)  # mid-embedding (92 vectors take ≈ 15 s here)
        assert builder.poll() is None, "la construction s'est terminée avant l'arrêt"
    finally:
        builder.send_signal(signal.SIGKILL)
        builder.wait(30)
    assert builder.returncode == -signal.SIGKILL

    # The previous version is live, whole and answers.
    assert (paths.index_dir / "current.json").read_bytes() == pointer_before
    leftover = {p.name for p in versions.iterdir()} - {live}
    assert len(leftover) == 1 and not (versions / leftover.pop() / "chunks.json").exists()
    index = LiveIndex(paths.index_dir)
    assert index.pointer["version"] == live and len(index.chunks) == small_index.report.chunks
    corpus = Corpus.load(paths.corpus_dir)
    assert UNIT_458TER in Retriever(corpus, index, embeddings).retrieve(QUESTION_458TER, 5).unit_ids[:3]
    assert all(MARKER not in chunk.text for chunk in index.chunks)  # the half-built change is not live
    code, out, err = run_cli(capsys, "ask", QUESTION_458TER, "--json")
    assert code == 0 and UNIT_458TER in json.loads(out)["citations"], err

    # Running the build again completes it, reusing the live vectors, and clears the leftovers
    # (once no reader of this process holds the old version: readers keep theirs, see test_locks).
    del index
    gc.collect()
    report = engine.build_index(settings(), embeddings=embeddings, progress=False)
    assert report.switched and report.changed == 1 and report.embedded == 2  # one chunk, two models
    assert [p.name for p in versions.iterdir()] == [report.version]
    assert collections(paths.index_dir) and all(name.endswith(report.version) for name in collections(paths.index_dir))
    assert any(MARKER in chunk.text for chunk in LiveIndex(paths.index_dir).chunks)


def no_bigger_files_than(size: int):
    """For a child process: writing past `size` bytes in any file fails (EFBIG), as on a full disk."""
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error to handle, not a signal that kills
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.mark.slow
def test_a_build_that_cannot_write_fails_in_french_and_leaves_nothing(tmp_path, monkeypatch, capsys, small_index,
                                                                     embeddings):
    paths = copy_index(small_index, tmp_path)
    point_at(monkeypatch, paths)
    change_458(paths.corpus_dir)
    pointer = (paths.index_dir / "current.json").read_bytes()
    assert (paths.index_dir / "chroma" / "chroma.sqlite3").stat().st_size > 200_000
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "index", "build"], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=REPO_ROOT, timeout=300,
                          preexec_fn=no_bigger_files_than(200_000))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stderr.startswith("Erreur : écriture de la version ")
    assert "l'index en service n'a pas changé" in done.stderr
    assert (paths.index_dir / "current.json").read_bytes() == pointer
    assert [p.name for p in (paths.index_dir / "versions").iterdir()] == [json.loads(pointer)["version"]]
    index = LiveIndex(paths.index_dir)
    corpus = Corpus.load(paths.corpus_dir)
    assert UNIT_458TER in Retriever(corpus, index, embeddings).retrieve(QUESTION_458TER, 5).unit_ids[:3]
    report = engine.build_index(settings(), embeddings=embeddings, progress=False)  # space again: it completes
    assert report.switched and report.changed == 1


# -- the index damaged or deleted while the assistant runs ------------------------------------------

def test_index_damaged_under_a_running_assistant(tmp_path, monkeypatch, capsys, small_index):
    paths = copy_index(small_index, tmp_path)
    point_at(monkeypatch, paths)
    assistant = engine.Assistant(build_if_missing=False)
    assert UNIT_458TER in assistant.prepare(QUESTION_458TER).answer.citations
    with open(paths.index_dir / "chroma" / "chroma.sqlite3", "r+b") as database:
        database.write(b"abime" * 4096)
    # The running assistant searches the vectors it read at start: it keeps answering.
    assert UNIT_458TER in assistant.prepare(QUESTION_458TER).answer.citations
    code, out, err = run_cli(capsys, "ask", QUESTION_458TER)  # a new process: refused at start, same advice
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("Erreur : index ") and "assistant index build --force" in err


def test_index_deleted_under_a_running_assistant(tmp_path, monkeypatch, small_index):
    paths = copy_index(small_index, tmp_path)
    point_at(monkeypatch, paths)
    assistant = engine.Assistant(build_if_missing=False)
    shutil.rmtree(paths.index_dir)
    # Depending on what Chroma still holds open, the running assistant answers from it or says
    # in French how to rebuild: never a raw error. A new start says what to do.
    try:
        assert UNIT_458TER in assistant.prepare(QUESTION_458TER).answer.citations
    except IndexUnavailable as error:
        assert "est devenu illisible" in str(error) and "assistant index build" in str(error)
    with pytest.raises(IndexUnavailable, match="aucun index dans .* lancez « assistant index build »"):
        engine.Assistant(build_if_missing=False)


# -- the model file truncated or altered: refused, extracts only ------------------------------------

def forged_stamp(path: Path) -> None:
    """A stamp that says « verified » for the file as it is now (as after a real check)."""
    status = path.stat()
    path.with_name(path.name + ".verified").write_text(json.dumps(
        {"size": status.st_size, "mtime_ns": status.st_mtime_ns, "ctime_ns": status.st_ctime_ns,
         "inode": status.st_ino, "sha256": QWEN_CODER_1_5B.sha256}), encoding="utf-8")


@pytest.fixture
def truncated_model(tmp_path) -> Path:
    """The head of a GGUF file, with the stamp of a full model that was verified before."""
    path = tmp_path / "modele" / "qwen.gguf"
    path.parent.mkdir()
    with open(path, "wb") as stream:
        stream.write(b"GGUF" + bytes(4092))
    path.with_name(path.name + ".verified").write_text(json.dumps(
        {"size": QWEN_CODER_1_5B.size, "mtime_ns": 0, "ctime_ns": 0, "inode": 0,
         "sha256": QWEN_CODER_1_5B.sha256}), encoding="utf-8")
    return path


@pytest.fixture
def altered_model(tmp_path) -> Path:
    """A file of the right size, verified (stamped), then changed in place: one byte."""
    path = tmp_path / "modele" / "qwen.gguf"
    path.parent.mkdir()
    with open(path, "wb") as stream:
        stream.write(b"GGUF")
        stream.truncate(QWEN_CODER_1_5B.size)  # sparse: no disk used, hashed in about a second
    forged_stamp(path)
    time.sleep(0.02)
    with open(path, "r+b") as stream:
        stream.seek(QWEN_CODER_1_5B.size // 2)
        stream.write(b"\x01")
    return path


@pytest.mark.parametrize("fixture, problem", [("truncated_model", "il fait 4 096 octets au lieu de 1 117 320 768"),
                                              ("altered_model", "son empreinte SHA-256 n'est pas celle")])
def test_a_damaged_model_file_is_refused_and_the_answer_falls_back_to_extracts(
        request, fixture, problem, monkeypatch, capsys, small_index):
    path = request.getfixturevalue(fixture)
    use_small_index(monkeypatch, small_index)
    monkeypatch.setenv("ASSISTANT_LLM", "local")
    monkeypatch.setenv("ASSISTANT_MODEL_PATH", str(path))
    if fixture == "truncated_model":  # (the altered one is hashed once, by the answer below: 1.1 GB)
        with pytest.raises(ModelUnavailable, match=problem):
            ensure_model(settings())
    code, out, err = run_cli(capsys, "ask", QUESTION_458TER, "--mode", "generative")
    assert code == 0 and "Traceback" not in out + err
    assert out.startswith("En bref")
    notice = out[out.index("Réponse rédigée indisponible"):]
    assert problem in notice and "tronqué ou modifié" in notice and "La réponse tirée des textes reste ci-dessus." in notice
    assert path.stat().st_size in (4096, QWEN_CODER_1_5B.size)  # never replaced nor deleted behind the user's back


# -- the model server crashes or stalls in the middle of an answer ----------------------------------

class Unreliable(ChatCompletionStream):
    """Three words of an answer, then `fault`: « crash » (connection cut) or « stall » (silence)."""

    fault = "crash"

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", "100000")  # so that a cut is an incomplete answer, not its end
        self.end_headers()
        for word in ["Oui", ",", " dans"]:
            self.chunk({"content": word}, None)
        if self.fault == "crash":
            self.connection.shutdown(socket.SHUT_RDWR)  # as when the server process dies
            self.connection.close()
        else:
            time.sleep(6)


# A cut connection is reported as a failure whatever the machine's load: its deadline is long (a
# short one could expire first on a busy 2-core machine, and the cut would read as a stall).
@pytest.mark.parametrize("fault, deadline, expected", [("crash", "20", "a échoué"),
                                                       ("stall", "1.5", "pas terminé sa réponse en 1.5 s")])
def test_model_server_failing_mid_answer_keeps_the_passages(fault, deadline, expected, monkeypatch, capsys,
                                                             small_index):
    handler = type("Handler", (Unreliable,), {"fault": fault})
    with serving(handler) as url:
        use_small_index(monkeypatch, small_index)
        monkeypatch.setenv("ASSISTANT_LLM", "openai-compatible")
        monkeypatch.setenv("ASSISTANT_LLM_URL", url)
        monkeypatch.setenv("ASSISTANT_LLM_MODEL", "m")
        monkeypatch.setenv("ASSISTANT_LLM_TIMEOUT", deadline)
        started = time.monotonic()
        code, out, err = run_cli(capsys, "ask", QUESTION_458TER, "--mode", "generative", "--json")
        assert code == 0 and "Traceback" not in err, err
        reply = json.loads(out)
        assert reply["citations"] and UNIT_458TER in reply["citations"] and "En bref" in reply["answer"]
        failure = reply["draft"]["failure"]
        assert failure.startswith("Le modèle n'a pas pu rédiger de réponse (Le serveur compatible OpenAI"), failure
        assert expected in failure
        assert failure.endswith("La réponse tirée des textes reste ci-dessus.")
        assert time.monotonic() - started < 30


# -- kill -9 during a corpus update (the evaluation gate) -------------------------------------------

GATE_GOLD = [{"id": "g-1", "question": QUESTION_458TER, "expected_citations": [UNIT_458TER], "answerable": True},
             {"id": "g-2", "question": "Copie-moi l'article 50 de la loi organique des CPAS",
              "expected_citations": [], "answerable": False}]


def wait_for(condition, process: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"la commande s'est terminée avant : {what}"
        assert time.monotonic() < deadline, f"pas de {what} après {timeout} s"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["construction", "évaluation"])
def test_kill_9_during_a_corpus_update_leaves_the_previous_index_live(stage, tmp_path, monkeypatch, capsys,
                                                                       small_index, embeddings):
    paths = copy_index(small_index, tmp_path)
    point_at(monkeypatch, paths)
    gold, baseline = tmp_path / "gold.jsonl", tmp_path / "eval" / "baseline.json"
    gold.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in GATE_GOLD), encoding="utf-8")
    gate = ["corpus", "update", "--gold", str(gold), "--baseline", str(baseline)]
    with monkeypatch.context() as patch:  # the session's models for the commands run in this process
        patch.setattr("assistant.models.embeddings.make_embeddings", lambda *args, **kwargs: embeddings)
        code, _, err = run_cli(capsys, *gate, "--accept", "--reason", "référence du test")
    assert code == 0, err
    change_458(paths.corpus_dir)
    pointer_before, baseline_before = (paths.index_dir / "current.json").read_bytes(), baseline.read_bytes()
    live = json.loads(pointer_before)["version"]
    versions = paths.index_dir / "versions"

    def candidate() -> Path | None:
        return next((p for p in versions.iterdir() if p.name != live), None)

    update = subprocess.Popen([sys.executable, "-m", "assistant.cli", *gate],
                              env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=REPO_ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if stage == "construction":  # the candidate's folder exists: its vectors are being computed
            wait_for(lambda: candidate() is not None, update, "version candidate")
        else:  # the candidate is whole, not published: the gold questions are being run against it
            wait_for(lambda: candidate() is not None and (candidate() / "chunks.json").exists(), update,
                     "candidat complet")
        assert update.poll() is None
    finally:
        update.send_signal(signal.SIGKILL)
        update.wait(30)

    assert (paths.index_dir / "current.json").read_bytes() == pointer_before
    assert baseline.read_bytes() == baseline_before
    index = LiveIndex(paths.index_dir)
    assert index.pointer["version"] == live and all(MARKER not in chunk.text for chunk in index.chunks)
    code, out, err = run_cli(capsys, "ask", QUESTION_458TER, "--json")
    assert code == 0 and UNIT_458TER in json.loads(out)["citations"], err
    assert MARKER in (paths.corpus_dir / "code-penal-1867.md").read_text(encoding="utf-8")  # the edit is kept

    del index  # readers keep their version (test_locks): released, it can be cleared
    gc.collect()
    with monkeypatch.context() as patch:  # run again: published, leftovers cleared
        patch.setattr("assistant.models.embeddings.make_embeddings", lambda *args, **kwargs: embeddings)
        code, out, err = run_cli(capsys, *gate)
    assert code == 0 and "Publié (code 0)" in out, out + err
    published = json.loads((paths.index_dir / "current.json").read_text(encoding="utf-8"))["version"]
    assert [p.name for p in versions.iterdir()] == [published] != [live]
    assert any(MARKER in chunk.text for chunk in LiveIndex(paths.index_dir).chunks)


# -- a Chroma server that goes down ------------------------------------------------------------------

class ChromaServer:
    """`chroma run` on a fixed port and data folder, that a test can kill and start again."""

    def __init__(self, folder: Path):
        from tests.integration.test_chroma_server import CHROMA, free_port

        self.command, self.port, self.folder = CHROMA, free_port(), folder
        self.process = None
        self.start()

    def start(self) -> float:
        """Seconds until it answers."""
        from tests.integration.test_chroma_server import server_client

        started = time.monotonic()
        log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen([str(self.command), "run", "--host", "127.0.0.1", "--port", str(self.port),
                                         "--path", str(self.folder / "data")], stdout=log, stderr=subprocess.STDOUT)
        while time.monotonic() - started < 60:
            assert self.process.poll() is None, (self.folder / "server.log").read_text(errors="replace")[-2000:]
            try:
                server_client(self.port).heartbeat()
                return time.monotonic() - started
            except Exception:
                time.sleep(0.1)
        raise AssertionError("le serveur Chroma ne répond pas après 60 s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)


@pytest.fixture
def chroma_down_and_up(tmp_path, monkeypatch, small_index, embeddings):
    """An index of the small corpus (e5 only) on a Chroma server of its own."""
    from tests.integration.test_chroma_server import CHROMA

    if not CHROMA.exists():
        pytest.fail(f"{CHROMA} introuvable (chromadb installe la commande « chroma »)")
    (tmp_path / "chroma").mkdir()
    server = ChromaServer(tmp_path / "chroma")
    try:
        paths = Settings(home=tmp_path / "home", corpus_dir=small_index.corpus_dir, index_dir=tmp_path / "index",
                         chroma_url=f"http://127.0.0.1:{server.port}")
        point_at(monkeypatch, paths)
        monkeypatch.setenv("ASSISTANT_CHROMA_URL", f"http://127.0.0.1:{server.port}")
        monkeypatch.setenv("ASSISTANT_SECOND_EMBEDDING", "none")
        report = engine.build_index(paths, embeddings={"main": embeddings["main"]}, progress=False)
        yield server, paths, report
    finally:
        server.kill()


@pytest.mark.slow
def test_chroma_server_down_then_back_loses_nothing(chroma_down_and_up, monkeypatch, capsys, embeddings):
    server, paths, report = chroma_down_and_up
    corpus = Corpus.load(paths.corpus_dir)
    retriever = Retriever(corpus, LiveIndex(paths.index_dir, chroma_url=paths.chroma_url), {"main": embeddings["main"]})
    before = retriever.retrieve(QUESTION_458TER, 5).unit_ids
    assert UNIT_458TER in before[:3]

    # Down for good. The running retriever searches the vectors it read at start: it answers.
    server.kill()
    assert retriever.retrieve(QUESTION_458TER, 5).unit_ids == before
    # A new start: the default retries (3.75 s), then one French line.
    started = time.monotonic()
    with pytest.raises(IndexUnavailable) as caught:
        LiveIndex(paths.index_dir, chroma_url=paths.chroma_url)
    waited = time.monotonic() - started
    assert 3.7 <= waited < 10, waited
    assert str(caught.value).startswith(f"serveur Chroma injoignable à http://127.0.0.1:{server.port} (ConnectError, "
                                        "5 essais en 3.75 s)")
    monkeypatch.setattr(index_module, "CHROMA_RETRY_DELAYS", (0.1, 0.2))
    code, out, err = run_cli(capsys, "ask", QUESTION_458TER)
    assert (code, out) == (2, "") and err.startswith("Erreur : serveur Chroma injoignable") and "Traceback" not in err
    # A corpus update built while the server is down fails in French and changes nothing.
    pointer = (paths.index_dir / "current.json").read_bytes()
    with pytest.raises(IndexUnavailable):
        engine.build_index(paths, embeddings={"main": embeddings["main"]}, force=True, progress=False)
    assert (paths.index_dir / "current.json").read_bytes() == pointer

    # Back while a start waits: it starts once the server is up, with everything it held.
    monkeypatch.setattr(index_module, "CHROMA_RETRY_DELAYS", (0.5, 1.0, 2.0, 4.0, 8.0))
    result = {}

    def start_and_ask():
        fresh = Retriever(corpus, LiveIndex(paths.index_dir, chroma_url=paths.chroma_url), {"main": embeddings["main"]})
        result.update(ids=fresh.retrieve(QUESTION_458TER, 5).unit_ids)

    waiting = threading.Thread(target=start_and_ask)
    waiting.start()
    time.sleep(0.3)
    restart = server.start()
    waiting.join(60)
    assert result.get("ids") == before, f"redémarrage en {restart:.1f} s"
    print(f"abandon après {waited:.2f} s ; serveur relancé en {restart:.1f} s, question servie après la reprise")
    from tests.integration.test_chroma_server import server_client

    name = f"{index_module.COLLECTION_PREFIX}main-{report.version}"
    assert server_client(server.port).get_collection(name).count() == report.chunks

    # Hung (stopped, not dead): a new start has a deadline, then one French line; it starts on resuming.
    monkeypatch.setattr(index_module, "CHROMA_TIMEOUT", 2.0)
    server.process.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(IndexUnavailable, match="ne répond plus"):
            LiveIndex(paths.index_dir, chroma_url=paths.chroma_url)  # a new start against the hung server does not hang
        hung = time.monotonic() - started
        assert hung < 8, hung
    finally:
        server.process.send_signal(signal.SIGCONT)
    retriever = Retriever(corpus, LiveIndex(paths.index_dir, chroma_url=paths.chroma_url), {"main": embeddings["main"]})
    assert retriever.retrieve(QUESTION_458TER, 5).unit_ids == before
    print(f"serveur figé : erreur au démarrage en {hung:.1f} s, puis les mêmes réponses à la reprise")


def test_a_folder_given_as_the_model_file_is_refused_without_advising_to_delete_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_MODEL_PATH", str(tmp_path))
    with pytest.raises(ModelUnavailable) as caught:
        ensure_model(settings())
    assert str(caught.value) == (f"{tmp_path} n'est pas un fichier : indiquez le fichier GGUF du modèle dans "
                                 "ASSISTANT_MODEL_PATH, ou retirez la variable.")
    assert tmp_path.is_dir()


def test_a_newer_version_live_under_a_running_assistant_keeps_its_own_version(tmp_path, monkeypatch, small_index):
    paths = copy_index(small_index, tmp_path)
    point_at(monkeypatch, paths)
    assistant = engine.Assistant(build_if_missing=False)
    old = read_pointer(paths.index_dir)
    # Another process published a new version and removed this one's collections.
    write_pointer(paths.index_dir, {**old, "version": "v-plus-recente"})
    client = chroma_client(paths.index_dir)
    for name in old["models"]:
        client.delete_collection(collection_name(name, old["version"]))
    # It keeps answering from the version it read at start (its vectors are in memory)…
    assert UNIT_458TER in assistant.prepare(QUESTION_458TER).answer.citations
    # …and says which version it reads, and that a newer one is live.
    note = assistant.index.version_note()
    assert f"version {old['version']}" in note and "la version v-plus-recente a été publiée" in note
