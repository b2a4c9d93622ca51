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
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import REPO_ROOT, Settings
from assistant.corpus.model import Corpus
from assistant.evaluation.runner import Evaluator, GoldError, load_gold, matches
from assistant.index.store import IndexBuilder, IndexUnavailable, LiveIndex, read_pointer

GATE_GOLD = (REPO_ROOT / "eval" / "gold" / "question-parlementaire.jsonl",
             REPO_ROOT / "eval" / "external" / "bsard-secret-professionnel.jsonl")
BASELINE = REPO_ROOT / "eval" / "baseline.json"
# Largest change allowed against the baseline, per gold set, in absolute value: a drop for the
# first four, a rise for the false-refusal rate. One question of the 43 answerable gold
# questions weighs 0.023 in hit@5; one of the 11 out-of-corpus questions 0.09 in abstention.
TOLERANCE = {"hit@5": 0.03, "recall@10": 0.03, "mrr@10": 0.03, "abstention": 0.10, "refus à tort": 0.02}
METRICS = {  # name shown → (section, key) in the eval JSON; False: lower is better
    "hit@1": ("retrieval", "hit@1"), "hit@5": ("retrieval", "hit@5"), "hit@10": ("retrieval", "hit@10"),
    "recall@10": ("retrieval", "recall@10"), "mrr@10": ("retrieval", "mrr@10"), "ndcg@10": ("retrieval", "ndcg@10"),
    "abstention": ("abstention", "accuracy"), "refus à tort": ("abstention", "false_refusal_rate"),
}
LOWER_IS_BETTER = {"refus à tort"}
EXIT_PUBLISHED, EXIT_BAD_INPUT, EXIT_REFUSED = 0, 2, 3


class UpdateError(Exception):
    """Bad input (corpus, gold set, baseline, options): nothing was changed; French message."""


@dataclass
class SetComparison:
    """One gold set: metrics before and after, and the questions whose outcome changed."""

    name: str
    n: int
    before: dict | None  # metric → value in the baseline (None: no baseline for this set)
    after: dict
    questions: list[tuple[str, str, bool]] = field(default_factory=list)  # (id, change, is a regression)

    def failures(self) -> list[str]:
        if self.before is None:
            return [f"{self.name} : aucune référence pour ce jeu (enregistrez-en une avec --accept)"]
        found = []
        for metric, tolerance in TOLERANCE.items():
            drop = self.drop(metric)
            if drop is not None and drop > tolerance + 1e-9:
                verb = "monte" if metric in LOWER_IS_BETTER else "baisse"
                found.append(f"{self.name} : {metric} {verb} de {drop:.3f} "
                             f"({self.before[metric]:.3f} → {self.after[metric]:.3f} ; tolérance {tolerance:.2f})")
        return found

    def drop(self, metric: str) -> float | None:
        """How much worse the metric got (negative: better); None when it does not apply."""
        if self.before is None or self.before.get(metric) is None or self.after.get(metric) is None:
            return None
        change = self.after[metric] - self.before[metric]
        return change if metric in LOWER_IS_BETTER else -change


