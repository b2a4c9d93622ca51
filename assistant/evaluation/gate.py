"""`assistant corpus update`: publish a corpus change only when the evaluation says it does
not make the assistant worse.

The gate checks the corpus, builds a candidate index version beside the live one (vectors of
unchanged passages reused), runs the gold sets against the candidate, compares with
`eval/baseline.json`, then switches the live index to the candidate — or discards it. With
`accept`, the candidate is published whatever the comparison and becomes the new baseline,
with the reason kept in `eval/CHANGELOG.md`.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from assistant.config import REPO_ROOT, Settings
from assistant.corpus.model import Corpus
from assistant.errors import AssistantError, IndexUnavailable
from assistant.evaluation.gate_report import CHANGELOG_HEADER, TOLERANCE, UpdateReport, changelog_entry, compare, summary
from assistant.evaluation.gold import GoldError, load_gold
from assistant.evaluation.metrics import matches
from assistant.evaluation.runner import Evaluator
from assistant.index.build import IndexBuilder
from assistant.index.live import LiveIndex
from assistant.index.locks import exclusive_update
from assistant.index.pointer import read_pointer
from assistant.retrieval.issues import cue_texts, load_issues

GATE_GOLD = (REPO_ROOT / "eval" / "gold" / "question-parlementaire.jsonl",
             REPO_ROOT / "eval" / "gold" / "situations.jsonl",
             REPO_ROOT / "eval" / "external" / "bsard-secret-professionnel.jsonl")
BASELINE = REPO_ROOT / "eval" / "baseline.json"


class UpdateError(AssistantError):
    """Bad input (corpus, gold set, baseline, options): nothing was changed; French message, exit code 2
    (a refusal by the evaluation is not an error: the report says it, with exit code 3)."""


class CorpusUpdate:
    """`run(accept, reason)` → UpdateReport; UpdateError (French) when the input is bad."""

    def __init__(self, settings: Settings, embeddings: dict | None = None, gold: list[Path] | None = None,
                 baseline: Path = BASELINE, system: str = "hybrid", progress: bool = True):
        self.settings, self.system, self.progress = settings, system, progress
        self._embeddings = embeddings
        self.gold = list(gold or GATE_GOLD)
        self.baseline_path = baseline
        self.changelog_path = baseline.parent / "CHANGELOG.md"

    def run(self, accept: bool = False, reason: str | None = None) -> UpdateReport:
        """Build a candidate, evaluate it, publish it or not. One update at a time per index
        folder: a second one is refused at once, in French (IndexBusy, exit code 2)."""
        with exclusive_update(self.settings.index_dir):
            return self._run(accept, reason)

    def _run(self, accept: bool, reason: str | None) -> UpdateReport:
        if accept and not (reason or "").strip():
            raise UpdateError("--accept demande une raison : --reason « ce qui change et pourquoi ».")
        corpus = self._corpus()
        items = self._gold_items()
        baseline = self._baseline()
        if baseline is None and not accept:
            raise UpdateError(f"aucune référence d'évaluation ({self.baseline_path}) : enregistrez-en une avec "
                              "« assistant corpus update --accept --reason « première référence » ».")
        builder = IndexBuilder(self.settings.index_dir, self.embeddings(), progress=self.progress,
                               chroma_url=self.settings.chroma_url, queries=cue_texts(load_issues()))
        try:
            live = read_pointer(self.settings.index_dir)
            build = builder.build(corpus, switch=False)
        except IndexUnavailable as error:
            raise UpdateError(str(error)) from None
        live_version = live["version"] if live else None
        new = build.pointer["version"] != live_version
        units = unit_changes(self.settings.index_dir, live_version, build.pointer["version"]) if new \
            else {"added": [], "changed": [], "removed": []}
        if not new and not accept:
            return UpdateReport("unchanged", live_version, None, units)
        try:
            results = self._evaluate(corpus, build.pointer, items)
        except BaseException:
            if new:
                builder.discard(build.pointer["version"])
            raise
        report = UpdateReport("published", live_version, build.pointer["version"], units,
                              compare(baseline, results, items), missing_citations(corpus, items),
                              (baseline or {}).get("created"))
        if report.failures and not accept:
            builder.discard(build.pointer["version"])
            report.status = "refused"
            return report
        if new:
            builder.publish(build.pointer)
        if accept:
            report.status = "accepted"
            report.baseline_file, report.changelog_file = self.baseline_path, self.changelog_path
            self._record(report, results, corpus, reason.strip())
        return report

    def embeddings(self) -> dict:
        if self._embeddings is None:
            from assistant.models.embeddings import embeddings_for

            self._embeddings = embeddings_for(self.settings)
        return self._embeddings

    def _corpus(self) -> Corpus:
        corpus = Corpus.load(self.settings.corpus_dir)
        if corpus.problems:
            listed = "\n".join(f"  {p}" for p in corpus.problems[:20])
            raise UpdateError(f"le corpus contient {len(corpus.problems)} problème(s) ; rien n'est publié :\n{listed}")
        return corpus

    def _gold_items(self) -> dict[str, list]:
        try:
            return {gold_name(path): load_gold([path]) for path in self.gold}
        except GoldError as error:
            raise UpdateError(str(error)) from None

    def _baseline(self) -> dict | None:
        try:
            baseline = json.loads(self.baseline_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            baseline = None
        if not (isinstance(baseline, dict) and isinstance(baseline.get("gold"), dict)):
            raise UpdateError(f"{self.baseline_path} est illisible ou abîmé : remettez la version du dépôt, ou "
                              "enregistrez une nouvelle référence avec --accept --reason « … ».")
        return baseline

    def _evaluate(self, corpus: Corpus, pointer: dict, items: dict[str, list]) -> dict[str, dict]:
        from assistant.retrieval.retriever import Retriever

        index = LiveIndex(self.settings.index_dir, pointer, self.settings.chroma_url)
        retriever = Retriever(corpus, index, self.embeddings(), self.system)

        def search(query: str):
            found = retriever.retrieve(query, 10)
            return found.unit_ids, found.abstained

        return {name: Evaluator(search, self.system).run(gold) for name, gold in items.items()}

    def _record(self, report: UpdateReport, results: dict[str, dict], corpus: Corpus, reason: str) -> None:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        baseline = {"created": now, "reason": reason, "index_version": report.candidate, "system": self.system,
                    "corpus": {"documents": len(corpus.documents), "units": len(corpus.units)},
                    "tolerance": TOLERANCE, "gold": {name: summary(result) for name, result in results.items()}}
        write_json(self.baseline_path, baseline)
        with self.changelog_path.open("a", encoding="utf-8") as log:
            if self.changelog_path.stat().st_size == 0:
                log.write(CHANGELOG_HEADER)
            log.write(changelog_entry(report, now, reason, baseline))


def gold_name(path: Path) -> str:
    """eval/gold/x.jsonl for files of the repository, the path as given otherwise."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def unit_changes(index_dir: Path, old_version: str | None, new_version: str) -> dict[str, list[str]]:
    """Units added, changed (a passage of theirs differs) and removed between two versions."""
    old = unit_hashes(index_dir, old_version) if old_version else {}
    new = unit_hashes(index_dir, new_version)
    return {"added": [u for u in new if u not in old],
            "changed": [u for u in new if u in old and old[u] != new[u]],
            "removed": [u for u in old if u not in new]}


def unit_hashes(index_dir: Path, version: str) -> dict[str, tuple]:
    try:
        records = json.loads((index_dir / "versions" / version / "chunks.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    units: dict[str, list] = {}
    for record in records:
        units.setdefault(record["unit_id"], []).append(record["hash"])
    return {unit: tuple(hashes) for unit, hashes in units.items()}


def missing_citations(corpus: Corpus, items: dict[str, list]) -> list[str]:
    """Expected citations of the gold sets that no unit of the corpus answers to any more."""
    ids = [unit.id for unit in corpus.units]
    expected = {e for gold in items.values() for item in gold for e in item.expected}
    return sorted(e for e in expected if not any(matches(e, unit_id) for unit_id in ids))


def write_json(path: Path, data: dict) -> None:
    from assistant.files import write_atomically

    write_atomically(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
