"""Evaluation metrics (hand-computed) and `assistant eval` on the small index."""

from __future__ import annotations

import json
import statistics
import math
from pathlib import Path

import pytest

from assistant.cli.main import main
from assistant.evaluation.gold import GoldError, GoldItem, load_gold
from assistant.evaluation.metrics import answer_scores, first_rank, matches, ndcg_at, percentile, recall_at, score
from assistant.evaluation.report import markdown_report

# The session fixtures (small corpus and index), registered once for every module.
pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures")
from tests.helpers.retrieval_fixtures import UNIT_458TER, use_small_index  # noqa: E402


# -- metrics ------------------------------------------------------------------------------

@pytest.mark.unit
def test_matches():
    assert matches("code-penal-1867:art-458", "code-penal-1867:art-458")
    assert not matches("code-penal-1867:art-458", "code-penal-1867:art-458ter")
    assert matches("qe-cassart-2025", "qe-cassart-2025:reponse")  # a document id matches its units
    assert matches("qe-cassart-2025", "qe-cassart-2025")
    assert not matches("qe-cassart-2025", "qe-cassart-2025-bis:reponse")
    assert not matches("code-penal", "code-penal-1867:art-458")


@pytest.mark.unit
def test_first_rank():
    retrieved = ["a:1", "b:2", "c:3", "d:4"]
    assert first_rank(["c:3"], retrieved) == 3
    assert first_rank(["z:9", "b:2"], retrieved) == 2
    assert first_rank(["d"], retrieved) == 4
    assert first_rank(["z:9"], retrieved) is None
    assert first_rank(["a:1"], []) is None


@pytest.mark.unit
def test_recall_at():
    retrieved = ["a:1", "b:2", "c:3", "d:4"]
    assert recall_at(["a:1", "d:4"], retrieved, 1) == 0.5
    assert recall_at(["a:1", "d:4"], retrieved, 4) == 1.0
    assert recall_at(["x:1", "y:2", "c"], retrieved, 5) == pytest.approx(1 / 3)
    assert recall_at(["b:2"], retrieved, 1) == 0.0


@pytest.mark.unit
def test_ndcg_at():
    retrieved = ["a:1", "b:2", "c:3"]
    assert ndcg_at(["a:1"], retrieved, 10) == 1.0
    assert ndcg_at(["b:2"], retrieved, 10) == pytest.approx(1 / math.log2(3))
    # two expected, found at ranks 1 and 3: (1 + 1/2) / (1 + 1/log2(3))
    assert ndcg_at(["a:1", "c:3"], retrieved, 10) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert ndcg_at(["z:1"], retrieved, 10) == 0.0
    assert ndcg_at(["c:3"], retrieved, 2) == 0.0
    # A document id counts once, however many of its units are retrieved.
    assert ndcg_at(["a"], ["a:1", "a:2"], 10) == 1.0


@pytest.mark.unit
def test_ndcg_ideal_is_capped_at_k():
    # Three expected, the top 2 both expected: a perfect top 2. DCG = 1 + 1/log2(3); the ideal over
    # min(3, 2) = 2 ranks is the same, so 1.0. An ideal over all 3 would add 1/log2(4) = 0.5 and give
    # (1 + 0.6309) / (1 + 0.6309 + 0.5) = 0.7654.
    assert ndcg_at(["a:1", "b:1", "c:1"], ["a:1", "b:1", "x:1"], 2) == 1.0
    # Cut at 1: the one passage shown is expected, the ideal is 1 / log2(2) = 1.
    assert ndcg_at(["a:1", "b:1"], ["a:1"], 1) == 1.0


@pytest.mark.unit
def test_percentile_by_hand():
    values = [7.0, 1.0, 21.0, 3.0, 12.0, 2.0, 15.0, 4.0, 5.0, 6.0, 8.0, 9.0, 10.0, 11.0, 13.0, 14.0, 16.0,
              17.0, 18.0, 19.0, 20.0]  # 1 to 21, shuffled
    # Sorted, index round(q * 20): q = 0.95 → index 19 → 20 (not the maximum, 21); q = 0.5 → index 10 → 11;
    # q = 0 → the minimum.
    assert percentile(values, 0.95) == 20.0
    assert percentile(values, 0.5) == 11.0
    assert percentile(values, 0.0) == 1.0
    assert percentile([4.0, 2.0, 8.0, 6.0], 0.5) == 6.0  # index round(1.5) = 2 → 6
    # The p95 that `score` reports goes through it: 21 latencies 1..21 ms → 20.0, p50 the median 11.0.
    items = [GoldItem(f"q{n}", "?", [], [], [], False) for n in range(21)]
    outcomes = [{"retrieved": [], "abstained": True, "query": "?", "latency_ms": ms} for ms in values]
    assert score(items, outcomes, "bm25")["latency_ms"] == {"p50": 11.0, "p95": 20.0}


