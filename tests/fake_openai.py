"""A fake OpenAI API: a real HTTP server on 127.0.0.1, run in a thread, for the tests.

The real ``openai`` client talks to it through ``base_url=fake.url`` (``http://127.0.0.1:PORT/v1``),
so requests, multipart uploads, retries, timeouts, pagination and SSE streaming are all exercised
for real; nothing is patched. Use the ``fake_openai`` fixture (``fake_openai_fixture`` at the bottom,
imported by the test modules), or ``with FakeOpenAI() as fake:`` anywhere.

Endpoints: POST/GET /v1/files, GET /v1/files/{id}, GET /v1/files/{id}/content,
POST/GET /v1/fine_tuning/jobs, GET /v1/fine_tuning/jobs/{id}, POST .../{cancel,pause,resume},
GET .../events and .../checkpoints (newest first, cursor pages with ``after``/``limit``/``has_more``),
POST /v1/chat/completions (JSON or SSE with ``stream_options.include_usage``), GET /v1/models and
/v1/models/{id} (base models, and fine-tuned / checkpoint models once their job has made them).

Scripting (all fast: a job moves one step per poll of its status, so it takes a few hundred
milliseconds at the tests' poll interval, and no phase is ever skipped on a loaded machine):
    fake.plan = JobPlan(outcome="failed", error_message="...")   # what the next jobs do
    fake.fail("POST", "/fine_tuning/jobs", 429, times=2)           # 429 twice, then normal
    fake.block_training()                                          # 403 training_not_available
    fake.delay("/chat/completions", 2.0)                           # a slow answer (times out)
    fake.api_key = "sk-..."                                        # any other bearer gets 401
    fake.requests                                                  # what the client sent
"""
from __future__ import annotations

import base64
import contextlib
import email.parser
import email.policy
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

FAKE_KEY = "sk-fake-test-key-0123456789abcdef"
BASE_MODELS = ("gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14", "gpt-4.1-nano-2025-04-14", "gpt-3.5-turbo")


@dataclass
class JobPlan:
    """What a fine-tuning job created on the fake does. Its clock is the client's polling: every
    GET of the job moves it one tick (validating_files -> queued -> running, ``steps_per_poll``
    steps a tick -> the end), so a test sees every phase however loaded the machine is, and a job
    takes as long as a handful of polls."""

    outcome: str = "succeeded"          # succeeded | failed
    steps: int = 6                      # total steps over all epochs
    steps_per_poll: int = 1
    n_epochs: int = 3                   # used when the request says "auto"
    fail_at_step: int = 3               # outcome "failed": steps done before the failure
    fail_while_validating: bool = False  # outcome "failed": the file check fails instead
    error_code: str = "server_error"
    error_message: str = "The job failed due to an internal error."
    error_param: str | None = None
    result_base64: bool = False         # the result file comes back base64-encoded, as OpenAI's did
    result_csv: str | None = None       # override the whole result file


