"""The assistant as one object: corpus, live index, retriever and answerer, shared by the
CLI and the chat UI (no logic duplicated in either shell)."""

from __future__ import annotations

import sys
import unicodedata
from dataclasses import replace
from typing import Generator

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.generative import KEPT, GenerativeAnswerer, drain
from assistant.answering.followup import FollowUpRewriter, earlier_question, standalone_question
from assistant.config import Settings, settings as current_settings
from assistant.corpus.model import Corpus
from assistant.models.embeddings import embeddings_for
from assistant.errors import CorpusInvalid, IndexUnavailable, InvalidQuestion
from assistant.index.build import IndexBuilder
from assistant.index.live import LiveIndex, read_query_vectors
from assistant.index.pointer import read_pointer
from assistant.retrieval.issues import cue_texts, load_issues
from assistant.retrieval.retriever import Retriever, strip_injection
from assistant.text import text_hash
from assistant.types import Draft, Reply



MAX_QUESTION_CHARS = 4000
MAX_K = 50


def clean_question(question: str) -> str:
    """The question as text to search: control and invisible format characters out (NUL, escape
    sequences, bidi overrides, zero-width spaces), NFC; refused with a French reason when nothing
    readable is left, when it is too long, or when it holds bytes that were not UTF-8."""
    if not isinstance(question, str):
        raise InvalidQuestion("la question doit être un texte.")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in question):  # undecodable bytes (surrogateescape)
        raise InvalidQuestion("la question contient des octets qui ne sont pas du texte UTF-8 valide : "
                              "vérifiez l'encodage du terminal ou du fichier (UTF-8 attendu).")
    text = "".join(c for c in unicodedata.normalize("NFC", question)
                   if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf")).strip()
    if not text:
        raise InvalidQuestion("la question est vide.")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"la question est trop longue ({len(text):,} caractères ; "
                              "4 000 au plus).".replace(",", " "))
    return text


def check_k(k) -> int:
    """How many units to keep: a whole number from 1 to 50."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidQuestion(f"--k doit être compris entre 1 et {MAX_K}.")
    return k


MODES = ("extractive", "generative")



class Assistant:
    """`ask(question, history)` → Reply. Builds the index first if it is missing."""

    def __init__(self, settings: Settings | None = None, system: str = "hybrid", build_if_missing: bool = True,
                 llm=None):
        self.settings = settings or current_settings()
        self.corpus = load_valid_corpus(self.settings)
        self.embeddings = embeddings_for(self.settings)
        if build_if_missing and not (self.settings.index_dir / "current.json").exists():
            # In this process, under the build lock: a second process started meanwhile waits and
            # then reads this build. (A child process built a little faster, its OpenMP threads
            # spinning, but two of them raced and each removed the other's version.)
            print("Construction de l'index de recherche (environ 2 minutes la première fois)…", file=sys.stderr)
            build_index(self.settings, self.corpus, self.embeddings)
        elif build_if_missing and lacks_cues(self.settings):
            # An index built before the issue cues (or before issues.yaml changed): a build embeds
            # only the new cues (about 20 s) and keeps them, instead of every start embedding them.
            print("Mise à jour de l'index de recherche (questions juridiques de issues.yaml)…", file=sys.stderr)
            build_index(self.settings, self.corpus, self.embeddings)
        self.index = LiveIndex(self.settings.index_dir, chroma_url=self.settings.chroma_url)
        check_models(self.index.pointer, self.embeddings)
        self.retriever = Retriever(self.corpus, self.index, self.embeddings, system)
        self.answerer = ExtractiveAnswerer(self.corpus)
        self._llm, self._llm_problem = llm, ""

    def ask(self, question: str, history: list[dict] | None = None, k: int = 10, mode: str = "extractive") -> Reply:
        """Retrieve and answer; in generative mode the reply carries the model's verified draft."""
        reply = self.prepare(question, history, k)
        if mode == "generative":
            reply = drain(self.stream_draft(reply))
        return reply

    def prepare(self, question: str, history: list[dict] | None = None, k: int = 10) -> Reply:
        """Retrieval and the verbatim passages: what the reader sees at once. A question that
        cannot be read raises InvalidQuestion (French message)."""
        question, k = clean_question(question), check_k(k)
        standalone = self.rewrite(question, history)
        retrieval = self.retriever.retrieve(standalone, k, context=earlier_question(history) if standalone != question else "")
        return Reply(question, standalone, retrieval, self.answerer.answer(retrieval, standalone), self.corpus)

    def rewrite(self, question: str, history: list[dict] | None) -> str:
        """A follow-up as a standalone question: the heuristic, or the model (ASSISTANT_REWRITE=llm)."""
        # ASSISTANT_REWRITE: heuristic (default, instant) or llm (the local model, ~3 s more).
        if self.settings.rewrite == "llm" and history:
            llm = self.llm()
            if llm is not None:
                return FollowUpRewriter(llm).rewrite(question, history)
        return standalone_question(question, history)

    def stream_draft(self, reply: Reply) -> Generator[str, None, Reply]:
        """The model's text, piece by piece; returns the reply with its draft (`yield from`, or
        `drain`). Nothing when abstaining (the model is never asked then) and a draft holding a
        French notice when the model is unavailable."""
        if reply.answer.abstained:
            return reply
        llm = self.llm()
        if llm is None:
            return replace(reply, draft=Draft(failure=self._llm_problem))
        # The model gets the question without the sentences that try to change its rules.
        question = strip_injection(reply.standalone) or reply.standalone
        draft = yield from GenerativeAnswerer(self.corpus, llm, self.verifier()).stream(question, reply.answer)
        return replace(reply, draft=draft)

    def as_llamaindex_retriever(self, k: int = 10):
        """This assistant's retrieval (corpus, live index, models) as a LlamaIndex `BaseRetriever`."""
        from assistant.retrieval.llamaindex import StatuteRetriever  # LlamaIndex users only

        return StatuteRetriever(self.retriever, self.corpus, k)

    def verifier(self):
        """Built once: it weighs words by their rarity over the whole corpus."""
        if getattr(self, "_verifier", None) is None:
            from assistant.answering.verification import Verifier

            self._verifier = Verifier(texts=[unit.plain_text for unit in self.corpus.units])
        return self._verifier

    def llm(self):
        """The configured LLM, created once; None (with a French reason) when unavailable."""
        if self._llm is None and not self._llm_problem:
            from assistant.answering.generative import MAX_ANSWER_TOKENS
            from assistant.models.llm import LLMError, make_llm

            try:
                self._llm = make_llm(self.settings, max_tokens=MAX_ANSWER_TOKENS)
            except LLMError as error:
                self._llm_problem = f"Réponse rédigée indisponible : {error} {KEPT}"
            if self._llm is None and not self._llm_problem:
                self._llm_problem = "Aucun modèle de langage n'est configuré (ASSISTANT_LLM=none) : réponse tirée des textes seule."
        return self._llm


