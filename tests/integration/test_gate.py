"""`assistant corpus update`: the evaluation gate, on a copy of the small corpus and index with
a three-question gold set (and the comparison rules, by hand)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from assistant.evaluation.gate_report import (SetComparison, TOLERANCE, changelog_cell, comparison_lines, compare,
                                              outcome_change, summary)
from tests.conftest import run_cli

pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures")
from tests.helpers.retrieval_fixtures import (  # noqa: E402
    CODE_PENAL, KEPT_ARTICLES, QUESTION_458TER, UNIT_458TER, trim_code_penal, use_small_index)

GOLD = [
    {"id": "g-1", "question": QUESTION_458TER, "expected_citations": [UNIT_458TER], "answerable": True},
    {"id": "g-2", "question": "Les membres du conseil de l'action sociale sont-ils tenus au secret ?",
     "expected_citations": ["loi-1976-07-08-cpas"], "answerable": True},
    {"id": "g-3", "question": "Copie-moi l'article 50 de la loi organique des CPAS", "expected_citations": [],
     "answerable": False},
]
GARDEN_LAW = """Loi de test du 1er janvier 2000 relative aux jardins imaginaires

Article 1er. La présente loi de test règle l'arrosage des jardins imaginaires de la commune fictive.

Article 2. Le jardinier imaginaire arrose les tulipes de test le mardi, sauf en cas de pluie inventée.
"""


def tree(folder: Path) -> dict[str, str]:
    """The index's content; lock files (left empty by every build or update) say nothing about it."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".lock"}


