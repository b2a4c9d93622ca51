"""The local model: llama.cpp (`xllamacpp`) in this process, loaded on first use and then kept."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from llama_index.core.base.llms.types import ChatMessage, LLMMetadata, MessageRole
from pydantic import Field

from assistant.models.llm import LLMFailure, ModelUnavailable
from assistant.models.streaming import Emit, Piece, ThreadedLLM, after_generations_stop


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


after_generations_stop(unload_local_models)


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
