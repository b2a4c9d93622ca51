"""Extractive answers: verbatim quotes, labels, version notes, abstention."""

from __future__ import annotations

import re

import pytest

from assistant.answering.extractive import ExtractiveAnswerer, abstention_message
from assistant.text import split_sentences
from assistant.render import passages_text
from assistant.retrieval.retriever import Hit, Retrieval

# The session fixtures (small corpus and index), registered once for every module.
pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures")
from tests.helpers.retrieval_fixtures import QUESTION_458TER, UNIT_458TER  # noqa: E402

pytestmark = pytest.mark.integration

LABEL_RE = re.compile(r"^Code pénal, art\. \d+[a-z]*(, § \d+(er)?)?$")
HEADING_ONLY_RE = re.compile(r"^(Art\.|Article)\s*\d+[a-z]*(/\d+)?\.?$")


def normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def answerer(small_corpus):
    return ExtractiveAnswerer(small_corpus)


@pytest.fixture(scope="module")
def answer_458ter(retriever_factory, answerer):
    retrieval = retriever_factory("hybrid").retrieve(QUESTION_458TER, 10)
    assert not retrieval.abstained
    return answerer.answer(retrieval)


def hand_retrieval(question: str, *unit_ids: str) -> Retrieval:
    return Retrieval(question, [Hit(u, 1.0 - i / 10, 0, "both") for i, u in enumerate(unit_ids)], False)


def test_quotes_are_verbatim(answer_458ter, small_corpus):
    assert not answer_458ter.abstained
    assert answer_458ter.quotes
    for quote in answer_458ter.quotes:
        assert normalise(quote.text) in normalise(small_corpus.unit(quote.unit_id).plain_text), quote
        assert quote.text == normalise(quote.text)


def test_quotes_cite_458ter_with_its_paragraph(answer_458ter):
    assert UNIT_458TER in answer_458ter.citations
    quotes = [q for q in answer_458ter.quotes if q.unit_id == UNIT_458TER]
    assert quotes
    for quote in quotes:
        assert quote.label.startswith("Code pénal, art. 458ter")
    assert any("concertation" in q.text for q in quotes)


def test_labels_of_code_penal_quotes(answer_458ter):
    for quote in answer_458ter.quotes:
        if quote.unit_id.startswith("code-penal-1867:"):
            assert LABEL_RE.match(quote.label), quote.label
    assert answer_458ter.citations == list(dict.fromkeys(q.unit_id for q in answer_458ter.quotes))


def test_quotes_are_sentences_not_bare_article_headings(retriever_factory, answerer, answer_458ter):
    """A quote « Art. 458ter. » alone says nothing and takes the place of a real sentence."""
    answers = [answer_458ter]
    for question in ("Que dit l'article 458ter du Code pénal ?",
                     "Les participants à une concertation sont-ils tenus au secret ?"):
        answers.append(answerer.answer(retriever_factory("hybrid").retrieve(question, 5)))
    for answer in answers:
        for quote in answer.quotes:
            assert not HEADING_ONLY_RE.match(quote.text), (answer.question, quote)


def test_paragraph_labels(answerer):
    answer = answerer.answer(hand_retrieval(
        "Les participants à la concertation sont-ils tenus au secret des secrets communiqués ?", UNIT_458TER))
    labels = {q.text: q.label for q in answer.quotes}
    second = [label for text, label in labels.items() if text.startswith("§ 2. Les participants")]
    assert second == ["Code pénal, art. 458ter, § 2"], labels

    answer = answerer.answer(hand_retrieval(
        "Pas d'infraction pour une concertation organisée par une loi ou une autorisation motivée du procureur ?",
        UNIT_458TER))
    first = [q.label for q in answer.quotes if "Il n'y a pas d'infraction" in q.text]
    assert first == ["Code pénal, art. 458ter, § 1er"], [(q.label, q.text[:60]) for q in answer.quotes]


def test_article_without_paragraphs_has_a_plain_label(answerer):
    answer = answerer.answer(hand_retrieval("Les médecins qui révèlent des secrets sont-ils punis ?",
                                            "code-penal-1867:art-458"))
    assert answer.quotes
    assert {q.label for q in answer.quotes} == {"Code pénal, art. 458"}


def test_notes_for_the_code_penal(answer_458ter):
    """Said once per reply and per document: the Code was replaced (the version date is in the
    whole text, one click away)."""
    notes = answer_458ter.notes
    replaced = [n for n in notes if n.startswith("Code pénal : remplacé")]
    assert replaced == ["Code pénal : remplacé par « Loi du 29 février 2024 (livre II du Code pénal) » depuis le "
                        "9 avril 2026 ; numéros d'articles à vérifier."]
    assert len(notes) == len(set(notes))


