"""The LLM layer: model file assembly and checks, the local runtime, server backends, the factory."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers.sse import ChatCompletionStream, serving
from llama_index.core import Settings as LlamaSettings
from llama_index.core.base.llms.types import ChatMessage

from assistant.models import local_llm as local_module, model_file
from assistant.config import MODEL_FILENAME, REPO_ROOT, settings
from assistant.errors import AssistantError
from assistant.models.llm import DisabledLLM, LLMError, LLMFailure, ModelUnavailable, make_llm, set_global_llm
from assistant.models.local_llm import LocalLLM
from assistant.models.model_file import QWEN_CODER_1_5B, ModelSpec, ensure_model, part_paths
from assistant.models.server_llm import ServerLLM
from assistant.models.streaming import guarded_stream

QUESTION = [ChatMessage(role="system", content="Tu réponds en français, très brièvement."),
            ChatMessage(role="user", content="Réponds par un seul mot : quelle est la capitale de la Belgique ?")]


# -- model file: joining, size and digest checks, stamp ------------------------------------------

def fake_parts(root: Path, monkeypatch, contents: list[bytes]) -> ModelSpec:
    """Importable part packages shaped like the real wheels (get_part_path()), and their spec."""
    import hashlib

    prefix = f"fake_part_{uuid.uuid4().hex[:8]}_"
    for number, content in enumerate(contents, start=1):
        package = root / f"{prefix}{number}"
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part{number:02d}.bin").write_bytes(content)
        (package / "__init__.py").write_text(textwrap.dedent(f"""
            import os
            def get_part_path():
                return os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "part{number:02d}.bin")
        """))
    monkeypatch.syspath_prepend(str(root))
    whole = b"".join(contents)
    return ModelSpec(size=len(whole), sha256=hashlib.sha256(whole).hexdigest(),
                     parts=tuple(f"{prefix}{number}" for number in range(1, len(contents) + 1)))


def count_hashes(monkeypatch) -> list[Path]:
    """Record every full hash of a model file (the real function still runs)."""
    calls: list[Path] = []
    real = model_file.file_sha256

    def counting(path: Path) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(model_file, "file_sha256", counting)
    return calls


@pytest.fixture
def ten_parts(tmp_path, monkeypatch) -> ModelSpec:
    # Ten parts: a join in name order (part1, part10, part2…) would differ from the right one.
    return fake_parts(tmp_path / "site", monkeypatch, [bytes([n]) * (1000 + n) for n in range(1, 11)])


@pytest.mark.unit
def test_parts_are_joined_in_order_once_with_a_stamp(ten_parts, monkeypatch):
    target = settings().model_path
    assert target == settings().home / "models" / MODEL_FILENAME
    assert ensure_model(settings(), ten_parts) == target
    assert target.read_bytes() == b"".join(bytes([n]) * (1000 + n) for n in range(1, 11))
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    assert sorted(path.name for path in target.parent.iterdir()) == [MODEL_FILENAME, MODEL_FILENAME + ".verified"]
    hashes = count_hashes(monkeypatch)
    before = target.stat().st_mtime_ns
    assert ensure_model(settings(), ten_parts) == target
    assert hashes == [] and target.stat().st_mtime_ns == before  # neither joined nor hashed again


@pytest.mark.unit
def test_model_path_setting_points_anywhere(ten_parts, tmp_path, monkeypatch):
    chosen = tmp_path / "ailleurs" / "modele.gguf"
    monkeypatch.setenv("ASSISTANT_MODEL_PATH", str(chosen))
    assert ensure_model(settings(), ten_parts) == chosen and chosen.stat().st_size == ten_parts.size


@pytest.mark.unit
def test_a_file_altered_in_place_is_hashed_again_and_refused(ten_parts, monkeypatch):
    target = ensure_model(settings(), ten_parts)
    state = target.stat()
    time.sleep(0.02)  # a later write, as in real life (file times have a clock-tick resolution)
    with open(target, "r+b") as stream:
        stream.seek(5000)
        stream.write(b"\xff")
    # Even with its modification time put back, the change time gives the alteration away.
    os.utime(target, ns=(state.st_atime_ns, state.st_mtime_ns))
    hashes = count_hashes(monkeypatch)
    with pytest.raises(ModelUnavailable, match="empreinte SHA-256") as caught:
        ensure_model(settings(), ten_parts)
    assert hashes == [target]
    assert "Supprimez-le" in str(caught.value)


@pytest.mark.unit
def test_a_truncated_file_is_refused_without_hashing(ten_parts, monkeypatch):
    target = ensure_model(settings(), ten_parts)
    os.truncate(target, ten_parts.size - 1)
    hashes = count_hashes(monkeypatch)
    with pytest.raises(ModelUnavailable, match="tronqué ou modifié"):
        ensure_model(settings(), ten_parts)
    assert hashes == []


@pytest.mark.unit
def test_parts_that_do_not_give_the_published_file_are_refused_and_leave_nothing(tmp_path, monkeypatch):
    spec = fake_parts(tmp_path / "site", monkeypatch, [b"a" * 100, b"b" * 100])
    wrong = ModelSpec(size=spec.size, sha256="0" * 64, parts=spec.parts)
    with pytest.raises(ModelUnavailable, match="ne reconstituent pas le fichier attendu.*make setup"):
        ensure_model(settings(), wrong)
    assert list(settings().model_path.parent.iterdir()) == []  # no model, no temporary file


@pytest.mark.unit
def test_a_missing_part_package_is_named(tmp_path, monkeypatch):
    spec = ModelSpec(size=1, sha256="0" * 64, parts=("assistant_absent_part_1",))
    with pytest.raises(ModelUnavailable, match="« assistant-absent-part-1 » manquant.*make setup"):
        ensure_model(settings(), spec)


@pytest.mark.unit
def test_the_installed_wheels_carry_the_whole_model_in_order():
    paths = part_paths(QWEN_CODER_1_5B)
    assert [path.name for path in paths] == [f"part{n:02d}.bin" for n in range(1, 23)]
    assert sum(path.stat().st_size for path in paths) == QWEN_CODER_1_5B.size == 1_117_320_768


@pytest.mark.unit
def test_real_size_check_refuses_a_truncated_copy(tmp_path, monkeypatch):
    fake = tmp_path / "tronque.gguf"
    with open(fake, "wb") as stream:
        stream.truncate(QWEN_CODER_1_5B.size - 4096)  # sparse: no disk space used
    monkeypatch.setenv("ASSISTANT_MODEL_PATH", str(fake))
    with pytest.raises(ModelUnavailable, match="1 117 316 672 octets au lieu de 1 117 320 768 octets"):
        ensure_model(settings())


@pytest.mark.unit
def test_real_digest_check_refuses_an_altered_copy_of_the_right_size(tmp_path, monkeypatch):
    fake = tmp_path / "modifie.gguf"
    with open(fake, "wb") as stream:
        stream.write(b"GGUF")
        stream.truncate(QWEN_CODER_1_5B.size)  # sparse, so hashing it reads no disk (under a second)
    monkeypatch.setenv("ASSISTANT_MODEL_PATH", str(fake))
    with pytest.raises(ModelUnavailable, match="empreinte SHA-256"):
        ensure_model(settings())
    assert not fake.with_name(fake.name + ".verified").exists()


# -- the worker-thread machinery with a plain Python producer ----------------------------------

def slow_producer(delays: list[float], answers: list[bool]):
    """Emits one word after each delay and records what the consumer answered (True = stop)."""
    def produce(emit):
        for number, delay in enumerate(delays):
            time.sleep(delay)
            answers.append(emit(f"mot{number}"))
            if answers[-1]:
                return
    return produce


@pytest.mark.unit
def test_first_token_deadline_returns_at_once_and_stops_the_producer():
    answers: list[bool] = []
    start = time.monotonic()
    with pytest.raises(LLMFailure, match="pas commencé à répondre en 0.2 s"):
        list(guarded_stream(slow_producer([0.6, 0.1], answers), first_token_timeout=0.2, timeout=10, who="Le test"))
    assert time.monotonic() - start < 0.5
    time.sleep(0.7)
    assert answers == [True]  # told to stop at its first emission


@pytest.mark.unit
def test_total_deadline_applies_after_the_first_token():
    received = []
    with pytest.raises(LLMFailure, match="pas terminé sa réponse en 0.5 s"):
        for item in guarded_stream(slow_producer([0.0] + [0.2] * 10, []), first_token_timeout=10, timeout=0.5,
                                   who="Le test"):
            received.append(item)
    assert 2 <= len(received) <= 4


@pytest.mark.unit
def test_producer_exception_becomes_a_french_failure():
    def broken(emit):
        emit("début")
        raise RuntimeError("GGML_ASSERT failed")

    stream = guarded_stream(broken, first_token_timeout=5, timeout=5, who="Le modèle local")
    assert next(stream) == "début"
    with pytest.raises(LLMFailure, match="Le modèle local a échoué : RuntimeError : GGML_ASSERT failed"):
        next(stream)


@pytest.mark.unit
def test_a_reader_who_leaves_stops_the_producer():
    answers: list[bool] = []
    stream = guarded_stream(slow_producer([0.0, 0.05, 0.05, 0.05], answers), first_token_timeout=5, timeout=5,
                            who="Le test")
    assert next(stream) == "mot0"
    stream.close()
    time.sleep(0.3)
    assert answers[-1] is True and len(answers) <= 2


# -- configuration and factory -----------------------------------------------------------------

@pytest.mark.unit
def test_none_gives_no_llm(monkeypatch):
    monkeypatch.setenv("ASSISTANT_LLM", "none")
    assert make_llm(settings()) is None


@pytest.mark.unit
def test_unknown_kind_is_refused_in_french(monkeypatch):
    monkeypatch.setenv("ASSISTANT_LLM", "openai")
    with pytest.raises(ModelUnavailable, match="« openai » : valeurs possibles local, ollama, openai-compatible, none"):
        make_llm(settings())


@pytest.mark.unit
def test_a_bad_number_is_reported_when_the_llm_is_requested(monkeypatch):
    monkeypatch.setenv("ASSISTANT_LLM_TIMEOUT", "deux minutes")
    current = settings()  # other commands still get their settings
    assert current.llm_timeout == 300.0 and current.corpus_dir.is_dir()
    with pytest.raises(ModelUnavailable, match="ASSISTANT_LLM_TIMEOUT doit être un nombre positif.*« deux minutes »"):
        make_llm(current)


@pytest.mark.unit
def test_settings_never_print_the_api_key(monkeypatch):
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "cle-secrete")
    assert settings().llm_api_key == "cle-secrete" and "cle-secrete" not in repr(settings())


@pytest.mark.unit
@pytest.mark.parametrize("kind", ["ollama", "openai-compatible"])
def test_servers_need_a_model_name(kind, monkeypatch):
    monkeypatch.setenv("ASSISTANT_LLM", kind)
    monkeypatch.setenv("ASSISTANT_LLM_URL", "http://127.0.0.1:9/v1")
    with pytest.raises(ModelUnavailable, match="ASSISTANT_LLM_MODEL"):
        make_llm(settings())


@pytest.mark.unit
def test_llm_errors_are_assistant_errors_with_their_french_message(monkeypatch):
    monkeypatch.setenv("ASSISTANT_LLM", "openai")
    with pytest.raises(AssistantError) as caught:  # the CLI and the chat catch this one base
        make_llm(settings())
    assert isinstance(caught.value, ModelUnavailable) and isinstance(caught.value, LLMError)
    assert caught.value.message == str(caught.value) and caught.value.message.startswith("ASSISTANT_LLM vaut")
    assert caught.value.exit_code == 2


@pytest.mark.unit
def test_global_llm_refuses_instead_of_becoming_openai(monkeypatch):
    monkeypatch.setattr(LlamaSettings, "_llm", None)  # restored after the test
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fausse-cle-du-mode-ci")
    set_global_llm(None)
    assert isinstance(LlamaSettings.llm, DisabledLLM)
    with pytest.raises(LLMFailure, match="Aucun modèle de langage n'est configuré"):
        LlamaSettings.llm.chat(QUESTION)


# -- server backends, against servers on the loopback ------------------------------------------

class OpenAICompatibleServer(ChatCompletionStream):
    """Answers /v1/chat/completions in the streaming protocol, word by word, after `delay` s."""

    reply = ["Bruxelles", " est", " la", " capitale", "."]
    delay = 0.0
    requests: list[tuple[dict, str]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((body, self.headers.get("Authorization", "")))
        time.sleep(self.delay)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in self.reply:
            self.chunk({"content": word}, None)
        self.chunk({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")



@pytest.fixture
def openai_server(monkeypatch):
    handler = type("Handler", (OpenAICompatibleServer,), {"requests": []})
    with serving(handler) as url:
        monkeypatch.setenv("ASSISTANT_LLM", "openai-compatible")
        monkeypatch.setenv("ASSISTANT_LLM_URL", url)
        monkeypatch.setenv("ASSISTANT_LLM_MODEL", "qwen2.5-7b-instruct")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-fausse-cle-du-mode-ci")
        yield handler


@pytest.mark.integration
def test_openai_compatible_server_streams_through_the_same_interface(openai_server):
    llm = make_llm(settings(), max_tokens=40)
    assert isinstance(llm, ServerLLM)
    deltas = [response.delta for response in llm.stream_chat(QUESTION)]
    assert "".join(deltas) == "Bruxelles est la capitale." and len([d for d in deltas if d]) == 5
    body, authorization = openai_server.requests[-1]
    assert body["model"] == "qwen2.5-7b-instruct" and body["max_tokens"] == 40 and body["temperature"] == 0
    assert body["messages"][1]["content"].startswith("Réponds par un seul mot")
    assert authorization == "Bearer sans-cle"  # never the OPENAI_API_KEY of the environment
    assert llm.chat(QUESTION, max_tokens=7).message.content == "Bruxelles est la capitale."
    assert openai_server.requests[-1][0]["max_tokens"] == 7


@pytest.mark.integration
def test_openai_compatible_server_that_stalls_times_out(openai_server, monkeypatch):
    openai_server.delay = 2.0
    monkeypatch.setenv("ASSISTANT_LLM_FIRST_TOKEN_TIMEOUT", "0.3")
    start = time.monotonic()
    with pytest.raises(LLMFailure, match=r"Le serveur compatible OpenAI \(http://127.0.0.1:\d+/v1\) n'a pas commencé"):
        make_llm(settings()).complete("Bonjour")
    assert time.monotonic() - start < 1.5


@pytest.mark.integration
def test_unreachable_ollama_is_a_french_failure(monkeypatch):
    monkeypatch.setenv("ASSISTANT_LLM", "ollama")
    monkeypatch.setenv("ASSISTANT_LLM_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "qwen2.5")
    with pytest.raises(LLMFailure, match=r"Le serveur Ollama \(http://127.0.0.1:9\) a échoué"):
        make_llm(settings()).chat(QUESTION)


# -- the real local model (joined once per session, loaded once per process) -------------------

# `real_model` (tests/conftest.py): joined once for the whole session, shared with test_generate.


@pytest.fixture
def local_llm(real_model, monkeypatch) -> LocalLLM:
    monkeypatch.setenv("ASSISTANT_MODEL_PATH", str(real_model))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # tests share the machine: one thread, see the Makefile
    monkeypatch.delenv("ASSISTANT_LLM", raising=False)
    return make_llm(settings(), max_tokens=8)


@pytest.mark.slow
def test_real_model_streams_a_french_answer_token_by_token(local_llm):
    responses = list(local_llm.stream_chat(QUESTION))
    words = [response.delta for response in responses if response.delta]
    assert len(words) >= 2  # streamed in pieces, not in one block
    assert "Bruxelles" in responses[-1].message.content  # the chat template is applied
    assert 0 < responses[-1].raw["timings"]["predicted_n"] <= 8


@pytest.mark.slow
def test_real_model_is_loaded_once_and_completes(local_llm, real_model):
    assert isinstance(local_llm, LocalLLM) and local_llm.metadata.is_chat_model
    assert (local_llm.threads, local_llm.generation_threads, local_llm.context_window) == (1, 1, 4096)
    assert (local_llm.max_tokens, local_llm.temperature) == (8, 0)
    again = make_llm(settings(), max_tokens=4)
    assert again.complete("Réponds par oui ou par non : Paris est-elle en France ?").text.strip()
    assert "Bruxelles" in local_llm.chat(QUESTION).message.content
    assert [key for key in local_module._RUNTIMES if key[0] == str(real_model)] == [(str(real_model), 4096, 1, 1)]


@pytest.mark.slow
def test_real_model_timeouts_are_quick_and_leave_it_usable(local_llm):
    # Mid-answer: 400 tokens take 30 s here, the deadline cuts them at 4 s (slack for a busy machine).
    hurried = local_llm.model_copy(update={"timeout": 4.0, "max_tokens": 400})
    received = []
    start = time.monotonic()
    with pytest.raises(LLMFailure, match="pas terminé sa réponse en 4 s"):
        for response in hurried.stream_complete("Écris un long poème sur la mer du Nord."):
            received.append(response.delta)
    assert time.monotonic() - start < 4.5 and received
    # Before the first token: the caller gets its answer at once, the prompt reading goes on.
    impatient = local_llm.model_copy(update={"first_token_timeout": 0.001})
    start = time.monotonic()
    with pytest.raises(LLMFailure, match="pas commencé à répondre"):
        impatient.chat(QUESTION)
    assert time.monotonic() - start < 0.5
    assert "Bruxelles" in local_llm.chat(QUESTION).message.content  # stopped runs freed the model


@pytest.mark.slow
def test_real_runtime_errors_become_french_failures(local_llm):
    with pytest.raises(LLMFailure, match=r"dépasse le contexte du modèle local \(\d+ jetons pour 4096\)"):
        local_llm.complete("mot " * 5000)
    with pytest.raises(LLMFailure, match="Le modèle local a échoué : TypeError"):
        local_llm.chat(QUESTION, stop=[object()])  # not JSON: raised inside the runtime call


@pytest.mark.slow
def test_real_model_streams_without_blocking_the_event_loop(local_llm):
    async def scenario():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        beat = asyncio.create_task(ticker())
        text = "".join([response.delta async for response in await local_llm.astream_chat(QUESTION)])
        beat.cancel()
        return text, ticks

    text, ticks = asyncio.run(scenario())
    assert "Bruxelles" in text and ticks >= 5


EXIT_DURING_GENERATION = """
import sys
from assistant.models.local_llm import LocalLLM
stream = LocalLLM(model_path=sys.argv[1], threads=1, max_tokens=300).stream_complete("Écris un long poème.")
next(stream)  # the generation goes on in its thread, a token every ~0.1 s, while the interpreter exits
print("sortie")
"""


@pytest.mark.slow
def test_exiting_during_a_generation_is_clean(real_model):
    done = subprocess.run([sys.executable, "-c", EXIT_DURING_GENERATION, str(real_model)], capture_output=True,
                          text=True, timeout=180, cwd=REPO_ROOT)
    # Was: abort ("FATAL: exception not rethrown") or SIGSEGV, from a worker calling back into
    # Python from llama.cpp while the interpreter was finalising.
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "sortie"
