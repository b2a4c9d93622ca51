"""`assistant corpus|…` — a thin shell over the library; messages in French."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import corpus as corpus_module
from .config import settings


class UsageError(Exception):
    """A bad argument or input: shown to the user as one French line, exit code 2."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130


class FrenchArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse speaks English; users read French
        self.print_usage(sys.stderr)
        print(f"Erreur : arguments invalides ({message}). Voir « assistant --help ».", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchArgumentParser(prog="assistant", description="Assistant juridique « secret professionnel » pour les CPAS wallons.")
    commands = parser.add_subparsers(parser_class=FrenchArgumentParser, metavar="commande")
    corpus = commands.add_parser("corpus", help="textes du corpus : vérifier, lister, afficher, importer")
    corpus_commands = corpus.add_subparsers(parser_class=FrenchArgumentParser, metavar="action")

    check = corpus_commands.add_parser("check", help="valider tous les fichiers du corpus")
    check.set_defaults(handler=corpus_check)

    listing = corpus_commands.add_parser("list", help="lister les unités (articles, sections)")
    listing.add_argument("--json", action="store_true", help="sortie JSON complète")
    listing.set_defaults(handler=corpus_list)

    show = corpus_commands.add_parser("show", help="afficher une unité")
    show.add_argument("id", help="id de l'unité, p. ex. code-penal-1867:art-458ter")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=corpus_show)

    justel = corpus_commands.add_parser("import-justel", help="importer un texte consolidé Justel (extraction texte du PDF)")
    justel.add_argument("source", type=Path)
    justel.add_argument("--meta", type=Path, required=True, help="métadonnées du document (YAML)")
    justel.add_argument("--stats", action="store_true", help="compter les mots hors lexique avant et après réparation")
    justel.set_defaults(handler=corpus_import_justel)

    chat = commands.add_parser("chat", help="démarrer l'assistant")
    chat.set_defaults(handler=chat_command)
    return parser


def load_corpus() -> corpus_module.Corpus:
    return corpus_module.Corpus.load(settings().corpus_dir)


def corpus_check(args) -> int:
    corpus = load_corpus()
    for problem in corpus.problems:
        print(problem)
    if corpus.problems:
        print(f"{len(corpus.problems)} problème(s) dans le corpus.", file=sys.stderr)
        return 1
    print(f"Corpus valide : {len(corpus.documents)} documents, {len(corpus.units)} unités.")
    return 0


def corpus_list(args) -> int:
    corpus = load_corpus()
    if args.json:
        json.dump([corpus.unit_dict(unit) for unit in corpus.units], sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for unit in corpus.units:
            print(f"{unit.id}\t{corpus_module.unit_label(corpus.document_of(unit), unit)}")
    report_problems(corpus)
    return 0


def corpus_show(args) -> int:
    corpus = load_corpus()
    try:
        unit = corpus.unit(args.id)
    except corpus_module.CorpusError as error:
        raise UsageError(f"{error}. Voir « assistant corpus list ».") from None
    if args.json:
        print(json.dumps(corpus.unit_dict(unit), ensure_ascii=False, indent=1))
    else:
        print(corpus_module.describe(corpus, unit))
    return 0


def corpus_import_justel(args) -> int:
    from .sources import importer

    try:
        result = importer.import_justel(args.source, args.meta, settings().corpus_dir, stats=args.stats)
    except importer.ImportFailure as error:
        raise UsageError(str(error)) from None
    print(result)
    return 0


def chat_command(args) -> int:
    corpus = load_corpus()
    if corpus.problems:
        report_problems(corpus)
        return 1
    print(f"Corpus prêt : {len(corpus.documents)} documents, {len(corpus.units)} unités.")
    print("L'interface de conversation n'est pas encore disponible dans cette version.")
    return 0


def report_problems(corpus: corpus_module.Corpus) -> None:
    if corpus.problems:
        print(f"Attention : {len(corpus.problems)} problème(s) dans le corpus "
              "(voir « assistant corpus check »).", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
