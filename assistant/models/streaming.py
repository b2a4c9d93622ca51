"""Generation in a worker thread, so the caller keeps control of time whatever the runtime does,
and `ThreadedLLM`: one LlamaIndex LLM shape for every backend (subclasses only produce pieces)."""

from __future__ import annotations

import asyncio
import atexit
import queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Iterator, Sequence

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    MessageRole,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from pydantic import Field

from assistant.models.llm import LLMError, LLMFailure


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


_AFTER_STOP: list[Callable[[], None]] = []
EXIT_WAIT = 60.0  # seconds; a 256-token batch took up to ~15 s with the other core busy


def after_generations_stop(cleanup: Callable[[], None]) -> None:
    """Run `cleanup` at exit, once the running generations have stopped (frees the local runtimes)."""
    _AFTER_STOP.append(cleanup)


@atexit.register
def _shutdown() -> None:
    # A worker still inside llama.cpp when the interpreter finalises aborts the process (seen:
    # "FATAL: exception not rethrown"): stop them first, then free the runtimes in order. While
    # the prompt is read, a stop is heard only after the current batch (seconds on a busy machine).
    if not stop_generations(wait=1.0):
        print("Arrêt : le modèle local termine l'étape en cours…", file=sys.stderr, flush=True)
        stop_generations(wait=EXIT_WAIT)
    for cleanup in _AFTER_STOP:
        cleanup()


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
