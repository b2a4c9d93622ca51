"""Chat settings: history off by default, users with hashed passwords, the login secret."""

from __future__ import annotations

import os
import stat

import pytest

from assistant.web import accounts as chat_config
from assistant.config import settings

pytestmark = pytest.mark.unit


def write(text: str):
    path = settings().home / "chat.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file():
    config = chat_config.load_chat_config(settings())
    assert not config.history and not config.auth and config.notes == ()


def test_passwords_are_salted_hashes_that_verify():
    first, second = chat_config.hash_password("motdepasse"), chat_config.hash_password("motdepasse")
    assert first != second and "motdepasse" not in first and first.startswith("scrypt$")
    assert chat_config.verify_password("motdepasse", first)
    assert not chat_config.verify_password("MotDePasse", first)
    assert not chat_config.verify_password("motdepasse", "scrypt$abîmé")


def test_users_and_history_from_the_file():
    stored = chat_config.hash_password("secret-de-formation")
    write(f'history: true\nusers:\n  formatrice: "{stored}"\n')
    config = chat_config.load_chat_config(settings())
    assert config.history and config.auth
    assert chat_config.check_login(config, "formatrice", "secret-de-formation")
    assert not chat_config.check_login(config, "formatrice", "autre")
    assert not chat_config.check_login(config, "inconnu", "secret-de-formation")


def test_history_needs_users(monkeypatch):
    write("history: oui\n")
    config = chat_config.load_chat_config(settings())
    assert not config.history and "demande des comptes utilisateurs" in config.notes[0]


def test_environment_overrides_history(monkeypatch):
    write(f'history: true\nusers:\n  a: "{chat_config.hash_password("x" * 8)}"\n')
    monkeypatch.setenv("ASSISTANT_HISTORY", "0")
    assert not chat_config.load_chat_config(settings()).history


@pytest.mark.parametrize("text, message", [
    ("history: peut-être\n", "valeur « peut-être » invalide"),
    ("users:\n  a: motdepasse-en-clair\n", "mot de passe chiffré"),
    ("historique: true\n", "clé inconnue « historique »"),
    ("- history\n", "doit contenir"),
    ("history: [\n", "YAML invalide"),
])
def test_bad_files_are_explained_in_french(text, message):
    write(text)
    with pytest.raises(chat_config.ChatConfigError, match=message):
        chat_config.load_chat_config(settings())


def test_other_config_file_by_environment(tmp_path, monkeypatch):
    path = tmp_path / "atelier.yaml"
    path.write_text("history: false\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_CHAT_CONFIG", str(path))
    assert chat_config.load_chat_config(settings()).path == path


def test_login_secret_is_generated_once_and_private(monkeypatch):
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET", raising=False)
    first = chat_config.auth_secret(settings())
    assert len(first) >= 40 and chat_config.auth_secret(settings()) == first
    mode = stat.S_IMODE(os.stat(settings().home / "chainlit-auth-secret").st_mode)
    assert mode == 0o600
    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", "fourni-par-l-administrateur")
    assert chat_config.auth_secret(settings()) == "fourni-par-l-administrateur"
