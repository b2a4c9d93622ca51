"""Generated answers: the local model writes from numbered extracts, then is verified.

The extracts are the sentences the extractive answer already selected (not whole articles):
prompt reading is the cost on 2 cores (~70 tokens/s), and the fixed instructions go first,
identical for every question, so llama.cpp reuses them from its cache.
"""

from __future__ import annotations

import time
from typing import Generator

from assistant.answering.verification import Verifier
from assistant.corpus.model import Corpus
from assistant.retrieval.retriever import INJECTION_RE
from assistant.text import shorten
from assistant.types import Answer, Draft, Extract

MAX_EXTRACTS = 3
MAX_EXTRACT_CHARS = 220  # per extract: 3 extracts ≈ 200 tokens to read (~3 s here)
MAX_ANSWER_TOKENS = 220

SYSTEM_PROMPT = (
    "Tu es l'assistant juridique des travailleurs sociaux des CPAS wallons. Tu réponds en français, "
    "uniquement à partir des extraits numérotés fournis, jamais de mémoire.\n"
    "Règles :\n"
    "- Réponse courte, 2 à 4 phrases complètes.\n"
    "- Première phrase : la réponse directe (« Oui, … », « Non, … » ou « Cela dépend de … »).\n"
    "- Puis les conditions prévues par les extraits.\n"
    "- Chaque phrase finit par le numéro de l'extrait qui la justifie, entre crochets.\n"
    "- Si les extraits ne répondent pas à une partie de la question, écris « Les extraits ne précisent pas … ».\n"
    "- Ne mentionne aucun numéro d'article absent des extraits. Aucun conseil au-delà des textes.\n"
)


KEPT = "La réponse tirée des textes reste ci-dessus."  # said after any draft that failed


def make_extracts(answer: Answer, corpus: Corpus) -> tuple[Extract, ...]:
    """One numbered extract per unit quoted by the extractive answer (its selected sentences)."""
    grouped: dict[str, list] = {}
    for quote in answer.quotes:
        # A sentence that reads as an order to the model (« ignore les consignes… ») is never
        # given to it, even from the corpus; the reader still sees it among the passages.
        if not INJECTION_RE.search(quote.text):
            grouped.setdefault(quote.unit_id, []).append(quote)
    extracts = []
    for number, (unit_id, quotes) in enumerate(list(grouped.items())[:MAX_EXTRACTS], start=1):
        text = shorten(" … ".join(q.text for q in quotes), MAX_EXTRACT_CHARS)
        extracts.append(Extract(number, unit_id, quotes[0].label, text, corpus.unit(unit_id).plain_text))
    return tuple(extracts)



def user_prompt(question: str, extracts: tuple[Extract, ...]) -> str:
    lines = ["Extraits :"]
    lines += [f"[{e.number}] {e.label} : « {e.text} »" for e in extracts]
    lines += [f"Question : {question}"]
    return "\n".join(lines)


class GenerativeAnswerer:
    """`stream(question, answer)` yields the model's text pieces and returns the verified Draft."""

    def __init__(self, corpus: Corpus, llm, verifier: Verifier | None = None):
        self.corpus, self.llm = corpus, llm
        self.verifier = verifier or Verifier()

    def stream(self, question: str, answer: Answer) -> Generator[str, None, Draft]:
        """Pieces of text as they come, then (`draft = yield from …`) the Draft; on failure its
        `failure` says why (French), no exception."""
        from llama_index.core.llms import ChatMessage

        from assistant.models.llm import LLMError

        extracts = make_extracts(answer, self.corpus)
        messages = [ChatMessage(role="system", content=SYSTEM_PROMPT),
                    ChatMessage(role="user", content=user_prompt(question, extracts))]
        started, pieces, first_token_ms, failure = time.perf_counter(), [], 0.0, ""
        try:
            for response in self.llm.stream_chat(messages):
                piece = response.delta or ""
                if piece and not pieces:
                    first_token_ms = (time.perf_counter() - started) * 1000
                pieces.append(piece)
                yield piece
        except LLMError as error:
            failure = f"Le modèle n'a pas pu rédiger de réponse ({error}). {KEPT}"
        except Exception as error:  # a runtime bug must not cost the user the verbatim passages
            failure = ("Le modèle a rencontré une erreur inattendue "
                       f"({error.__class__.__name__}). {KEPT}")
        total_ms = (time.perf_counter() - started) * 1000
        text = "".join(pieces).strip()
        verification = None if failure else self.verifier.check(text, extracts)
        return Draft(text, extracts, verification, failure, first_token_ms, total_ms)

    def draft(self, question: str, answer: Answer) -> Draft:
        """The whole draft at once (CLI without streaming, evaluation)."""
        return drain(self.stream(question, answer))


def drain(stream: Generator):
    """Run a stream to its end, pieces discarded; its return value (`yield from` gives it too)."""
    while True:
        try:
            next(stream)
        except StopIteration as done:
            return done.value
