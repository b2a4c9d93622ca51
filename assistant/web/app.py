"""The chat UI: a thin Chainlit shell over the library, started by `assistant chat`.

What the reader sees is written by assistant/render.py (replies, side panel, export) and
web/views.py (corpus listing, starters); one shared assistant and turn-taking for the model are
in web/shared.py; feedback and optional history in web/data_layer.py; personal data in
web/privacy.py.
"""

from __future__ import annotations

import asyncio
import functools
import logging

import chainlit as cl
from chainlit.input_widget import Select

from assistant import render
from assistant.web import accounts as chat_config
from assistant.web import launch as chat_server
from assistant.web import export
from assistant.web import data_layer as feedback
from assistant.web import privacy
from assistant.web import shared as serving
from assistant.web import views as ui
from assistant.config import settings
from assistant.models.threads import ANSWERING, configure_threads
from assistant.errors import AssistantError, InvalidQuestion
from assistant.pipeline import clean_question

log = logging.getLogger("assistant.answering.followup")
SETTINGS = settings()
configure_threads(SETTINGS.omp_threads, ANSWERING)  # before any model loads
CHAT = chat_config.load_chat_config(SETTINGS)
DATA = feedback.make_data_layer(feedback.database_path(SETTINGS), CHAT.history)
GATE = serving.GenerationGate(serving.generation_capacity(SETTINGS))
SHARED = serving.SHARED
AUTHOR = "Assistant"
MODE_ITEMS = {label: mode for mode, label in ui.MODE_LABELS.items()}  # shown label → mode


def guarded(handler):
    """Never a traceback nor an English error for the user: one French line, details in the log
    (which never holds what the user typed: see privacy.RedactingFilter)."""

    @functools.wraps(handler)
    async def wrapper(*args, **kwargs):
        try:
            return await handler(*args, **kwargs)
        except AssistantError as error:  # InvalidQuestion never repeats what was typed
            said = "Message refusé" if isinstance(error, InvalidQuestion) else "L'assistant ne peut pas répondre"
            await cl.Message(content=f"{said} : {error}", author=AUTHOR).send()
        except Exception as error:
            log.error("erreur dans %s : %s", handler.__name__, error.__class__.__name__, exc_info=True)
            await cl.Message(content=ui.ERROR_TEXT, author=AUTHOR).send()

    return wrapper


# -- server set-up ----------------------------------------------------------------------------

@cl.data_layer
def data_layer():
    return DATA


if CHAT.auth:
    @cl.password_auth_callback
    async def login(username: str, password: str):
        if await asyncio.to_thread(chat_config.check_login, CHAT, username, password):
            return cl.User(identifier=username, metadata={"role": "user", "provider": "credentials"})
        return None


@cl.on_app_startup
def startup():
    privacy.install_log_redaction("uvicorn", "uvicorn.error", "uvicorn.access")
    for note in CHAT.notes:
        log.warning(note)


def add_unit_route():
    """The side panel reads each cited unit from here (corpus text, nothing of the user's)."""
    from chainlit.server import app
    from fastapi.responses import PlainTextResponse

    async def unit_text(unit_id: str, passages: str = ""):
        assistant = await asyncio.to_thread(SHARED.get)
        highlighted = [int(p) for p in passages.split(",") if p.isdigit()]
        return PlainTextResponse(render.unit_markdown(assistant.corpus, unit_id, highlighted))

    app.add_api_route(render.UNIT_ROUTE + "/{unit_id}", unit_text, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())  # before Chainlit's catch-all page route


def offline_page():
    import chainlit.server as server

    original = server.get_html_template
    server.get_html_template = lambda root_path: chat_server.offline_french_page(original(root_path))


def french_stop():
    """Chainlit answers « stop » with an English message: same behaviour, French words."""
    from chainlit.config import config
    from chainlit.context import init_ws_context
    from chainlit.session import WebsocketSession
    from chainlit.socket import sio

    async def stop(sid):
        if session := WebsocketSession.get(sid):
            init_ws_context(session)
            await cl.Message(content=ui.STOPPED_TEXT, author=AUTHOR).send()
            if session.current_task:
                session.current_task.cancel()
            if config.code.on_stop:
                await config.code.on_stop()

    sio.on("stop", stop)


add_unit_route()
offline_page()
french_stop()


# -- conversation start ---------------------------------------------------------------------

@cl.set_starters
async def starters(user=None, language=None):
    found, problems = ui.load_starters(SETTINGS.starters)
    for problem in problems:
        log.warning(problem)
    return ([cl.Starter(label=s.title, message=s.question) for s in found]
            + [cl.Starter(label=ui.CORPUS_COMMAND, message=ui.CORPUS_COMMAND)])


@cl.on_chat_start
@guarded
async def start():
    for key in ("history", "exchanges"):
        cl.user_session.set(key, [])
    cl.user_session.set("mode", SETTINGS.answer_mode)
    await send_settings(SETTINGS.answer_mode)
    if not SHARED.loaded:  # started without `assistant chat`: load while the user types
        asyncio.get_running_loop().run_in_executor(None, SHARED.get)


@cl.on_chat_resume
@guarded
async def resume(thread):
    """Chainlit has restored the session (history, exchanges, mode) from the thread; the
    citations come back from the elements table, the feedback from the feedbacks table."""
    for key in ("history", "exchanges"):
        cl.user_session.set(key, cl.user_session.get(key) or [])
    cl.user_session.set("mode", current_mode())
    await send_settings(current_mode())
    answers = [step for step in thread.get("steps") or [] if step.get("type") == "assistant_message"]
    if answers:  # actions are not stored: offer them again under the last answer
        for action in actions():
            await action.send(for_id=answers[-1]["id"])