@pytest.mark.unit
def test_unanswerable_item_counts_in_no_retrieval_figure_and_has_no_rank():
    # An out-of-corpus question whose gold line still names a passage, wrongly answered with that
    # passage at rank 1. Only the answerable question counts: its passage is at rank 2.
    items = [GoldItem("a", "?", [], ["a:1"], [], True), GoldItem("u", "?", [], ["u:1"], [], False)]
    outcomes = [{"retrieved": ["x:1", "a:1"], "abstained": False, "query": "?", "latency_ms": 1.0},
                {"retrieved": ["u:1"], "abstained": False, "query": "?", "latency_ms": 1.0}]
    result = score(items, outcomes, "hybrid")
    # Over "a" alone: hit@1 0 (rank 2), hit@5 1, recall 1, MRR 1/2, nDCG (1/log2(3)) / 1 = 0.6309.
    # Counting "u" too would give hit@1 0.5, MRR (1/2 + 1) / 2 = 0.75, nDCG (0.6309 + 1) / 2 = 0.8155.
    assert result["retrieval"] == {"hit@1": 0.0, "hit@5": 1.0, "hit@10": 1.0, "recall@5": 1.0, "recall@10": 1.0,
                                   "mrr@10": 0.5, "ndcg@10": round(1 / math.log2(3), 4)}
    assert result["abstention"] == {"accuracy": 0.0, "false_refusal_rate": 0.0}
    per = {q["id"]: q for q in result["per_question"]}
    assert per["a"]["rank"] == 2
    assert per["u"]["rank"] is None and per["u"]["hit@5"] is False  # u:1 at rank 1 is no rank for it


def fake_items() -> tuple[list[GoldItem], list[dict]]:
    items = [
        GoldItem("q1", "question 1", [], ["a:1"], [], True),
        GoldItem("q2", "question 2", [], ["b", "c:9"], [], True),
        GoldItem("q3", "hors corpus", [], [], [], False),
    ]
    outcomes = [
        # q1: found at rank 3; answered.
        {"retrieved": ["x:1", "y:1", "a:1", "z:1"], "abstained": False, "query": "question 1", "latency_ms": 10.0},
        # q2: "b" (a document) at rank 1, "c:9" absent; wrongly refused.
        {"retrieved": ["b:7", "x:1"], "abstained": True, "query": "question 2", "latency_ms": 30.0},
        # q3: unanswerable, rightly refused.
        {"retrieved": ["x:1"], "abstained": True, "query": "hors corpus", "latency_ms": 20.0},
    ]
    return items, outcomes


@pytest.mark.unit
def test_score_by_hand():
    items, outcomes = fake_items()
    result = score(items, outcomes, "hybrid")
    assert result["n"] == 3 and result["system"] == "hybrid"
    retrieval = result["retrieval"]
    # q2 was refused: a miss everywhere, although "b" was retrieved at rank 1.
    assert retrieval["hit@1"] == 0.0
    assert retrieval["hit@5"] == 0.5
    assert retrieval["hit@10"] == 0.5
    assert retrieval["recall@5"] == 0.5  # (1 + 0) / 2
    assert retrieval["recall@10"] == 0.5
    assert retrieval["mrr@10"] == pytest.approx(round((1 / 3 + 0) / 2, 4))
    ndcg_q1 = (1 / math.log2(4)) / 1
    assert retrieval["ndcg@10"] == pytest.approx(round((ndcg_q1 + 0) / 2, 4))
    assert result["abstention"] == {"accuracy": 1.0, "false_refusal_rate": 0.5}
    assert result["latency_ms"] == {"p50": 20.0, "p95": 30.0}
    per = {q["id"]: q for q in result["per_question"]}
    assert per["q1"]["rank"] == 3 and per["q1"]["hit@5"] is True and per["q1"]["abstained"] is False
    # The rank stays visible (what the refusal hid); the hit does not count.
    assert per["q2"]["rank"] == 1 and per["q2"]["abstained"] is True and per["q2"]["hit@5"] is False
    assert per["q3"]["rank"] is None and per["q3"]["hit@5"] is False and per["q3"]["abstained"] is True
    assert per["q1"]["retrieved"] == ["x:1", "y:1", "a:1", "z:1"]