@dataclass
class UpdateReport:
    status: str  # published | accepted | refused | unchanged
    live_before: str | None
    candidate: str | None
    units: dict[str, list[str]]
    sets: list[SetComparison] = field(default_factory=list)
    missing_citations: list[str] = field(default_factory=list)
    baseline_date: str | None = None
    baseline_file: Path | None = None
    changelog_file: Path | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_REFUSED if self.status == "refused" else EXIT_PUBLISHED

    @property
    def failures(self) -> list[str]:
        return [failure for comparison in self.sets for failure in comparison.failures()]

    def as_dict(self) -> dict:
        return {"status": self.status, "exit_code": self.exit_code, "live_before": self.live_before,
                "candidate": self.candidate, "units": self.units, "failures": self.failures,
                "missing_citations": self.missing_citations, "tolerance": TOLERANCE,
                "sets": [{"gold": s.name, "n": s.n, "before": s.before, "after": s.after,
                          "questions": [{"id": i, "change": c, "regression": r} for i, c, r in s.questions]}
                         for s in self.sets]}

    def text(self) -> str:
        """The report a maintainer reads: units, metrics side by side, questions, decision."""
        lines = [f"Index en service avant : {self.live_before or '(aucun)'} ; candidat : {self.candidate or '(aucun)'}.",
                 unit_summary(self.units)]
        for kind, sign in (("added", "+"), ("changed", "~"), ("removed", "-")):
            lines += [f"  {sign} {unit_id}" for unit_id in self.units[kind][:40]]
            if len(self.units[kind]) > 40:
                lines.append(f"  … et {len(self.units[kind]) - 40} autre(s)")
        if self.missing_citations:
            lines.append("Citations attendues par les jeux de questions et absentes du corpus : "
                         + ", ".join(self.missing_citations))
        for comparison in self.sets:
            lines += ["", *comparison_lines(comparison, self.baseline_date)]
        lines += ["", self.decision()]
        return "\n".join(lines)

    def decision(self) -> str:
        if self.status == "unchanged":
            return "Rien à publier : l'index en service correspond déjà au corpus (code 0)."
        if self.status == "refused":
            return ("REFUSÉ par l'évaluation (code 3) :\n" + "\n".join(f"  - {f}" for f in self.failures)
                    + f"\nL'index en service reste {self.live_before or '(aucun)'} ; le candidat est supprimé. "
                      "Corrigez le fichier du corpus ou remettez l'ancien (copie gardée par « corpus add --replace » "
                      "dans le dossier corpus-backups d'ASSISTANT_HOME), ou, si la baisse est voulue, relancez avec "
                      "--accept --reason « … ».")
        published = f"Publié (code 0) : l'index {self.candidate} est en service."
        if self.status == "accepted":
            published += f" Nouvelle référence enregistrée ({self.baseline_file}, raison dans {self.changelog_file})."
        return published


def unit_summary(units: dict[str, list[str]]) -> str:
    return (f"Unités : {len(units['added'])} ajoutée(s), {len(units['changed'])} modifiée(s), "
            f"{len(units['removed'])} retirée(s).")


def comparison_lines(comparison: SetComparison, baseline_date: str | None) -> list[str]:
    since = f" (référence du {baseline_date})" if baseline_date else ""
    lines = [f"{comparison.name} — {comparison.n} questions{since}",
             f"  {'métrique':<14}{'référence':>10}{'candidat':>10}{'écart':>9}  tolérance"]
    for metric, value in comparison.after.items():
        before = comparison.before.get(metric) if comparison.before else None
        tolerance = TOLERANCE.get(metric)
        bound = "" if tolerance is None else (f"+{tolerance:.2f}" if metric in LOWER_IS_BETTER else f"-{tolerance:.2f}")
        if value is None:  # e.g. abstention on a set without out-of-corpus questions
            lines.append(f"  {metric:<14}{'n/a':>10}{'n/a':>10}")
            continue
        if before is None:
            lines.append(f"  {metric:<14}{'–':>10}{value:>10.3f}{'':>9}  {bound}")
            continue
        drop = comparison.drop(metric)
        flag = " ✘" if tolerance is not None and drop is not None and drop > tolerance + 1e-9 else ""
        lines.append(f"  {metric:<14}{before:>10.3f}{value:>10.3f}{value - before:>+9.3f}  {bound}{flag}")
    if comparison.questions:
        lines.append("  Questions dont le résultat change :")
        lines += [f"    {'↓' if regression else '↑'} {qid} : {change}" for qid, change, regression in comparison.questions]
    elif comparison.before is not None:
        lines.append("  Aucune question ne change de résultat.")
    return lines


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
        if accept and not (reason or "").strip():
            raise UpdateError("--accept demande une raison : --reason « ce qui change et pourquoi ».")
        corpus = self._corpus()
        items = self._gold_items()
        baseline = self._baseline()
        if baseline is None and not accept:
            raise UpdateError(f"aucune référence d'évaluation ({self.baseline_path}) : enregistrez-en une avec "
                              "« assistant corpus update --accept --reason « première référence » ».")
        builder = IndexBuilder(self.settings.index_dir, self.embeddings(), progress=self.progress)
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
            from assistant.models.embeddings import make_embeddings

            self._embeddings = make_embeddings()
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

        retriever = Retriever(corpus, LiveIndex(self.settings.index_dir, pointer), self.embeddings(), self.system)

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


