"""Hostile input in the running chat (tests/helpers/bad_inputs.py cases, typed in headless Chromium), and
the login enforced over plain HTTP: no session, a wrong password or a forged token get nothing.

One server (login on, history on, passages only) for the module; see test_chat_browser.py for
how the server and Debian's Chromium are started.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import urllib.error
import urllib.parse
import urllib.request

import pytest

from assistant.web import accounts as chat_config

pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures", "tests.helpers.bad_inputs", "tests.browser.test_chat_browser")
from tests.helpers.bad_inputs import IMAGE, MARKDOWN, SCRIPT, by_name  # noqa: E402
from tests.browser.test_chat_browser import (  # noqa: E402,F401  (browser, open_page: fixtures)
    PASSWORD, USER, ChatServer, browser, check_offline_and_private, log_in, open_page, server_env)
from tests.unit.web.test_privacy import VALID_NATIONAL_NUMBER  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.browser]

TYPED = by_name("script", "image-onerror", "markdown", "50-ko", "largeur-nulle-seule", "utf8-invalide",
                "emoji-autour", "arabe-rtl", "injection-et-question")
REFUSED = "Message refusé : "


@pytest.fixture(scope="module")
def guarded_server(small_index, tmp_path_factory):
    home = tmp_path_factory.mktemp("chat-hostile")
    (home / "chat.yaml").write_text(f'history: true\nusers:\n  {USER}: "{chat_config.hash_password(PASSWORD)}"\n',
                                    encoding="utf-8")
    index = home / "index"  # a copy: the last test damages it under the running server
    shutil.copytree(small_index.index_dir, index)
    env = server_env(small_index, home, ASSISTANT_LLM="none")
    env["ASSISTANT_INDEX_DIR"] = str(index)
    server = ChatServer(home, env)
    server.index = index
    yield server
    server.stop()
    check_offline_and_private(server)  # no traceback, no request off the loopback, no national number kept


def assistant_messages(page):
    return page.locator("[data-step-type='assistant_message']")


def send(page, text: str) -> str:
    """Type, send, and return the text of the assistant's new messages once the run is over."""
    before = assistant_messages(page).count()
    page.fill("#chat-input", text)
    page.click("#chat-submit")
    page.wait_for_function(f"document.querySelectorAll(\"[data-step-type='assistant_message']\").length > {before}",
                           timeout=60_000)
    page.locator("#chat-submit").wait_for()  # the run is over (the stop button is the send button again)
    count = -1
    while count != assistant_messages(page).count():  # until no message is still arriving
        count = assistant_messages(page).count()
        page.wait_for_timeout(400)
    return "\n".join(assistant_messages(page).all_inner_texts()[before:])


def test_hostile_input_in_the_chat_is_shown_as_text_and_answered_or_refused_in_french(guarded_server, open_page):
    page = open_page(guarded_server)
    log_in(page)
    for case in TYPED:
        text = case.text.replace("\x00", "")  # a browser text field cannot hold NUL
        reply = send(page, text)
        if case.name == "utf8-invalide":  # the browser sends « � » (U+FFFD) for them: a readable question
            assert REFUSED not in reply and "erreur inattendue" not in reply, reply[:300]
        elif case.outcome == "refused":
            assert reply.startswith(REFUSED) and case.message in reply, (case.name, reply[:300])
        else:
            assert "En bref — " in reply or "corpus" in reply, (case.name, reply[:300])
            assert REFUSED not in reply and "erreur inattendue" not in reply
    # Personal data in a hostile message: announced, and (checked at teardown) never stored nor logged.
    reply = send(page, f"{SCRIPT} Mon usager {VALID_NATIONAL_NUMBER} : " + TYPED[-1].text)
    page.get_by_text("Votre message semble contenir un numéro de registre national").wait_for()

    # Nothing the user typed became markup: no script ran, no element was injected.
    assert page.evaluate("typeof window.__injecte") == "undefined"
    assert page.evaluate("[...document.scripts].some(s => s.textContent.includes('__injecte'))") is False
    assert page.locator("img[src='x'], img[src$='exemple.invalid/x.png'], a[href^='javascript:']").count() == 0
    assert page.locator("[data-step-type] h1").count() == 0  # « # Titre » stayed a line of text
    # …but it is all there, as text, in the user's messages.
    user_texts = "\n".join(page.locator("[data-step-type='user_message']").all_inner_texts())
    for shown in (SCRIPT, IMAGE, "# Titre", "**gras**", "🤐🔒", "هل يمكنني", "un secret �� ?"):
        assert shown in user_texts, shown
    assert MARKDOWN.split("\n")[0] in user_texts


