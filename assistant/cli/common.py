"""What every command group shares: the French argument parser and the loaders."""

from __future__ import annotations

import argparse
import sys

from assistant.config import Settings
from assistant.corpus import model as corpus_module


class FrenchArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse speaks English; users read French
        self.print_usage(sys.stderr)
        print(f"Erreur : arguments invalides ({message}). Voir « assistant --help ».", file=sys.stderr)
        sys.exit(2)


def load_corpus(settings: Settings) -> corpus_module.Corpus:
    return corpus_module.Corpus.load(settings.corpus_dir)


def make_assistant(settings: Settings):
    from assistant.pipeline import Assistant

    return Assistant(settings)


def report_problems(corpus: corpus_module.Corpus) -> None:
    if corpus.problems:
        print(f"Attention : {len(corpus.problems)} problème(s) dans le corpus "
              "(voir « assistant corpus check »).", file=sys.stderr)