@pytest.mark.unit
def test_score_counts_the_same_passages_when_the_question_is_answered():
    items, outcomes = fake_items()
    outcomes[1]["abstained"] = False
    retrieval = score(items, outcomes, "hybrid")["retrieval"]
    assert retrieval["hit@1"] == 0.5 and retrieval["hit@5"] == 1.0 and retrieval["recall@5"] == 0.75
    assert retrieval["mrr@10"] == pytest.approx(round((1 / 3 + 1) / 2, 4))
    ndcg_q2 = 1 / (1 + 1 / math.log2(3))
    assert retrieval["ndcg@10"] == pytest.approx(round(((1 / math.log2(4)) + ndcg_q2) / 2, 4))


@pytest.mark.unit
def test_score_leaves_unmeasured_figures_empty():
    items, outcomes = fake_items()
    answerable_only = score(items[:2], outcomes[:2], "hybrid")
    assert answerable_only["abstention"] == {"accuracy": None, "false_refusal_rate": 0.5}
    assert answerable_only["retrieval"]["hit@5"] == 0.5
    # Out-of-corpus questions and an answerable one without expected citations (as in hors-sujet).
    no_citations = [items[2], GoldItem("q4", "dans le sujet", [], [], [], True)]
    result = score(no_citations, [outcomes[2], {**outcomes[0], "abstained": False}], "hybrid")
    assert set(result["retrieval"].values()) == {None}
    assert result["abstention"] == {"accuracy": 1.0, "false_refusal_rate": 0.0}
    only_unanswerable = score(items[2:], outcomes[2:], "hybrid")["abstention"]
    assert only_unanswerable == {"accuracy": 1.0, "false_refusal_rate": None}
    empty = score([], [], "hybrid")
    assert empty["latency_ms"] == {"p50": None, "p95": None}


@pytest.mark.unit
def test_latency_is_rounded_once():
    items, outcomes = fake_items()
    for outcome, ms in zip(outcomes, (12.2501, 12.2501, 99.96)):
        outcome["latency_ms"] = ms
    result = score(items, outcomes, "hybrid")
    # 12.2501 → 12.3; rounded twice (to 12.25, then to one decimal) it would read 12.2.
    assert result["latency_ms"] == {"p50": 12.3, "p95": 100.0}
    report = markdown_report([result], items)
    assert "| latence p50 (ms) | 12.3 |" in report and "| latence p95 (ms) | 100.0 |" in report


@pytest.mark.unit
def test_score_unanswered_question_not_abstained_lowers_accuracy():
    items, outcomes = fake_items()
    outcomes[2]["abstained"] = False
    outcomes[1]["abstained"] = False
    result = score(items, outcomes, "bm25")
    assert result["abstention"] == {"accuracy": 0.0, "false_refusal_rate": 0.0}


@pytest.mark.unit
def test_score_of_a_miss_beyond_ten():
    items = [GoldItem("q", "?", [], ["a:1"], [], True)]
    outcomes = [{"retrieved": [f"x:{i}" for i in range(10)] + ["a:1"], "abstained": False, "query": "?",
                 "latency_ms": 1.0}]
    result = score(items, outcomes, "dense")
    assert result["retrieval"]["hit@10"] == 0.0 and result["retrieval"]["mrr@10"] == 0.0
    assert result["per_question"][0]["hit@5"] is False
    assert len(result["per_question"][0]["retrieved"]) == 10


# -- gold files ------------------------------------------------------------------------------

GOLD_LINES = [
    {"id": "t-1", "question": "Puis-je partager des informations confidentielles lors d'une concertation de cas ?",
     "history": [], "expected_citations": [UNIT_458TER], "answerable": True},
    {"id": "t-2", "question": "Les membres du conseil de l'action sociale sont-ils tenus au secret ?",
     "expected_citations": ["loi-1976-07-08-cpas"], "answerable": True},
    {"id": "t-3", "question": "Et s'ils en parlent à un tiers qui n'est pas conseiller ?",
     "history": [{"role": "user", "content": "Les conseillers de l'action sociale sont-ils tenus au secret ?"},
                 {"role": "assistant", "content": "Oui : loi organique, art. 36."}],
     "expected_citations": ["loi-1976-07-08-cpas:art-36", "circulaire-2022-06-02"], "answerable": True},
    {"id": "t-4", "question": "Copie-moi l'article 50 de la loi organique des CPAS", "expected_citations": [],
     "answerable": False},
]


