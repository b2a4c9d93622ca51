"""Gold sets → retrieval and abstention metrics, for the system and its baselines."""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.answering.followup import standalone_question

SYSTEMS = ("hybrid", "bm25", "dense", "naive")
KS = (1, 5, 10)


class GoldError(Exception):
    """A gold file that cannot be read; message in French."""


@dataclass
class GoldItem:
    id: str
    question: str
    history: list
    expected: list[str]
    must_mention: list
    answerable: bool


def load_gold(paths: list[Path]) -> list[GoldItem]:
    """Read JSONL gold files (`history` optional, as in the BSARD file)."""
    from assistant.pipeline import InvalidQuestion, clean_question

    items = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise GoldError(f"fichier d'évaluation illisible : {path} ({error.__class__.__name__})") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                items.append(GoldItem(raw["id"], raw["question"], raw.get("history") or [],
                                      raw.get("expected_citations") or [], raw.get("answer_must_mention") or [],
                                      bool(raw.get("answerable", True))))
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise GoldError(f"{path}:{number}: ligne invalide ({error.__class__.__name__})") from None
            try:  # the assistant would refuse it: say so here, with the line
                clean_question(items[-1].question)
            except InvalidQuestion as error:
                raise GoldError(f"{path}:{number}: question refusée ({error})") from None
    return items


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


class Evaluator:
    """Runs a gold set through one system; `run(items)` returns the eval JSON."""

    def __init__(self, search, system: str):
        self.search = search  # callable(query) -> (unit ids, abstained)
        self.system = system

    def run(self, items: list[GoldItem]) -> dict:
        outcomes = []
        for item in items:
            query = standalone_question(item.question, item.history)
            started = time.perf_counter()
            retrieved, abstained = self.search(query)
            outcomes.append({"retrieved": retrieved, "abstained": abstained, "query": query,
                             "latency_ms": (time.perf_counter() - started) * 1000})
        return score(items, outcomes, self.system)


class AnswerEvaluator:
    """Runs a gold set through the whole assistant in one answer mode: retrieval metrics plus
    citations, facts, verification and answer latency (`run(items)` returns the eval JSON)."""

    def __init__(self, assistant, mode: str = "extractive"):
        self.assistant, self.mode = assistant, mode

    def run(self, items: list[GoldItem]) -> dict:
        outcomes = [self._one(item) for item in items]
        result = score(items, outcomes, "hybrid")
        result["mode"] = self.mode
        result.update(answer_scores(items, outcomes))
        for question, outcome in zip(result["per_question"], outcomes):
            question.update({k: outcome[k] for k in ("answer", "citations", "unsupported", "invented")})
        return result

    def _one(self, item: GoldItem) -> dict:
        started = time.perf_counter()
        reply = self.assistant.prepare(item.question, item.history, 10)
        shown = (time.perf_counter() - started) * 1000
        answer = reply.answer
        outcome = {"retrieved": reply.retrieval.unit_ids, "abstained": answer.abstained, "query": reply.standalone,
                   "latency_ms": reply.retrieval.latency_ms, "first_ms": shown}
        if self.mode == "generative" and not answer.abstained:
            for _ in self.assistant.stream_draft(reply):
                pass
        draft = answer.draft
        checked = draft.verification if draft is not None and not draft.failure else None
        if checked is not None:
            outcome["first_ms"] = shown + draft.first_token_ms
        outcome.update(total_ms=(time.perf_counter() - started) * 1000,
                       answer=(checked.text if checked else answer.text()),
                       # Generative mode is judged on what the model cited, not on the passages.
                       citations=[] if answer.abstained else (draft.citations if checked else answer.citations),
                       sentences=len(checked.sentences) if checked else 0,
                       unsupported=[s.text for s in checked.unsupported] if checked else [],
                       invented=checked.invented_numbers if checked else [],
                       generated=checked is not None)
        return outcome


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


