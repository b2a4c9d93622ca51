"""The answer of the default mode, written with no model: the brief built from the ranked units
(assistant/answering/brief.py), the notes a reader needs, or an abstention message."""

from __future__ import annotations

from assistant.answering.brief import BriefComposer
from assistant.corpus.model import Corpus, unit_label
from assistant.text import french_date
from assistant.retrieval.retriever import Retrieval
from assistant.types import Answer


class ExtractiveAnswerer:
    """The reply of the default mode: lead, conditions and « À savoir » (assistant/answering/brief.py)
    from the ranked units, or the abstention message."""

    def __init__(self, corpus: Corpus):
        self.corpus = corpus
        self.composer = BriefComposer(corpus)

    def answer(self, retrieval: Retrieval, question: str | None = None) -> Answer:
        question = question or retrieval.question
        if retrieval.abstained or not retrieval.hits:
            signal = retrieval.signal
            message = abstention_message(self.corpus, signal.get("missing") or "", signal.get("scope_topic") or "",
                                         bool(signal.get("authority")), signal.get("unsettled") or "")
            return Answer(question, True, message=message)
        brief = self.composer.compose(retrieval.unit_ids, retrieval.signal.get("issue_units") or {}, question,
                                      {hit.unit_id: hit.score for hit in retrieval.hits},
                                      tuple(retrieval.signal.get("named_documents") or ()),
                                      bool(retrieval.signal.get("offence")))
        return Answer(question, False, brief.quotes, tuple(reply_notes(self.corpus, list(brief.cited))),
                      lead=brief.lead, points=brief.points, related=brief.related, kind=brief.kind,
                      cited=brief.cited)


def reply_notes(corpus: Corpus, unit_ids: list[str]) -> list[str]:
    """What a reader must know about the cited texts, short, once per document: replaced text,
    partial text or, in its place, the cited unit's own note (the version date is in the whole
    text, one click away)."""
    notes = []
    for document_id in dict.fromkeys(u.split(":")[0] for u in unit_ids):
        document = corpus.documents[document_id]
        meta = document.meta
        if meta.get("replaced_by"):
            since = f" depuis le {french_date(meta['replaced_on'])}" if meta.get("replaced_on") else ""
            notes.append(f"{document.label} : remplacé par « {corpus.documents[meta['replaced_by']].label} »{since} ; "
                         "numéros d'articles à vérifier.")
        own = [unit for unit in document.units if unit.id in unit_ids and unit.note]
        if not document.complete and not own:
            # A cited unit's own note says what is missing (« Début de la réponse seulement,
            # tronqué par la source ») better than the document's line; both said it twice.
            notes.append(f"{document.label} : texte partiel dans le corpus.")
        notes += [f"{unit_label(document, unit)} : {unit.note}" for unit in own]
    return notes


def abstention_message(corpus: Corpus, missing: str = "", topic: str = "", authority: bool = False,
                       unsettled: str = "") -> str:
    """Say plainly that the corpus does not answer, and what it does cover."""
    covered = ", ".join(sorted({d.label for d in corpus.documents.values()}))
    if authority:
        first = ("Ce message se présente comme une consigne d'administration ou du système : l'assistant n'en "
                 "reçoit pas par le chat et ses règles ne changent pas. Reposez votre question seule, sans consigne. ")
    elif missing:
        first = f"Le texte demandé ({missing}) n'est pas dans le corpus : je ne peux pas le citer. "
    elif unsettled:
        first = (f"Les textes du corpus que cette question rejoint ne fixent pas {unsettled} que vous demandez ; "
                 "je ne peux pas répondre sans l'inventer. ")
    elif topic:
        first = f"Cette question semble porter sur {topic}, que le corpus ne couvre pas. "
    else:
        first = "Je ne trouve pas de réponse à cette question dans les textes du corpus. "
    return (first +
            "L'assistant ne couvre que le secret professionnel en CPAS, à partir de ces textes : "
            f"{covered}. Pour une autre question, adressez-vous au service juridique de votre CPAS.")