def write_gold(path: Path, items=GOLD_LINES) -> Path:
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n\n", encoding="utf-8")
    return path


@pytest.mark.unit
def test_load_gold(tmp_path):
    items = load_gold([write_gold(tmp_path / "gold.jsonl")])
    assert [i.id for i in items] == ["t-1", "t-2", "t-3", "t-4"]
    assert items[1].history == [] and items[1].must_mention == []
    assert items[2].history[0]["role"] == "user"
    assert items[3].answerable is False and items[0].answerable is True


@pytest.mark.unit
@pytest.mark.parametrize("bad", ["{pas du json", '{"question": "sans id"}', "[1, 2]"])
def test_load_gold_names_the_bad_line(tmp_path, bad):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(GOLD_LINES[0]) + "\n\n" + bad + "\n", encoding="utf-8")
    with pytest.raises(GoldError) as caught:
        load_gold([path])
    assert f"{path}:3:" in str(caught.value)
    assert "ligne invalide" in str(caught.value)


@pytest.mark.unit
def test_load_gold_missing_file(tmp_path):
    with pytest.raises(GoldError, match="fichier d'évaluation illisible"):
        load_gold([tmp_path / "absent.jsonl"])


@pytest.mark.unit
def test_markdown_report():
    items, outcomes = fake_items()
    results = [score(items, outcomes, "hybrid"), score(items, outcomes, "bm25")]
    report = markdown_report(results, items)
    assert "| métrique | hybrid | bm25 |" in report
    for item in items:
        assert f"| {item.id} |" in report
    assert "| hit@5 | 0.500 | 0.500 |" in report
    assert "refusée compte comme un échec" in report  # the reader is told how refusals count
    assert "rang 3" in report and "abstention ✔" in report and "(abstention ✘)" in report
    assert "(hors corpus : s'abstenir)" in report


# -- `assistant eval` on the small index ---------------------------------------------------------

@pytest.mark.integration
def test_eval_command(tmp_path, monkeypatch, capsys, small_index):
    use_small_index(monkeypatch, small_index)
    from assistant.evaluation import runner

    remembered, searcher = [], runner.searcher

    def spying_searcher(assistant, system, *rest):  # how many question vectors each system starts with
        remembered.append({name: len(model._asked) for name, model in assistant.embeddings.items()})
        return searcher(assistant, system, *rest)

    monkeypatch.setattr(runner, "searcher", spying_searcher)
    gold = write_gold(tmp_path / "gold.jsonl")
    out, report = tmp_path / "out" / "eval.json", tmp_path / "out" / "eval.md"
    code = main(["eval", "--gold", str(gold), "--system", "hybrid", "--system", "bm25",
                 "--json", str(out), "--report", str(report)])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stdout + stderr
    # bm25 embeds its questions again (for the scope check), as hybrid did: same latency footing.
    assert len(remembered) == 2 and all(count == 0 for sizes in remembered for count in sizes.values())
    assert "hybrid : hit@1 " in stdout and "bm25 : hit@1 " in stdout

    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["n"] == 4 and result["system"] == "hybrid"
    assert set(result["retrieval"]) == {"hit@1", "hit@5", "hit@10", "recall@5", "recall@10", "mrr@10", "ndcg@10"}
    assert set(result["abstention"]) == {"accuracy", "false_refusal_rate"}
    assert set(result["latency_ms"]) == {"p50", "p95"}
    assert [s["system"] for s in result["systems"]] == ["hybrid", "bm25"]
    for system in result["systems"]:
        assert system["n"] == 4
        assert 0 < system["latency_ms"]["p50"] <= system["latency_ms"]["p95"]
        per = {q["id"]: q for q in system["per_question"]}
        # The figures are those of the passages each question showed (ranks may move with the index,
        # so they are recomputed here by hand from the ranks the run reports): t-1..t-3 answered, so
        # hit@k = share of ranks <= k, MRR = mean of 1/rank (0 past 10); t-4 counts in none of them.
        ranks = [per[q]["rank"] for q in ("t-1", "t-2", "t-3")]
        assert all(not per[q]["abstained"] for q in ("t-1", "t-2", "t-3"))
        for k in (1, 5, 10):
            assert system["retrieval"][f"hit@{k}"] == round(sum(r is not None and r <= k for r in ranks) / 3, 4)
        assert system["retrieval"]["mrr@10"] == round(sum(1 / r for r in ranks if r and r <= 10) / 3, 4)
        # Recall and nDCG: the same arithmetic as the hand-checked unit tests, on the lists shown.
        outcomes = [{**q, "latency_ms": 1.0} for q in system["per_question"]]
        assert system["retrieval"] == score(load_gold([gold]), outcomes, system["system"])["retrieval"]
        assert system["abstention"] == {"accuracy": 1.0, "false_refusal_rate": 0.0}  # t-4 refused, none else
        assert list(per) == ["t-1", "t-2", "t-3", "t-4"]
        for question in per.values():
            assert {"id", "hit@5", "rank", "abstained", "retrieved"} <= set(question)
            assert len(question["retrieved"]) <= 10
        assert per["t-1"]["hit@5"] is True and per["t-1"]["abstained"] is False
        assert per["t-4"]["abstained"] is True and per["t-4"]["rank"] is None
        # The follow-up was asked as one question carrying the previous user question's point.
        assert per["t-3"]["query"] == ("Les conseillers de l'action sociale sont-ils tenus au secret s'ils en parlent "
                                       "à un tiers qui n'est pas conseiller ?")
        assert system["abstention"]["accuracy"] == 1.0
    hybrid = result["systems"][0]
    assert hybrid["retrieval"] == result["retrieval"]
    assert hybrid["abstention"]["false_refusal_rate"] == 0.0

    text = report.read_text(encoding="utf-8")
    assert "| métrique | hybrid | bm25 |" in text
    for item in GOLD_LINES:
        assert f"| {item['id']} |" in text


