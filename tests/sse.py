"""A base for the scripted OpenAI-compatible servers the tests stream from (loopback only)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler


class ChatCompletionStream(BaseHTTPRequestHandler):
    """Writes chat-completion chunks as server-sent events; subclasses decide what to say."""

    def chunk(self, delta, finish):
        event = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.flush()

    def log_message(self, *args):
        pass