def test_side_panel_route_with_unknown_or_hostile_ids(guarded_server):
    # A slash never reaches the route (Chainlit's page answers instead): no file is ever read by id.
    url = f"{guarded_server.url}/assistant/unit/{urllib.parse.quote('../../../../etc/passwd', safe='')}"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert "root:" not in response.read().decode()
    for unit_id in ["inconnu:art-1", "<img src=x onerror=alert(1)>", "code-penal-1867:art-458ter'; --"]:
        url = f"{guarded_server.url}/assistant/unit/{urllib.parse.quote(unit_id, safe='')}"
        with urllib.request.urlopen(url, timeout=30) as response:
            body, kind = response.read().decode(), response.headers["content-type"]
        assert response.status == 200 and body.endswith("n'est pas dans le corpus."), body
        assert kind.startswith("text/plain") and not re.search(r"(?<!\\)<", body)  # Markdown-escaped text


# -- login enforced ------------------------------------------------------------------------------

def http(server, method: str, path: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def forged_token() -> str:
    import jwt

    return jwt.encode({"identifier": USER, "metadata": {}}, "pas-le-bon-secret-" * 4, algorithm="HS256")


def test_login_is_enforced(guarded_server):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert http(guarded_server, "GET", "/user")[0] == 401
    assert http(guarded_server, "POST", "/project/threads", b'{"pagination":{"first":20},"filter":{}}',
                {"Content-Type": "application/json"})[0] == 401
    wrong = urllib.parse.urlencode({"username": USER, "password": "mauvais-mot-de-passe"}).encode()
    assert http(guarded_server, "POST", "/login", wrong, form)[0] == 401
    unknown = urllib.parse.urlencode({"username": "intrus", "password": PASSWORD}).encode()
    assert http(guarded_server, "POST", "/login", unknown, form)[0] == 401
    forged = {"Authorization": f"Bearer {forged_token()}"}
    assert http(guarded_server, "GET", "/user", headers=forged)[0] == 401
    assert http(guarded_server, "POST", "/auth/jwt", headers=forged)[0] == 401
    right = urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode()
    status, body = http(guarded_server, "POST", "/login", right, form)
    assert status == 200 and json.loads(body).get("success") is not False, body
    with sqlite3.connect(guarded_server.database) as connection:  # the failed attempts left no user behind
        users = [row[0] for row in connection.execute('SELECT "identifier" FROM users')]
    assert "intrus" not in users


def test_index_damaged_under_the_running_chat_keeps_answering(guarded_server, open_page):
    """Last test of the module: it damages the server's copy of the index. The running chat
    searches what it loaded at start (vectors, BM25, passages): it keeps answering, the same
    passages; a new start on the damaged index is refused in French (tests/integration/test_faults.py)."""
    page = open_page(guarded_server)
    log_in(page)
    before = send(page, TYPED[-1].text)
    assert "En bref — " in before
    with open(guarded_server.index / "chroma" / "chroma.sqlite3", "r+b") as database:
        database.write(b"abime" * 4096)
    reply = send(page, TYPED[-1].text)
    assert "En bref — " in reply
    assert "L'assistant ne peut pas répondre" not in reply and "erreur inattendue" not in reply
