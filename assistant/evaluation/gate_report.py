"""The gate's judgement: a candidate's eval compared with the baseline, per gold set and per
question, and the texts saying it (the report a maintainer reads, the changelog entry)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import EXIT_REFUSED

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
EXIT_PUBLISHED = 0


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
        if value is None:  # not measured (e.g. abstention on a set without out-of-corpus questions): no regression
            shown = "n/a" if before is None else f"{before:.3f}"
            lines.append(f"  {metric:<14}{shown:>10}{'n/a':>10}")
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


def summary(result: dict) -> dict:
    """What the baseline keeps of an eval JSON: metrics and each question's outcome."""
    return {"n": result["n"], "metrics": metric_values(result),
            "per_question": [{k: q[k] for k in ("id", "answerable", "rank", "hit@5", "abstained")}
                             for q in result["per_question"]]}


def metric_values(result: dict) -> dict:
    """Metrics by name; None for those without questions to measure (no out-of-corpus question…).
    The eval JSON already says None there; eval JSON written before it did said 0.0, hence the check."""
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
