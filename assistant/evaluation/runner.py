"""Gold sets → retrieval and abstention metrics, for the system and its baselines."""

from __future__ import annotations

import time

from assistant.answering.followup import standalone_question
from assistant.evaluation.gold import GoldItem
from assistant.evaluation.metrics import answer_scores, score

SYSTEMS = ("hybrid", "bm25", "dense", "naive", "constant")


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
            question.update({k: outcome[k] for k in ("lead", "answer", "citations", "unsupported", "invented")})
        return result

    def _one(self, item: GoldItem) -> dict:
        from assistant.answering.generative import drain
        from assistant.render import answer_text

        started = time.perf_counter()
        reply = self.assistant.prepare(item.question, item.history, 10)
        shown = (time.perf_counter() - started) * 1000
        answer = reply.answer
        outcome = {"retrieved": reply.retrieval.unit_ids, "abstained": answer.abstained, "query": reply.standalone,
                   "latency_ms": reply.retrieval.latency_ms, "first_ms": shown}
        if self.mode == "generative" and not answer.abstained:
            reply = drain(self.assistant.stream_draft(reply))
        draft = reply.draft
        checked = draft.verification if draft is not None and not draft.failure else None
        if checked is not None:
            outcome["first_ms"] = shown + draft.first_token_ms
        outcome.update(total_ms=(time.perf_counter() - started) * 1000,
                       answer=(checked.text if checked else answer_text(reply)),
                       lead="" if checked else answer.lead,  # the draft has no lead of its own
                       # Generative mode is judged on what the model cited, not on the passages.
                       citations=[] if answer.abstained else (draft.citations if checked else answer.citations),
                       sentences=len(checked.sentences) if checked else 0,
                       unsupported=[s.text for s in checked.unsupported] if checked else [],
                       invented=list(checked.invented_numbers) if checked else [],
                       reply_invented=[] if checked or answer.abstained else reply_invented(reply),
                       generated=checked is not None)
        return outcome


def reply_invented(reply) -> list[str]:
    """Article numbers in the reply written without a model that no cited unit shows (its own
    number or one its text refers to): 0 by construction, measured all the same."""
    from assistant.answering.verification import invented_numbers
    from assistant.render import passages_text
    from assistant.types import Extract

    corpus = reply.corpus
    extracts = [Extract(n, u, "", corpus.unit(u).plain_text, corpus.unit(u).plain_text)
                for n, u in enumerate(reply.answer.citations, start=1)]
    return invented_numbers(passages_text(reply.answer), extracts)


def searcher(assistant, system: str, items: list[GoldItem] = ()):
    """search(query) → (unit ids, abstained) for one system, on the assistant's corpus and index."""
    if system == "naive":
        return naive_search(assistant.corpus, assistant.embeddings["main"])
    if system == "constant":
        return constant_search(searcher(assistant, "hybrid"), items)
    from assistant.retrieval.retriever import Retriever

    retriever = assistant.retriever if system == assistant.retriever.system else Retriever(
        assistant.corpus, assistant.index, assistant.embeddings, system)

    def search(query: str):
        found = retriever.retrieve(query, 10)
        return found.unit_ids, found.abstained

    return search


def constant_search(default_search, items: list[GoldItem], top_k: int = 10):
    """The same ten units for every question: those the default system returns most often
    in its top 10 over the set, most frequent first (ties: better mean rank, then id). It reads
    no question and never abstains, so a system's lift over it is what reading the question adds."""
    counts: dict[str, int] = {}
    ranks: dict[str, int] = {}
    for item in items:
        retrieved, _abstained = default_search(standalone_question(item.question, item.history))
        for rank, unit_id in enumerate(retrieved[:top_k], start=1):
            counts[unit_id] = counts.get(unit_id, 0) + 1
            ranks[unit_id] = ranks.get(unit_id, 0) + rank
    constant = sorted(counts, key=lambda u: (-counts[u], ranks[u] / counts[u], u))[:top_k]
    return lambda query: (list(constant), False)


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