def check_models(pointer: dict, embeddings: dict) -> None:
    """Questions must be embedded by the models that embedded the passages (ASSISTANT_EMBEDDING
    changed since the last build: vectors of another model would be compared, or fail on their size)."""
    built = pointer.get("models") or {}
    changed = [f"{built[name]} → {model.model_name}" for name, model in embeddings.items()
               if name in built and built[name] != model.model_name]
    if changed:
        raise IndexUnavailable(f"l'index en service a été construit avec un autre modèle d'embeddings "
                               f"({', '.join(changed)}) : reconstruisez-le avec « assistant index build ».")


def load_valid_corpus(settings: Settings) -> Corpus:
    corpus = Corpus.load(settings.corpus_dir)
    if corpus.problems:
        listed = "\n".join(str(p) for p in corpus.problems[:20])
        raise CorpusInvalid(f"le corpus contient {len(corpus.problems)} problème(s) :\n{listed}")
    return corpus


def build_index(settings: Settings, corpus: Corpus | None = None, embeddings: dict | None = None,
                force: bool = False, progress: bool = True):
    """Build (or update) the live index; returns the BuildReport."""
    corpus = corpus or load_valid_corpus(settings)
    builder = IndexBuilder(settings.index_dir, embeddings or embeddings_for(settings), progress=progress,
                           chroma_url=settings.chroma_url, queries=cue_texts(load_issues()))
    return builder.build(corpus, force=force)


def lacks_cues(settings: Settings) -> bool:
    """Whether the live index misses the vectors of some cue of issues.yaml, for any model."""
    pointer = read_pointer(settings.index_dir)
    wanted = {text_hash(cue) for cue in cue_texts(load_issues())}
    return bool(pointer) and any(not wanted <= set(read_query_vectors(settings.index_dir, pointer, name))
                                 for name in pointer.get("models", {}))


__all__ = ["Assistant", "Reply", "CorpusInvalid", "IndexUnavailable", "InvalidQuestion", "build_index",
           "clean_question"]
