"""Several conversations at once against the real chat server, through Chainlit's socket.io
protocol (eval/bench_load.py, smaller): nobody sees anyone else's messages, nothing fails, and
the model's drafts queue with each waiting participant told their place. No timing asserted:
figures come from the benchmark (docs/reliability.md)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from eval import bench_load
from tests.helpers.sse import ChatCompletionStream, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DRAFT = ["Oui", ",", " dans", " une", " concertation", " organisée", " par", " une", " loi", " [1]", "."]


class CountingModel(ChatCompletionStream):
    """A scripted OpenAI-compatible model: a pause (reading the prompt), then a short draft."""

    first_token_delay = 3.0
    requests: list[float] = []

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append(time.monotonic())
        time.sleep(self.first_token_delay)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in DRAFT:
                self.chunk({"content": word}, None)
            self.chunk({}, "stop")
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def model_url():
    with serving(CountingModel) as url:
        yield url


def clean_env(**values: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "CHAINLIT_"))}
    env.update(OMP_NUM_THREADS="1", ANONYMIZED_TELEMETRY="False", **values)
    return env


@pytest.fixture(scope="module")
def chat_server(small_index, tmp_path_factory, model_url):
    home = tmp_path_factory.mktemp("load")
    server = bench_load.ChatProcess(clean_env(
        ASSISTANT_HOME=str(home), ASSISTANT_CORPUS_DIR=str(small_index.corpus_dir),
        ASSISTANT_INDEX_DIR=str(small_index.index_dir), ASSISTANT_LLM="openai-compatible",
        ASSISTANT_LLM_URL=model_url, ASSISTANT_LLM_MODEL="m"), home / "server.log")
    yield server
    server.stop()
    assert "Traceback" not in server.log_path.read_text()


def test_five_conversations_at_once_stay_apart_without_errors(chat_server):
    result = asyncio.run(bench_load.run_load([chat_server.url], 5, "extractive", deadline=240,
                                             pids=[chat_server.pid]))
    assert result["errors"] == 0, result["error_details"]
    assert result["finished"] == 5
    assert result["leaks"] == [] and result["own_marker_missing"] == []
    assert result["first_passages_s"]["n"] == 10  # two answered turns each
    assert all(t["marker_shown"] for t in result["turns"] if t["question"].startswith("Et "))
    assert result["memory"][str(chat_server.pid)]["peak_mb"] > 0


def test_drafts_take_turns_and_the_waiting_are_told_their_place(chat_server):
    CountingModel.requests.clear()
    result = asyncio.run(bench_load.run_load([chat_server.url], 3, "generative", deadline=240))
    assert result["errors"] == 0, result["error_details"]
    assert result["finished"] == 3 and result["leaks"] == [] and result["own_marker_missing"] == []
    drafts = result["drafts"]
    assert drafts["asked"] == 3 and drafts["written"] == 3 and drafts["failed"] == 0
    # One draft at a time: the model was never asked twice within one draft's time.
    gaps = [b - a for a, b in zip(CountingModel.requests, CountingModel.requests[1:])]
    assert len(CountingModel.requests) == 3 and all(gap >= CountingModel.first_token_delay * 0.9 for gap in gaps)
    # Whoever waited was told so, and the last in line was told again as the queue moved.
    told = [t["queue_positions"] for t in result["turns"] if t["mode"] == "generative"]
    assert sorted(len(p) > 0 for p in told) == [False, True, True]
    assert [2, 1] in told
