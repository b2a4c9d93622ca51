"""Concurrent conversations against the chat server, through Chainlit's own socket.io protocol.

Usage:
    OMP_NUM_THREADS=1 .venv/bin/python eval/bench_load.py --users 20            # starts a server
    OMP_NUM_THREADS=1 .venv/bin/python eval/bench_load.py --users 20 --mode generative --deadline 900
    .venv/bin/python eval/bench_load.py --url http://127.0.0.1:8000 --pid 1234  # a running server
    .venv/bin/python eval/bench_load.py --url http://127.0.0.1:8001 --url http://127.0.0.1:8002

Each conversation is what a browser does (connect with its own session id, wait for the
conversation to start, send a message, read the streamed answer): two turns, a question of
workshop/starters.yaml followed by a unique marker (« dossier zq007k »), then a
follow-up (« Et pour un conseiller du CPAS ? »). The follow-up's answer shows the question as
understood, which repeats the first one with its marker: every conversation must see its own
marker and nobody else's. In generative mode the first turn asks the model for a draft (one
at a time: the others are told their place), the follow-up is answered with extracts only.

Measured per turn: time to the first passages (first assistant message) and to the final
answer (Chainlit's task_end), the model's first draft token and the places in the queue the
waiting were told; errors (French error message, Chainlit error, lost connection, timeout);
the server's resident memory (VmRSS, sampled every 0.5 s) and the load average. A server
started here (`--url` absent) gets a fresh ASSISTANT_HOME, the live index and the current
environment (ASSISTANT_LLM, ASSISTANT_MODEL_PATH…); with `--url`, `--pid` names the process
whose memory to sample. Conversations still unanswered at `--deadline` are reported as
unfinished, not as errors (the generative run is bounded in time on purpose).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# The workshop starters: what a room of participants asks first (an eval set would tie the load
# figures to which of its questions the assistant happens to refuse).
QUESTIONS = ROOT / "workshop" / "starters.yaml"
FOLLOW_UPS = ["Et pour un conseiller du CPAS ?", "Et si la personne est mineure ?", "Et en cas de danger grave ?",
              "Et pour le président du CPAS ?", "Et si le juge me convoque ?"]
ERROR_SIGNS = ("Une erreur inattendue est survenue", "L'assistant n'a pas pu démarrer",
               "L'assistant ne peut pas répondre", "Message refusé")
DRAFT_HEADING = "**Brouillon rédigé par le modèle local"
PASSAGES_TITLE = "**En bref — "  # the reply's lead (an abstention has none)
WAITING_RE = re.compile(r"En attente… le modèle local rédige (une|\d+) autres? réponses?")


# -- the server -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ChatProcess:
    """`assistant chat` on a free loopback port, in its own process; `stop()` ends it."""

    def __init__(self, env: dict, log_path: Path, timeout: float = 180):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        command = [sys.executable, "-m", "assistant.cli", "chat", "--host", "127.0.0.1", "--port", str(self.port)]
        with log_path.open("w") as log:
            self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.wait_until_ready(timeout)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"le serveur s'est arrêté :\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"le serveur n'a pas démarré en {timeout:.0f} s :\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def server_env(home: Path, **extra: str) -> dict:
    """The current environment with its own ASSISTANT_HOME (chat database, Chainlit folder)."""
    env = {**os.environ, "ASSISTANT_HOME": str(home), "ANONYMIZED_TELEMETRY": "False", **extra}
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) / 1024 if found else None


class MemorySampler:
    """Resident memory of some processes, sampled every `every` seconds while the load runs."""

    def __init__(self, pids: list[int], every: float = 0.5):
        self.pids, self.every = pids, every
        self.before = {pid: rss_mb(pid) for pid in pids}
        self.peak = dict(self.before)

    async def run(self) -> None:
        while True:
            for pid in self.pids:
                value = rss_mb(pid)
                if value is not None and (self.peak[pid] is None or value > self.peak[pid]):
                    self.peak[pid] = value
            await asyncio.sleep(self.every)

    def report(self) -> dict:
        after = {pid: rss_mb(pid) for pid in self.pids}
        return {str(pid): {"before_mb": _round(self.before[pid]), "peak_mb": _round(self.peak[pid]),
                           "after_mb": _round(after[pid])} for pid in self.pids}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# -- one conversation -----------------------------------------------------------------------------

@dataclass
class Turn:
    question: str
    mode: str
    first_passages_s: float | None = None
    final_s: float | None = None
    draft_first_token_s: float | None = None
    draft_failed: bool = False
    abstained: bool = False  # the passages message says the corpus does not answer: no draft then
    marker_shown: bool = False  # the answer shows the conversation's own marker (follow-ups)
    queue_positions: list[int] = field(default_factory=list)


@dataclass
class Outcome:
    number: int
    url: str
    marker: str
    turns: list[Turn] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    finished: bool = False
    seen: list[str] = field(default_factory=list, repr=False)  # every text received (isolation check)


class Conversation:
    """One participant: its own socket.io connection and Chainlit session, two turns."""

    def __init__(self, url: str, number: int, question: str, follow_up: str, mode: str):
        self.outcome = Outcome(number, url, marker=f"zq{number:03d}k")
        self.url, self.mode = url, mode
        self.questions = [f"{question.rstrip(' ?.')} (dossier {self.outcome.marker}) ?", follow_up]
        self.messages: dict[str, str] = {}  # message id → latest content
        self.event = asyncio.Event()
        self.settings_seen = self.chat_started = self.task_started = self.task_ended = False
        self.sent_at = 0.0
        self.turn: Turn | None = None
        self.current_mode: str | None = None
        self.closing = False

    async def run(self, start: asyncio.Event) -> Outcome:
        import socketio

        client = socketio.AsyncClient(reconnection=False)
        self._listen(client)
        try:
            await client.connect(self.url, socketio_path="/ws/socket.io", transports=["websocket"],
                                 auth={"clientType": "webapp", "sessionId": str(uuid.uuid4()), "threadId": "",
                                       "userEnv": "{}", "chatProfile": ""}, wait_timeout=30)
            await client.emit("connection_successful")
            await self._until(lambda: self.chat_started)
            await start.wait()
            for index, question in enumerate(self.questions):
                await self._ask(client, question, self.mode if index == 0 else "extractive")
            self.outcome.finished = True
        except asyncio.CancelledError:
            pass  # the deadline: unfinished, not an error
        except Exception as error:  # connection refused or lost, protocol surprise
            self.outcome.errors.append(f"{error.__class__.__name__}: {error}")
        finally:
            self.closing = True  # our own disconnection is not a lost connection
            await asyncio.shield(client.disconnect())
        return self.outcome

    def _listen(self, client) -> None:
        client.on("chat_settings", self._on_settings)
        client.on("task_start", lambda data: self._mark("task_started"))
        client.on("task_end", self._on_task_end)
        client.on("new_message", self._on_message)
        client.on("update_message", self._on_message)
        client.on("stream_token", self._on_token)
        client.on("disconnect", lambda *args: self._lost())
        client.on("*", lambda event, data=None: self.outcome.seen.append(_text(data)))

    def _mark(self, flag: str) -> None:
        setattr(self, flag, True)
        self.event.set()

    def _on_settings(self, inputs: list) -> None:
        """The conversation's settings (sent when it starts): the answer mode it begins with."""
        self.current_mode = next((i.get("initial") for i in inputs if i.get("id") == "mode"), None)
        self._mark("settings_seen")

    def _on_task_end(self, data=None) -> None:
        """The end of a run: the conversation's start (after its settings), or the current turn."""
        if self.settings_seen:
            self.chat_started = True
        if self.task_started:
            self.task_ended = True
        self.event.set()

    def _lost(self) -> None:
        if not self.closing:
            self.outcome.errors.append("connexion perdue")
        self.event.set()

    def _on_message(self, step: dict) -> None:
        text, author = step.get("output") or "", step.get("name") or ""
        self.outcome.seen.append(_text(step))  # metadata and all: a leak may hide anywhere
        self.messages[step.get("id")] = text
        turn, elapsed = self.turn, time.monotonic() - self.sent_at
        if author == "Error" or any(sign in text for sign in ERROR_SIGNS):
            self.outcome.errors.append(f"message d'erreur : {text[:200]}")
        if turn is not None and step.get("type") == "assistant_message":
            turn.marker_shown = turn.marker_shown or self.outcome.marker in text
            if turn.first_passages_s is None and not text.startswith(("*Chargement", DRAFT_HEADING)):
                turn.first_passages_s = elapsed
                turn.abstained = PASSAGES_TITLE not in text
            if found := WAITING_RE.search(text):
                position = 1 if found.group(1) == "une" else int(found.group(1))
                if not turn.queue_positions or turn.queue_positions[-1] != position:
                    turn.queue_positions.append(position)
        self.event.set()

    def _on_token(self, data: dict) -> None:
        self.outcome.seen.append(data.get("token") or "")
        turn = self.turn
        if turn is not None and turn.draft_first_token_s is None:
            turn.draft_first_token_s = time.monotonic() - self.sent_at

    async def _until(self, condition, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.outcome.errors and self.outcome.errors[-1] == "connexion perdue":
                raise ConnectionError("connexion perdue")
            self.event.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"rien reçu en {timeout:.0f} s")
            try:
                await asyncio.wait_for(self.event.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def _set_mode(self, client, mode: str) -> None:
        """As the settings panel does; Chainlit runs the handler as a task of its own: wait for it."""
        if mode != self.current_mode:
            self.task_started = self.task_ended = False
            await client.emit("chat_settings_change", {"mode": mode})
            await self._until(lambda: self.task_ended)
            self.current_mode = mode

    async def _ask(self, client, question: str, mode: str) -> None:
        await self._set_mode(client, mode)
        self.turn = Turn(question, mode)
        self.outcome.turns.append(self.turn)
        self.task_started = self.task_ended = False
        self.sent_at = time.monotonic()
        await client.emit("client_message", {"message": {
            "threadId": "", "id": str(uuid.uuid4()), "name": "Utilisateur", "type": "user_message",
            "output": question, "createdAt": datetime.now(timezone.utc).isoformat(), "metadata": {}},
            "fileReferences": []})
        await self._until(lambda: self.task_ended, timeout=24 * 3600)  # the deadline bounds it
        self.turn.final_s = time.monotonic() - self.sent_at
        if mode == "generative":
            self.turn.draft_failed = not any(_draft_written(text) for text in self.messages.values())
        self.messages.clear()


def _text(data) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


def _draft_written(text: str) -> bool:
    """A finished draft: its heading then the model's text (a failure is one italic notice)."""
    if not text.startswith(DRAFT_HEADING):
        return False
    body = text.split("\n\n", 1)[1].strip() if "\n\n" in text else ""
    return bool(body) and not (body.startswith("*") and body.endswith("*") and "\n" not in body)


# -- the load --------------------------------------------------------------------------------------

def load_questions() -> list[str]:
    return [entry["question"] for entry in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))]


async def run_load(urls: list[str], users: int, mode: str = "extractive", deadline: float = 600,
                   pids: list[int] | None = None) -> dict:
    """`users` conversations at once, spread over `urls`; a summary dict (see `summarise`)."""
    questions = load_questions()
    conversations = [Conversation(urls[n % len(urls)], n, questions[n % len(questions)],
                                  FOLLOW_UPS[n % len(FOLLOW_UPS)], mode) for n in range(users)]
    sampler = MemorySampler(pids or [])
    sampling = asyncio.create_task(sampler.run())
    start, load_before = asyncio.Event(), os.getloadavg()
    tasks = [asyncio.create_task(c.run(start)) for c in conversations]
    await _started(conversations, tasks)
    started = time.monotonic()
    start.set()  # every question goes out at once: the worst case for a workshop room
    _, pending = await asyncio.wait(tasks, timeout=deadline)
    for task in pending:
        task.cancel()
    outcomes = await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    sampling.cancel()
    return summarise(outcomes, mode, elapsed, sampler.report(), load_before, os.getloadavg())


async def _started(conversations, tasks, timeout: float = 180) -> None:
    """Every conversation connected and started (or failed) before the questions go out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(c.chat_started or t.done() for c, t in zip(conversations, tasks)):
            return
        await asyncio.sleep(0.05)


def percentile(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[int(q * (len(ordered) - 1))], 2) if ordered else None


def spread(values: list[float]) -> dict:
    return {"n": len(values), "p50": round(statistics.median(values), 2) if values else None,
            "p95": percentile(values, 0.95), "max": round(max(values), 2) if values else None}


def leaks(outcomes: list[Outcome]) -> list[str]:
    """Markers seen by a conversation other than their own, and own markers never seen."""
    found = []
    markers = {o.marker: o.number for o in outcomes}
    for outcome in outcomes:
        text = "\n".join(outcome.seen)
        found += [f"conversation {outcome.number} a reçu le repère de la conversation {owner}"
                  for marker, owner in markers.items() if owner != outcome.number and marker in text]
    return found


def summarise(outcomes: list[Outcome], mode: str, elapsed: float, memory: dict, load_before, load_after) -> dict:
    first = [o.turns[0] for o in outcomes if o.turns]
    all_turns = [t for o in outcomes for t in o.turns]
    drafts = [t for t in first if t.mode == "generative" and not t.abstained]
    # A finished follow-up shows the question as understood, first question and marker included.
    unseen = [o.number for o in outcomes if o.finished and not all(t.marker_shown for t in o.turns[1:])]
    return {
        "mode": mode, "conversations": len(outcomes), "finished": sum(o.finished for o in outcomes),
        "errors": sum(len(o.errors) for o in outcomes),
        "error_details": [f"{o.number}: {e}" for o in outcomes for e in o.errors][:20],
        "leaks": leaks(outcomes), "own_marker_missing": unseen, "elapsed_s": round(elapsed, 1),
        "finished_per_server": {url: sum(o.finished for o in outcomes if o.url == url)
                                for url in dict.fromkeys(o.url for o in outcomes)},
        "first_passages_s": spread([t.first_passages_s for t in all_turns if t.first_passages_s is not None]),
        "final_s": spread([t.final_s for t in all_turns if t.final_s is not None]),
        "first_turn_final_s": spread([t.final_s for t in first if t.final_s is not None]),
        "abstained": sum(t.abstained for t in all_turns),
        "drafts": {"asked": len(drafts), "written": sum(1 for t in drafts if t.final_s is not None and not t.draft_failed),
                   "failed": sum(1 for t in drafts if t.final_s is not None and t.draft_failed),
                   "first_token_s": spread([t.draft_first_token_s for t in drafts if t.draft_first_token_s]),
                   "told_waiting": sum(1 for t in drafts if t.queue_positions),
                   "max_position": max((max(t.queue_positions) for t in drafts if t.queue_positions), default=0)},
        "memory": memory, "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "turns": [{"conversation": o.number, **asdict(t)} for o in outcomes for t in o.turns],
    }


def print_summary(result: dict) -> None:
    p, f = result["first_passages_s"], result["final_s"]
    print(f"{result['conversations']} conversations ({result['mode']}), terminées : {result['finished']}, "
          f"erreurs : {result['errors']}, fuites entre conversations : {len(result['leaks'])}, "
          f"durée {result['elapsed_s']} s ; abstentions (pas de brouillon) : {result['abstained']}")
    print(f"premiers extraits : p50 {p['p50']} s, p95 {p['p95']} s (n={p['n']}) ; "
          f"réponse finale : p50 {f['p50']} s, p95 {f['p95']} s, max {f['max']} s")
    drafts = result["drafts"]
    if drafts["asked"]:
        t = drafts["first_token_s"]
        print(f"brouillons : {drafts['written']} écrits, {drafts['failed']} en échec sur {drafts['asked']} demandés ; "
              f"premier jeton p50 {t['p50']} s, p95 {t['p95']} s ; {drafts['told_waiting']} averti(s) de l'attente "
              f"(place la plus lointaine : {drafts['max_position']})")
    for pid, memory in result["memory"].items():
        print(f"mémoire du serveur {pid} : {memory['before_mb']} Mo avant, pic {memory['peak_mb']} Mo, "
              f"{memory['after_mb']} Mo après")
    print(f"charge moyenne (1, 5, 15 min) : avant {result['load_average_before']}, après {result['load_average_after']}")
    for line in result["error_details"] + result["leaks"]:
        print("  " + line)
    if result["own_marker_missing"]:
        print(f"  réponses de suivi sans le repère de leur conversation : {result['own_marker_missing']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--mode", choices=("extractive", "generative"), default="extractive")
    parser.add_argument("--deadline", type=float, default=600, help="secondes pour toute la charge")
    parser.add_argument("--url", action="append", help="serveur déjà démarré (répétable)")
    parser.add_argument("--pid", type=int, action="append", help="processus dont suivre la mémoire (avec --url)")
    parser.add_argument("--json", type=Path, help="écrire le résultat complet en JSON")
    args = parser.parse_args()
    server = None
    if not args.url:
        home = Path(tempfile.mkdtemp(prefix="bench-load-"))
        print(f"Démarrage du serveur (ASSISTANT_HOME={home})…", file=sys.stderr)
        server = ChatProcess(server_env(home), home / "server.log")
    try:
        urls, pids = (args.url, args.pid or []) if args.url else ([server.url], [server.pid])
        result = asyncio.run(run_load(urls, args.users, args.mode, args.deadline, pids))
    finally:
        if server:
            server.stop()
    result["command"] = " ".join(sys.argv)
    print_summary(result)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if result["errors"] == 0 and not result["leaks"] and not result["own_marker_missing"] else 1


if __name__ == "__main__":
    sys.exit(main())
