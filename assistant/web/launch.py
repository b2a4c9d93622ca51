"""`assistant chat`: prepare Chainlit's folder, then serve assistant/app.py.

Chainlit reads its settings from `<app root>/.chainlit/` and writes into the app root (session
files, one translation file per language it knows). The files shipped in
`assistant/web/static/` are therefore copied at each start into `<ASSISTANT_HOME>/chainlit/`:
the repository stays clean and may be read-only, edits to the shipped files apply at the next
start, and every ASSISTANT_HOME (one per test) has its own folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

from assistant.config import Settings

CHAT_FILES = Path(__file__).resolve().parent / "static"
APP_FILE = Path(__file__).resolve().parent / "app.py"
PRODUCT_IMAGES = ("logo_light.svg", "logo_dark.svg", "favicon.svg")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Libraries that would otherwise try to phone home (all fail offline, some slowly).
OFFLINE_ENV = {"DO_NOT_TRACK": "1", "TRACELOOP_TELEMETRY": "false", "OTEL_SDK_DISABLED": "true",
               "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def allowed_origins(host: str, port: int) -> list[str]:
    """Only the page itself may call the server when it listens on the loopback; a server open
    to a workshop room is reached under addresses it cannot know."""
    if host not in LOOPBACK_HOSTS:
        return ["*"]
    return [f"http://{name}:{port}" for name in ("127.0.0.1", "localhost")]


def prepare_app_root(settings: Settings, host: str, port: int) -> Path:
    root = settings.home / "chainlit"
    (root / ".chainlit" / "translations").mkdir(parents=True, exist_ok=True)
    (root / "public").mkdir(exist_ok=True)
    template = (CHAT_FILES / "config.toml").read_text(encoding="utf-8")
    config = template.replace("{allow_origins}", json.dumps(allowed_origins(host, port)))
    (root / ".chainlit" / "config.toml").write_text(config, encoding="utf-8")
    for language in ("fr-FR", "fr", "en-US"):  # whatever the browser asks, the UI is French
        shutil.copyfile(CHAT_FILES / "fr-FR.json", root / ".chainlit" / "translations" / f"{language}.json")
    for name in ("chainlit.md", "chainlit_fr-FR.md"):
        shutil.copyfile(CHAT_FILES / "chainlit.md", root / name)
    shutil.copyfile(CHAT_FILES / "theme.json", root / "public" / "theme.json")
    # The product's own logo and icon, served by Chainlit at /logo and /favicon (the latter is also
    # the assistant's avatar and the login page's picture) instead of the framework's.
    for name in ("assistant.css", "assistant.js", *PRODUCT_IMAGES):
        shutil.copyfile(CHAT_FILES / name, root / "public" / name)
    return root


def configure_environment(settings: Settings, host: str, port: int, auth: bool) -> Path:
    """Environment Chainlit reads when it is imported: call before any `import chainlit`."""
    # Chainlit takes its settings from the environment only, so this is the one place that writes it.
    from assistant.web.accounts import auth_secret

    root = prepare_app_root(settings, host, port)
    os.environ["CHAINLIT_APP_ROOT"] = str(root)
    os.environ["CHAINLIT_HOST"], os.environ["CHAINLIT_PORT"] = host, str(port)
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    if auth:
        os.environ["CHAINLIT_AUTH_SECRET"] = auth_secret(settings)
    return root


def announce_when_listening(host: str, port: int, text: str, say=None, timeout: float = 600.0) -> threading.Thread:
    """Say `text` once the server accepts connections (a browser opened earlier gets an error page)."""
    say = say or (lambda message: print(message, flush=True))

    def wait() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((host, port), timeout=1):
                    say(text)
                    return
            except OSError:
                time.sleep(0.2)

    thread = threading.Thread(target=wait, name="annonce-pret", daemon=True)
    thread.start()
    return thread


def serve(settings: Settings, assistant, host: str, port: int, open_browser: bool, auth: bool) -> None:
    """Blocks until the server stops (Ctrl+C)."""
    configure_environment(settings, host, port, auth)
    from chainlit.cli import run_chainlit  # reads CHAINLIT_APP_ROOT at import
    from chainlit.config import config

    from assistant.web import privacy
    from assistant.web import shared as serving

    serving.SHARED.set(assistant)
    privacy.install_log_redaction()
    # Chainlit's own notices are English and for developers (the CLI has said where to go).
    logging.getLogger("chainlit").setLevel(logging.ERROR)
    config.run.headless = not open_browser
    run_chainlit(str(APP_FILE))


REMOTE_LINK_RE = re.compile(r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>", re.S)


def offline_french_page(page: str) -> str:
    """Chainlit's page asks a font CDN and a KaTeX stylesheet for nothing we use (offline, the
    browser should not even try), and says it is in English."""
    return REMOTE_LINK_RE.sub("", page).replace('<html lang="en">', '<html lang="fr">')
