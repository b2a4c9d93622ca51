"""Chat settings an administrator chooses: history persistence, users and their passwords.

One YAML file, `<ASSISTANT_HOME>/chat.yaml` (or `ASSISTANT_CHAT_CONFIG`):

    history: false          # keep conversations (off by default: professional secrecy)
    users:                  # optional: with users, a login page protects the assistant
      formatrice: "scrypt$16384$8$1$…"   # from `assistant password formatrice`

Passwords are stored only as scrypt hashes (standard library, salted).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.config import Settings
from assistant.errors import AssistantError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
TRUE_WORDS = {"1", "true", "yes", "on", "oui", "vrai"}
FALSE_WORDS = {"0", "false", "no", "off", "non", "faux"}


class ChatConfigError(AssistantError):
    """The chat configuration file is unusable (French message)."""


@dataclass(frozen=True)
class ChatConfig:
    history: bool = False
    users: dict[str, str] = field(default_factory=dict)  # name → password hash
    path: Path | None = None
    notes: tuple[str, ...] = ()  # French remarks for the administrator (shown at start)

    @property
    def auth(self) -> bool:
        return bool(self.users)


def config_path(settings: Settings) -> Path:
    return settings.chat_config  # ASSISTANT_CHAT_CONFIG, else <home>/chat.yaml


def load_chat_config(settings: Settings) -> ChatConfig:
    """The file (optional), then `ASSISTANT_HISTORY` (1/0) which overrides `history`."""
    path = config_path(settings)
    raw = read_yaml(path)
    history = as_bool(raw.get("history", False), f"{path} : history")
    users = raw.get("users") or {}
    if not isinstance(users, dict) or not all(isinstance(v, str) and v.startswith("scrypt$") for v in users.values()):
        raise ChatConfigError(f"{path} : « users » doit associer chaque nom à un mot de passe chiffré "
                              "(commande « assistant password NOM »).")
    if settings.history_text:
        history = as_bool(settings.history_text, "ASSISTANT_HISTORY")
    notes = []
    if history and not users:
        # Chainlit lists and resumes conversations only for logged-in users: kept without
        # anyone able to reopen them, they would be stored secrets for nothing.
        notes.append("L'historique des conversations demande des comptes utilisateurs (« users ») : "
                     "il reste désactivé.")
        history = False
    return ChatConfig(history, {str(k): v for k, v in users.items()}, path, tuple(notes))


def read_yaml(path: Path) -> dict:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise ChatConfigError(f"{path} : fichier illisible ({error.__class__.__name__}).") from None
    except yaml.YAMLError:
        raise ChatConfigError(f"{path} : YAML invalide.") from None
    if not isinstance(raw, dict):
        raise ChatConfigError(f"{path} : le fichier doit contenir « history » et/ou « users ».")
    unknown = set(raw) - {"history", "users"}
    if unknown:
        raise ChatConfigError(f"{path} : clé inconnue « {sorted(unknown)[0]} » (clés possibles : history, users).")
    return raw


def as_bool(value, where: str) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise ChatConfigError(f"{where} : valeur « {value} » invalide (true ou false).")


# -- passwords ---------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), b64(salt), b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        computed = hashlib.scrypt(password.encode(), salt=unb64(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, unb64(digest))


def check_login(config: ChatConfig, name: str, password: str) -> bool:
    stored = config.users.get(name)
    return stored is not None and verify_password(password, stored)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


# -- the secret that signs login tokens --------------------------------------------------------

def auth_secret(settings: Settings) -> str:
    """`CHAINLIT_AUTH_SECRET`, else one generated once and kept (owner-only) in ASSISTANT_HOME, so
    a restart does not log everyone out."""
    if settings.chainlit_auth_secret:
        return settings.chainlit_auth_secret
    path = settings.home / "chainlit-auth-secret"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret
