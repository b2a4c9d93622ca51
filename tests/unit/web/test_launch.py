"""Chainlit's folder prepared under ASSISTANT_HOME; the page made offline; `assistant chat`,
`assistant password` and `assistant eval export-feedback` from the command line."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import tomllib

import pytest

from assistant.web import accounts as chat_config
from assistant.web import launch as chat_server
from assistant.web import data_layer as feedback
from assistant.config import settings
from tests.conftest import run_cli

pytestmark = pytest.mark.unit


def test_app_root_is_prepared_from_the_shipped_files():
    root = chat_server.prepare_app_root(settings(), "127.0.0.1", 8123)
    assert root == settings().home / "chainlit"
    config = tomllib.loads((root / ".chainlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["project"]["allow_origins"] == ["http://127.0.0.1:8123", "http://localhost:8123"]
    assert config["UI"]["language"] == "fr-FR" and config["features"]["spontaneous_file_upload"]["enabled"] is False
    french = json.loads((chat_server.CHAT_FILES / "fr-FR.json").read_text(encoding="utf-8"))
    for language in ("fr-FR", "fr", "en-US"):
        translation = root / ".chainlit" / "translations" / f"{language}.json"
        assert json.loads(translation.read_text(encoding="utf-8")) == french
    assert "ne donne pas d'avis juridique" in (root / "chainlit.md").read_text(encoding="utf-8").replace("**", "")
    assert json.loads((root / "public" / "theme.json").read_text(encoding="utf-8"))["custom_fonts"] == []
    assert (root / "public" / "assistant.js").exists() and (root / "public" / "assistant.css").exists()
    for name in ("logo_light.svg", "logo_dark.svg", "favicon.svg"):  # served at /logo and /favicon
        assert (root / "public" / name).read_bytes() == (chat_server.CHAT_FILES / name).read_bytes()


def test_product_logo_names_the_product_not_the_framework():
    """The welcome screen's and login page's logo is the product's name, in both themes."""
    root = chat_server.prepare_app_root(settings(), "127.0.0.1", 8123)
    name = tomllib.loads((root / ".chainlit" / "config.toml").read_text(encoding="utf-8"))["UI"]["name"]
    for theme in ("light", "dark"):
        logo = (chat_server.CHAT_FILES / f"logo_{theme}.svg").read_text(encoding="utf-8")
        assert f">{name}</text>" in logo and "chainlit" not in logo.lower()
    assert "chainlit" not in (chat_server.CHAT_FILES / "favicon.svg").read_text(encoding="utf-8").lower()


def test_french_translation_is_complete():
    """Every text of Chainlit's interface has a French version (the English file is the reference)."""
    import chainlit

    reference = json.loads((chat_server.Path(chainlit.__file__).parent / "translations" / "en-US.json").read_text())
    french = json.loads((chat_server.CHAT_FILES / "fr-FR.json").read_text(encoding="utf-8"))

    def keys(tree, prefix=""):
        return {k for key, value in tree.items()
                for k in (keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key})}

    assert keys(reference) == keys(french)


def test_origins_open_only_when_listening_beyond_the_loopback():
    assert chat_server.allowed_origins("0.0.0.0", 8000) == ["*"]


def test_page_asks_nothing_from_the_internet():
    page = ('<html lang="en"><link rel="preconnect" href="https://fonts.googleapis.com" />\n<link\n rel="stylesheet"\n'
            ' href="https://cdn.jsdelivr.net/npm/katex@0.16.22/dist/katex.min.css"\n/>'
            '<link rel="stylesheet" href="/public/assistant.css"></html>')
    kept = '<html lang="fr">\n<link rel="stylesheet" href="/public/assistant.css"></html>'
    assert chat_server.offline_french_page(page) == kept


def test_export_feedback_command(capsys, tmp_path):
    path = feedback.database_path(settings())

    async def rate():
        from chainlit.context import init_http_context
        from chainlit.types import Feedback

        init_http_context()
        layer = feedback.make_data_layer(path, history=False)
        layer.recent.remember("r1", {"question": "La police peut-elle lire le dossier ?", "citations": []})
        await layer.upsert_feedback(Feedback(forId="r1", value=0, threadId="t", comment=None))

    asyncio.run(rate())
    out = tmp_path / "candidats.jsonl"
    code, stdout, stderr = run_cli(capsys, "eval", "export-feedback", "--out", str(out))
    assert code == 0, stderr
    assert f"1 réponse(s) jugée(s) insatisfaisante(s) écrite(s) dans {out}" in stdout
    assert json.loads(out.read_text(encoding="utf-8"))["question"] == "La police peut-elle lire le dossier ?"


def test_eval_still_requires_a_gold_file(capsys):
    code, _, stderr = run_cli(capsys, "eval")
    assert code == 2 and "indiquez au moins un jeu de questions avec --gold" in stderr


def test_password_command_prints_a_hash_that_verifies():
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "password", "formatrice"], input="secret-atelier\n",
                          capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    name, stored = line.split(": ", 1)
    assert name.strip() == "formatrice" and chat_config.verify_password("secret-atelier", stored.strip('"'))
    short = subprocess.run([sys.executable, "-m", "assistant.cli", "password"], input="court\n",
                           capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert short.returncode == 2 and "au moins 8 caractères" in short.stderr


def test_chat_on_a_busy_port_says_so_in_french(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        code, _, stderr = run_cli(capsys, "chat", "--port", str(busy.getsockname()[1]))
    assert code == 2 and "choisissez-en un autre avec --port" in stderr and "Traceback" not in stderr


def test_chat_with_a_broken_config_says_why(capsys):
    (settings().home / "chat.yaml").write_text("users: [\n", encoding="utf-8")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    code, _, stderr = run_cli(capsys, "chat", "--port", str(port))
    assert code == 2 and "YAML invalide" in stderr


@pytest.mark.unit
def test_ready_is_said_only_once_the_port_accepts_connections():
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
    said, spoke = [], threading.Event()
    thread = chat_server.announce_when_listening("127.0.0.1", port, "prêt", say=lambda text: (said.append(text), spoke.set()))
    assert not spoke.wait(0.6) and said == []  # nothing listens yet
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()
        assert spoke.wait(5)
    thread.join(5)
    assert said == ["prêt"] and not thread.is_alive()