@dataclass
class _Rule:
    method: str | None
    path: re.Pattern[str]
    times: int
    status: int = 0
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def _error(message: str, type_: str = "invalid_request_error", code: str | None = None,
           param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class _Job:
    """One job; its timeline is derived from job time (wall time minus time spent paused)."""

    def __init__(self, fake: FakeOpenAI, job_id: str, request: dict[str, Any], plan: JobPlan) -> None:
        self.fake, self.id, self.request, self.plan = fake, job_id, request, plan
        hyper = ((request.get("method") or {}).get("supervised") or {}).get("hyperparameters") or {}
        self.n_epochs = hyper.get("n_epochs", "auto")
        self.n_epochs = plan.n_epochs if self.n_epochs in (None, "auto") else int(self.n_epochs)
        self.batch_size = hyper.get("batch_size", "auto")
        self.batch_size = 1 if self.batch_size in (None, "auto") else int(self.batch_size)
        self.lr = hyper.get("learning_rate_multiplier", "auto")
        self.lr = 1.8 if self.lr in (None, "auto") else float(self.lr)
        self.created = time.time()
        self.ticks = 0
        self.paused = False
        self.final: str | None = None      # cancelled, set from outside
        self.events: list[dict[str, Any]] = []
        self.checkpoints: list[dict[str, Any]] = []
        self.steps_done = 0
        self.status = "validating_files"
        self.result_file: str | None = None
        training = fake.files.get(request["training_file"], {}).get("content", b"")
        self.trained_tokens = self.n_epochs * max(1, len(training) // 4)
        suffix = request.get("suffix") or ""
        self.model_name = f"ft:{request['model']}:fake-org:{suffix}:{job_id[-8:]}".replace("::", ":")
        self._event("info", "Validating training file: " + request["training_file"])

    def tick(self) -> None:
        """One poll of the job: it moves on unless it is paused or over."""
        if not self.paused and self.final is None:
            self.ticks += 1
            self.advance()

    def _event(self, level: str, message: str, data: dict[str, Any] | None = None) -> None:
        self.events.append({
            "id": f"ftevent-{self.id[-6:]}-{len(self.events):04d}", "object": "fine_tuning.job.event",
            "created_at": int(time.time()), "level": level, "message": message,
            "data": data, "type": "metrics" if data else "message",
        })

    def advance(self) -> None:
        """Bring the job up to its tick count, creating events and checkpoints once."""
        if self.status in ("succeeded", "failed", "cancelled") or self.final is not None:
            return
        p, t = self.plan, self.ticks
        if t >= 1 and self.status == "validating_files":
            if p.outcome == "failed" and p.fail_while_validating:
                return self._fail()
            self.status = "queued"
            self._event("info", "Files validated, moving job to queued state")
        if t >= 2 and self.status == "queued":
            self.status = "running"
            self._event("info", "Fine-tuning job started")
            return
        if self.status != "running":
            return
        if self.steps_done >= p.steps:
            return self._succeed()
        if p.outcome == "failed" and self.steps_done >= p.fail_at_step:
            return self._fail()
        for _ in range(min(p.steps_per_poll, p.steps - self.steps_done)):
            self.steps_done += 1
            self._step(self.steps_done)

    def _metrics(self, step: int) -> dict[str, float]:
        return {"train_loss": round(2.0 * 0.9 ** step, 4), "train_mean_token_accuracy": round(0.5 + 0.04 * step, 4)}

    def _step(self, step: int) -> None:
        data = {"step": step, "total_steps": self.plan.steps, **self._metrics(step)}
        if self.request.get("validation_file") and step % 2 == 0:
            data["valid_loss"] = round(2.1 * 0.92 ** step, 4)
            data["valid_mean_token_accuracy"] = round(0.45 + 0.04 * step, 4)
        self._event("info", f"Step {step}/{self.plan.steps}: training loss={data['train_loss']:.4f}", data)
        per_epoch = max(1, self.plan.steps // self.n_epochs)
        if step % per_epoch == 0 or step == self.plan.steps:
            self.checkpoints.append({
                "id": f"ftckpt-{self.id[-6:]}-{step:04d}", "object": "fine_tuning.job.checkpoint",
                "created_at": int(time.time()), "fine_tuning_job_id": self.id, "step_number": step,
                "fine_tuned_model_checkpoint": f"{self.model_name}:ckpt-step-{step}",
                "metrics": {"step": float(step), **self._metrics(step)},
            })
            self._event("info", f"Checkpoint created at step {step}")

    def _fail(self) -> None:
        self.status = "failed"
        self._event("error", self.plan.error_message)

    def _succeed(self) -> None:
        csv = self.plan.result_csv or self._csv()
        raw = base64.b64encode(csv.encode()) if self.plan.result_base64 else csv.encode()
        self.result_file = self.fake.add_file(raw, "step_metrics.csv", "fine-tune-results")
        self.status = "succeeded"
        self._event("info", f"New fine-tuned model created: {self.model_name}")
        self._event("info", "The job has successfully completed")

    def _csv(self) -> str:
        lines = ["step,train_loss,train_mean_token_accuracy,valid_loss,valid_mean_token_accuracy"]
        for step in range(1, self.plan.steps + 1):
            m = self._metrics(step)
            valid = (f"{2.1 * 0.92 ** step:.4f},{0.45 + 0.04 * step:.4f}"
                     if self.request.get("validation_file") and step % 2 == 0 else ",")
            lines.append(f"{step},{m['train_loss']},{m['train_mean_token_accuracy']},{valid}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        status = self.final or ("paused" if self.paused else self.status)
        done = status in ("succeeded", "failed", "cancelled")
        error = None
        if status == "failed":
            error = {"code": self.plan.error_code, "message": self.plan.error_message, "param": self.plan.error_param}
        return {
            "id": self.id, "object": "fine_tuning.job", "created_at": int(self.created),
            "error": error, "fine_tuned_model": self.model_name if status == "succeeded" else None,
            "finished_at": int(time.time()) if done else None,
            "hyperparameters": {"n_epochs": self.n_epochs, "batch_size": self.batch_size,
                                "learning_rate_multiplier": self.lr},
            "model": self.request["model"], "organization_id": "org-fake", "result_files":
                [self.result_file] if self.result_file and status == "succeeded" else [],
            "seed": self.request.get("seed") or 42, "status": status,
            "trained_tokens": self.trained_tokens if status == "succeeded" else None,
            "training_file": self.request["training_file"], "validation_file": self.request.get("validation_file"),
            "estimated_finish": None if done else int(self.created + 60), "method": self.request.get("method"),
            "suffix": self.request.get("suffix"),
        }


class FakeOpenAI:
    """The server and its state; start() / stop(), or use it as a context manager."""

    def __init__(self, api_key: str | None = FAKE_KEY) -> None:
        self.api_key = api_key
        self.plan = JobPlan()
        self.files: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, _Job] = {}
        self.requests: list[Recorded] = []
        self.rules: list[_Rule] = []
        self.stream_delay_s = 0.0          # pause between SSE chunks (time to first token tests)
        self.reject_upload: str | None = None
        self.training_blocked = False
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="fake-openai")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ------------------------------------------------------------------------------
    def fail(self, method: str | None, path: str, status: int, *, times: int = 1, code: str | None = None,
             message: str | None = None, type_: str = "invalid_request_error", retry_after_ms: int | None = 1,
             headers: dict[str, str] | None = None) -> None:
        """The next ``times`` requests matching method and path (a regex searched in the path after
        /v1) answer ``status`` with an OpenAI-shaped error body."""
        extra = dict(headers or {})
        if retry_after_ms is not None:
            extra["retry-after-ms"] = str(retry_after_ms)   # keeps the client's back-off short in tests
        body = _error(message or f"Fake error {status}", type_, code)
        self.rules.append(_Rule(method, re.compile(path), times, status, body, extra))

    def delay(self, path: str, seconds: float, *, method: str | None = None, times: int = 1) -> None:
        """The next ``times`` matching requests wait ``seconds`` before being answered."""
        self.rules.append(_Rule(method, re.compile(path), times, delay_s=seconds))

    def block_training(self) -> None:
        """Job creation answers 403 training_not_available, like an organisation past the wind-down."""
        self.training_blocked = True

    def add_file(self, content: bytes, filename: str, purpose: str) -> str:
        with self.lock:
            file_id = f"file-fake{next(self._ids):06d}"
            self.files[file_id] = {"id": file_id, "object": "file", "bytes": len(content),
                                   "created_at": int(time.time()), "filename": filename, "purpose": purpose,
                                   "status": "processed", "content": content}
        return file_id

    def calls(self, method: str, path_regex: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.search(path_regex, r.path)]

    # -- request handling (runs in server threads) ----------------------------------------------
    def _take_rule(self, method: str, path: str) -> _Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.times > 0 and (rule.method is None or rule.method == method) and rule.path.search(path):
                    rule.times -= 1
                    return rule
        return None

    def handle(self, h: _Handler, method: str) -> None:
        parsed = urlparse(h.path)
        path = parsed.path[3:] if parsed.path.startswith("/v1") else parsed.path
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        with self.lock:
            self.requests.append(Recorded(method, path, {k.lower(): v for k, v in h.headers.items()}, body))
        rule = self._take_rule(method, path)
        if rule is not None and rule.delay_s:
            time.sleep(rule.delay_s)
        if rule is not None and rule.status:
            return h.send_json(rule.status, rule.body or {}, rule.headers)
        if self.api_key is not None and h.headers.get("Authorization") != f"Bearer {self.api_key}":
            sent = (h.headers.get("Authorization") or "")[7:]
            return h.send_json(401, _error(
                f"Incorrect API key provided: {sent[:3]}***{sent[-4:]}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.", code="invalid_api_key"))
        with self.lock:
            routed = self._route(method, path, query, body, h)
        if routed is None:
            return h.send_json(404, _error(f"Unknown path {path}", code="not_found"))
        if isinstance(routed, _Stream):
            return h.send_sse(routed.chunks, self.stream_delay_s)
        status, payload = routed
        if isinstance(payload, bytes):
            return h.send_bytes(status, payload)
        return h.send_json(status, payload)

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes, h: _Handler) -> Any:
        parts = [p for p in path.split("/") if p]
        if parts == ["models"] and method == "GET":
            models = list(BASE_MODELS) + [j.model_name for j in self.jobs.values() if j.status == "succeeded"]
            return 200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in models]}
        if len(parts) == 2 and parts[0] == "models" and method == "GET":
            if not self._known_model(parts[1]):
                return 404, _error(f"The model `{parts[1]}` does not exist or you do not have access to it.",
                                   code="model_not_found")
            return 200, {"id": parts[1], "object": "model", "created": 0, "owned_by": "fake"}
        if parts[:1] == ["files"]:
            return self._files(method, parts, body, h)
        if parts[:2] == ["fine_tuning", "jobs"]:
            return self._jobs(method, parts[2:], query, body)
        if parts == ["chat", "completions"] and method == "POST":
            return self._chat(json.loads(body or b"{}"))
        return None

    def _files(self, method: str, parts: list[str], body: bytes, h: _Handler) -> Any:
        if method == "POST" and len(parts) == 1:
            fields = _parse_multipart(h.headers.get("Content-Type", ""), body)
            content, filename = fields.get("file", (b"", "upload.jsonl"))
            if self.reject_upload:
                return 400, _error(self.reject_upload, code="invalid_file_format", param="file")
            for number, line in enumerate(content.decode("utf-8", "replace").splitlines(), 1):
                try:
                    row = json.loads(line) if line.strip() else {"messages": []}
                except json.JSONDecodeError:
                    row = None
                if not isinstance(row, dict) or "messages" not in row:
                    return 400, _error(f"Invalid file format. Line {number} is not a JSON object with 'messages'.",
                                       code="invalid_file_format", param="file")
            purpose = fields.get("purpose", (b"", None))[0].decode()
            file_id = self.add_file(content, filename or "upload.jsonl", purpose)
            return 200, {k: v for k, v in self.files[file_id].items() if k != "content"}
        if len(parts) >= 2 and parts[1] not in self.files:
            return 404, _error(f"No such File object: {parts[1]}", code="not_found", param="id")
        if method == "GET" and len(parts) == 2:
            return 200, {k: v for k, v in self.files[parts[1]].items() if k != "content"}
        if method == "GET" and len(parts) == 3 and parts[2] == "content":
            return 200, self.files[parts[1]]["content"]
        return None

    def _jobs(self, method: str, rest: list[str], query: dict[str, str], body: bytes) -> Any:
        if not rest and method == "POST":
            request = json.loads(body or b"{}")
            if self.training_blocked:
                return 403, _error("Fine-tuning is no longer available to this organization.",
                                   code="training_not_available")
            if request.get("model") not in BASE_MODELS:
                return 404, _error(f"The model {request.get('model')!r} does not exist or you do not have access "
                                   "to it.", code="model_not_found", param="model")
            for key in ("training_file", "validation_file"):
                if request.get(key) and request[key] not in self.files:
                    return 400, _error(f"File {request[key]} not found.", code="invalid_file", param=key)
            job_id = f"ftjob-fake{next(self._ids):08d}"
            self.jobs[job_id] = _Job(self, job_id, request, self.plan)
            return 200, self.jobs[job_id].to_json()
        if not rest and method == "GET":
            jobs = sorted(self.jobs.values(), key=lambda j: j.created, reverse=True)
            return 200, _page([j.to_json() for j in jobs], query)
        job = self.jobs.get(rest[0])
        if job is None:
            return 404, _error(f"Could not find fine-tune: {rest[0]}", code="not_found")
        action = rest[1] if len(rest) > 1 else None
        if method == "GET" and action is None:
            job.tick()
            return 200, job.to_json()
        if method == "GET" and action == "events":
            return 200, _page(list(reversed(job.events)), query)
        if method == "GET" and action == "checkpoints":
            return 200, _page(list(reversed(job.checkpoints)), query)
        terminal = job.final or job.status in ("succeeded", "failed", "cancelled")
        if method == "POST" and action == "cancel":
            if terminal:
                return 400, _error(f"Job {job.id} has already completed.", code="invalid_state")
            job.paused = False
            job.final = "cancelled"
            job._event("info", "Fine-tuning job cancelled")
            return 200, job.to_json()
        if method == "POST" and action == "pause":
            if terminal or job.paused:
                return 400, _error(f"Job {job.id} cannot be paused now.", code="invalid_state")
            job.paused = True
            job._event("info", "Fine-tuning job paused")
            return 200, job.to_json()
        if method == "POST" and action == "resume":
            if not job.paused:
                return 400, _error(f"Job {job.id} is not paused.", code="invalid_state")
            job.paused = False
            job._event("info", "Fine-tuning job resumed")
            return 200, job.to_json()
        return None

    def _known_model(self, model: str) -> bool:
        if model in BASE_MODELS:
            return True
        for job in self.jobs.values():
            if job.status == "succeeded" and model == job.model_name:
                return True
            if any(c["fine_tuned_model_checkpoint"] == model for c in job.checkpoints):
                return True
        return False

    def _chat(self, request: dict[str, Any]) -> Any:
        model = str(request.get("model"))
        if not self._known_model(model):
            return 404, _error(f"The model `{model}` does not exist or you do not have access to it.",
                               code="model_not_found")
        messages = request.get("messages") or []
        prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        words = f"{model} says: {prompt}".split()
        limit = request.get("max_completion_tokens") or request.get("max_tokens")
        finish = "stop"
        if limit is not None and len(words) > int(limit):
            words, finish = words[: int(limit)], "length"
        prompt_tokens = sum(len(str(m.get("content", "")).split()) + 3 for m in messages) + 3
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(words),
                 "total_tokens": prompt_tokens + len(words)}
        base = {"id": f"chatcmpl-fake{next(self._ids)}", "created": int(time.time()), "model": model}
        if not request.get("stream"):
            return 200, {**base, "object": "chat.completion", "usage": usage, "choices": [{
                "index": 0, "finish_reason": finish, "logprobs": None,
                "message": {"role": "assistant", "content": " ".join(words)}}]}
        chunk = {**base, "object": "chat.completion.chunk"}
        chunks = [{**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                         "finish_reason": None}]}]
        for i, word in enumerate(words):
            chunks.append({**chunk, "choices": [{"index": 0, "delta": {"content": word if i == 0 else " " + word},
                                                 "finish_reason": None}]})
        chunks.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if (request.get("stream_options") or {}).get("include_usage"):
            chunks.append({**chunk, "choices": [], "usage": usage})
        return _Stream(chunks)


