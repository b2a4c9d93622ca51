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
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def score(items: list[GoldItem], outcomes: list[dict], system: str) -> dict:
    """The eval JSON (keys fixed: later checks read them). A figure with nothing to measure
    (no expected citation, no out-of-corpus question) is None, never a zero."""
    answerable = [(i, o) for i, o in zip(items, outcomes) if i.answerable and i.expected]
    unanswerable = [(i, o) for i, o in zip(items, outcomes) if not i.answerable]
    # A refused answerable question showed the user no passage: a miss, whatever was retrieved.
    ranked = [(i.expected, [] if o["abstained"] else o["retrieved"]) for i, o in answerable]
    retrieval = {}
    for k in KS:
        retrieval[f"hit@{k}"] = mean((r := first_rank(e, shown)) is not None and r <= k for e, shown in ranked)
    for k in (5, 10):
        retrieval[f"recall@{k}"] = mean(recall_at(e, shown, k) for e, shown in ranked)
    retrieval["mrr@10"] = mean(1 / r if (r := first_rank(e, shown[:10])) else 0.0 for e, shown in ranked)
    retrieval["ndcg@10"] = mean(ndcg_at(e, shown, 10) for e, shown in ranked)
    return {
        "n": len(items),
        "system": system,
        "retrieval": {k: rounded(v) for k, v in retrieval.items()},
        "abstention": {
            "accuracy": rounded(mean(o["abstained"] for _, o in unanswerable)),
            "false_refusal_rate": rounded(mean(o["abstained"] for i, o in zip(items, outcomes) if i.answerable)),
        },
        "latency_ms": latency(o["latency_ms"] for o in outcomes),
        "per_question": [
            {"id": i.id, "hit@5": bool(i.answerable and not o["abstained"]
                                       and (r := first_rank(i.expected, o["retrieved"])) and r <= 5),
             # The rank is kept for a refused question: the report shows what the refusal hid.
             "rank": first_rank(i.expected, o["retrieved"]) if i.answerable else None,
             "abstained": o["abstained"], "retrieved": o["retrieved"][:10],
             "answerable": i.answerable, "query": o["query"], "family": i.family}
            for i, o in zip(items, outcomes)
        ],
        "families": family_misses(items, outcomes),
    }


def family_misses(items: list[GoldItem], outcomes: list[dict]) -> dict:
    """Per kind of situation (the items' `family`): how many, and how many the system got
    wrong at the top (first result not expected), missed in the top 5, or misjudged on
    abstention (refused an answerable one, answered an unanswerable one). Empty without families."""
    families: dict[str, dict] = {}
    for item, outcome in zip(items, outcomes):
        if not item.family:
            continue
        row = families.setdefault(item.family, {"n": 0, "first_wrong": 0, "not_in_top5": 0, "abstention_wrong": 0})
        row["n"] += 1
        if not item.answerable:
            row["abstention_wrong"] += not outcome["abstained"]
            continue
        if outcome["abstained"]:
            row["abstention_wrong"] += 1
        rank = None if outcome["abstained"] else first_rank(item.expected, outcome["retrieved"])
        row["first_wrong"] += rank != 1
        row["not_in_top5"] += rank is None or rank > 5
    return dict(sorted(families.items()))


def mean(values) -> float | None:
    """None when there is nothing to average: an empty set measures nothing."""
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else None


def rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def latency(values) -> dict:
    """p50 and p95 in ms, rounded once here (reports print them as they are)."""
    values = list(values)
    if not values:
        return {"p50": None, "p95": None}
    return {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 0.95), 1)}


def answer_scores(items: list[GoldItem], outcomes: list[dict]) -> dict:
    """Citations vs expected, facts mentioned, verification flags, answer latency. A refused
    answerable question scores 0 in facts (its refusal message names the topic and the documents,
    it does not answer); figures with nothing to measure are None."""
    answered = [(i, o) for i, o in zip(items, outcomes) if i.answerable and i.expected]
    precision = mean(cited_share(o["citations"], i.expected) for i, o in answered)
    recall = mean(recall_at(i.expected, o["citations"], len(o["citations"]) or 1) if o["citations"] else 0.0
                  for i, o in answered)
    facts = [0.0 if o["abstained"] else fact_coverage(i.must_mention, o["answer"])
             for i, o in zip(items, outcomes) if i.answerable and i.must_mention]
    generated = [o for o in outcomes if o["generated"]]
    sentences = sum(o["sentences"] for o in generated)
    f1 = None if precision is None else (2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return {
        "answers": reply_shape(items, outcomes),
        "citations": {"precision": rounded(precision), "recall": rounded(recall), "f1": rounded(f1)},
        "facts": {"coverage": rounded(mean(facts))},  # None: no facts in the gold set
        # None in extractive mode: nothing was generated, so nothing could be unsupported or invented.
        "verification": {"unsupported_rate": round(sum(len(o["unsupported"]) for o in generated) / sentences, 4)
                         if sentences else None,
                         "invented_article_numbers": sum(len(o["invented"]) for o in generated) if generated else None,
                         "generated_answers": len(generated)},
        "latency_ms": {**latency(o["latency_ms"] for o in outcomes),
                       "first_token_p50": latency(o["first_ms"] for o in outcomes)["p50"],
                       "total_p50": latency(o["total_ms"] for o in outcomes)["p50"]},
    }


def reply_shape(items: list[GoldItem], outcomes: list[dict]) -> dict:
    """Does the reply answer first? `first_citation_accuracy`: over answerable items, the share
    whose first cited id is expected (a document id matches any of its units; a refusal is 0);
    `lead_rate`: answered items with a non-empty lead; `lead_words_p50` and `words_p50`: words in
    the lead and in the whole reply shown (the side panel aside). None: nothing to measure."""
    first = [bool(not o["abstained"] and o["citations"] and any(matches(e, o["citations"][0]) for e in i.expected))
             for i, o in zip(items, outcomes) if i.answerable and i.expected]
    answered = [o for o in outcomes if not o["abstained"]]
    leads = [len(o["lead"].split()) for o in answered if o["lead"].strip()]
    return {"first_citation_accuracy": rounded(mean(first)),
            "lead_rate": rounded(mean(bool(o["lead"].strip()) for o in answered)),
            "lead_words_p50": statistics.median(leads) if leads else None,
            "words_p50": statistics.median(len(o["answer"].split()) for o in answered) if answered else None,
            # The written-without-a-model replies' own check (a draft's is under `verification`).
            "invented_article_numbers": sum(len(o.get("reply_invented", [])) for o in answered
                                            if not o["generated"]) if answered else None}


def cited_share(cited: list[str], expected: list[str]) -> float:
    """Share of the cited units that are expected (0 when nothing is cited)."""
    return sum(any(matches(e, c) for e in expected) for c in cited) / len(cited) if cited else 0.0


def fact_coverage(groups: list, text: str) -> float:
    """Share of groups of which at least one alternative appears (case and accents ignored)."""
    from assistant.text import fold

    folded = fold(text)
    return sum(any(fold(str(alt)) in folded for alt in group) for group in groups) / len(groups)