@pytest.mark.integration
def test_eval_command_in_extractive_answer_mode(tmp_path, monkeypatch, capsys, small_index):
    use_small_index(monkeypatch, small_index)
    # Facts on t-1 only: « secret » (in the text of art. 458ter it cites: « dépositaire de secrets »)
    # and a word no extract has.
    lines = [{**GOLD_LINES[0], "answer_must_mention": [["secret"], ["xylophone"]]}, *GOLD_LINES[1:]]
    gold = write_gold(tmp_path / "gold.jsonl", lines)
    out = tmp_path / "eval.json"
    code = main(["eval", "--gold", str(gold), "--mode", "extractive", "--json", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stdout + stderr
    assert "réponses (extractive) : première citation juste" in stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["mode"] == "extractive"
    assert set(result["citations"]) == {"precision", "recall", "f1"}
    per = {q["id"]: q for q in result["per_question"]}
    # Citation P and R recomputed by hand from what each answer cited (a document id matches its
    # units): precision = share of the cited units that are expected, recall = share of the expected
    # found among the citations, both averaged over t-1..t-3; F1 = 2PR / (P + R). On today's small
    # index: P = (1/3 + 0 + 1/3) / 3 = 0.2222, R = (1 + 0 + 1/2) / 3 = 0.5, F1 = 0.3077.
    def expected(cited, wanted):
        return cited == wanted or (":" not in wanted and cited.startswith(wanted + ":"))

    shares, found = [], []
    for line in GOLD_LINES[:3]:
        cited, wanted = per[line["id"]]["citations"], line["expected_citations"]
        shares.append(sum(any(expected(c, w) for w in wanted) for c in cited) / len(cited) if cited else 0.0)
        found.append(sum(any(expected(c, w) for c in cited) for w in wanted) / len(wanted))
    precision, recall = sum(shares) / 3, sum(found) / 3
    assert precision > 0  # t-1 cites art. 458ter (asserted below)
    assert result["citations"] == {"precision": round(precision, 4), "recall": round(recall, 4),
                                   "f1": round(2 * precision * recall / (precision + recall), 4)}
    # t-1 is answered with the extract of art. 458ter: 1 of its 2 groups → 0.5; no other line has facts.
    assert per["t-1"]["abstained"] is False
    assert result["facts"]["coverage"] == 0.5
    # Nothing was generated: nothing was checked, so neither figure is a zero.
    assert result["verification"] == {"unsupported_rate": None, "invented_article_numbers": None,
                                      "generated_answers": 0}
    assert "phrases non étayées n/a, numéros inventés 0" in stdout  # the reply itself is checked
    assert {"first_token_p50", "total_p50", "p50", "p95"} <= set(result["latency_ms"])
    assert UNIT_458TER in per["t-1"]["citations"] and per["t-4"]["citations"] == []
    # The reply's shape, recomputed from each answer: first citation expected (answerable lines),
    # a lead for every answered reply (shown first, « En bref : … »), words of the lead and of the
    # whole reply (medians over the answered).
    answerable = [line for line in GOLD_LINES if line["answerable"] and line["expected_citations"]]
    first = [bool(per[line["id"]]["citations"]) and not per[line["id"]]["abstained"]
             and any(expected(per[line["id"]]["citations"][0], w) for w in line["expected_citations"])
             for line in answerable]
    answered = [q for q in per.values() if not q["abstained"]]
    words = sorted(len(q["answer"].split()) for q in answered)
    leads = sorted(len(q["lead"].split()) for q in answered)
    assert all(q["lead"] and q["answer"].startswith(f"En bref : {q['lead']}") for q in answered)
    assert result["answers"] == {"first_citation_accuracy": round(sum(first) / len(first), 4), "lead_rate": 1.0,
                                 "lead_words_p50": statistics.median(leads), "words_p50": statistics.median(words),
                                 "invented_article_numbers": 0}
    assert 0 < result["answers"]["lead_words_p50"] < result["answers"]["words_p50"]
    assert result["answers"]["words_p50"] > 20


def test_eval_default_mode_is_the_assistants_answer_mode(tmp_path, monkeypatch, capsys, small_index):
    use_small_index(monkeypatch, small_index)
    gold = write_gold(tmp_path / "gold.jsonl", GOLD_LINES[:2])
    out = tmp_path / "eval.json"
    assert main(["eval", "--gold", str(gold), "--mode", "default", "--json", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["mode"] == "extractive"
    assert "réponses (extractive)" in capsys.readouterr().out


@pytest.mark.integration
def test_eval_command_bad_gold(tmp_path, monkeypatch, capsys, small_index):
    use_small_index(monkeypatch, small_index)
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "x", "question": "?"}\nnot json\n', encoding="utf-8")
    code = main(["eval", "--gold", str(gold)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("Erreur : ") and f"{gold}:2:" in err and "Traceback" not in err


def _outcome(citations, answer, generated=False, unsupported=(), invented=(), sentences=0, lead=""):
    return {"retrieved": citations, "abstained": False, "query": "q", "latency_ms": 10.0, "first_ms": 20.0,
            "total_ms": 30.0, "citations": citations, "answer": answer, "generated": generated,
            "unsupported": list(unsupported), "invented": list(invented), "sentences": sentences, "lead": lead}


@pytest.mark.unit
def test_answer_scores_citations_facts_and_verification():
    from assistant.evaluation.gold import GoldItem
    from assistant.evaluation.metrics import answer_scores

    items = [GoldItem("a", "q", [], ["code-penal-1867:art-458bis", "code-penal-1867:art-422bis"],
                      [["procureur du Roi"], ["danger grave", "péril grave"]], True),
             GoldItem("b", "q", [], ["circulaire-2022-06-02"], [["Circulaire"]], True)]
    outcomes = [_outcome(["code-penal-1867:art-458bis", "code-penal-1867:art-458"],
                         "Informer le PROCUREUR du roi en cas de Péril grave.", True, ["x"], ["29"], 4),
                _outcome(["circulaire-2022-06-02:extrait"], "Rien.", True, [], [], 2)]
    scores = answer_scores(items, outcomes)
    assert scores["citations"]["precision"] == pytest.approx((0.5 + 1.0) / 2)
    assert scores["citations"]["recall"] == pytest.approx((0.5 + 1.0) / 2)
    assert scores["facts"]["coverage"] == pytest.approx((1.0 + 0.0) / 2)  # accents and case ignored
    assert scores["verification"] == {"unsupported_rate": pytest.approx(1 / 6, abs=1e-4),
                                      "invented_article_numbers": 1, "generated_answers": 2}
    assert scores["latency_ms"]["first_token_p50"] == 20.0 and scores["latency_ms"]["total_p50"] == 30.0
    # First citation: art. 458bis is expected for a; the circular's extract matches its document id.
    assert scores["answers"]["first_citation_accuracy"] == 1.0
    assert scores["answers"]["words_p50"] == statistics.median([10, 1]) and scores["answers"]["lead_rate"] == 0.0


@pytest.mark.unit
def test_reply_shape_first_citation_and_leads():
    from assistant.evaluation.gold import GoldItem
    from assistant.evaluation.metrics import answer_scores

    items = [GoldItem("a", "q", [], ["code-penal-1867:art-458bis"], [], True),
             GoldItem("b", "q", [], ["code-penal-1867:art-458"], [], True),
             GoldItem("c", "q", [], ["code-penal-1867:art-458"], [], True),
             GoldItem("d", "q", [], [], [], False)]
    outcomes = [{**_outcome(["code-penal-1867:art-458", "code-penal-1867:art-458bis"], "un deux trois",
                            lead="Le Code pénal vous permet d'informer le procureur."),  # expected, but second
                 "reply_invented": ["999"]},
                _outcome(["code-penal-1867:art-458"], "un deux trois quatre cinq", lead="Oui."),
                {**_outcome(["code-penal-1867:art-458"], "refus"), "abstained": True},  # refused: 0
                {**_outcome([], "refus"), "abstained": True}]
    shape = answer_scores(items, outcomes)["answers"]
    assert shape["first_citation_accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert shape["lead_rate"] == 1.0  # both answered items have a lead; refusals are not counted
    assert shape["lead_words_p50"] == statistics.median([8, 1]) and shape["words_p50"] == 4
    none = answer_scores(items[3:], outcomes[3:])["answers"]
    assert shape["invented_article_numbers"] == 1  # « article 999 » in a, shown by no cited unit
    assert none == {"first_citation_accuracy": None, "lead_rate": None, "lead_words_p50": None, "words_p50": None,
                    "invented_article_numbers": None}


@pytest.mark.unit
def test_answer_without_citations_scores_zero_precision():
    from assistant.evaluation.gold import GoldItem
    from assistant.evaluation.metrics import answer_scores

    items = [GoldItem("a", "q", [], ["code-penal-1867:art-458"], [], True)]
    scores = answer_scores(items, [_outcome([], "texte")])
    assert scores["citations"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert scores["facts"]["coverage"] is None  # no fact to look for: not a zero


@pytest.mark.unit
def test_answer_scores_refusal_and_unmeasured():
    from assistant.evaluation.metrics import answer_scores

    items = [GoldItem("a", "q", [], ["code-penal-1867:art-458"], [["secret professionnel"]], True)]
    refusal = {**_outcome([], "Je ne trouve pas de réponse sur le secret professionnel dans les documents."),
               "abstained": True}
    scores = answer_scores(items, [refusal])
    assert scores["facts"]["coverage"] == 0.0  # the refusal names the topic: it still answers nothing
    assert scores["facts"]["coverage"] != answer_scores(items, [{**refusal, "abstained": False}])["facts"]["coverage"]
    # Extractive mode: nothing generated, so no unsupported sentence or invented number was measured.
    assert scores["verification"] == {"unsupported_rate": None, "invented_article_numbers": None,
                                      "generated_answers": 0}
    # Only out-of-corpus questions: no citation was expected.
    unanswerable = [GoldItem("b", "q", [], [], [], False)]
    empty = answer_scores(unanswerable, [{**refusal, "abstained": True}])
    assert empty["citations"] == {"precision": None, "recall": None, "f1": None}
    assert empty["facts"]["coverage"] is None


@pytest.mark.unit
def test_report_and_summaries_print_na():
    from assistant.cli.eval import answer_summary, retrieval_summary
    from assistant.evaluation.metrics import answer_scores

    items, outcomes = fake_items()
    result = score(items[2:], outcomes[2:], "hybrid")
    result.update(mode="extractive", **answer_scores(items[2:], [
        {**outcomes[2], "first_ms": 5.0, "total_ms": 6.0, "citations": [], "answer": "", "generated": False,
         "unsupported": [], "invented": [], "sentences": 0, "lead": ""}]))
    result["per_question"][0].update(answer="", citations=[], unsupported=[], invented=[])
    assert retrieval_summary(result) == ("hybrid : hit@1 n/a, hit@5 n/a, recall@10 n/a, mrr@10 n/a, abstention 1.000, "
                                         "refus à tort n/a, p50 20.0 ms")
    assert "citations P n/a R n/a F1 n/a, faits n/a, phrases non étayées n/a, numéros inventés n/a" \
        in answer_summary(result)
    report = markdown_report([result], items[2:])
    assert "| hit@5 | n/a |" in report and "| abstention false_refusal_rate | n/a |" in report
    assert "| phrases non étayées | n/a |" in report and "| numéros d'article inventés (brouillons) | n/a |" in report
    assert "0.000" not in report


@pytest.mark.unit
def test_forget_questions_embeds_again():
    from assistant.models.embeddings import LocalEmbedding

    class Counting(LocalEmbedding):
        calls: int = 0

        def _queries(self, texts):
            self.calls += len(texts)
            return [[1.0, 0.0] for _ in texts]

    model = Counting(model_name="counting")
    model.get_query_embeddings(["a", "b"])
    model.get_query_embeddings(["a"])
    assert model.calls == 2  # "a" came from memory
    model.forget_questions()
    model.get_query_embeddings(["a"])
    assert model.calls == 3


@pytest.mark.unit
def test_citation_recall_counts_every_citation_and_f1_is_harmonic():
    # Expected a:1 and b:1; cited x:1 first, then a:1 and b:1.
    # Precision 2 of 3 cited = 0.6667; recall 2 of 2 expected, over all 3 citations = 1.0
    # (over the first citation only, or at k = 1: 0 of 2 = 0.0).
    # F1 = 2 * (2/3) * 1 / (2/3 + 1) = (4/3) / (5/3) = 0.8 (the arithmetic mean would read 0.8333).
    items = [GoldItem("a", "q", [], ["a:1", "b:1"], [], True)]
    scores = answer_scores(items, [_outcome(["x:1", "a:1", "b:1"], "texte")])
    assert scores["citations"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8}
    # Two questions: (P, R) = (1/2, 1/1) and (1/1, 1/2) → P = R = 0.75, F1 of the means = 0.75.
    items = [GoldItem("a", "q", [], ["a:1"], [], True), GoldItem("b", "q", [], ["b:1", "c:1"], [], True)]
    scores = answer_scores(items, [_outcome(["x:1", "a:1"], "t"), _outcome(["c:1"], "t")])
    assert scores["citations"] == {"precision": 0.75, "recall": 0.75, "f1": 0.75}


@pytest.mark.unit
def test_facts_are_scored_on_answerable_items_only():
    # Answerable: 1 of 2 groups mentioned (« secret » yes, « procureur » no) → 0.5.
    # The out-of-corpus question (rightly refused) has facts in its line; counted, it would give
    # (0.5 + 0.0) / 2 = 0.25.
    items = [GoldItem("a", "q", [], ["a:1"], [["secret"], ["procureur"]], True),
             GoldItem("u", "q", [], [], [["secret"]], False)]
    refusal = {**_outcome([], "Je ne peux pas répondre à cette question."), "abstained": True}
    scores = answer_scores(items, [_outcome(["a:1"], "Le Secret est gardé."), refusal])
    assert scores["facts"]["coverage"] == 0.5
    assert scores["citations"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}  # "u" expects nothing


@pytest.mark.unit
def test_verification_figures_count_generated_drafts_only():
    # Generated: 4 sentences, 1 unsupported, 1 invented number. Not generated (an extractive draft that
    # carries flags anyway): 2 sentences, 2 unsupported, 1 invented — counted nowhere.
    # Unsupported rate 1 / 4 = 0.25 (over every draft: 3 / 6 = 0.5, or 1 / 6 with all sentences);
    # invented 1 (not 2); 1 generated answer (not 2).
    items = [GoldItem("a", "q", [], ["a:1"], [], True), GoldItem("b", "q", [], ["b:1"], [], True)]
    outcomes = [_outcome(["a:1"], "t", True, ["s1"], ["12"], 4),
                _outcome(["b:1"], "t", False, ["s2", "s3"], ["2004"], 2)]
    assert answer_scores(items, outcomes)["verification"] == {
        "unsupported_rate": 0.25, "invented_article_numbers": 1, "generated_answers": 1}


@pytest.mark.unit
def test_reply_invented_counts_article_numbers_no_cited_unit_shows():
    """The reply written without a model is checked like a draft: « article 999 » in its lead is
    counted, the cited article's own number and the articles its text names are not."""
    import dataclasses

    from assistant.answering.extractive import ExtractiveAnswerer
    from assistant.corpus.model import Corpus
    from assistant.evaluation.runner import reply_invented
    from assistant.pipeline import Reply
    from assistant.retrieval.retriever import Hit, Retrieval
    from tests.conftest import CORPUS_DIR

    corpus = Corpus.load(CORPUS_DIR)
    question = "Puis-je informer le procureur du Roi ?"
    retrieval = Retrieval(question, [Hit("code-penal-1867:art-458bis", 1.0, 0, "both")], False)
    answer = ExtractiveAnswerer(corpus).answer(retrieval, question)
    reply = Reply(question, question, retrieval, answer, corpus)
    assert "422bis" in render_text(reply) and reply_invented(reply) == []  # named by art. 458bis itself
    forged = dataclasses.replace(reply, answer=dataclasses.replace(answer, lead=answer.lead + " Voir l'article 999."))
    assert reply_invented(forged) == ["999"]


def render_text(reply):
    from assistant.render import passages_text

    return passages_text(reply.answer)
