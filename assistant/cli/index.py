"""`assistant index build`."""

from __future__ import annotations

from assistant.cli.common import FrenchArgumentParser
from assistant.config import Settings
from assistant.errors import UsageError


def add_commands(subparsers) -> None:
    index = subparsers.add_parser("index", help="index de recherche")
    index_commands = index.add_subparsers(parser_class=FrenchArgumentParser, metavar="action")
    build = index_commands.add_parser("build", help="construire ou mettre à jour l'index (incrémental)")
    build.add_argument("--force", action="store_true", help="tout recalculer")
    build.set_defaults(handler=index_build)



def index_build(args, settings: Settings) -> int:
    # A build only embeds in batches: spinning OpenMP threads are faster there (114 s vs
    # 132 s), while question answering wants them passive (see embeddings.py).
    from assistant import pipeline as engine
    from assistant.models.threads import BUILDING, configure_threads

    configure_threads(settings.omp_threads, BUILDING)
    try:
        print(engine.build_index(settings, force=args.force).summary())
    except OSError as error:  # disk full, folder not writable…: the live index has not changed
        raise UsageError(f"écriture de l'index impossible ({error.strerror or error.__class__.__name__} : "
                         f"{error.filename or settings.index_dir}) ; l'index en service n'a pas changé.") from None
    return 0
