"""Cross-validated choice of the fusion settings (issues weight, temperature, lexical weight).

Usage: PYTHONHASHSEED=0 OMP_NUM_THREADS=2 .venv/bin/python eval/tune_fusion.py [--folds 5]

Every setting of a small grid is run on the tuning sets (eval/gold/situations.jsonl,
question-parlementaire.jsonl, dans-le-sujet.jsonl; never BSARD, never the reserve). Then, for
each of k folds, the setting with the best MRR@10 on the other folds is scored on the held-out
fold: the mean of those held-out scores estimates what choosing by this grid is worth on
unseen questions of the same kind, beside the shipped default scored the same way.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering.followup import standalone_question  # noqa: E402
from assistant.config import settings  # noqa: E402
from assistant.evaluation.gold import load_gold  # noqa: E402
from assistant.evaluation.metrics import first_rank  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.retrieval.retriever import RetrievalSettings, Retriever  # noqa: E402

TUNING = ("eval/gold/situations.jsonl", "eval/gold/question-parlementaire.jsonl", "eval/gold/dans-le-sujet.jsonl")
GRID = {"issues": (10.0, 15.0, 30.0, 60.0), "issue_temperature": (0.01, 0.02, 0.04), "issue_lexical": (0.002, 0.005, 0.01)}


def reciprocal_ranks(assistant: Assistant, items, config: RetrievalSettings) -> list[float]:
    retriever = Retriever(assistant.corpus, assistant.index, assistant.embeddings, "hybrid", config)
    out = []
    for item in items:
        found = retriever.retrieve(standalone_question(item.question, item.history), 10)
        rank = None if found.abstained else first_rank(item.expected, found.unit_ids[:10])
        out.append(1 / rank if rank else 0.0)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    assistant = Assistant(settings())
    items = [i for i in load_gold([ROOT / p for p in TUNING]) if i.answerable and i.expected]
    default = RetrievalSettings()
    configs = []
    for weight, temperature, lexical in itertools.product(*GRID.values()):
        configs.append(dataclasses.replace(default, weights={**default.weights, "issues": weight},
                                           issue_temperature=temperature, issue_lexical=lexical))
    scores = [reciprocal_ranks(assistant, items, c) for c in configs]
    shipped = reciprocal_ranks(assistant, items, default)
    order = list(range(len(items)))
    random.Random(0).shuffle(order)
    folds = [order[f::args.folds] for f in range(args.folds)]
    held_out, chosen = [], []
    for fold in folds:
        rest = [i for i in order if i not in set(fold)]
        best = max(range(len(configs)), key=lambda c: sum(scores[c][i] for i in rest))
        chosen.append(best)
        held_out += [scores[best][i] for i in fold]
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    print(f"{len(items)} questions répondables, {len(configs)} réglages, {args.folds} plis")
    for f, c in enumerate(chosen):
        cfg = configs[c]
        print(f"  pli {f + 1} : poids {cfg.weights['issues']}, température {cfg.issue_temperature}, "
              f"lexical {cfg.issue_lexical}")
    print(f"MRR@10 hors pli du réglage choisi par validation croisée : {mean(held_out):.3f}")
    print(f"MRR@10 du réglage livré (poids {default.weights['issues']}, température {default.issue_temperature}, "
          f"lexical {default.issue_lexical}) sur les mêmes questions : {mean(shipped):.3f}")
    best_all = max(range(len(configs)), key=lambda c: sum(scores[c]))
    cfg = configs[best_all]
    print(f"meilleur réglage sur tout le jeu : poids {cfg.weights['issues']}, température {cfg.issue_temperature}, "
          f"lexical {cfg.issue_lexical} (MRR@10 {mean(scores[best_all]):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
