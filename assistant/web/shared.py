"""One assistant per process, shared by every chat session, and one generation at a time.

The assistant (corpus, index, models) is read-only once loaded, so sessions share it; its
heavy calls are synchronous and run in worker threads so the server keeps answering. On two
cores a second generation would only halve the speed of the first: generations take turns.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable, Iterator


class SharedAssistant:
    """`get()` loads the assistant once (thread-safe); `prepare` runs retrievals one at a time."""

    def __init__(self, factory: Callable[[], object] | None = None):
        self._factory = factory
        self._assistant = None
        self._loading = threading.Lock()
        self._retrieving = threading.Lock()

    def set(self, assistant) -> None:
        """The CLI loads it before starting the server (index built first, with progress)."""
        self._assistant = assistant

    @property
    def loaded(self) -> bool:
        return self._assistant is not None

    def get(self):
        if self._assistant is None:
            with self._loading:
                if self._assistant is None:
                    self._assistant = (self._factory or default_factory)()
        return self._assistant

    def prepare(self, question: str, history: list[dict], k: int = 5):
        """Retrieval reads shared index structures: one question at a time (≈0.1 s each)."""
        assistant = self.get()
        with self._retrieving:
            return assistant.prepare(question, history, k=k)


def generation_capacity(settings) -> int:
    """Drafts written at once: one for the local model (two would only halve its speed on two
    cores); ASSISTANT_LLM_PARALLEL for a server that batches requests (vLLM…)."""
    return 1 if settings.llm == "local" else settings.llm_parallel


def default_factory():
    from assistant import pipeline as engine

    return engine.Assistant()


class GenerationGate:
    """At most `capacity` model generations at once (one for the local model), first come first
    served. The waiting are told their place in the queue, and told again each time it moves (a
    participant who leaves, an answer finished), each in its own task so that Chainlit updates
    the right conversation."""

    def __init__(self, capacity: int = 1):
        self.capacity = max(1, capacity)
        self._running = 0
        self._queue: list[_Waiter] = []

    @property
    def busy(self) -> bool:
        return self._running >= self.capacity

    @property
    def waiting(self) -> int:
        return len(self._queue)

    @asynccontextmanager
    async def turn(self, on_wait: Callable[[int], Awaitable[None]] | None = None):
        """`on_wait(position)` is awaited while others are ahead: position 1 = the next turn."""
        if self.busy or self._queue:
            await self._wait(on_wait)
        else:
            self._running += 1
        try:
            yield
        finally:
            self._release()

    async def _wait(self, on_wait) -> None:
        waiter, told = _Waiter(), None
        self._queue.append(waiter)
        try:
            while True:
                waiter.moved.clear()
                if waiter.granted:
                    return
                position = self._queue.index(waiter) + 1
                if on_wait and position != told:
                    told = position
                    await on_wait(position)
                await waiter.moved.wait()
        except BaseException:  # cancelled (« stop », a closed page): leave the queue or pass the turn on
            if waiter.granted:
                self._release()
            else:
                self._queue.remove(waiter)
                self._moved()
            raise

    def _release(self) -> None:
        if self._queue:
            first = self._queue.pop(0)
            first.granted = True  # handed over: as many run as before
            first.moved.set()
        else:
            self._running -= 1
        self._moved()

    def _moved(self) -> None:
        for waiter in self._queue:
            waiter.moved.set()


class _Waiter:
    def __init__(self):
        self.granted = False
        self.moved = asyncio.Event()


_DONE = object()


async def stream_in_thread(make_iterator: Callable[[], Iterator[str]]) -> AsyncIterator[str]:
    """Items of a blocking iterator, produced in a worker thread, consumed without blocking the
    event loop. If the consumer stops (the user pressed « stop »), the iterator is closed."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()

    def produce() -> None:
        iterator = make_iterator()
        try:
            for item in iterator:
                loop.call_soon_threadsafe(queue.put_nowait, item)
                if stop.is_set():
                    break
        except BaseException as error:  # handed to the consumer, raised there
            loop.call_soon_threadsafe(queue.put_nowait, error)
        finally:
            close = getattr(iterator, "close", None)
            if close:
                close()
            loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    loop.run_in_executor(None, produce)
    try:
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # the worker stops at its next item and closes the iterator itself


SHARED = SharedAssistant()  # the process's assistant, set by `assistant chat` before serving
