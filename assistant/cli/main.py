"""`assistant corpus|index|ask|eval|chat|password` — a thin shell over the library; messages in French.

Each command group lives in its own module and registers its parsers with `add_commands`.
"""

from __future__ import annotations

import argparse
import sys

from assistant.cli import ask, chat, corpus, eval, index
from assistant.cli.common import FrenchArgumentParser
from assistant.config import Settings
from assistant.errors import AssistantError

GROUPS = (corpus, index, ask, eval, chat)


def main(argv: list[str] | None = None) -> int:
    tolerant_output()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        # Read once here: handlers and the library receive it, nothing below reads the environment.
        return args.handler(args, Settings.from_env())
    except AssistantError as error:  # the one place a failure becomes text: « Erreur : … », its exit code
        print(f"Erreur : {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0


def tolerant_output() -> None:
    """A terminal that cannot show « é » (PYTHONIOENCODING=ascii…) gets « ? », not a traceback."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError, OSError):
            pass  # not a text stream that can be reconfigured: leave it


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchArgumentParser(prog="assistant", description="Assistant juridique « secret professionnel » pour les CPAS wallons.")
    commands = parser.add_subparsers(parser_class=FrenchArgumentParser, metavar="commande")
    for group in GROUPS:
        group.add_commands(commands)
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
