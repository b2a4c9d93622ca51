"""Leave-one-set-out choice of the second encoder's weight in issue spotting (session 15).

Usage: PYTHONHASHSEED=0 OMP_NUM_THREADS=2 .venv/bin/python eval/tune_issue_encoders.py

Issue spotting (assistant/retrieval/issues.py) matches the question to the situations of each
legal issue with e5 and, weighted by `issue_second`, with the universal sentence encoder. Every
setting of a small grid (that weight × `issue_temperature`) is run through the whole retriever on
the tuning sets only (never situations-4, -11, the reserve or BSARD). Then, for each tuning set in
turn, the setting with the most right first units on the nine others is scored on that set: the
sum of those held-out scores, beside the setting without the second encoder scored the same way,
estimates what the choice is worth on questions of a set not seen while choosing.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering.followup import earlier_question, standalone_question  # noqa: E402
from assistant.config import settings  # noqa: E402
from assistant.evaluation.gold import load_gold  # noqa: E402
from assistant.evaluation.metrics import first_rank  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.retrieval.retriever import RetrievalSettings, Retriever  # noqa: E402

TUNING = ("situations", "question-parlementaire", "dans-le-sujet", "situations-3", "situations-5", "situations-6",
          "situations-7", "situations-8", "situations-9", "situations-10")
GRID = {"issue_second": (0.0, 0.1, 0.2, 0.3), "issue_temperature": (0.02, 0.03, 0.04)}
BEFORE = (0.0, 0.02)  # the setting before session 15: e5 alone


class Remembered:
    """An embedding model that embeds each text once for the whole grid (the settings change how
    the vectors are used, not the vectors)."""

    def __init__(self, model):
        self.model, self.seen = model, {}

    def get_query_embeddings(self, texts: list[str]) -> list:
        missing = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if missing:
            self.seen.update(zip(missing, self.model.get_query_embeddings(missing)))
        return [self.seen[t] for t in texts]


def first_units_right(assistant: Assistant, embeddings: dict, items: dict, config: RetrievalSettings) -> dict:
    """Per tuning set, how many answerable questions get an expected unit first."""
    retriever = Retriever(assistant.corpus, assistant.index, embeddings, "hybrid", config)
    right = {}
    for name, questions in items.items():
        right[name] = 0
        for item in questions:
            query = standalone_question(item.question, item.history)
            found = retriever.retrieve(query, 10, context=earlier_question(item.history) if query != item.question else "")
            right[name] += int(not found.abstained and first_rank(item.expected, found.unit_ids[:1]) == 1)
    return right


def main() -> int:
    assistant = Assistant(settings())
    embeddings = {name: Remembered(model) for name, model in assistant.embeddings.items()}
    items = {name: [i for i in load_gold([ROOT / "eval" / "gold" / f"{name}.jsonl"]) if i.answerable and i.expected]
             for name in TUNING}
    default = RetrievalSettings()
    grid = list(itertools.product(*GRID.values()))
    right = {setting: first_units_right(assistant, embeddings, items,
                                        dataclasses.replace(default, issue_second=setting[0], issue_temperature=setting[1]))
             for setting in grid}
    total = sum(len(q) for q in items.values())
    print(f"{total} questions répondables, {len(grid)} réglages (poids USE, température), {len(TUNING)} jeux")
    for setting in grid:
        print(f"  {setting} : {sum(right[setting].values())} premières unités justes")
    held, before = 0, 0
    for name in TUNING:
        chosen = max(grid, key=lambda s: (sum(v for k, v in right[s].items() if k != name), s == BEFORE))
        held += right[chosen][name]
        before += right[BEFORE][name]
        print(f"  {name} laissé de côté : réglage choisi {chosen}, {right[chosen][name]} justes "
              f"(sans second encodeur : {right[BEFORE][name]})")
    print(f"hors jeu, réglage choisi sur les neuf autres : {held} / {total} ; e5 seul : {before} / {total} "
          f"(réglage livré : poids {default.issue_second}, température {default.issue_temperature})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
