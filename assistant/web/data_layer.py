"""Feedback (thumbs up/down + comment) and optional conversation history, in one SQLite file
under ASSISTANT_HOME, through Chainlit's SQLAlchemy data layer.

Chainlit does not create its tables and its documented DDL is out of date (steps also need
`autoCollapse`, `icon`, `modes`): `create_tables` writes the schema this version uses.
With history off (the default), nothing of the conversations is written, except the rated
exchange when someone gives feedback — its question masked of personal data — so that
thumbs-down answers can become evaluation candidates (`export_candidates`).
"""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path

from assistant.web import privacy
from assistant.config import Settings
from assistant.render import UNIT_ROUTE

DB_NAME = "chat.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    "id" TEXT PRIMARY KEY, "identifier" TEXT NOT NULL UNIQUE, "metadata" TEXT NOT NULL, "createdAt" TEXT);
CREATE TABLE IF NOT EXISTS threads (
    "id" TEXT PRIMARY KEY, "createdAt" TEXT, "name" TEXT, "userId" TEXT, "userIdentifier" TEXT,
    "tags" TEXT, "metadata" TEXT);
CREATE TABLE IF NOT EXISTS steps (
    "id" TEXT PRIMARY KEY, "name" TEXT NOT NULL, "type" TEXT NOT NULL, "threadId" TEXT NOT NULL,
    "parentId" TEXT, "streaming" INTEGER NOT NULL, "waitForAnswer" INTEGER, "isError" INTEGER,
    "metadata" TEXT, "tags" TEXT, "input" TEXT, "output" TEXT, "createdAt" TEXT, "command" TEXT,
    "modes" TEXT, "start" TEXT, "end" TEXT, "generation" TEXT, "showInput" TEXT, "language" TEXT,
    "indent" INTEGER, "defaultOpen" INTEGER, "autoCollapse" INTEGER, "icon" TEXT);
CREATE TABLE IF NOT EXISTS elements (
    "id" TEXT PRIMARY KEY, "threadId" TEXT, "type" TEXT, "url" TEXT, "chainlitKey" TEXT, "name" TEXT NOT NULL,
    "display" TEXT, "objectKey" TEXT, "size" TEXT, "page" INTEGER, "language" TEXT, "forId" TEXT,
    "mime" TEXT, "props" TEXT, "autoPlay" INTEGER, "playerConfig" TEXT);
CREATE TABLE IF NOT EXISTS feedbacks (
    "id" TEXT PRIMARY KEY, "forId" TEXT NOT NULL, "threadId" TEXT, "value" INTEGER NOT NULL, "comment" TEXT);
