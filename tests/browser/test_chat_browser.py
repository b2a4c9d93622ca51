"""The chat for real: `assistant chat` started on a free loopback port, driven in headless
Chromium (Debian's /usr/bin/chromium, never a downloaded browser) by Playwright.

The small test corpus and index keep answers fast; the local model is replaced by a scripted
OpenAI-compatible server on the loopback, so the draft really streams through the whole stack.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.helpers.sse import ChatCompletionStream, serving

from assistant.web import accounts as chat_config

pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures")
from tests.helpers.retrieval_fixtures import QUESTION_458TER  # noqa: E402
from tests.unit.web.test_privacy import VALID_NATIONAL_NUMBER  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
USER, PASSWORD = "formatrice", "secret-de-formation"
STARTERS = [("Réunion de réseau", QUESTION_458TER),
            ("Le procureur", "Puis-je signaler au procureur du Roi un enfant en danger ?")]
DRAFT_WORDS = ["Oui", ",", " dans", " une", " concertation", " organisée", " par", " une", " loi", " [1]", ".",
               " Les", " extraits", " ne", " précisent", " pas", " qui", " l'organise", "."]
DRAFT_SENTENCE = "Oui, dans une concertation organisée par une loi [1]."
HIGHLIGHT = "rgb(255, 241, 168)"  # assistant/web/static/assistant.css
# Run inside the server: any connection that is not to the loopback is printed (and fails the test).
AUDITED_SERVER = """
import sys
LOOPBACK = ("127.0.0.1", "::1", "localhost", b"localhost", None)
def audit(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] not in LOOPBACK:
        print(f"CONNEXION RÉSEAU {args[1]!r}", file=sys.stderr, flush=True)
    elif event == "socket.getaddrinfo" and args[0] not in LOOPBACK:
        print(f"RÉSOLUTION DNS {args[0]!r}", file=sys.stderr, flush=True)
sys.addaudithook(audit)
from assistant.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


# -- the scripted model server -------------------------------------------------------------------

class ScriptedModel(ChatCompletionStream):
    """/v1/chat/completions in the streaming protocol: a pause (the model reading its prompt), then
    one word at a time."""

    first_token_delay, word_delay = 1.5, 0.08

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(self.first_token_delay)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in DRAFT_WORDS:
                self.chunk({"content": word}, None)
                time.sleep(self.word_delay)
            self.chunk({}, "stop")
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the reader stopped the answer



@pytest.fixture(scope="module")
def model_url():
    with serving(ScriptedModel) as url:
        yield url


# -- the chat server ----------------------------------------------------------------------------

class ChatServer:
    def __init__(self, home: Path, env: dict):
        self.home, self.port = home, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / "server.log"
        command = [sys.executable, "-c", AUDITED_SERVER, "chat", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.wait_until_ready()

    def wait_until_ready(self, timeout: float = 120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"le serveur s'est arrêté :\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"le serveur n'a pas démarré :\n{self.log.read_text()[-3000:]}")

    @property
    def database(self) -> Path:
        return self.home / "chat.sqlite3"

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(small_index, home: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "CHAINLIT_"))}
    starters = home / "starters.yaml"
    starters.write_text("".join(f"- titre: {t}\n  question: \"{q}\"\n" for t, q in STARTERS), encoding="utf-8")
    env.update(ASSISTANT_HOME=str(home), ASSISTANT_CORPUS_DIR=str(small_index.corpus_dir),
               ASSISTANT_INDEX_DIR=str(small_index.index_dir), ASSISTANT_STARTERS=str(starters),
               OMP_NUM_THREADS="1", ANONYMIZED_TELEMETRY="False", **extra)
    return env


@pytest.fixture(scope="module")
def workshop_server(small_index, tmp_path_factory, model_url):
    """Password login, history on, drafts by the (scripted) model."""
    home = tmp_path_factory.mktemp("chat-workshop")
    (home / "chat.yaml").write_text(f'history: true\nusers:\n  {USER}: "{chat_config.hash_password(PASSWORD)}"\n',
                                    encoding="utf-8")
    server = ChatServer(home, server_env(small_index, home, ASSISTANT_ANSWER_MODE="generative",
                                         ASSISTANT_LLM="openai-compatible", ASSISTANT_LLM_URL=model_url,
                                         ASSISTANT_LLM_MODEL="m"))
    yield server
    server.stop()
    check_offline_and_private(server)


