"""What the fake Together and Fireworks servers share (tests/fake_together.py, fake_fireworks.py):
a real HTTP server on 127.0.0.1 in a thread, bearer-key checks, scripted failures, a record of
every request, and an OpenAI-compatible /v1/chat/completions (JSON or SSE) for the models the
fake says are servable. Nothing is patched: the providers' official clients talk to it over HTTP.

    fake.fail("POST", r"/fine-tunes$", 500, times=2)    # the next 2 matching requests answer 500
    fake.requests / fake.calls("GET", r"/metrics$")     # what the client sent
    fake.api_key = None                                  # accept any key
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from fake_openai import QuietHandler, _parse_multipart  # noqa: F401 - _parse_multipart re-exported for the provider fakes


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class _Rule:
    method: str | None
    path: re.Pattern[str]
    times: int
    status: int
    body: dict[str, Any]


@dataclass
class Reply:
    status: int
    body: Any = None                       # dict -> JSON, bytes -> raw, list of dicts + sse -> SSE
    headers: dict[str, str] | None = None
    sse: bool = False


class FakeHosted:
    """The server; subclasses implement ``route`` (called under ``self.lock``) and ``auth_error``."""

    name = "fake"

    def __init__(self, api_key: str | None) -> None:
        self.api_key = api_key
        self.requests: list[Recorded] = []
        self.rules: list[_Rule] = []
        self.lock = threading.RLock()
        self.ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeHosted:
        handler = type(f"{type(self).__name__}Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name=self.name).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHosted:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The host root (the clients' paths carry /v1)."""
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- scripting -------------------------------------------------------------------------------
    def fail(self, method: str | None, path: str, status: int, *, times: int = 1,
             body: dict[str, Any] | None = None) -> None:
        self.rules.append(_Rule(method, re.compile(path), times, status,
                                body or {"error": {"message": f"Fake error {status}"}}))

    def calls(self, method: str, path_regex: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.search(path_regex, r.path)]

    def next_id(self) -> int:
        return next(self.ids)

    # -- what subclasses implement ---------------------------------------------------------------
    def route(self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]) -> Reply | None:
        raise NotImplementedError

    def auth_error(self, sent: str) -> Reply:
        return Reply(401, {"error": {"message": "Invalid API key provided", "code": "invalid_api_key"}})

    def needs_auth(self, method: str, path: str) -> bool:
        return True

    def servable(self, model: str) -> str | None:
        """None when ``model`` answers chat; else the error message (404)."""
        return f"Model {model} not found"

    # -- handling (server threads) ---------------------------------------------------------------
    def handle(self, h: _Handler, method: str) -> None:
        parsed = urlparse(h.path)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(h)
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self.lock:
            self.requests.append(Recorded(method, parsed.path, query, headers, body))
            rule = next((r for r in self.rules if r.times > 0 and (r.method in (None, method))
                         and r.path.search(parsed.path)), None)
            if rule is not None:
                rule.times -= 1
        if rule is not None:
            return h.reply(Reply(rule.status, rule.body, {"retry-after-ms": "1"}))
        if self.needs_auth(method, parsed.path) and self.api_key is not None:
            sent = (h.headers.get("Authorization") or "")[7:]
            if sent != self.api_key:
                return h.reply(self.auth_error(sent))
        with self.lock:
            if parsed.path == "/v1/chat/completions" and method == "POST":
                reply = self.chat(json.loads(body or b"{}"))
            else:
                reply = self.route(method, parsed.path, query, body, headers)
        h.reply(reply or Reply(404, {"error": {"message": f"Unknown path {parsed.path}"}}))

    def chat(self, request: dict[str, Any]) -> Reply:
        model = str(request.get("model"))
        problem = self.servable(model)
        if problem:
            return Reply(404, {"error": {"message": problem, "type": "invalid_request_error", "code": "model_not_found"}})
        messages = request.get("messages") or []
        prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        words = f"{model} says: {prompt}".split()
        limit = request.get("max_tokens") or request.get("max_completion_tokens")
        finish = "stop"
        if limit is not None and len(words) > int(limit):
            words, finish = words[: int(limit)], "length"
        prompt_tokens = sum(len(str(m.get("content", "")).split()) + 3 for m in messages) + 3
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(words),
                 "total_tokens": prompt_tokens + len(words)}
        base = {"id": f"chatcmpl-{self.name}{self.next_id()}", "created": int(time.time()), "model": model}
        if not request.get("stream"):
            return Reply(200, {**base, "object": "chat.completion", "usage": usage, "choices": [{
                "index": 0, "finish_reason": finish, "logprobs": None,
                "message": {"role": "assistant", "content": " ".join(words)}}]})
        chunk = {**base, "object": "chat.completion.chunk"}
        chunks = [{**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                         "finish_reason": None}]}]
        chunks += [{**chunk, "choices": [{"index": 0, "delta": {"content": w if i == 0 else " " + w},
                                          "finish_reason": None}]} for i, w in enumerate(words)]
        chunks.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if (request.get("stream_options") or {}).get("include_usage"):
            chunks.append({**chunk, "choices": [], "usage": usage})
        return Reply(200, chunks, sse=True)


def _read_chunked(h: BaseHTTPRequestHandler) -> bytes:
    data = b""
    while True:
        size = int(h.rfile.readline().strip() or b"0", 16)
        if size == 0:
            h.rfile.readline()
            return data
        data += h.rfile.read(size)
        h.rfile.readline()


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


class _Handler(QuietHandler):
    fake: FakeHosted

    def do_PUT(self) -> None:  # noqa: N802
        self._safely("PUT")

    def reply(self, reply: Reply) -> None:
        if reply.sse:
            return self._sse(reply.body)
        if isinstance(reply.body, bytes):
            data, kind = reply.body, "application/octet-stream"
        else:
            data, kind = json.dumps(reply.body if reply.body is not None else {}).encode(), "application/json"
        self.send_response(reply.status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (reply.headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, chunks: list[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for payload in [json.dumps(c) for c in chunks] + ["[DONE]"]:
            data = f"data: {payload}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
