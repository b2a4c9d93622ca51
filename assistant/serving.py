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


def default_factory():
    from . import engine

    return engine.Assistant()


class GenerationGate:
    """One model generation at a time; the others wait their turn and are told so."""

    def __init__(self):
        self._lock = asyncio.Lock()
        self.waiting = 0

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    @asynccontextmanager
    async def turn(self, on_wait: Callable[[int], Awaitable[None]] | None = None):
        """`on_wait(position)` is awaited first when someone else is generating."""
        if self._lock.locked():
            self.waiting += 1
            try:
                if on_wait:
                    await on_wait(self.waiting)
                await self._lock.acquire()
            finally:
                self.waiting -= 1
        else:
            await self._lock.acquire()
        try:
            yield
        finally:
            self._lock.release()


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
