"""What the chat shows, built without a browser: passages, citations, the side panel, the draft,
the corpus listing, the starters file; one frozen Reply rendered for the CLI, the chat, the
export and JSON."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

import pytest

from assistant import render
from assistant.web import views as ui
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.text import split_sentences
from assistant.config import Settings
from assistant.corpus.model import Corpus
from assistant.pipeline import Reply
from assistant.answering.generative import make_extracts
from assistant.render import DRAFT_TITLE
from assistant.retrieval.retriever import Hit, Retrieval
from assistant.answering.verification import Verifier
from assistant.types import CheckedSentence, Draft, Verification
from assistant.web import export
from tests.conftest import CORPUS_DIR

pytestmark = pytest.mark.unit

QUESTION = "Puis-je partager des informations confidentielles lors d'une concertation de cas ?"
UNIT_458TER = "code-penal-1867:art-458ter"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.load(CORPUS_DIR)


def make_reply(corpus, question=QUESTION, *unit_ids, standalone=None, abstained=False) -> Reply:
    unit_ids = unit_ids or (UNIT_458TER, "code-penal-1867:art-458")
    hits = [] if abstained else [Hit(u, 1.0 - i / 10, 0, "both") for i, u in enumerate(unit_ids)]
    retrieval = Retrieval(standalone or question, hits, abstained)
    answer = ExtractiveAnswerer(corpus).answer(retrieval, standalone or question)
    return Reply(question, standalone or question, retrieval, answer, corpus)


def unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def test_escaping_keeps_a_legal_text_verbatim():
    text = "1. Les *parties* [voir § 2] #3 <art> a_b\n- tiret\n> cité"
    escaped = render.escape_markdown(text)
    assert "*parties*" not in escaped and "\\*parties\\*" in escaped
    assert escaped.startswith("1\\. ") and "\n\\- tiret" in escaped and "\n\\> cité" in escaped
    assert unescape(escaped) == text


def test_reply_leads_in_bold_then_lists_verbatim_fragments_each_with_its_citation(corpus):
    reply = make_reply(corpus)
    answer = reply.answer
    markdown = render.passages_markdown(reply)
    citations = render.citations(reply)
    assert [c.unit_id for c in citations] == answer.citations == [UNIT_458TER]
    assert citations[0].label == "Code pénal, art. 458ter"
    assert markdown.startswith(f"**En bref — {render.escape_markdown(answer.lead)}**")
    assert answer.lead.startswith("Code pénal, art. 458ter")
    conditions = [p for p in answer.points if p.kind != "also"]
    assert conditions and f"{render.POINTS_TITLE} :" in markdown
    text = corpus.unit(UNIT_458TER).plain_text
    for point in conditions:
        # Each condition is a fragment of the article, word for word, and names its article.
        assert all(piece.strip() in text for piece in point.text.split("[…]"))
        assert f"- « {render.escape_markdown(point.text)} » — *{point.label}*" in markdown
        assert point.label.startswith("Code pénal, art. 458ter")
    assert "version à jour au" in markdown or "remplacé par" in markdown
    assert "n'est pas un avis juridique" in markdown and "Question comprise" not in markdown
    plain = render.passages_text(answer)
    assert plain.startswith(f"En bref : {answer.lead}\n") and "**" not in plain


def test_citation_marks_the_quoted_sentences_and_builds_the_panel_url(corpus):
    citation = render.citations(make_reply(corpus))[0]
    sentences = [s for _, s in split_sentences(corpus.unit(UNIT_458TER).plain_text)]
    quoted = [q.text for q in make_reply(corpus).answer.quotes if q.unit_id == UNIT_458TER]
    assert [sentences[i] for i in citation.sentences] == quoted
    assert citation.url.startswith("/assistant/unit/code-penal-1867%3Aart-458ter?passages=")
    assert render.Citation.from_dict(citation.to_dict()) == citation


def test_rewritten_follow_up_is_shown(corpus):
    reply = make_reply(corpus, "Et pour un conseiller ?", standalone=f"{QUESTION} Et pour un conseiller ?")
    assert render.passages_markdown(reply).startswith(f"*Question comprise : {render.escape_markdown(reply.standalone)}*")


def test_abstention_shows_the_french_message_only(corpus):
    reply = make_reply(corpus, "Quelle est la recette de la tarte au sucre ?", abstained=True)
    markdown = render.passages_markdown(reply)
    assert "Extraits" not in markdown and render.citations(reply) == []
    assert unescape(markdown) == reply.answer.message


def test_side_panel_shows_the_whole_unit_with_version_link_warning_and_highlight(corpus):
    unit = corpus.unit(UNIT_458TER)
    markdown = render.unit_markdown(corpus, UNIT_458TER, [1])
    assert "Version à jour au 28 mai 2024." in markdown
    assert "Lien officiel : [ejustice.just.fgov.be](http://www.ejustice.just.fgov.be/eli/loi/1867/06/08/" in markdown
    assert "⚠ Texte remplacé par « Loi du 29 février 2024 (livre II du Code pénal) » depuis le 9 avril 2026" in markdown
    assert " › ".join(render.escape_markdown(h) for h in unit.path) in markdown
    highlighted = re.findall(r"\*\*\*(.+?)\*\*\*", markdown)
    assert [unescape(h) for h in highlighted] == [split_sentences(unit.plain_text)[1][1]]
    body = markdown.split("\n\n---\n\n", 1)[1].rsplit("\n\n*Les passages", 1)[0]
    assert " ".join(unescape(body.replace("***", "")).split()) == " ".join(unit.plain_text.split())


def test_side_panel_warns_about_partial_texts_and_unknown_ids(corpus):
    partial = next(d for d in corpus.documents.values() if not d.complete)
    markdown = render.unit_markdown(corpus, partial.units[0].id)
    assert "⚠ Texte partiel" in markdown and "Version à jour au" in markdown
    assert "n'est pas dans le corpus" in render.unit_markdown(corpus, "code-penal-1867:art-99999")


def test_draft_shows_the_verified_text_its_sources_and_warnings(corpus):
    reply = make_reply(corpus)
    extracts = make_extracts(reply.answer, corpus)
    text = "Oui, dans une concertation organisée [1]. L'article 999 le permet aussi [7]."
    draft = Draft(text, extracts, Verifier().check(text, extracts))
    markdown = render.draft_markdown(draft)
    assert markdown.startswith(f"**{DRAFT_TITLE}**")
    assert "[7]" not in markdown  # citation of an unknown extract removed by the verification
    assert f"\\[1\\] {extracts[0].label}" in markdown
    assert "⚠" in markdown and "999" in markdown
    assert render.draft_markdown(Draft(failure="Le modèle local n'a pas pu rédiger.")) == \
        f"**{DRAFT_TITLE}**\n\n*Le modèle local n'a pas pu rédiger.*"


def test_corpus_listing_has_every_document_with_completeness_and_version(corpus):
    markdown = ui.corpus_listing_markdown(corpus)
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(corpus.documents) == 13
    for document in corpus.documents.values():
        assert any(row.startswith(f"| {render.escape_markdown(document.label)} |") for row in rows)
    assert sum("**partiel**" in row for row in rows) == sum(not d.complete for d in corpus.documents.values())
    assert "| Code pénal | oui | 28 mai 2024 | remplacé par" in markdown


@pytest.mark.parametrize("text", ["Textes du corpus", " textes du  corpus ", "/textes", "corpus"])
def test_corpus_command(text):
    assert ui.is_corpus_command(text)


def test_the_shipped_starters_file_has_four_to_six_scenarios(monkeypatch):
    monkeypatch.delenv("ASSISTANT_STARTERS", raising=False)
    starters, problems = ui.load_starters(Settings.from_env().starters)
    assert problems == [] and 4 <= len(starters) <= 6
    assert all(s.title and s.question.endswith("?") for s in starters)


def test_starters_file_chosen_by_environment_and_broken_entries_reported(tmp_path, monkeypatch):
    path = tmp_path / "atelier.yaml"
    path.write_text("- titre: Réunion de réseau\n  question: Puis-je parler en réunion de réseau ?\n"
                    "- titre: sans question\n- 3\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_STARTERS", str(path))
    starters, problems = ui.load_starters(Settings.from_env().starters)
    assert starters == [ui.Starter("Réunion de réseau", "Puis-je parler en réunion de réseau ?")]
    assert problems == [f"{path} : entrée n° 2 ignorée (il faut « titre » et « question »)",
                        f"{path} : entrée n° 3 ignorée (il faut « titre » et « question »)"]


def test_starters_file_missing_or_invalid(tmp_path):
    missing = tmp_path / "absent.yaml"
    assert ui.load_starters(missing)[1] == [f"{missing} : fichier des questions de départ introuvable"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- titre: [\n", encoding="utf-8")
    starters, problems = ui.load_starters(bad)
    assert starters == [] and "YAML invalide" in problems[0]


def test_french_dates_and_waiting_notice():
    assert render.french_date("2024-05-28") == "28 mai 2024" and render.french_date("2026-04-01") == "1er avril 2026"
    assert render.french_date("bientôt") == "bientôt"
    assert "une autre réponse" in ui.waiting_text(1) and "2 autres réponses" in ui.waiting_text(2)


# -- one frozen Reply, rendered for the CLI, the chat, the export and JSON ---------------------

DRAFTED = "Oui, dans une concertation organisée [1]."
FAILURE = "Le modèle n'a pas pu rédiger de réponse (délai dépassé). La réponse tirée des textes reste ci-dessus."
WHEN = datetime(2026, 11, 27, 14, 5)


def with_draft(reply, text=DRAFTED, failure=""):
    extracts = make_extracts(reply.answer, reply.corpus)
    verification = None if failure else Verification(text, (CheckedSentence(text, (1,), True, 0.9),))
    return dataclasses.replace(reply, draft=Draft(text, extracts, verification, failure, 1234.4, 5678.6))


def answer_section(reply, mode="generative") -> str:
    exported = render.conversation_markdown([export.exchange_record(reply, mode)], reply.corpus, WHEN)
    return exported.split("### Réponse\n\n", 1)[1].split("\n## Sources", 1)[0]


def test_one_reply_with_a_verified_draft_rendered_everywhere(corpus):
    # Two units cited by the reply, one by the draft: the reply's citations are the draft's.
    # 422bis is cited beside 458bis for the words it adds (« péril », « secours »).
    asked = "Un enfant est en péril grave et personne ne lui porte secours : puis-je prévenir le procureur ?"
    reply = with_draft(make_reply(corpus, asked, "code-penal-1867:art-458bis", "code-penal-1867:art-422bis"))
    extract = reply.draft.extracts[0]
    passages = render.passages_text(reply.answer)
    draft = f"{DRAFT_TITLE}\n\n{DRAFTED}\n\n[1] {extract.label} ({extract.unit_id})"
    assert render.draft_text(reply.draft) == draft
    assert render.answer_text(reply) == f"{passages}\n\n{draft}"
    # In the terminal each cited article is one command away.
    shown = f"{passages}\n\n" + "".join(f"Texte entier : assistant corpus show {u}\n" for u in reply.answer.citations)
    assert shown.count("Texte entier : ") == 2
    assert render.terminal_text(reply) == (f"{shown}\n{DRAFT_TITLE}\n\n{DRAFTED}\n\nVersion vérifiée :\n"
                                           f"{DRAFTED}\n\n[1] {extract.label} ({extract.unit_id})\n")
    assert render.draft_markdown(reply.draft) == (f"**{DRAFT_TITLE}**\n\n{render.escape_markdown(DRAFTED)}\n\n"
                                                  f"Sources du brouillon :  \n\\[1\\] {extract.label}")
    assert render.passages_markdown(reply) == render.passages_markdown(dataclasses.replace(reply, draft=None))
    assert reply.citations == [extract.unit_id] != reply.answer.citations  # the draft's, not the quotes'
    assert answer_section(reply) == f"{passages}\n\n{draft}\n"
    assert render.reply_json(reply) == {
        "question": asked, "answer": f"{passages}\n\n{draft}", "abstained": False,
        "citations": [extract.unit_id],
        "units": [{"id": h.unit_id, "score": h.score, "text": corpus.unit(h.unit_id).plain_text}
                  for h in reply.retrieval.hits],
        "notes": list(reply.answer.notes),
        "lead": reply.answer.lead, "kind": "may",
        "conditions": [{"id": p.unit_id, "label": p.label, "text": p.text, "kind": p.kind} for p in reply.answer.points],
        "related": [{"id": r.unit_id, "label": r.label, "text": r.text} for r in reply.answer.related],
        "draft": {"text": DRAFTED, "failure": "", "citations": [extract.unit_id], "warnings": [],
                  "first_token_ms": 1234, "total_ms": 5679}}


def test_a_streamed_draft_prints_what_the_finished_reply_prints(corpus):
    prepared = make_reply(corpus)
    finished = with_draft(prepared)

    def stream():
        yield "Oui, dans une"
        yield " concertation organisée [1]."
        return finished

    chunks = list(render.terminal_chunks(prepared, stream()))
    assert chunks[0].startswith(render.passages_text(prepared.answer) + "\n")  # printed before the model is asked
    assert "".join(chunks) == render.terminal_text(finished)


def test_a_failed_draft_keeps_the_passages_and_says_why(corpus):
    reply = with_draft(make_reply(corpus), "Oui, dans", FAILURE)
    passages = render.passages_text(reply.answer)
    assert render.answer_text(reply) == f"{passages}\n\n{FAILURE}"
    shown = f"{passages}\n\nTexte entier : assistant corpus show {UNIT_458TER}\n"
    assert render.terminal_text(reply) == f"{shown}\n{DRAFT_TITLE}\n\nOui, dans\n\n{FAILURE}\n"
    unavailable = dataclasses.replace(reply, draft=Draft(failure=FAILURE))  # no piece was written
    assert render.terminal_text(unavailable) == f"{shown}\n{FAILURE}\n"
    assert render.draft_markdown(reply.draft) == f"**{DRAFT_TITLE}**\n\n*{render.escape_markdown(FAILURE)}*"
    assert reply.citations == reply.answer.citations  # the quoted units
    assert answer_section(reply) == f"{passages}\n\n{FAILURE}\n"
    assert render.reply_json(reply)["draft"] == {"text": "Oui, dans", "failure": FAILURE, "citations": [],
                                                 "warnings": [], "first_token_ms": 1234, "total_ms": 5679}


def test_an_abstention_is_its_message_everywhere(corpus):
    reply = make_reply(corpus, "Et la tarte au sucre ?", standalone="Quelle est la recette de la tarte au sucre ?",
                       abstained=True)
    message = reply.answer.message
    assert render.answer_text(reply) == render.passages_text(reply.answer) == message
    assert render.terminal_text(reply) == f"Question comprise : {reply.standalone}\n\n{message}\n"
    assert render.passages_markdown(reply) == (f"*Question comprise : {render.escape_markdown(reply.standalone)}*"
                                               f"\n\n{render.escape_markdown(message)}")
    assert answer_section(reply, "extractive") == f"{message}\n"
    assert render.reply_json(reply) == {"question": reply.question, "answer": message, "abstained": True,
                                        "citations": [], "units": [], "notes": [],
                                        "lead": "", "kind": "", "conditions": [], "related": [],
                                        "standalone_question": reply.standalone}


def test_replies_are_frozen(corpus):
    reply = with_draft(make_reply(corpus))
    for thing, name in [(reply, "draft"), (reply.answer, "quotes"), (reply.answer.quotes[0], "text"),
                        (reply.draft, "failure"), (reply.draft.verification, "text"), (reply.draft.extracts[0], "text")]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(thing, name, None)
    assert isinstance(reply.answer.quotes, tuple) and isinstance(reply.draft.extracts, tuple)


def test_only_official_publishers_are_called_official(corpus):
    """A party's web page for the circular and a code-hosting copy of the Code pénal are
    « copie consultée », never « Lien officiel »."""
    circular = render.unit_markdown(corpus, "circulaire-2022-06-02:extrait")
    assert "Lien officiel : aucun dans le corpus." in circular
    assert "Copie consultée (non officielle) : [ecolo.be](" in circular and "[uvcw.be](" in circular
    code = render.unit_markdown(corpus, UNIT_458TER)
    official_line = next(line for line in code.split("\n") if line.startswith("Lien officiel"))
    assert "ejustice.just.fgov.be" in official_line and "github" not in official_line
    assert "Copie consultée (non officielle) : [github.com](" in code
    # Justel's PDF beside its consolidated text: not the same link twice.
    assert "Autres liens officiels : [ejustice.just.fgov.be (PDF)](" in code
    assert render.is_official("https://wallex.wallonie.be/eli/loi/2022") and not render.is_official(
        "https://etaamb.openjustice.be/fr/loi-du-08-juin-1867")
