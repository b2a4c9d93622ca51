"""Extractive answers: the most relevant sentences of the top units, quoted verbatim, each
with its citation id and a human label, and the version notes a reader needs."""

from __future__ import annotations

import re

from assistant.corpus.model import Corpus, Unit, unit_label
from assistant.text import PART_RE, FrenchAnalyzer
from assistant.retrieval.retriever import Retrieval
from assistant.types import Answer, Quote

# Sentence ends, except after abbreviations that Justel puts before numbers ("Art. 458").
SENTENCE_RE = re.compile(r"(?<=[.;:!?])(?<!\bArt\.)(?<!\bart\.)(?<!\bal\.)(?<!\bn°)\s+(?=[A-ZÀ-Ý0-9§(«\"])|\n\n+")
HEADING_ONLY_RE = re.compile(r"^(?:Art(?:icle)?\.?\s*[\w/]+\.|§\s*\d+(?:er)?\.|\d+°)$")
MAX_UNITS = 3
MAX_SENTENCES = 2


class ExtractiveAnswerer:
    """Quote the sentences of the best units that share the most words with the question."""

    def __init__(self, corpus: Corpus):
        self.corpus = corpus
        self.analyzer = FrenchAnalyzer()

    def answer(self, retrieval: Retrieval, question: str | None = None) -> Answer:
        question = question or retrieval.question
        if retrieval.abstained or not retrieval.hits:
            signal = retrieval.signal
            message = abstention_message(self.corpus, signal.get("missing") or "", signal.get("scope_topic") or "",
                                         bool(signal.get("authority")))
            return Answer(question, True, message=message)
        terms = set(self.analyzer(question))
        quotes = []
        for hit in retrieval.hits[:MAX_UNITS]:
            unit = self.corpus.unit(hit.unit_id)
            quotes += self._quotes(unit, terms)
        return Answer(question, False, tuple(quotes), tuple(version_notes(self.corpus, [q.unit_id for q in quotes])))

    def _quotes(self, unit: Unit, terms: set[str]) -> list[Quote]:
        sentences = split_sentences(unit.plain_text)
        scored = sorted(range(len(sentences)),
                        key=lambda i: (-len(terms & set(self.analyzer(sentences[i][1]))), i))
        chosen = sorted(scored[:MAX_SENTENCES])
        document = self.corpus.document_of(unit)
        label = unit_label(document, unit)
        return [Quote(unit.id, label + (f", {part}" if (part := sentences[i][0]) else ""), sentences[i][1])
                for i in chosen]


def split_sentences(text: str) -> list[tuple[str | None, str]]:
    """[(§ label or None, sentence)] in order; the § is the one the sentence falls under."""
    out, part, carry = [], None, ""
    for sentence in (s.strip() for s in SENTENCE_RE.split(text)):
        if not sentence:
            continue
        if len(sentence) < 12 or HEADING_ONLY_RE.match(sentence):  # "Art. 458ter.", "§ 2.": keep with the next
            carry = f"{carry} {sentence}".strip()
            continue
        sentence = f"{carry} {sentence}".strip()
        carry = ""
        match = PART_RE.match(sentence)
        if match:
            part = f"§ {match.group(1)}"
        out.append((part, " ".join(sentence.split())))
    if carry:
        out.append((part, carry))
    return out


def version_notes(corpus: Corpus, unit_ids: list[str]) -> list[str]:
    """Consolidation date, partial texts, replaced texts — once per document."""
    notes = []
    for document_id in dict.fromkeys(u.split(":")[0] for u in unit_ids):
        document = corpus.documents[document_id]
        meta = document.meta
        if meta.get("version"):
            notes.append(f"{document.label} : version à jour au {meta['version']}.")
        if not document.complete:
            notes.append(f"{document.label} : texte partiel ({meta.get('missing')}).")
        if meta.get("replaced_by"):
            since = f" depuis le {meta['replaced_on']}" if meta.get("replaced_on") else ""
            notes.append(f"{document.label} : remplacé par « {corpus.documents[meta['replaced_by']].label} »{since} ; "
                         "la numérotation des articles est à vérifier dans le nouveau texte.")
        for unit in document.units:
            if unit.id in unit_ids and unit.note:
                notes.append(f"{unit_label(document, unit)} : {unit.note}")
    return notes


def abstention_message(corpus: Corpus, missing: str = "", topic: str = "", authority: bool = False) -> str:
    """Say plainly that the corpus does not answer, and what it does cover."""
    covered = ", ".join(sorted({d.label for d in corpus.documents.values()}))
    if authority:
        first = ("Ce message se présente comme une consigne d'administration ou du système : l'assistant n'en "
                 "reçoit pas par le chat et ses règles ne changent pas. Reposez votre question seule, sans consigne. ")
    elif missing:
        first = f"Le texte demandé ({missing}) n'est pas dans le corpus : je ne peux pas le citer. "
    elif topic:
        first = f"Cette question semble porter sur {topic}, que le corpus ne couvre pas. "
    else:
        first = "Je ne trouve pas de réponse à cette question dans les textes du corpus. "
    return (first +
            "L'assistant ne couvre que le secret professionnel en CPAS, à partir de ces textes : "
            f"{covered}. Pour une autre question, adressez-vous au service juridique de votre CPAS.")
