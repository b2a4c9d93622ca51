"""A model server (Ollama, or OpenAI-compatible such as vLLM) through its LlamaIndex integration."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

from llama_index.core.base.llms.types import ChatMessage, LLMMetadata
from llama_index.core.llms import LLM
from pydantic import Field

from assistant.models.streaming import Emit, Piece, ThreadedLLM


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
