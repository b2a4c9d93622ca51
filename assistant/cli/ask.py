"""`assistant ask`: the answer on the terminal (passages, then the streamed draft) or as JSON."""

from __future__ import annotations

import json
import sys

from assistant.cli import common
from assistant.config import Settings


def add_commands(subparsers) -> None:
    ask = subparsers.add_parser("ask", help="poser une question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--k", type=int, default=5, help="nombre d'articles retenus (1 à 50)")
    ask.add_argument("--mode", choices=["extractive", "generative"], default=None,
                     help="réponse tirée des textes (sans modèle), ou avec un brouillon rédigé par le modèle local (défaut : ASSISTANT_ANSWER_MODE)")
    ask.set_defaults(handler=ask_command)


def ask_command(args, settings: Settings) -> int:
    from assistant import pipeline as engine, render
    from assistant.answering.generative import drain

    # Checked before minutes of loading: a bad question is refused at once (exit code 2).
    question, k = engine.clean_question(args.question), engine.check_k(args.k)
    mode = args.mode or settings.answer_mode  # ASSISTANT_ANSWER_MODE: extractive unless told
    assistant = common.make_assistant(settings)
    reply = assistant.prepare(question, k=k)
    draft_stream = assistant.stream_draft(reply) if mode == "generative" else None
    if args.json:
        if draft_stream is not None:
            reply = drain(draft_stream)
        print(json.dumps(render.reply_json(reply), ensure_ascii=False, indent=1))
        return 0
    # The passages are printed at once; the model's text follows as it is written.
    for chunk in render.terminal_chunks(reply, draft_stream):
        sys.stdout.write(chunk)
        sys.stdout.flush()
    return 0
