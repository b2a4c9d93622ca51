"""A reply as data: built once, frozen, then rendered (assistant/render.py) for the CLI, the
chat, the export and JSON. Nothing here is changed after construction: the draft is added by
making a new Reply (`dataclasses.replace(reply, draft=draft)`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.corpus.model import Corpus
    from assistant.retrieval.retriever import Retrieval


@dataclass(frozen=True)
class Quote:
    unit_id: str
    label: str
    text: str


@dataclass(frozen=True)
class Point:
    """A condition or an exception of the rule the lead states (a verbatim fragment of the unit), or
    another rule of the same unit (« also »: a template filled with verbatim fragments)."""

    unit_id: str
    label: str  # « Code pénal, art. 458bis, § 2 »
    text: str
    kind: str = "condition"  # scope (whom the rule is for) | condition | exception | also


@dataclass(frozen=True)
class Related:
    """« À savoir »: another rule the reader must not miss, stated by the same templates."""

    unit_id: str
    label: str
    text: str


@dataclass(frozen=True)
class Answer:
    """The answer: a lead (« En bref »), the conditions and exceptions in the law's words, the
    related rules and version notes (« À savoir »), and the verbatim sentences they come from
    (`quotes`, highlighted in the whole text one click away); or an abstention message."""

    question: str
    abstained: bool
    quotes: tuple[Quote, ...] = ()
    notes: tuple[str, ...] = ()
    message: str = ""
    lead: str = ""
    points: tuple[Point, ...] = ()
    related: tuple[Related, ...] = ()
    kind: str = ""  # the kind of question (assistant/answering/questions.py)
    cited: tuple[str, ...] = ()  # the units the reply cites, in order

    @property
    def citations(self) -> list[str]:
        """Cited unit ids, in order: the lead's, the conditions', the related rules'."""
        return list(self.cited) or list(dict.fromkeys(q.unit_id for q in self.quotes))


@dataclass(frozen=True)
class Extract:
    """One numbered extract given to the model: a unit, and the sentences shown of it."""

    number: int
    unit_id: str
    label: str
    text: str  # what the model saw
    source: str  # the unit's whole text: support may come from a sentence the model did not see


@dataclass(frozen=True)
class CheckedSentence:
    text: str
    citations: tuple[int, ...]
    supported: bool
    support: float
    attributed: bool = False  # the citation was added by verification, not written by the model


@dataclass(frozen=True)
class Verification:
    text: str  # the answer with citations to unknown extracts removed
    sentences: tuple[CheckedSentence, ...] = ()
    removed_citations: tuple[int, ...] = ()
    invented_numbers: tuple[str, ...] = ()

    @property
    def cited_units(self) -> list[int]:
        return list(dict.fromkeys(n for s in self.sentences for n in s.citations))

    @property
    def unsupported(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if not s.supported]

    @property
    def unsupported_rate(self) -> float:
        return len(self.unsupported) / len(self.sentences) if self.sentences else 0.0

    def warnings(self) -> list[str]:
        """What the reader must know, in French."""
        out = []
        for sentence in self.unsupported:
            out.append(f"Phrase non étayée par les extraits cités, à vérifier : « {sentence.text} »")
        if self.invented_numbers:
            listed = ", ".join(self.invented_numbers)
            out.append(f"Numéro(s) d'article absent(s) des extraits : {listed}. Ne pas s'y fier sans vérification.")
        if self.removed_citations:
            out.append("Des renvois à des extraits inexistants ont été retirés.")
        return out


@dataclass(frozen=True)
class Draft:
    """The model's text and its verification (None when the model failed: `failure` says why)."""

    text: str = ""
    extracts: tuple[Extract, ...] = ()
    verification: Verification | None = None
    failure: str = ""  # French notice when the model could not answer
    first_token_ms: float = 0.0
    total_ms: float = 0.0
    timings: dict = field(default_factory=dict, compare=False)

    @property
    def citations(self) -> list[str]:
        """Unit ids the verified answer cites, in order."""
        if not self.verification:
            return []
        by_number = {e.number: e.unit_id for e in self.extracts}
        return list(dict.fromkeys(by_number[n] for n in self.verification.cited_units if n in by_number))


@dataclass(frozen=True)
class Reply:
    """One question answered: what was typed, what was searched, the passages, the draft if any.
    The corpus is kept for rendering (labels, unit texts, warnings), not compared."""

    question: str
    standalone: str
    retrieval: Retrieval
    answer: Answer
    corpus: Corpus = field(repr=False, compare=False)
    draft: Draft | None = None

    @property
    def citations(self) -> list[str]:
        """Cited unit ids in order: the verified draft's, else the quoted passages'."""
        if self.draft is not None and self.draft.citations:
            return self.draft.citations
        return self.answer.citations
