"""A fake Together API on 127.0.0.1, built from the requests the official client (``together``
3.1.1) makes; the real client talks to it through ``TOGETHER_BASE_URL`` (the host root).

Endpoints: POST /v1/files (multipart; answers 302 to a signed URL with X-Together-File-Id),
PUT /upload/<id>?sig=... (the signed URL: no bearer key expected), POST /v1/files/<id>/preprocess,
GET /v1/files/<id>; GET /v1/fine-tunes/models/limits?model_name=; POST
/v1/fine-tunes/estimate-price; POST /v1/fine-tunes; GET /v1/fine-tunes/<id>, .../events,
.../checkpoints, .../metrics; POST .../cancel; POST /v1/chat/completions (base models, and the
output model of every completed job).

A job's clock is the client's polling: each GET of the job moves it one tick (pending -> queued
-> running, ``steps_per_poll`` steps a tick -> completed or error), so every phase is seen.
    fake.plan = JobPlan(outcome="error", error_message="...")
    fake.credit_usd = 0.0                     # estimate-price says allowed_to_proceed: false
    fake.api_key = "..."                      # any other bearer gets 401 (echoing the key it got)
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fake_hosted import FakeHosted, Reply, _parse_multipart, iso

FAKE_KEY = "tgp_v1_fakeTogetherKey0123456789abcdefXYZ"
TUNABLE = {"meta-llama/Meta-Llama-3.1-8B-Instruct-Reference": 1.0, "Qwen/Qwen2.5-7B-Instruct": 1.0}
PRICE_PER_M = 0.48   # the fake's quote per 1M training tokens


@dataclass
class JobPlan:
    outcome: str = "completed"        # completed | error | user_error
    steps: int = 6
    steps_per_poll: int = 1
    fail_at_step: int = 3
    error_message: str = "Training diverged: the loss became NaN at step 3"


def _error(message: str, code: str | None = None, type_: str = "invalid_request_error") -> dict[str, Any]:
    return {"id": "req-fake", "error": {"message": message, "type": type_, "param": None, "code": code}}


class _Job:
    def __init__(self, fake: FakeTogether, job_id: str, request: dict[str, Any], model: str, plan: JobPlan) -> None:
        self.fake, self.id, self.request, self.model, self.plan = fake, job_id, request, model, plan
        self.created = time.time()
        self.status, self.ticks, self.steps_done, self.started = "pending", 0, 0, None
        self.events: list[dict[str, Any]] = []
        self.metrics: list[dict[str, float]] = []
        self.checkpoints: list[dict[str, Any]] = []
        self.epochs = int(request.get("n_epochs") or 1)
        training = fake.files.get(request["training_file"], {}).get("content", b"")
        self.token_count = max(1, len(training) // 4)
        suffix = request.get("suffix")
        self.output = f"fakeuser/{model.split('/')[-1]}{'-' + suffix if suffix else ''}-{job_id[-5:]}"
        self._event("job_pending", "Fine-tune job created")

    def _event(self, kind: str, message: str, level: str = "info", **extra: Any) -> None:
        self.events.append({"object": "fine-tune-event", "created_at": iso(time.time()) + f"#{len(self.events)}",
                            "type": kind, "message": message, "level": level, **extra})

    def tick(self) -> None:
        if self.status in ("completed", "cancelled", "error", "user_error"):
            return
        self.ticks += 1
        if self.status == "cancel_requested":
            self.status = "cancelled"
            self._event("job_stopped", "Job cancelled by the user")
            return
        if self.status == "pending":
            self.status = "queued"
            return
        if self.status == "queued":
            self.status, self.started = "running", time.time()
            self._event("training_start", "Training started", total_steps=self.plan.steps)
            return
        if self.steps_done >= self.plan.steps:
            self.status = "completed"
            self.checkpoints.append(self._checkpoint(self.steps_done, "Final"))
            self._event("job_complete", f"Job finished: model {self.output} is ready")
            return
        if self.plan.outcome != "completed" and self.steps_done >= self.plan.fail_at_step:
            self.status = self.plan.outcome
            self._event("job_error", self.plan.error_message, level="error")
            return
        for _ in range(min(self.plan.steps_per_poll, self.plan.steps - self.steps_done)):
            self.steps_done += 1
            self._step(self.steps_done)

    def _step(self, step: int) -> None:
        per_epoch = max(1, self.plan.steps // self.epochs)
        self.metrics.append({"train/global_step": step, "train/loss": round(2.0 * 0.9 ** step, 4),
                             "train/learning_rate": float(self.request.get("learning_rate") or 1e-5),
                             "train/epoch": round(step / per_epoch, 3), "timestamp": time.time()})
        if self.request.get("validation_file") and step % 2 == 0:
            self.metrics.append({"train/global_step": step, "eval/loss": round(2.1 * 0.92 ** step, 4)})
        if step % per_epoch == 0 and step < self.plan.steps:
            self.checkpoints.append(self._checkpoint(step, "Intermediate"))
            self._event("checkpoint_save", f"Checkpoint saved at step {step}", step=step, total_steps=self.plan.steps)

    def _checkpoint(self, step: int, kind: str) -> dict[str, Any]:
        return {"checkpoint_type": f"{kind} (step {step})", "created_at": iso(time.time()), "step": step,
                "path": f"s3://fake/{self.id}/checkpoint-{step}", "checkpoint": "adapter"}

    def to_json(self) -> dict[str, Any]:
        done = self.status in ("completed", "cancelled", "error", "user_error")
        lora_r = self.request.get("training_type", {}).get("lora_r", 8) if self.request.get("training_type") else 8
        return {
            "id": self.id, "status": self.status, "user_id": "fake-user", "model": self.model,
            "created_at": iso(self.created), "updated_at": iso(time.time()),
            "started_at": iso(self.started) if self.started else None,
            "model_output_name": self.output, "adapter_output_name": self.output + "-adapter",
            "n_epochs": self.epochs, "learning_rate": self.request.get("learning_rate"),
            "batch_size": 8, "n_checkpoints": self.request.get("n_checkpoints"),
            "suffix": self.request.get("suffix"), "training_file": self.request.get("training_file"),
            "validation_file": self.request.get("validation_file") or None,
            "from_checkpoint": self.request.get("from_checkpoint"),
            "training_type": {"type": "Lora", "lora_r": lora_r, "lora_alpha": lora_r * 2},
            "token_count": self.token_count if self.status != "pending" else None,
            "total_price": int(self.token_count * self.epochs * PRICE_PER_M / 1e6 * 1e9) if done else None,
            "total_steps": self.plan.steps, "steps_completed": self.steps_done,
            "epochs_completed": self.steps_done * self.epochs // max(1, self.plan.steps),
            "progress": {"estimate_available": self.status == "running",
                         "seconds_remaining": max(0, self.plan.steps - self.steps_done)},
            "events": self.events,
        }


class FakeTogether(FakeHosted):
    name = "fake-together"

    def __init__(self, api_key: str | None = FAKE_KEY) -> None:
        super().__init__(api_key)
        self.plan = JobPlan()
        self.credit_usd = 100.0
        self.files: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, _Job] = {}
        self.put_headers: list[dict[str, str]] = []

    def auth_error(self, sent: str) -> Reply:
        # Together's 401 repeats the key it got: the dashboard must never write it down
        return Reply(401, _error(f"Invalid API key provided: {sent}", "invalid_api_key"))

    def needs_auth(self, method: str, path: str) -> bool:
        return not path.startswith("/upload/")  # the signed URL carries its own signature

    def servable(self, model: str) -> str | None:
        if model in TUNABLE or any(j.status == "completed" and j.output == model for j in self.jobs.values()):
            return None
        return f"Unable to access model {model}. Please visit https://api.together.ai/models to view the list."

    def route(self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]) -> Reply | None:
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["upload"] and method == "PUT":
            return self._put(parts[1], query, body, headers)
        if parts[:2] == ["v1", "files"]:
            return self._files(method, parts[2:], body, headers)
        if parts[:2] == ["v1", "fine-tunes"]:
            return self._fine_tunes(method, parts[2:], query, body)
        return None

    # -- files -----------------------------------------------------------------------------------
    def _files(self, method: str, rest: list[str], body: bytes, headers: dict[str, str]) -> Reply | None:
        if method == "POST" and not rest:
            form = {k: v[0].decode() for k, v in _parse_multipart(headers.get("content-type", ""), body).items()}
            file_id = f"file-fake{self.next_id():06d}"
            self.files[file_id] = {"id": file_id, "filename": form.get("file_name"), "purpose": form.get("purpose"),
                                   "file_type": form.get("file_type"), "checksum": form.get("checksum"),
                                   "content": None, "created_at": int(time.time())}
            return Reply(302, {"message": "redirect"}, {"Location": f"{self.url}/upload/{file_id}?sig=fakesig",
                                                        "X-Together-File-Id": file_id})
        if not rest or rest[0] not in self.files:
            return Reply(404, _error(f"File {rest[0] if rest else ''} not found", "not_found"))
        record = self.files[rest[0]]
        if method == "POST" and rest[1:] == ["preprocess"]:
            if record["content"] is None:
                return Reply(400, _error("The file was never uploaded"))
            for number, line in enumerate(record["content"].decode("utf-8", "replace").splitlines(), 1):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    row = None
                if not isinstance(row, dict) or not ({"messages"} <= set(row) or {"prompt", "completion"} <= set(row)
                                                     or "text" in row):
                    return Reply(400, _error(f"Invalid format on line {number}: expected 'messages', "
                                             "'prompt'/'completion' or 'text'", "invalid_file"))
            return Reply(200, self._file_json(record))
        if method == "GET" and len(rest) == 1:
            return Reply(200, self._file_json(record))
        return None

    def _put(self, file_id: str, query: dict[str, str], body: bytes, headers: dict[str, str]) -> Reply:
        self.put_headers.append(headers)
        if file_id not in self.files or query.get("sig") != "fakesig":
            return Reply(403, {"message": "bad signature"})
        self.files[file_id]["content"] = body
        return Reply(200, {})

    def _file_json(self, record: dict[str, Any]) -> dict[str, Any]:
        return {"id": record["id"], "bytes": len(record["content"] or b""), "created_at": record["created_at"],
                "filename": record["filename"], "FileType": record["file_type"], "object": "file",
                "purpose": record["purpose"], "processing_status": "COMPLETED"}

    # -- fine-tunes ------------------------------------------------------------------------------
    def _model_of(self, name: str) -> str | None:
        if name in TUNABLE:
            return name
        job = self.jobs.get(name.split(":")[0])
        return job.model if job else None

    def _fine_tunes(self, method: str, rest: list[str], query: dict[str, str], body: bytes) -> Reply | None:
        if rest == ["models", "limits"] and method == "GET":
            model = self._model_of(query.get("model_name", ""))
            if model is None:
                return Reply(404, _error(f"Model {query.get('model_name')} is not available for fine-tuning",
                                         "model_not_available"))
            return Reply(200, self._limits(model))
        if rest == ["estimate-price"] and method == "POST":
            return Reply(200, self._estimate(json.loads(body or b"{}")))
        if not rest and method == "POST":
            return self._create(json.loads(body or b"{}"))
        job = self.jobs.get(rest[0]) if rest else None
        if job is None:
            return Reply(404, _error(f"Fine-tune job {rest[0] if rest else ''} not found", "not_found"))
        action = rest[1] if len(rest) > 1 else None
        if method == "GET" and action is None:
            job.tick()
            return Reply(200, job.to_json())
        if method == "GET" and action == "events":
            return Reply(200, {"data": job.events})
        if method == "GET" and action == "checkpoints":
            return Reply(200, {"data": list(reversed(job.checkpoints))})
        if method == "GET" and action == "metrics":
            start = int(query.get("global_step_from") or 0)
            return Reply(200, {"metrics": [m for m in job.metrics if m["train/global_step"] >= start]})
        if method == "POST" and action == "cancel":
            if job.status in ("completed", "cancelled", "error", "user_error"):
                return Reply(400, _error(f"Job {job.id} has already finished ({job.status})"))
            job.status = "cancel_requested"
            job._event("cancel_requested", "Cancel requested by the user")
            return Reply(200, job.to_json())
        return None

    def _limits(self, model: str) -> dict[str, Any]:
        return {"model_name": model, "default_gradient_accumulation_steps": 1, "max_learning_rate": 1.0,
                "min_learning_rate": 1e-8, "max_num_checkpoints": 10, "max_num_epochs": 20, "max_num_evals": 10,
                "max_seq_length_sft": 8192, "max_seq_length_dpo": 8192, "min_max_seq_length": 1024,
                "merge_output_lora": False, "supports_full_training": False, "supports_reasoning": False,
                "supports_tools": False, "supports_vision": False,
                "lora_training": {"default_rank": 8, "max_rank": 64, "max_batch_size": 32, "max_batch_size_dpo": 16,
                                  "min_batch_size": 8, "target_modules": ["q_proj", "v_proj"]}}

    def _estimate(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.files.get(request.get("training_file", ""))
        if record is None or record["content"] is None:
            return {"estimation_available": False, "unavailable_reason": "train_file_not_validated"}
        tokens = max(1, len(record["content"]) // 4) * int(request.get("n_epochs") or 1)
        price = tokens * PRICE_PER_M / 1e6
        return {"estimation_available": True, "estimated_total_price": price, "allowed_to_proceed": price <= self.credit_usd,
                "user_limit": self.credit_usd, "estimated_train_token_count": tokens, "estimated_eval_token_count": 0}

    def _create(self, request: dict[str, Any]) -> Reply:
        source = request.get("from_checkpoint") or request.get("model") or ""
        model = self._model_of(source)
        if model is None:
            return Reply(404, _error(f"Model {source} is not available for fine-tuning", "model_not_available"))
        if request.get("training_file") not in self.files:
            return Reply(400, _error(f"File {request.get('training_file')} not found", "invalid_file"))
        if not self._estimate(request).get("allowed_to_proceed", True):
            return Reply(402, _error("Insufficient balance: add credits to continue", "insufficient_balance"))
        job_id = f"ft-fake{self.next_id():06d}-{int(time.time() * 1000) % 100000:05d}"
        self.jobs[job_id] = _Job(self, job_id, request, model, self.plan)
        return Reply(200, self.jobs[job_id].to_json())


@pytest.fixture(name="fake_together")
def fake_together_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTogether]:
    """A started fake with TOGETHER_BASE_URL and TOGETHER_API_KEY pointing at it for this test."""
    with FakeTogether() as fake:
        monkeypatch.setenv("TOGETHER_BASE_URL", fake.url)
        monkeypatch.setenv("TOGETHER_API_KEY", FAKE_KEY)
        yield fake
