"""Feedback and history on SQLite through Chainlit's SQLAlchemy data layer (no browser)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid

import pytest

from assistant.web import data_layer as feedback
from assistant.evaluation.gold import load_gold
from tests.unit.web.test_privacy import VALID_NATIONAL_NUMBER

pytestmark = pytest.mark.unit

QUESTION = "Puis-je partager des informations en concertation de cas ?"
EXCHANGE = {"question": QUESTION, "standalone": QUESTION, "mode": "extractive", "abstained": False,
            "passages": "Extraits…", "draft": "", "answer": "Extraits…",
            "citations": ["code-penal-1867:art-458ter"], "history": [], "at": "2026-11-27T10:00:00"}


def run(coroutine_function):
    """Chainlit's layer reads its context (session) on writes: give it an HTTP one, as the server does."""
    async def with_context():
        from chainlit.context import init_http_context

        init_http_context()
        return await coroutine_function()

    return asyncio.run(with_context())


def rows(path, query):
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


def dump(path) -> str:
    with sqlite3.connect(path) as connection:
        return "\n".join(connection.iterdump())


def thumbs(value, for_id, comment=None, thread_id="t1"):
    from chainlit.types import Feedback

    return Feedback(forId=for_id, value=value, threadId=thread_id, comment=comment)


def test_schema_has_the_columns_chainlit_writes(tmp_path):
    path = tmp_path / "chat.sqlite3"
    feedback.create_tables(path)
    feedback.create_tables(path)  # idempotent
    columns = {row[1] for row in rows(path, "PRAGMA table_info(steps)")}
    assert {"autoCollapse", "icon", "modes", "command", "defaultOpen", "end"} <= columns
    from chainlit.step import StepDict

    assert set(StepDict.__annotations__) - {"feedback"} <= columns


def test_history_off_keeps_nothing_but_rated_exchanges(tmp_path):
    path = tmp_path / "chat.sqlite3"

    async def scenario():
        layer = feedback.make_data_layer(path, history=False)
        await layer.update_thread("t1", name=QUESTION)
        await layer.create_step({"id": "run1", "name": "on_message", "type": "run", "threadId": "t1",
                                 "streaming": False, "input": QUESTION})
        layer.recent.remember("run1", EXCHANGE)
        first = await layer.upsert_feedback(thumbs(0, "run1", f"faux, voir {VALID_NATIONAL_NUMBER}"))
        await layer.upsert_feedback(thumbs(0, "run-unknown"))
        listed = await layer.list_threads(None, None)
        return layer, first, listed, await layer.get_thread("t1")

    layer, first, listed, thread = run(scenario)
    assert thread is None and listed.data == []
    assert rows(path, "SELECT count(*) FROM steps") == [(0,)] and rows(path, "SELECT count(*) FROM threads") == [(0,)]
    assert rows(path, 'SELECT "forId", "value", "comment" FROM feedbacks ORDER BY "forId"') == [
        ("run-unknown", 0, None), ("run1", 0, "faux, voir [numéro national masqué]")]
    assert [json.loads(e)["question"] for (e,) in rows(path, 'SELECT "exchange" FROM rated_exchanges')] == [QUESTION]
    assert VALID_NATIONAL_NUMBER not in dump(path)

    async def withdraw():
        await layer.delete_feedback(first)

    run(withdraw)
    assert rows(path, 'SELECT count(*) FROM rated_exchanges') == [(0,)]


