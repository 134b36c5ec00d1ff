"""Fakes for the LLM tests: a loopback OpenAI-style HTTP server and an in-process backend."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from scar_dagster.llm.types import ChatRequest, ChatResult

Reply = tuple[int, dict[str, Any]]


def completion(content: str, finish_reason: str = "stop", tokens: int = 5) -> dict[str, Any]:
    """A ``chat.completion`` body as OpenAI-compatible servers send it."""
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {"prompt_tokens": 7, "completion_tokens": tokens, "total_tokens": 7 + tokens},
    }


def echo(body: dict[str, Any]) -> Reply:
    """Reply with the last user message, reversed (distinct per request)."""
    return 200, completion(body["messages"][-1]["content"][::-1])


class FakeChatServer:
    """``/v1/chat/completions`` on loopback answering with ``reply(body)``; counts requests."""

    def __init__(self, reply: Callable[[dict[str, Any]], Reply] = echo, delay: float = 0.0):
        self.requests: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append(body)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                time.sleep(delay)
                status, payload = reply(body)
                with server._lock:
                    server.in_flight -= 1
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeChatServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class ScriptedChat:
    """An in-process backend: ``reply(request) -> ChatResult``; records what it was asked."""

    def __init__(self, reply: Callable[[ChatRequest], ChatResult], name: str = "scripted"):
        self.reply, self.name = reply, name
        self.asked: list[ChatRequest] = []

    def complete_many(
        self, requests: Sequence[ChatRequest], progress: Any | None = None
    ) -> list[ChatResult]:
        self.asked.extend(requests)
        out = [self.reply(r) for r in requests]
        if progress is not None:
            progress.advance(len(out))
        return out