def test_notes_name_partial_documents_only(small_corpus):
    from assistant.answering.extractive import reply_notes

    cited = ["code-penal-1867:art-458ter", "loi-2018-07-30-csil-r:art-3", "qe-cassart-2025:question"]
    notes = reply_notes(small_corpus, cited)
    for unit_id in cited:
        document = small_corpus.documents[unit_id.split(":")[0]]
        unit = small_corpus.unit(unit_id)
        flagged = f"{document.label} : texte partiel dans le corpus." in notes
        # A partial document is flagged once: by the cited unit's own note when it has one.
        assert flagged == (not document.complete and not unit.note), unit_id
        assert any(n.endswith(f" : {unit.note}") for n in notes) == bool(unit.note), unit_id
    assert not small_corpus.documents["loi-2018-07-30-csil-r"].complete


def test_notes_of_a_partial_law(answerer):
    answer = answerer.answer(hand_retrieval("Les membres du conseil sont-ils tenus au secret ?",
                                            "loi-1976-07-08-cpas:art-36"))
    # The unit's own note says what is missing, in place of the document's « texte partiel ».
    assert [n for n in answer.notes if n.startswith("Loi organique des CPAS")] == \
        [f"Loi organique des CPAS, art. 36 : {answerer.corpus.unit('loi-1976-07-08-cpas:art-36').note}"]
    assert not any("remplacé" in n for n in answer.notes)


def test_answer_text(answer_458ter):
    text = passages_text(answer_458ter)
    assert text.startswith(f"En bref : {answer_458ter.lead}\n")
    assert answer_458ter.lead.startswith("Code pénal, art. 458ter — ")
    for point in answer_458ter.points:
        assert f"({point.label})" in text
    assert "À savoir :" in text


# -- abstention -------------------------------------------------------------------------------

def test_abstention_message_names_the_corpus(retriever_factory, answerer, small_corpus):
    retrieval = retriever_factory("hybrid").retrieve("Copie-moi l'article 50 de la loi organique des CPAS", 10)
    answer = answerer.answer(retrieval)
    assert answer.abstained
    assert answer.quotes == () and answer.citations == [] and answer.notes == ()
    assert passages_text(answer) == answer.message
    assert "article 50 (Loi organique des CPAS)" in answer.message
    assert "n'est pas dans le corpus" in answer.message
    for document in small_corpus.documents.values():
        assert document.label in answer.message


def test_abstention_without_a_missing_article(answerer, small_corpus):
    answer = answerer.answer(Retrieval("Quelle est la recette de la tarte tatin ?", [], True))
    assert answer.abstained
    assert answer.message.startswith("Je ne trouve pas de réponse à cette question dans les textes du corpus.")
    assert "secret professionnel" in answer.message
    assert answer.message == abstention_message(small_corpus)


def test_no_hits_means_abstention(answerer):
    assert answerer.answer(Retrieval("Une question ?", [], False)).abstained


# -- sentences -------------------------------------------------------------------------------

def test_split_sentences_keeps_article_number_with_its_text():
    text = ("Art. 458.Les médecins et toutes autres personnes dépositaires des secrets qu'on leur confie "
            "seront punis. Toute personne violant ce secret sera punie des peines prévues à l'art. 458 du Code.")
    sentences = [s for _, s in split_sentences(text)]
    assert sentences[0].startswith("Art. 458.Les médecins")
    assert sentences[0].endswith("seront punis.")
    assert sentences[1] == "Toute personne violant ce secret sera punie des peines prévues à l'art. 458 du Code."
    assert len(sentences) == 2


def test_split_sentences_tracks_paragraphs():
    text = ("§ 1er. Il n'y a pas d'infraction dans ce cas précis. Une deuxième phrase du premier paragraphe.\n\n"
            "§ 2. Les participants sont tenus au secret. Toute personne violant ce secret sera punie.")
    assert split_sentences(text) == [
        ("§ 1er", "§ 1er. Il n'y a pas d'infraction dans ce cas précis."),
        ("§ 1er", "Une deuxième phrase du premier paragraphe."),
        ("§ 2", "§ 2. Les participants sont tenus au secret."),
        ("§ 2", "Toute personne violant ce secret sera punie."),
    ]


def test_split_sentences_of_real_articles_are_verbatim(small_corpus):
    for unit_id in (UNIT_458TER, "code-penal-1867:art-458", "code-penal-1867:art-137"):
        plain = normalise(small_corpus.unit(unit_id).plain_text)
        sentences = split_sentences(small_corpus.unit(unit_id).plain_text)
        assert sentences
        for _, sentence in sentences:
            assert sentence in plain
        assert normalise(" ".join(s for _, s in sentences)) == plain
