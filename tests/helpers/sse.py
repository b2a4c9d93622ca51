"""A base for the scripted OpenAI-compatible servers the tests stream from (loopback only)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serving(handler) -> Iterator[str]:
    """The handler served on a free loopback port by a thread; yields the /v1 address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


class ChatCompletionStream(BaseHTTPRequestHandler):
    """Writes chat-completion chunks as server-sent events; subclasses decide what to say."""

    def chunk(self, delta, finish):
        event = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.flush()

    def log_message(self, *args):
        pass