CREATE TABLE IF NOT EXISTS rated_exchanges (
    "forId" TEXT PRIMARY KEY, "threadId" TEXT, "createdAt" TEXT, "exchange" TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS steps_thread ON steps ("threadId");
CREATE INDEX IF NOT EXISTS feedbacks_for ON feedbacks ("forId");
"""
# Step fields Chainlit sends as lists or dicts besides metadata/generation (which it encodes itself).
JSON_STEP_FIELDS = ("tags", "modes")
TEXT_STEP_FIELDS = ("input", "output", "name")


def database_path(settings: Settings) -> Path:
    return settings.home / DB_NAME


def create_tables(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.executescript(SCHEMA)


def redact_values(value):
    """Personal data masked in every string of a JSON-like value."""
    if isinstance(value, str):
        return privacy.redact(value)
    if isinstance(value, dict):
        return {k: redact_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_values(v) for v in value]
    return value


class RecentExchanges:
    """The last exchanges answered by this process, by run step id (what feedback refers to)."""

    def __init__(self, size: int = 1000):
        self.size, self._items = size, OrderedDict()

    def remember(self, run_id: str, exchange: dict) -> None:
        self._items[run_id] = exchange
        self._items.move_to_end(run_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def get(self, run_id: str) -> dict | None:
        return self._items.get(run_id)


def make_data_layer(path: Path, history: bool):
    """Built lazily: importing Chainlit is only for the chat."""
    from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
    from chainlit.types import PageInfo, PaginatedResponse

    class AssistantDataLayer(SQLAlchemyDataLayer):
        """Chainlit's layer with SQLite fixes, masking of personal data, and history optional."""

        def __init__(self):
            create_tables(path)
            super().__init__(conninfo=f"sqlite+aiosqlite:///{path}")
            self.history = history
            self.recent = RecentExchanges()

        # -- conversations: written only when history is on --------------------------------
        async def create_step(self, step_dict):
            if not self.history:
                return
            clean = {k: v for k, v in step_dict.items() if k != "feedback"}
            for key in TEXT_STEP_FIELDS:
                if isinstance(clean.get(key), str):
                    clean[key] = privacy.redact(clean[key])
            for key in JSON_STEP_FIELDS:
                if isinstance(clean.get(key), (list, dict)):
                    clean[key] = json.dumps(clean[key], ensure_ascii=False)
            clean["metadata"] = redact_values(clean.get("metadata") or {})
            await super().create_step(clean)

        async def update_thread(self, thread_id, name=None, user_id=None, metadata=None, tags=None):
            if not self.history:
                return
            await super().update_thread(thread_id, privacy.redact(name) if name else name, user_id,
                                        redact_values(metadata) if metadata else metadata,
                                        json.dumps(tags) if tags else None)

        async def create_element(self, element):
            """Only citation elements: their text is the corpus, re-read from the URL on resume.
            Exports and other files stay in the session (no storage client, nothing on disk)."""
            if not (self.history and element.for_id and element.type == "text"
                    and (element.url or "").startswith(UNIT_ROUTE)):
                return
            row = {k: v for k, v in element.to_dict().items() if v is not None}
            row["props"] = json.dumps(row.get("props") or {})
            columns = ", ".join(f'"{k}"' for k in row)
            await self.execute_sql(f'INSERT OR REPLACE INTO elements ({columns}) VALUES '
                                    f'({", ".join(":" + k for k in row)})', row)

        async def get_thread(self, thread_id):
            return await super().get_thread(thread_id) if self.history else None

        async def list_threads(self, pagination, filters):
            if not self.history:
                return PaginatedResponse(pageInfo=PageInfo(hasNextPage=False, startCursor=None, endCursor=None),
                                         data=[])
            return await super().list_threads(pagination, filters)

        # -- feedback: always -----------------------------------------------------------------
        async def upsert_feedback(self, feedback):
            """One feedback per answer (a second vote replaces the first: Chainlit would add a
            row, and the duplicated join row would duplicate the message on resume)."""
            feedback.comment = privacy.redact(feedback.comment) if feedback.comment else feedback.comment
            existing = await self.execute_sql('SELECT "id" FROM feedbacks WHERE "forId" = :for_id',
                                              {"for_id": feedback.forId})
            if isinstance(existing, list) and existing:
                feedback.id = existing[0]["id"]
            feedback_id = await super().upsert_feedback(feedback)
            exchange = self.recent.get(feedback.forId) or await self.stored_exchange(feedback.forId)
            if exchange:
                await self.execute_sql(
                    'INSERT OR REPLACE INTO rated_exchanges ("forId", "threadId", "createdAt", "exchange") '
                    "VALUES (:for_id, :thread_id, :created_at, :exchange)",
                    {"for_id": feedback.forId, "thread_id": feedback.threadId, "created_at": now(),
                     "exchange": json.dumps(redact_values(exchange), ensure_ascii=False)})
            return feedback_id

        async def delete_feedback(self, feedback_id):
            rows = await self.execute_sql('SELECT "forId" FROM feedbacks WHERE "id" = :id', {"id": feedback_id})
            done = await super().delete_feedback(feedback_id)
            if isinstance(rows, list) and rows:  # no feedback left: the exchange is not kept either
                await self.execute_sql('DELETE FROM rated_exchanges WHERE "forId" = :for_id',
                                       {"for_id": rows[0]["forId"]})
            return done

        async def stored_exchange(self, run_id: str) -> dict | None:
            """After a restart, a resumed conversation's exchange is in its run step (history on)."""
            rows = await self.execute_sql('SELECT "metadata" FROM steps WHERE "id" = :id', {"id": run_id})
            if not (isinstance(rows, list) and rows and rows[0]["metadata"]):
                return None
            metadata = rows[0]["metadata"]
            metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
            return metadata.get("exchange")

    return AssistantDataLayer()


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- thumbs-down answers as evaluation candidates ---------------------------------------------

def rated(path: Path, value: int | None = None) -> list[dict]:
    """Feedback rows joined with their exchange, oldest first."""
    if not path.exists():
        return []
    create_tables(path)
    query = ('SELECT f."id", f."value", f."comment", r."createdAt", r."exchange" FROM feedbacks f '
             'JOIN rated_exchanges r ON r."forId" = f."forId"'
             + (' WHERE f."value" = ?' if value is not None else "") + ' ORDER BY r."createdAt", f."id"')
    with sqlite3.connect(path) as connection:
        rows = connection.execute(query, () if value is None else (value,)).fetchall()
    return [{"id": i, "value": v, "comment": c or "", "at": at, "exchange": json.loads(e)} for i, v, c, at, e in rows]


def candidate(row: dict) -> dict:
    """A gold-set line (eval/gold format) to review: expected citations left for the reviewer."""
    exchange = row["exchange"]
    comment = f" Commentaire : « {row['comment']} »." if row["comment"] else ""
    return {
        "id": f"retour-{row['id'][:8]}",
        "question": exchange.get("question", ""),
        "history": exchange.get("history") or [],
        "expected_citations": [],
        "answer_must_mention": [],
        "answerable": not exchange.get("abstained", False),
        "note": (f"Candidat à relire : réponse jugée insatisfaisante le {row['at'][:10]}.{comment} "
                 "Compléter expected_citations et answer_must_mention avant de l'ajouter à eval/gold/."),
        "given_citations": exchange.get("citations") or [],
        "standalone_question": exchange.get("standalone", ""),
        "mode": exchange.get("mode", ""),
        "answer": exchange.get("answer", ""),
    }


def export_candidates(path: Path, out: Path) -> int:
    """Write every thumbs-down exchange as a JSONL candidate; returns how many."""
    lines = [json.dumps(candidate(row), ensure_ascii=False) for row in rated(path, value=0)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)