def summary(result: dict) -> dict:
    """What the baseline keeps of an eval JSON: metrics and each question's outcome."""
    return {"n": result["n"], "metrics": metric_values(result),
            "per_question": [{k: q[k] for k in ("id", "answerable", "rank", "hit@5", "abstained")}
                             for q in result["per_question"]]}


def metric_values(result: dict) -> dict:
    """Metrics by name; None for those without questions to measure (no out-of-corpus question…)."""
    questions = result["per_question"]
    has = {"retrieval": any(q["answerable"] for q in questions),
           "abstention": not questions or not all(q["answerable"] for q in questions)}
    values = {name: result[section][key] if has.get(section, True) else None
              for name, (section, key) in METRICS.items()}
    values["refus à tort"] = result["abstention"]["false_refusal_rate"] if has["retrieval"] else None
    return values


def compare(baseline: dict | None, results: dict[str, dict], items: dict[str, list]) -> list[SetComparison]:
    comparisons = []
    for name, result in results.items():
        before = (baseline or {}).get("gold", {}).get(name)
        comparison = SetComparison(name, result["n"], before["metrics"] if before else None, metric_values(result))
        if before:
            comparison.questions = question_changes(before["per_question"], result["per_question"])
        comparisons.append(comparison)
    return comparisons


def question_changes(before: list[dict], after: list[dict]) -> list[tuple[str, str, bool]]:
    """(id, what changed, regression?) for each question whose outcome moved."""
    old = {q["id"]: q for q in before}
    changes = []
    for question in after:
        previous = old.get(question["id"])
        if previous is None:
            changes.append((question["id"], "nouvelle question (pas de référence)", False))
            continue
        change = outcome_change(previous, question)
        if change:
            changes.append((question["id"], *change))
    gone = set(old) - {q["id"] for q in after}
    changes += [(qid, "question retirée du jeu", False) for qid in sorted(gone)]
    return changes


def outcome_change(before: dict, after: dict) -> tuple[str, bool] | None:
    if not after["answerable"]:
        if before["abstained"] == after["abstained"]:
            return None
        return ("s'abstient à nouveau (hors corpus)", False) if after["abstained"] else \
            ("répond alors qu'elle devrait s'abstenir", True)
    parts, worse = [], False
    if before["rank"] != after["rank"]:
        shown = [f"rang {r}" if r else "absent du top 10" for r in (before["rank"], after["rank"])]
        parts.append(f"{shown[0]} → {shown[1]}")
        worse = (after["rank"] or 11) > (before["rank"] or 11)
    if before["abstained"] != after["abstained"]:
        parts.append("refusée à tort" if after["abstained"] else "n'est plus refusée")
        worse = worse or after["abstained"]
    return ("; ".join(parts), worse) if parts else None


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
    from assistant.ingest.importer import write_atomically

    write_atomically(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def changelog_cell(comparison: SetComparison, metric: str) -> str:
    after = comparison.after.get(metric)
    if after is None:
        return "n/a"
    before = (comparison.before or {}).get(metric)
    return (f"{before:.3f} → " if before is not None else "") + f"{after:.3f}"


CHANGELOG_HEADER = """# Journal des références d'évaluation

Chaque entrée est écrite par `assistant corpus update --accept --reason « … »` : la référence
(`eval/baseline.json`) change, avec la raison donnée et les chiffres avant → après.
"""


def changelog_entry(report: UpdateReport, when: str, reason: str, baseline: dict) -> str:
    lines = ["", f"## {when} — index {report.candidate}", "", f"Raison : {reason}", "",
             f"Corpus : {baseline['corpus']['documents']} documents, {baseline['corpus']['units']} unités. "
             + unit_summary(report.units), "",
             "| jeu | " + " | ".join(TOLERANCE) + " |", "|---|" + "---|" * len(TOLERANCE)]
    for comparison in report.sets:
        cells = [changelog_cell(comparison, m) for m in TOLERANCE]
        lines.append(f"| {comparison.name} | " + " | ".join(cells) + " |")
    accepted = [f"- {f}" for c in report.sets if c.before is not None for f in c.failures()]
    regressions = [f"- {c.name} : {qid} ({change})" for c in report.sets for qid, change, worse in c.questions if worse]
    if accepted:
        lines += ["", "Baisses acceptées :", *accepted]
    if regressions:
        lines += ["", "Questions en recul :", *regressions]
    return "\n".join(lines) + "\n"
