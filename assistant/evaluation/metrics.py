"""Retrieval, abstention and answer metrics over gold items and their outcomes (pure functions)."""

from __future__ import annotations

import math
import statistics

from assistant.evaluation.gold import GoldItem

KS = (1, 5, 10)


def matches(expected: str, unit_id: str) -> bool:
    """An expected document id alone matches any unit of that document."""
    return unit_id == expected or (":" not in expected and unit_id.split(":")[0] == expected)


def first_rank(expected: list[str], retrieved: list[str]) -> int | None:
    for rank, unit_id in enumerate(retrieved, start=1):
        if any(matches(e, unit_id) for e in expected):
            return rank
    return None


def recall_at(expected: list[str], retrieved: list[str], k: int) -> float:
    top = retrieved[:k]
    return sum(any(matches(e, u) for u in top) for e in expected) / len(expected)


def ndcg_at(expected: list[str], retrieved: list[str], k: int) -> float:
    found, gains = set(), []
    for unit_id in retrieved[:k]:
        hit = next((e for e in expected if matches(e, unit_id) and e not in found), None)
        gains.append(1.0 if hit else 0.0)
        if hit:
            found.add(hit)
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(expected), k)))
    return dcg / ideal if ideal else 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def score(items: list[GoldItem], outcomes: list[dict], system: str) -> dict:
    """The eval JSON (keys fixed: later checks read them)."""
    answerable = [(i, o) for i, o in zip(items, outcomes) if i.answerable and i.expected]
    unanswerable = [(i, o) for i, o in zip(items, outcomes) if not i.answerable]
    retrieval = {}
    for k in KS:
        retrieval[f"hit@{k}"] = mean(first_rank(i.expected, o["retrieved"]) is not None
                                     and first_rank(i.expected, o["retrieved"]) <= k for i, o in answerable)
    for k in (5, 10):
        retrieval[f"recall@{k}"] = mean(recall_at(i.expected, o["retrieved"], k) for i, o in answerable)
    retrieval["mrr@10"] = mean(1 / r if (r := first_rank(i.expected, o["retrieved"][:10])) else 0.0
                               for i, o in answerable)
    retrieval["ndcg@10"] = mean(ndcg_at(i.expected, o["retrieved"], 10) for i, o in answerable)
    latencies = [o["latency_ms"] for o in outcomes]
    return {
        "n": len(items),
        "system": system,
        "retrieval": {k: round(v, 4) for k, v in retrieval.items()},
        "abstention": {
            "accuracy": round(mean(o["abstained"] for _, o in unanswerable), 4),
            "false_refusal_rate": round(mean(o["abstained"] for i, o in zip(items, outcomes) if i.answerable), 4),
        },
        "latency_ms": {"p50": round(statistics.median(latencies), 2) if latencies else 0.0,
                       "p95": round(percentile(latencies, 0.95), 2)},
        "per_question": [
            {"id": i.id, "hit@5": bool(i.answerable and (r := first_rank(i.expected, o["retrieved"])) and r <= 5),
             "rank": first_rank(i.expected, o["retrieved"]) if i.answerable else None,
             "abstained": o["abstained"], "retrieved": o["retrieved"][:10],
             "answerable": i.answerable, "query": o["query"]}
            for i, o in zip(items, outcomes)
        ],
    }


def mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else 0.0


def answer_scores(items: list[GoldItem], outcomes: list[dict]) -> dict:
    """Citations vs expected, facts mentioned, verification flags, answer latency."""
    answered = [(i, o) for i, o in zip(items, outcomes) if i.answerable and i.expected]
    precision = mean(cited_share(o["citations"], i.expected) for i, o in answered)
    recall = mean(recall_at(i.expected, o["citations"], len(o["citations"]) or 1) if o["citations"] else 0.0
                  for i, o in answered)
    facts = [fact_coverage(i.must_mention, o["answer"]) for i, o in zip(items, outcomes)
             if i.answerable and i.must_mention]
    generated = [o for o in outcomes if o["generated"]]
    sentences = sum(o["sentences"] for o in generated)
    return {
        "citations": {"precision": round(precision, 4), "recall": round(recall, 4),
                      "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0},
        "facts": {"coverage": round(mean(facts), 4) if facts else None},  # None: no facts in the gold set
        "verification": {"unsupported_rate": round(sum(len(o["unsupported"]) for o in generated) / sentences, 4)
                         if sentences else 0.0,
                         "invented_article_numbers": sum(len(o["invented"]) for o in generated),
                         "generated_answers": len(generated)},
        "latency_ms": {**score_latency(outcomes)},
    }


def score_latency(outcomes: list[dict]) -> dict:
    retrieval = [o["latency_ms"] for o in outcomes]
    return {"p50": round(statistics.median(retrieval), 2) if retrieval else 0.0,
            "p95": round(percentile(retrieval, 0.95), 2),
            "first_token_p50": round(statistics.median(o["first_ms"] for o in outcomes), 1) if outcomes else 0.0,
            "total_p50": round(statistics.median(o["total_ms"] for o in outcomes), 1) if outcomes else 0.0}


def cited_share(cited: list[str], expected: list[str]) -> float:
    """Share of the cited units that are expected (0 when nothing is cited)."""
    return sum(any(matches(e, c) for e in expected) for c in cited) / len(cited) if cited else 0.0


def fact_coverage(groups: list, text: str) -> float:
    """Share of groups of which at least one alternative appears (case and accents ignored)."""
    from assistant.text import fold

    folded = fold(text)
    return sum(any(fold(str(alt)) in folded for alt in group) for group in groups) / len(groups)