@pytest.fixture(scope="module")
def open_server(small_index, tmp_path_factory):
    """The defaults: no login, no history, passages only, no model configured."""
    home = tmp_path_factory.mktemp("chat-open")
    server = ChatServer(home, server_env(small_index, home, ASSISTANT_LLM="none"))
    yield server
    server.stop()
    check_offline_and_private(server)


def check_offline_and_private(server: ChatServer):
    log = server.log.read_text()
    assert "CONNEXION RÉSEAU" not in log and "RÉSOLUTION DNS" not in log, log[-2000:]
    assert "Traceback" not in log, log[-3000:]
    assert VALID_NATIONAL_NUMBER not in log
    if server.database.exists():
        with sqlite3.connect(server.database) as connection:
            assert VALID_NATIONAL_NUMBER not in "\n".join(connection.iterdump())


# -- the browser ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium manque : apt-get install -y chromium (les tests du navigateur ne le téléchargent pas).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser):
    """New pages (each its own browser context, like separate participants) that record every
    request: none may leave the loopback."""
    contexts, requests = [], []

    def make(server: ChatServer):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        context.set_default_timeout(60_000)  # a busy 2-core machine loads the models slowly
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(server.url)
        return page

    yield make
    for context in contexts:
        context.close()
    outside = [url for url in requests if not url.startswith(("http://127.0.0.1:", "data:", "blob:"))]
    assert outside == []