def test_history_on_restores_steps_feedback_and_citations_without_personal_data(tmp_path):
    """Pitfalls: feedback must come back on resume (#2084), on the run step the thumbs belong to,
    and a second vote must not duplicate the step in the resumed thread."""
    from chainlit.element import File, Text
    from chainlit.user import User

    path = tmp_path / "chat.sqlite3"
    question = f"{QUESTION} Mon usager est le {VALID_NATIONAL_NUMBER}."

    async def scenario():
        layer = feedback.make_data_layer(path, history=True)
        user = await layer.create_user(User(identifier="formatrice"))
        await layer.update_thread("t1", name=question, user_id=user.id, tags=["atelier"],
                                  metadata={"history": [{"role": "user", "content": question}]})
        steps = [
            {"id": "m1", "name": "formatrice", "type": "user_message", "threadId": "t1", "streaming": False,
             "output": question, "createdAt": "2026-11-27T10:00:00Z"},
            {"id": "run1", "name": "on_message", "type": "run", "threadId": "t1", "parentId": "m1", "streaming": False,
             "input": question, "metadata": {"exchange": EXCHANGE}, "createdAt": "2026-11-27T10:00:01Z",
             "modes": {"a": "b"}},
            {"id": "a1", "name": "Assistant", "type": "assistant_message", "threadId": "t1", "parentId": "run1",
             "streaming": False, "output": "Extraits…", "createdAt": "2026-11-27T10:00:02Z"},
        ]
        for step in steps:
            await layer.create_step(step)
        await layer.create_element(Text(name="Code pénal, art. 458ter", display="side", thread_id="t1", for_id="a1",
                                        url="/assistant/unit/code-penal-1867%3Aart-458ter?passages=0"))
        await layer.create_element(File(name="conversation.md", content=b"export", thread_id="t1", for_id="a1"))
        await layer.upsert_feedback(thumbs(0, "run1", "incomplet"))
        await layer.upsert_feedback(thumbs(1, "run1", "finalement utile"))
        await asyncio.sleep(0)
        return await layer.get_thread("t1")

    thread = run(scenario)
    assert [s["id"] for s in thread["steps"]] == ["m1", "run1", "a1"]
    run_step = next(s for s in thread["steps"] if s["id"] == "run1")
    assert run_step["feedback"]["value"] == 1 and run_step["feedback"]["comment"] == "finalement utile"
    assert next(s for s in thread["steps"] if s["id"] == "a1")["parentId"] == "run1"
    assert [(e["name"], e["forId"]) for e in thread["elements"]] == [("Code pénal, art. 458ter", "a1")]
    assert thread["userIdentifier"] == "formatrice"
    assert rows(path, "SELECT count(*) FROM feedbacks") == [(1,)]
    assert VALID_NATIONAL_NUMBER not in dump(path)
    assert "[numéro national masqué]" in thread["steps"][0]["output"]


def test_after_a_restart_feedback_finds_the_exchange_in_the_stored_run(tmp_path):
    path = tmp_path / "chat.sqlite3"

    async def scenario():
        layer = feedback.make_data_layer(path, history=True)
        await layer.create_step({"id": "run1", "name": "on_message", "type": "run", "threadId": "t1",
                                 "streaming": False, "metadata": {"exchange": EXCHANGE}})
        restarted = feedback.make_data_layer(path, history=True)  # nothing in memory
        await restarted.upsert_feedback(thumbs(0, "run1"))

    run(scenario)
    assert json.loads(rows(path, 'SELECT "exchange" FROM rated_exchanges')[0][0]) == EXCHANGE


def test_thumbs_down_become_gold_candidates(tmp_path):
    path = tmp_path / "chat.sqlite3"
    other = {**EXCHANGE, "question": "La police peut-elle lire le dossier ?"}

    async def scenario():
        layer = feedback.make_data_layer(path, history=False)
        for run_id, exchange, value, comment in [("r1", EXCHANGE, 0, "Il manque l'art. 458bis"),
                                                 ("r2", other, 1, None)]:
            layer.recent.remember(run_id, exchange)
            await layer.upsert_feedback(thumbs(value, run_id, comment))

    run(scenario)
    out = tmp_path / "candidats" / "retours.jsonl"
    assert feedback.export_candidates(path, out) == 1
    line = json.loads(out.read_text(encoding="utf-8"))
    assert line["question"] == QUESTION and line["given_citations"] == ["code-penal-1867:art-458ter"]
    assert line["expected_citations"] == [] and "Il manque l'art. 458bis" in line["note"]
    assert line["id"].startswith("retour-")
    items = load_gold([out])  # the evaluation reads it as it is
    assert [item.question for item in items] == [QUESTION]


def test_export_without_any_feedback_yet(tmp_path):
    out = tmp_path / f"{uuid.uuid4()}.jsonl"
    assert feedback.export_candidates(tmp_path / "absent.sqlite3", out) == 0 and out.read_text() == ""