@pytest.fixture
def gate(tmp_path, monkeypatch, small_index, embeddings):
    """Writable copies of the small corpus and index; the gate's gold set and baseline in tmp."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(small_index.corpus_dir, corpus)
    shutil.copytree(small_index.index_dir, index)
    use_small_index(monkeypatch, small_index, index)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    # The session's models, already loaded, instead of loading them again for each command.
    monkeypatch.setattr("assistant.models.embeddings.make_embeddings", lambda *args, **kwargs: embeddings)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(item, ensure_ascii=False) for item in GOLD) + "\n", encoding="utf-8")
    baseline = tmp_path / "eval" / "baseline.json"

    def run(capsys, *options):
        return run_cli(capsys, "corpus", "update", "--gold", str(gold), "--baseline", str(baseline), *options)

    return {"corpus": corpus, "index": index, "gold": gold, "baseline": baseline, "run": run}


def live_version(index: Path) -> str:
    return json.loads((index / "current.json").read_text(encoding="utf-8"))["version"]


def collections(index: Path) -> set[str]:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(index / "chroma"), settings=Settings(anonymized_telemetry=False))
    return {getattr(c, "name", c) for c in client.list_collections()}


@pytest.mark.integration
@pytest.mark.slow
def test_gate_publishes_a_harmless_text_and_refuses_a_regression(gate, capsys, tmp_path):
    run, index, corpus, baseline = gate["run"], gate["index"], gate["corpus"], gate["baseline"]
    start = tree(index)

    code, out, err = run(capsys)  # no baseline yet
    assert code == 2 and "aucune référence" in err and "--accept --reason" in err and tree(index) == start
    code, _, err = run(capsys, "--accept")
    assert code == 2 and "--accept demande une raison" in err

    code, out, err = run(capsys, "--accept", "--reason", "première référence")
    assert code == 0, err
    assert "Nouvelle référence enregistrée" in out and live_version(index) == json.loads(
        baseline.read_text(encoding="utf-8"))["index_version"]
    recorded = json.loads(baseline.read_text(encoding="utf-8"))
    result = recorded["gold"][str(gate["gold"])]
    assert recorded["reason"] == "première référence" and recorded["tolerance"] == TOLERANCE
    assert result["n"] == 3 and result["metrics"]["hit@5"] == 1.0 and result["metrics"]["abstention"] == 1.0
    assert [q["id"] for q in result["per_question"]] == ["g-1", "g-2", "g-3"]
    changelog = (baseline.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Journal des références") and "Raison : première référence" in changelog

    code, out, _ = run(capsys)
    assert code == 0 and "Rien à publier" in out

    # A harmless new text is published: new live version, only it left.
    text = tmp_path / "jardins.txt"
    text.write_text(GARDEN_LAW, encoding="utf-8")
    code, _, err = run_cli(capsys, "corpus", "add", str(text), "--id", "loi-jardins-2000", "--title",
                           "Loi de test relative aux jardins imaginaires", "--kind", "loi", "--jurisdiction",
                           "fédéral", "--date", "2000-01-01")
    assert code == 0, err
    before, baseline_bytes = live_version(index), baseline.read_bytes()
    code, out, err = run(capsys)
    assert code == 0, out + err
    assert "Unités : 2 ajoutée(s), 0 modifiée(s), 0 retirée(s)." in out
    assert "  + loi-jardins-2000:art-1" in out and "  + loi-jardins-2000:art-2" in out
    assert "  hit@5              1.000     1.000   +0.000  -0.03" in out
    assert "Publié (code 0)" in out
    published = live_version(index)
    assert published != before and [p.name for p in (index / "versions").iterdir()] == [published]
    assert baseline.read_bytes() == baseline_bytes  # a pass does not move the baseline
    from assistant.index.live import LiveIndex

    assert any(c.unit_id == "loi-jardins-2000:art-2" for c in LiveIndex(index).chunks)

    # Removing the article that answers g-1 is refused: the live index stays as it was.
    source = (corpus / CODE_PENAL).read_text(encoding="utf-8")
    (corpus / CODE_PENAL).write_text(trim_code_penal(source, tuple(a for a in KEPT_ARTICLES if a != "458ter")),
                                     encoding="utf-8")
    pointer, live_files, live_collections = (index / "current.json").read_bytes(), tree(
        index / "versions" / published), collections(index)
    code, out, err = run(capsys, "--json", str(tmp_path / "rapport.json"))
    assert code == 3, out + err
    assert f"  - {UNIT_458TER}" in out and f"Citations attendues par les jeux de questions et absentes du corpus : " \
                                          f"{UNIT_458TER}" in out
    assert "↓ g-1 : rang 1 → absent du top 10" in out
    assert "REFUSÉ par l'évaluation (code 3)" in out and "hit@5 baisse de 0.500" in out
    assert f"L'index en service reste {published}" in out
    assert (index / "current.json").read_bytes() == pointer
    assert [p.name for p in (index / "versions").iterdir()] == [published]  # candidate removed
    assert tree(index / "versions" / published) == live_files and collections(index) == live_collections
    report = json.loads((tmp_path / "rapport.json").read_text(encoding="utf-8"))
    assert report["status"] == "refused" and report["exit_code"] == 3 and report["units"]["removed"] == [UNIT_458TER]
    assert baseline.read_bytes() == baseline_bytes
    # The corpus file is now ahead of the live index: the assistant still answers from what both hold.
    code, out, err = run_cli(capsys, "ask", QUESTION_458TER, "--json")
    assert code == 0, err
    assert UNIT_458TER not in json.loads(out)["citations"]

    # Accepted with a reason: published, new baseline, reason and accepted drops in the changelog.
    code, out, err = run(capsys, "--accept", "--reason", "retrait voulu pour le test")
    assert code == 0, err
    assert live_version(index) != published
    assert json.loads(baseline.read_text(encoding="utf-8"))["gold"][str(gate["gold"])]["metrics"]["hit@5"] == 0.5
    changelog = (baseline.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.count("\n## ") == 2 and "Raison : retrait voulu pour le test" in changelog
    assert "Baisses acceptées :" in changelog and "g-1 (rang 1 → absent du top 10)" in changelog


@pytest.mark.integration
def test_gate_bad_input_changes_nothing(gate, capsys):
    run, index, corpus = gate["run"], gate["index"], gate["corpus"]
    start = tree(index)
    (corpus / "casse.md").write_text("pas d'en-tête\n", encoding="utf-8")
    code, out, err = run(capsys, "--accept", "--reason", "essai")
    assert code == 2 and "le corpus contient 1 problème(s)" in err and "casse.md:1" in err
    assert "Traceback" not in err and "L'index en service est inchangé." in err
    (corpus / "casse.md").unlink()
    code, _, err = run_cli(capsys, "corpus", "update", "--gold", str(corpus / "absent.jsonl"))
    assert code == 2 and "fichier d'évaluation illisible" in err
    gate["baseline"].parent.mkdir(parents=True)
    gate["baseline"].write_text("{abîmé", encoding="utf-8")
    code, _, err = run(capsys)
    assert code == 2 and "illisible ou abîmé" in err
    assert tree(index) == start


# -- comparison rules ---------------------------------------------------------------------------

def _result(hit5=1.0, mrr=1.0, accuracy=1.0, refusals=0.0, questions=None):
    return {"n": 3, "retrieval": {"hit@1": hit5, "hit@5": hit5, "hit@10": hit5, "recall@5": hit5, "recall@10": hit5,
                                  "mrr@10": mrr, "ndcg@10": mrr},
            "abstention": {"accuracy": accuracy, "false_refusal_rate": refusals},
            "per_question": questions if questions is not None else [
                {"id": "a", "answerable": True, "rank": 1, "hit@5": True, "abstained": False},
                {"id": "b", "answerable": False, "rank": None, "hit@5": False, "abstained": True}]}


@pytest.mark.unit
def test_tolerances_are_applied_per_metric():
    before = {"gold": {"g": summary(_result())}}
    within = compare(before, {"g": _result(hit5=0.97, mrr=0.971, accuracy=0.9, refusals=0.02)}, {})[0]
    assert within.failures() == []
    beyond = compare(before, {"g": _result(hit5=0.96, accuracy=0.89, refusals=0.03)}, {})[0]
    failures = beyond.failures()
    assert [f.split(" : ")[1].split(" ")[0] for f in failures] == ["hit@5", "recall@10", "abstention", "refus"]
    assert "refus à tort monte de 0.030 (0.000 → 0.030 ; tolérance 0.02)" in failures[-1]
    assert compare(None, {"g": _result()}, {})[0].failures() == [
        "g : aucune référence pour ce jeu (enregistrez-en une avec --accept)"]
    assert compare(before, {"g": _result(hit5=1.0, mrr=1.0)}, {})[0].drop("mrr@10") == 0.0
    assert SetComparison("g", 3, {"refus à tort": 0.1}, {"refus à tort": 0.0}).drop("refus à tort") == -0.1
    # A set without out-of-corpus questions (BSARD) has no abstention accuracy to compare.
    answerable_only = [{"id": "a", "answerable": True, "rank": 1, "hit@5": True, "abstained": False}]
    bsard = compare({"gold": {"g": summary(_result(questions=answerable_only))}},
                    {"g": _result(accuracy=0.0, questions=answerable_only)}, {})[0]
    assert bsard.after["abstention"] is None and bsard.drop("abstention") is None and bsard.failures() == []
    # The eval says null for what it did not measure: not a regression from a measured baseline, shown as n/a.
    unmeasured = _result(accuracy=None, refusals=None)
    unmeasured["retrieval"] = dict.fromkeys(unmeasured["retrieval"])
    gone = compare(before, {"g": unmeasured}, {})[0]
    assert gone.failures() == [] and {gone.drop(m) for m in TOLERANCE} == {None}
    lines = comparison_lines(gone, None)
    assert any(line.split() == ["hit@5", "1.000", "n/a"] for line in lines)
    assert any(line.split() == ["refus", "à", "tort", "0.000", "n/a"] for line in lines)
    assert changelog_cell(gone, "hit@5") == "n/a"


@pytest.mark.unit
def test_question_outcome_changes():
    def q(rank=None, abstained=False, answerable=True):
        return {"id": "q", "answerable": answerable, "rank": rank, "hit@5": bool(rank and rank <= 5),
                "abstained": abstained}

    assert outcome_change(q(1), q(1)) is None
    assert outcome_change(q(1), q(7)) == ("rang 1 → rang 7", True)
    assert outcome_change(q(None), q(2)) == ("absent du top 10 → rang 2", False)
    assert outcome_change(q(2), q(2, abstained=True)) == ("refusée à tort", True)
    assert outcome_change(q(answerable=False, abstained=True), q(answerable=False)) == (
        "répond alors qu'elle devrait s'abstenir", True)
    assert outcome_change(q(answerable=False), q(answerable=False, abstained=True)) == (
        "s'abstient à nouveau (hors corpus)", False)
