"""A conversation exported as Markdown, with its sources; what is kept of an exchange."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant import render
from assistant.web import export
from assistant.corpus.model import Corpus
from tests.conftest import CORPUS_DIR
from tests.unit.web.test_privacy import VALID_NATIONAL_NUMBER
from tests.unit.test_render import QUESTION, make_reply

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.load(CORPUS_DIR)


def test_exchange_record_masks_personal_data_and_keeps_the_answer(corpus):
    reply = make_reply(corpus, f"{QUESTION} (usager {VALID_NATIONAL_NUMBER})")
    history = [{"role": "user", "content": "Question avec jean@example.be"}, {"role": "assistant", "content": "…"}]
    record = export.exchange_record(reply, "extractive", history)
    assert VALID_NATIONAL_NUMBER not in str(record) and "jean@example.be" not in str(record)
    assert record["citations"] == reply.citations and record["passages"] == render.passages_text(reply.answer)
    assert record["mode"] == "extractive" and record["draft"] == "" and not record["abstained"]
    assert export.history_turns(reply) == [{"role": "user", "content": reply.question},
                                           {"role": "assistant", "content": render.answer_text(reply)}]
    assert len(export.exchange_record(reply, "extractive", history * 5)["history"]) == export.HISTORY_TURNS


def test_conversation_markdown_has_questions_passages_and_sources(corpus):
    first = export.exchange_record(make_reply(corpus), "extractive")
    follow = export.exchange_record(
        make_reply(corpus, "Et pour un conseiller ?", "code-penal-1867:art-458",
                   standalone=f"{QUESTION} Et pour un conseiller ?"),
        "extractive")
    markdown = render.conversation_markdown([first, follow], corpus, datetime(2026, 11, 27, 14, 5))
    assert markdown.startswith("# Conversation avec l'assistant « secret professionnel » — 27 novembre 2026, 14:05")
    assert "## Question 1" in markdown and "## Question 2" in markdown
    assert f"*Question comprise : {QUESTION} Et pour un conseiller ?*" in markdown
    assert first["passages"] in markdown
    sources = markdown.split("## Sources", 1)[1]
    assert sources.count("**Code pénal, art. 458ter**") == 1  # each cited unit once
    # Two articles of the Code pénal: its version, link and « remplacé » warning said once.
    assert "- **Code pénal** — version à jour au 28 mai 2024 — http://www.ejustice" in sources
    assert sources.count("**Code pénal** —") == 1 and sources.count("⚠ Texte remplacé par") == 1
    assert "  - **Code pénal, art. 458ter** (`code-penal-1867:art-458ter`)" in sources
    assert "  - **Code pénal, art. 458** (`code-penal-1867:art-458`)" in sources
    assert "n'est pas un avis juridique" in markdown


def test_export_says_a_documents_warnings_once_and_a_units_own_note_under_it(corpus):
    cited = ["loi-1976-07-08-cpas:art-1", "loi-1976-07-08-cpas:art-36"]
    sources = "\n".join(render.sources_markdown(corpus, cited))
    document_line = next(line for line in sources.split("\n") if line.startswith("- **Loi organique des CPAS**"))
    assert "wallex.wallonie.be" in document_line
    # The document is partial: said once, at the document; art. 36's own note (a cut quotation) under it.
    assert sources.count("  - ⚠ Texte partiel : Tout sauf les art. 1er et 2") == 1
    assert "    - ⚠ Texte partiel : Pas le texte de l'article" in sources
    art_1 = sources.split("(`loi-1976-07-08-cpas:art-1`)", 1)[1].split("\n")[1]
    assert art_1.startswith("  - **Loi organique des CPAS, art. 36**")  # art. 1 has no warning of its own
    assert ".." not in sources


def test_export_of_an_unknown_unit_and_the_file_name(corpus):
    record = {"question": "q", "standalone": "q", "passages": "p", "citations": ["absent:art-1"]}
    assert "- absent:art-1 (n'est plus dans le corpus)" in render.conversation_markdown([record], corpus)
    assert export.export_filename(datetime(2026, 1, 2, 3, 4)) == "conversation-secret-professionnel-2026-01-02-03h04.md"


def test_export_notice_counts_questions_in_french():
    assert export.export_notice(1, "f.md") == "Conversation exportée (1 question) : f.md"
    assert export.export_notice(3, "f.md") == "Conversation exportée (3 questions) : f.md"
