"""`assistant chat` (the browser UI) and `assistant password` (accounts for chat.yaml)."""

from __future__ import annotations

import sys

from assistant.cli import common
from assistant.config import Settings
from assistant.errors import UsageError


def add_commands(subparsers) -> None:
    chat = subparsers.add_parser("chat", help="démarrer l'assistant dans le navigateur")
    chat.add_argument("--host", default=None,
                      help="adresse d'écoute (défaut : 127.0.0.1, ou ASSISTANT_CHAT_HOST)")
    chat.add_argument("--port", type=int, default=None,
                      help="port (défaut : 8000, ou ASSISTANT_CHAT_PORT)")
    chat.add_argument("--open", action="store_true", help="ouvrir le navigateur au démarrage")
    chat.set_defaults(handler=chat_command)

    password = subparsers.add_parser("password", help="chiffrer un mot de passe pour chat.yaml (comptes utilisateurs)")
    password.add_argument("name", nargs="?", default="nom", help="nom de l'utilisateur")
    password.set_defaults(handler=password_command)


def chat_command(args, settings: Settings) -> int:
    """Load the assistant (building the index first if missing), then serve the chat UI."""
    from assistant.web import accounts as chat_config
    from assistant.web.launch import announce_when_listening, serve

    host = args.host if args.host is not None else settings.chat_host
    port = args.port if args.port is not None else env_port(settings)
    check_port(host, port)
    config = chat_config.load_chat_config(settings)
    for note in config.notes:
        print(f"Attention : {note}", file=sys.stderr)
    assistant = common.make_assistant(settings)
    preload_local_model(assistant)
    where = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}"
    print(f"Démarrage du serveur ({len(assistant.corpus.documents)} documents, {len(assistant.corpus.units)} unités ; "
          f"historique des conversations : {'activé' if config.history else 'désactivé'} ; "
          f"connexion : {'par mot de passe' if config.auth else 'sans compte'})…", flush=True)
    announce_when_listening(host, port, f"Assistant prêt : ouvrez {where} dans votre navigateur "
                                             "(Ctrl+C pour arrêter).")
    serve(settings, assistant, host, port, args.open, config.auth)
    return 0


def preload_local_model(assistant) -> None:
    """A server whose answers are drafted by the local model loads it before anyone connects:
    llama.cpp holds Python's lock while loading (12 s measured on a busy machine), which would
    freeze every conversation at the first draft."""
    from assistant.models.llm import LLMError

    if assistant.settings.answer_mode == "generative" and assistant.settings.llm == "local":
        print("Chargement du modèle local…", file=sys.stderr, flush=True)
        llm = assistant.llm()
        try:
            if hasattr(llm, "load"):
                llm.load()
        except LLMError as error:  # each draft will say it; the passages still come
            print(f"Attention : {error}", file=sys.stderr)


def env_port(settings: Settings) -> int:
    raw = settings.chat_port_text or "8000"
    if not raw.isdigit():
        raise UsageError(f"ASSISTANT_CHAT_PORT doit être un numéro de port (valeur reçue : « {raw} »).")
    return int(raw)


def check_port(host: str, port: int) -> None:
    """A busy port is said before minutes of loading, in French (uvicorn would say it in English)."""
    import socket

    if not 1 <= port <= 65535:
        raise UsageError("--port doit être compris entre 1 et 65535.")
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise UsageError(f"impossible d'écouter sur {host}:{port} ({error.strerror or error}) ; "
                         "le port est peut-être déjà utilisé : choisissez-en un autre avec --port.") from None


def password_command(args, settings: Settings) -> int:
    """Prints the line to paste under « users: » in chat.yaml (the password is never stored)."""
    import getpass

    from assistant.web import accounts as chat_config

    if sys.stdin.isatty():
        first = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Encore une fois : ") != first:
            raise UsageError("les deux mots de passe diffèrent.")
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < 8:
        raise UsageError("le mot de passe doit compter au moins 8 caractères.")
    print(f"Ajoutez cette ligne sous « users: » dans {chat_config.config_path(settings)} :")
    print(f'  {args.name}: "{chat_config.hash_password(first)}"')
    return 0