@dataclass
class _Stream:
    chunks: list[dict[str, Any]]


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """OpenAI's cursor pages: items after the one whose id is ``after``, at most ``limit``."""
    start = 0
    if query.get("after"):
        ids = [i["id"] for i in items]
        start = ids.index(query["after"]) + 1 if query["after"] in ids else len(items)
    limit = int(query.get("limit") or 20)
    page = items[start:start + limit]
    return {"object": "list", "data": page, "has_more": start + limit < len(items)}


def _parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[bytes, str | None]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, tuple[bytes, str | None]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = (part.get_payload(decode=True) or b"", part.get_filename())
    return fields


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 without log lines, each request handed to ``fake.handle`` (tests/fake_hosted.py's too)."""

    protocol_version = "HTTP/1.1"
    fake: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._safely("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._safely("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._safely("DELETE")

    def _safely(self, method: str) -> None:
        # the client may have given up already (a timeout test): nothing left to answer
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.fake.handle(self, method)


class _Handler(QuietHandler):
    fake: FakeOpenAI

    def send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_fake")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def send_bytes(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_sse(self, chunks: list[dict[str, Any]], delay_s: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for payload in [json.dumps(c) for c in chunks] + ["[DONE]"]:
            data = f"data: {payload}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
            if delay_s:
                time.sleep(delay_s)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _handler_for(fake: FakeOpenAI) -> type[_Handler]:
    return type("FakeOpenAIHandler", (_Handler,), {"fake": fake})


@pytest.fixture(name="fake_openai")
def fake_openai_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """A started fake, with OPENAI_BASE_URL and OPENAI_API_KEY pointing at it for this test."""
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
        yield fake