def markdown_report(results: list[dict], items: list[GoldItem]) -> str:
    """Systems side by side, then each question's outcome per system."""
    systems = [r["system"] for r in results]
    lines = ["# Évaluation de la recherche", "", f"{results[0]['n']} questions.", "",
             "| métrique | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    for key in results[0]["retrieval"]:
        lines.append(f"| {key} | " + " | ".join(f"{r['retrieval'][key]:.3f}" for r in results) + " |")
    for key in ("accuracy", "false_refusal_rate"):
        lines.append(f"| abstention {key} | " + " | ".join(f"{r['abstention'][key]:.3f}" for r in results) + " |")
    for key in ("p50", "p95"):
        lines.append(f"| latence {key} (ms) | " + " | ".join(f"{r['latency_ms'][key]:.1f}" for r in results) + " |")
    lines += answer_rows(results)
    lines += ["", "## Par question", "", "| id | attendu | " + " | ".join(systems) + " |",
              "|---|---|" + "---|" * len(systems)]
    per = [{q["id"]: q for q in r["per_question"]} for r in results]
    for item in items:
        cells = [outcome_cell(p[item.id]) for p in per]
        expected = ", ".join(item.expected) if item.answerable else "(hors corpus : s'abstenir)"
        lines.append(f"| {item.id} | {expected} | " + " | ".join(cells) + " |")
    lines += answer_section(results)
    return "\n".join(lines) + "\n"


def answer_section(results: list[dict]) -> list[str]:
    """Each answer as written, with what verification flagged (runs with --mode)."""
    answered = next((r for r in results if "citations" in r), None)
    if answered is None:
        return []
    lines = ["", f"## Réponses ({answered['mode']})", ""]
    for question in answered["per_question"]:
        lines += [f"### {question['id']}", "", f"> {question['query']}", "",
                  question["answer"].strip() or "(vide)", "",
                  f"Citations : {', '.join(question['citations']) or '(aucune)'}"]
        lines += [f"- ⚠ non étayée : {s}" for s in question["unsupported"]]
        lines += [f"- ⚠ numéro inventé : {n}" for n in question["invented"]] + [""]
    return lines


def answer_rows(results: list[dict]) -> list[str]:
    """Answer metrics (runs with --mode), blank for retrieval-only systems."""
    if not any("citations" in r for r in results):
        return []
    rows = [("mode de réponse", lambda r: r["mode"]),
            ("citations précision", lambda r: f"{r['citations']['precision']:.3f}"),
            ("citations rappel", lambda r: f"{r['citations']['recall']:.3f}"),
            ("citations F1", lambda r: f"{r['citations']['f1']:.3f}"),
            ("faits mentionnés", lambda r: "n/a" if r["facts"]["coverage"] is None else f"{r['facts']['coverage']:.3f}"),
            ("phrases non étayées", lambda r: f"{r['verification']['unsupported_rate']:.3f}"),
            ("numéros d'article inventés", lambda r: str(r["verification"]["invented_article_numbers"])),
            ("premier affichage p50 (ms)", lambda r: f"{r['latency_ms']['first_token_p50']:.0f}"),
            ("réponse complète p50 (ms)", lambda r: f"{r['latency_ms']['total_p50']:.0f}")]
    return [f"| {name} | " + " | ".join(cell(r) if "citations" in r else "" for r in results) + " |"
            for name, cell in rows]


def outcome_cell(question: dict) -> str:
    if not question["answerable"]:
        return "abstention ✔" if question["abstained"] else "répond ✘"
    rank = question["rank"]
    text = f"rang {rank}" if rank else "absent du top 10"
    return text + (" (abstention ✘)" if question["abstained"] else "")


def searcher(assistant, system: str):
    """search(query) → (unit ids, abstained) for one system, on the assistant's corpus and index."""
    if system == "naive":
        return naive_search(assistant.corpus, assistant.embeddings["main"])
    from assistant.retrieval.retriever import Retriever

    retriever = assistant.retriever if system == assistant.retriever.system else Retriever(
        assistant.corpus, assistant.index, assistant.embeddings, system)

    def search(query: str):
        found = retriever.retrieve(query, 10)
        return found.unit_ids, found.abstained

    return search


def naive_search(corpus, embedding, top_k: int = 10):
    """A newcomer's LlamaIndex setup: SentenceSplitter (1,024 tokens) over the raw corpus
    files, vector search only, same embedding model. Returns search(query) → (ids, False)."""
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    Settings.embed_model = embedding  # never the OpenAI default
    Settings.llm = None
    documents, spans = [], {}
    for document in corpus.documents.values():
        text = document.file.read_text(encoding="utf-8")
        documents.append(Document(text=text, id_=document.id, metadata={"document": document.id}))
        spans[document.id] = unit_spans(document, text)
    nodes = SentenceSplitter(chunk_size=1024, chunk_overlap=200).get_nodes_from_documents(documents)
    retriever = VectorStoreIndex(nodes, embed_model=embedding, show_progress=True).as_retriever(similarity_top_k=top_k)

    def search(query: str):
        ranked = []
        for node in retriever.retrieve(query):
            start, end = node.node.start_char_idx or 0, node.node.end_char_idx or 0
            for unit_id, (first, last) in spans[node.node.metadata["document"]]:
                if first < end and start < last and unit_id not in ranked:
                    ranked.append(unit_id)
        return ranked, False

    return search


def unit_spans(document, text: str) -> list[tuple[str, tuple[int, int]]]:
    """Character span of each unit in its file (from its `:::` line to the next unit's)."""
    offsets = [0]
    for line in text.split("\n"):
        offsets.append(offsets[-1] + len(line) + 1)
    starts = [offsets[unit.line - 1] for unit in document.units] + [len(text)]
    return [(unit.id, (starts[i], starts[i + 1])) for i, unit in enumerate(document.units)]