def log_in(page):
    page.fill("#email", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#starters")


def ask(page, question: str) -> float:
    """Type and send; returns the seconds until the verbatim passages show."""
    page.fill("#chat-input", question)
    started = time.monotonic()
    page.click("#chat-submit")
    page.get_by_text("En bref — ").last.wait_for()
    return time.monotonic() - started


def answered(page):
    """The answer is complete: the run has ended (the stop button is the send button again),
    so the thumbs belong to a finished run and will not be re-rendered under the click."""
    page.get_by_text("En bref — ").last.wait_for()
    page.locator("#chat-submit").wait_for()


def in_messages(page, text: str):
    """Messages only (with history on, the sidebar lists conversations by their first question)."""
    return page.locator("[data-step-type]").filter(has_text=text)


def side_panel(page, label: str):
    page.locator(".element-link", has_text=label).first.click()
    page.locator("#side-view-title", has_text=label).wait_for()
    panel = page.locator("#side-view-content")
    panel.get_by_text("Lien officiel").wait_for()
    return panel


def screenshot(page, tmp_path: Path, name: str) -> Path:
    page.wait_for_timeout(600)  # the side panel slides in (300 ms)
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("ASSISTANT_SCREENSHOTS"):
        target = Path(os.environ["ASSISTANT_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
    return path


# -- the tests --------------------------------------------------------------------------------------

def test_passages_first_then_the_streamed_draft_and_a_citation_in_the_side_panel(workshop_server, open_page, tmp_path):
    page = open_page(workshop_server)
    log_in(page)
    starters = page.locator("#starters button")
    assert starters.all_inner_texts() == [t for t, _ in STARTERS] + ["Textes du corpus"]

    seconds = ask(page, QUESTION_458TER)
    print(f"extraits affichés après {seconds:.2f} s")
    assert seconds < 3.0
    assert page.get_by_text(DRAFT_SENTENCE).count() == 0  # the model has not written yet
    page.get_by_text("Brouillon rédigé par le modèle local, à vérifier").wait_for()
    page.get_by_text("Sources du brouillon").wait_for(timeout=30_000)
    answered(page)
    draft = page.get_by_text(DRAFT_SENTENCE)
    passages = page.get_by_text("En bref — ")
    assert draft.bounding_box()["y"] > passages.bounding_box()["y"]  # below the passages
    # The lead in bold at the top, then the conditions as a list of the law's own words.
    lead = page.locator(".font-bold", has_text="En bref — Code pénal, art. 458ter — ")  # Chainlit's bold
    condition = page.locator("li", has_text="« soit moyennant une autorisation motivée du procureur du Roi »")
    assert lead.count() == 1 and condition.count() == 1
    assert lead.bounding_box()["y"] < condition.bounding_box()["y"] < draft.bounding_box()["y"]

    assert page.locator("#side-view-content").count() == 0  # opens on a click only
    panel = side_panel(page, "Code pénal, art. 458ter")
    text = panel.inner_text()
    assert "Il n'y a pas d'infraction" in text and "Version à jour au 28 mai 2024." in text
    assert "Texte remplacé par" in text and "ejustice.just.fgov.be" in text
    assert "CHAPITRE VI. - DE QUELQUES AUTRES DELITS CONTRE LES PERSONNES." in text
    marked = panel.locator(".italic > .font-bold")
    assert marked.count() >= 1 and "concertation" in marked.first.inner_text()
    assert marked.first.evaluate("e => getComputedStyle(e).backgroundColor") == HIGHLIGHT
    screenshot(page, tmp_path, "reponse-et-article")


def test_feedback_export_and_reload_restore_the_conversation(workshop_server, open_page, tmp_path):
    page = open_page(workshop_server)
    log_in(page)
    ask(page, QUESTION_458TER)
    page.get_by_text("Sources du brouillon").wait_for(timeout=30_000)
    answered(page)

    # Thumbs are shown (they vanish when the answer is not a child of the run: Chainlit #2079).
    page.locator(".negative-feedback-off").last.click()
    page.locator("textarea").last.fill("Il manque l'art. 458bis ; répondre à jean@example.be")
    page.get_by_role("button", name="Envoyer le commentaire").click()
    page.locator(".negative-feedback-on").wait_for()
    with sqlite3.connect(workshop_server.database) as connection:
        rated = connection.execute('SELECT f."value", f."comment", r."exchange" FROM feedbacks f '
                                   'JOIN rated_exchanges r ON r."forId" = f."forId"').fetchall()
    masked = "Il manque l'art. 458bis ; répondre à [e-mail masqué]"
    assert [(value, comment) for value, comment, _ in rated] == [(0, masked)]
    assert json.loads(rated[0][2])["question"] == QUESTION_458TER

    page.get_by_role("button", name="Exporter la conversation").last.click()
    page.get_by_text("Conversation exportée (1 question) :").wait_for()
    link = page.locator("a.inline-file").last  # the download element
    assert re.fullmatch(r"conversation-secret-professionnel-\d{4}-\d{2}-\d{2}-\d{2}h\d{2}\.md",
                        link.get_attribute("download"))
    response = page.request.get(urljoin(page.url, link.get_attribute("href")))  # what a click downloads
    assert response.ok and response.headers["content-type"].startswith("text/markdown")
    exported = response.text()
    assert exported.startswith("# Conversation avec l'assistant « secret professionnel »")
    assert QUESTION_458TER in exported and "## Sources" in exported
    assert "- **Code pénal** — version à jour au 28 mai 2024" in exported
    assert "**Code pénal, art. 458ter** (`code-penal-1867:art-458ter`)" in exported
    assert DRAFT_SENTENCE in exported

    thread_url = page.url
    assert "/thread/" in thread_url
    page.reload()
    page.locator(".negative-feedback-on").wait_for()  # restored on resume (Chainlit #2084)
    assert page.url == thread_url
    assert page.locator(".negative-feedback-on").count() == 1
    page.get_by_role("button", name="Exporter la conversation").last.wait_for()  # actions offered again
    assert "Il n'y a pas d'infraction" in side_panel(page, "Code pénal, art. 458ter").inner_text()


def test_personal_data_is_announced_and_never_written(workshop_server, open_page):
    page = open_page(workshop_server)
    log_in(page)
    ask(page, f"Mon usager {VALID_NATIONAL_NUMBER} : {QUESTION_458TER}")
    page.get_by_text("Votre message semble contenir un numéro de registre national").wait_for()
    page.get_by_text("Sources du brouillon").wait_for(timeout=30_000)
    answered(page)
    # check_offline_and_private (at the end of the module) reads the server log and the database.


def test_a_second_participant_waits_for_the_model(workshop_server, open_page):
    first, second = open_page(workshop_server), open_page(workshop_server)
    log_in(first)
    log_in(second)
    ask(first, QUESTION_458TER)
    ask(second, "Puis-je signaler au procureur du Roi un enfant en danger ?")
    second.get_by_text("En attente… le modèle local rédige une autre réponse").wait_for()
    first.get_by_text("Sources du brouillon").wait_for(timeout=30_000)
    second.get_by_text("Brouillon rédigé par le modèle local").last.wait_for()
    second.get_by_text("En attente…").wait_for(state="detached", timeout=30_000)
    second.get_by_text("Sources du brouillon").wait_for(timeout=30_000)
    answered(first)
    answered(second)
    assert in_messages(first, "procureur du Roi un enfant en danger").count() == 0  # conversations stay apart
    assert in_messages(second, QUESTION_458TER).count() == 0


def test_stopping_the_draft_is_said_in_french(workshop_server, open_page, monkeypatch):
    monkeypatch.setattr(ScriptedModel, "first_token_delay", 10.0)  # time to press « stop »
    page = open_page(workshop_server)
    log_in(page)
    ask(page, QUESTION_458TER)
    page.get_by_text("Brouillon rédigé par le modèle local").wait_for()
    page.click("#stop-button")
    page.get_by_text("Réponse interrompue.").wait_for()
    page.locator("#chat-submit").wait_for()
    assert page.get_by_text("Task manually stopped").count() == 0
    assert page.get_by_text("En bref — ").count() == 1  # the passages stay


def test_several_participants_without_login_or_history(open_server, open_page, tmp_path, capsys):
    pages = [open_page(open_server) for _ in range(3)]
    for page in pages:
        page.wait_for_selector("#starters")
    questions = [QUESTION_458TER, "Puis-je signaler au procureur du Roi un enfant en danger ?",
                 "Quelle peine pour la violation du secret professionnel ?"]
    for page, question in zip(pages, questions):  # sent at once, answered side by side
        page.fill("#chat-input", question)
    for page in pages:
        page.click("#chat-submit")
    for page, question in zip(pages, questions):
        answered(page)
        for other in questions:
            assert (in_messages(page, other).count() > 0) == (other == question)
    assert pages[0].locator(".element-link").count() > 0
    assert pages[0].get_by_text("Brouillon").count() == 0  # passages only by default

    pages[0].locator(".negative-feedback-off").last.click()  # thumbs even with history off
    pages[0].get_by_role("button", name="Envoyer le commentaire").click()
    pages[0].locator(".negative-feedback-on").wait_for()
    with sqlite3.connect(open_server.database) as connection:
        assert connection.execute("SELECT count(*) FROM steps").fetchone() == (0,)  # no history kept
        assert connection.execute("SELECT count(*) FROM rated_exchanges").fetchone() == (1,)
    out = tmp_path / "candidats.jsonl"
    env = {**os.environ, "ASSISTANT_HOME": str(open_server.home)}
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "eval", "export-feedback", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["question"] == QUESTION_458TER


def test_screen_reader_labels_are_in_french(open_server, open_page):
    """The theme switch and the dialogs' close button: labels the framework leaves in English."""
    page = open_page(open_server)
    page.wait_for_selector("#starters")
    page.get_by_text("Changer de thème", exact=True).wait_for(state="attached")
    page.click("#chat-settings-open-modal")  # a dialog: its close button
    page.get_by_text("Fermer", exact=True).first.wait_for(state="attached")
    labels = page.locator("span.sr-only").all_text_contents()
    assert "Toggle theme" not in labels and "Close" not in labels, labels


def test_answer_mode_setting_and_corpus_listing(open_server, open_page):
    page = open_page(open_server)
    page.click("#starter-textes-du-corpus")
    page.get_by_text("(13 documents").wait_for()
    assert page.get_by_role("row").count() == 14  # a header and 13 documents
    assert page.get_by_role("cell", name="partiel", exact=True).count() == 11

    ask(page, QUESTION_458TER)
    ask(page, "Et pour un conseiller ?")  # a follow-up: the question understood is shown
    # Rewritten into one standalone question, not the earlier question glued in front.
    page.get_by_text("Question comprise : Un conseiller peut-il partager des informations "
                     "confidentielles lors d'une concertation de cas ?").wait_for()

    page.click("#chat-settings-open-modal")
    page.click("#mode")
    page.get_by_role("option", name="rédigée par le modèle local").click()
    page.click("#confirm")
    ask(page, QUESTION_458TER)
    page.get_by_text("Aucun modèle de langage n'est configuré").wait_for()
    assert page.get_by_text("Brouillon rédigé par le modèle local").count() >= 1


# -- the product's face, feedback words, where the view lands (shape of the reply left aside) -----

REPLIES = '[data-step-type="assistant_message"]'
# Where the newest message (or the one given) sits in the scrolling list of messages, in pixels.
GEOMETRY = """(message) => {
  message = message || [...document.querySelectorAll('[data-step-type="assistant_message"]')].pop();
  const box = message.closest('.overflow-y-auto');
  const view = box.getBoundingClientRect(), own = message.getBoundingClientRect();
  return {top: own.top - view.top, bottom: own.bottom - view.top, height: box.clientHeight, scrolled: box.scrollTop};
}"""


def product_name(server: ChatServer) -> str:
    import tomllib

    config = (server.home / "chainlit" / ".chainlit" / "config.toml").read_text(encoding="utf-8")
    return tomllib.loads(config)["UI"]["name"]


def framework_images() -> set[bytes]:
    """Chainlit's own logos and icon, as shipped in its package."""
    import chainlit

    dist = Path(chainlit.__file__).parent / "frontend" / "dist"
    return {path.read_bytes() for pattern in ("logo_*", "favicon*", "assets/logo_*") for path in dist.glob(pattern)}


def images_shown(page) -> list[str]:
    """Every picture of the page (logos, avatars, the login page's picture) and the tab's icon."""
    sources = page.locator("img").evaluate_all("imgs => imgs.map(img => img.src)")
    return sources + page.locator("link[rel=icon]").evaluate_all("links => links.map(link => link.href)")


def assert_no_framework_image(page):
    theirs = framework_images()
    shown = images_shown(page) + [urljoin(page.url, "/logo?theme=dark"), urljoin(page.url, "/logo?theme=light")]
    for source in shown:
        response = page.request.get(source)
        assert response.ok and response.body() not in theirs, source


def send(page, question: str):
    """Sends and waits for the end of the run, whatever the reply says: a new reply carries the
    buttons under it, and the send button is back."""
    before = page.get_by_role("button", name="Exporter la conversation").count()
    type_question(page, question)
    page.get_by_role("button", name="Exporter la conversation").nth(before).wait_for()
    page.locator("#chat-submit").wait_for()


def type_question(page, question: str):
    """Types once the previous run is over (no stop button; typed during a run, the question can be
    lost when the composer comes back), then sends."""
    page.locator("#stop-button").wait_for(state="detached")
    page.locator("#chat-submit").wait_for()
    page.fill("#chat-input", question)
    page.click("#chat-submit")


def scroll_at_rest(page, timeout: float = 15.0) -> dict:
    """Waits until the list of messages has stopped scrolling (smooth scrolls take a few hundred
    milliseconds), then says where the newest message is."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        now = page.evaluate(GEOMETRY)
        if last is not None and now["scrolled"] == last["scrolled"]:
            return now
        last = now
        page.wait_for_timeout(400)
    raise AssertionError(f"la conversation défile encore : {last}")


def test_welcome_and_login_name_the_product_without_the_framework_logo(open_server, workshop_server, open_page):
    name = product_name(open_server)
    assert name == "Assistant secret professionnel"
    page = open_page(open_server)
    page.wait_for_selector("#starters")
    logo = page.locator("#welcome-screen img.logo")
    logo.wait_for()
    page.wait_for_function("name => document.querySelector('#welcome-screen img.logo').alt === name", arg=name)
    assert logo.evaluate("img => img.complete && img.naturalWidth > 0")  # drawn, not a broken image
    assert f">{name}</text>" in page.request.get(logo.get_attribute("src")).text()
    assert logo.bounding_box()["width"] >= 300  # readable, not squeezed into the framework's 200 px
    assert page.title() == name
    assert_no_framework_image(page)

    login = open_page(workshop_server)
    login.locator("#email").wait_for()
    login.wait_for_function("name => [...document.querySelectorAll('img.logo')].some(img => img.alt === name)", arg=name)
    assert_no_framework_image(login)  # the logo, and the big picture beside the form


def test_feedback_is_acknowledged_in_plain_french(open_server, open_page):
    page = open_page(open_server)
    page.wait_for_selector("#starters")
    send(page, QUESTION_458TER)
    page.locator(".negative-feedback-off").last.click()
    page.get_by_role("button", name="Envoyer le commentaire").click()
    page.locator("[data-sonner-toast]", has_text="Merci, votre avis est enregistré.").wait_for()
    page.locator(".negative-feedback-on").wait_for()

    page.locator(".negative-feedback-on").click()  # taken back
    page.locator("[data-sonner-toast]", has_text="Votre avis est retiré.").wait_for()
    page.locator(".negative-feedback-off").last.wait_for()
    toasts = page.locator("[data-sonner-toast]").all_inner_texts()
    assert not any("mis à jour" in toast or "Feedback" in toast for toast in toasts), toasts
    assert_no_framework_image(page)  # the assistant's avatar beside the reply


def test_the_view_lands_on_the_start_of_each_new_reply(open_server, open_page):
    page = open_page(open_server)
    page.set_viewport_size({"width": 1200, "height": 560})  # replies taller than the view
    page.wait_for_selector("#starters")
    for question in (QUESTION_458TER, "Puis-je signaler au procureur du Roi un enfant en danger ?"):
        send(page, question)
        reply = scroll_at_rest(page)
        assert reply["bottom"] - reply["top"] > reply["height"], reply  # it does not fit: where it lands matters
        assert 0 <= reply["top"] <= reply["height"] / 3, reply  # its first line near the top

    # A button under a reply: the reader scrolls down to it (the framework's « scroll down » arrow
    # then hides), clicks, and the message that answers arrives below the reply, in view.
    box = page.locator(REPLIES).last.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, 200)
    page.mouse.wheel(0, 5000)
    scroll_at_rest(page)
    page.get_by_role("button", name="Exporter la conversation").last.click()
    notice = page.locator(REPLIES, has_text="Conversation exportée")
    notice.wait_for()
    scroll_at_rest(page)
    where = notice.evaluate(GEOMETRY)
    assert 0 <= where["top"] <= where["height"] - 60, where  # its first line (and the file) visible

    # The file is named in full, in French, on the page and when saved.
    link = notice.locator("a.inline-file")
    name = link.get_attribute("download")
    assert re.fullmatch(r"conversation-secret-professionnel-\d{4}-\d{2}-\d{2}-\d{2}h\d{2}\.md", name), name
    assert "Conversation exportée (2 questions) : " + name in notice.inner_text()
    shown = link.get_by_text(name, exact=True)
    assert shown.evaluate("e => e.scrollWidth <= e.clientWidth && e.getBoundingClientRect().width > 0")  # not cut


def test_the_view_stays_where_the_reader_scrolled(workshop_server, open_page):
    """While the draft is written below the passages, the reader scrolls back up: nothing moves
    them, neither the draft's words nor its end."""
    page = open_page(workshop_server)
    page.set_viewport_size({"width": 1200, "height": 640})
    log_in(page)
    send(page, QUESTION_458TER)
    type_question(page, "Puis-je signaler au procureur du Roi un enfant en danger ?")
    page.get_by_text("Brouillon rédigé par le modèle local").nth(1).wait_for()  # the model has not written yet
    box = page.locator(REPLIES).first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, 300)
    page.mouse.wheel(0, -500)
    left_at = scroll_at_rest(page)["scrolled"]
    page.locator("#chat-submit").wait_for(timeout=30_000)  # the draft is written, the run is over
    assert scroll_at_rest(page)["scrolled"] == left_at