async def send_settings(mode: str):
    await cl.ChatSettings([Select(id="mode", label="Réponse", items=MODE_ITEMS, initial_value=mode,
                                  description="La réponse tirée des textes seule, ou avec en dessous un brouillon "
                                              "rédigé par le modèle local (plus lent, à vérifier).")]).send()


@cl.on_settings_update
@guarded
async def settings_update(values: dict):
    if values.get("mode") in ui.MODE_LABELS:
        cl.user_session.set("mode", values["mode"])


def current_mode() -> str:
    mode = cl.user_session.get("mode")
    return mode if mode in ui.MODE_LABELS else SETTINGS.answer_mode


# -- answering ----------------------------------------------------------------------------------

@cl.on_message
@guarded
async def on_message(message: cl.Message):
    text = clean_question(message.content)  # empty, too long, unreadable: refused in French
    findings = privacy.find_personal_data(text)
    if findings:
        await cl.Message(content=privacy.warning(findings), author=AUTHOR).send()
        text = privacy.redact(text)  # answered, stored and logged without the personal data
    if ui.is_corpus_command(text):
        await show_corpus()
        return
    await answer(text, cl.context.current_step)


async def answer(question: str, run):
    history, mode = cl.user_session.get("history") or [], current_mode()
    reply = await prepare(question, history)
    cites = render.citations(reply)
    with_draft = mode == "generative" and not reply.answer.abstained
    await cl.Message(content=render.passages_markdown(reply), author=AUTHOR, elements=citation_elements(cites),
                     actions=[] if with_draft else actions()).send()
    record = remember(reply, mode, history, run)  # before the draft: « stop » keeps the passages
    if with_draft:
        reply = await write_draft(reply, cites)
        record.update(export.exchange_record(reply, mode, history))


async def prepare(question: str, history: list[dict]):
    loading = None
    if not SHARED.loaded:
        loading = await cl.Message(content=ui.LOADING_TEXT, author=AUTHOR).send()
    if SETTINGS.rewrite == "llm" and history:  # the model rewrites the follow-up: wait for it
        async with GATE.turn():
            reply = await asyncio.to_thread(SHARED.prepare, question, history)
    else:
        reply = await asyncio.to_thread(SHARED.prepare, question, history)
    if loading:
        await loading.remove()
    return reply


async def write_draft(reply, cites):
    """The model's text streams below the passages, one generation at a time; returns the reply
    with its draft."""
    message = cl.Message(content=render.draft_heading(), author=AUTHOR, elements=citation_elements(cites),
                         actions=actions())
    await message.send()

    async def on_wait(position: int):
        message.content = render.draft_heading() + ui.waiting_text(position)
        await message.update()

    written = {}

    def pieces():  # the worker thread's loop drops the stream's return value: kept here
        written["reply"] = yield from SHARED.get().stream_draft(reply)

    async with GATE.turn(on_wait):
        message.content = render.draft_heading()
        async for piece in serving.stream_in_thread(pieces):
            await message.stream_token(piece)
    reply = written.get("reply", reply)
    message.content = render.draft_markdown(reply.draft)
    await message.update()
    return reply


def citation_elements(cites: list[render.Citation]) -> list[cl.Text]:
    return [cl.Text(name=c.label, url=c.url, display="side") for c in cites]


def actions() -> list[cl.Action]:
    return [cl.Action(name="corpus", payload={}, label=ui.CORPUS_COMMAND, icon="library",
                      tooltip="Tous les textes, complets ou partiels, avec leur version"),
            cl.Action(name="export", payload={}, label="Exporter la conversation", icon="download",
                      tooltip="Un fichier Markdown avec les questions, les extraits et les sources")]


def remember(reply, mode: str, history: list[dict], run) -> dict:
    """For follow-ups, the export, and feedback (the run step is what thumbs refer to). The
    record is shared by all three: completed in place once the draft is written."""
    record = export.exchange_record(reply, mode, history)
    cl.user_session.set("history", (history + export.history_turns(reply))[-export.HISTORY_TURNS:])
    cl.user_session.set("exchanges", (cl.user_session.get("exchanges") or []) + [record])
    if run is not None:
        run.metadata = {**(run.metadata or {}), "exchange": record}
        DATA.recent.remember(run.id, record)
    return record


# -- actions ------------------------------------------------------------------------------------

@cl.action_callback("corpus")
@guarded
async def corpus_action(action: cl.Action):
    await show_corpus()


async def show_corpus():
    assistant = await asyncio.to_thread(SHARED.get)
    await cl.Message(content=ui.corpus_listing_markdown(assistant.corpus), author=AUTHOR).send()


@cl.action_callback("export")
@guarded
async def export_action(action: cl.Action):
    exchanges = cl.user_session.get("exchanges") or []
    if not exchanges:
        await cl.Message(content=ui.EMPTY_EXPORT_TEXT, author=AUTHOR).send()
        return
    assistant = await asyncio.to_thread(SHARED.get)
    name = export.export_filename()
    content = render.conversation_markdown(exchanges, assistant.corpus).encode("utf-8")
    file = cl.File(name=name, content=content, display="inline", mime="text/markdown")
    await cl.Message(content=export.export_notice(len(exchanges), name), author=AUTHOR,
                     elements=[file]).send()
