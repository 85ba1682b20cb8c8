"""A fake Fireworks API on 127.0.0.1, built from the requests the official client (``fireworks-ai``
1.2.30) makes; the real client talks to it through ``FIREWORKS_BASE_URL`` (then every path, chat
included, goes under that URL).

Endpoints, under /v1/accounts/<account>/: GET models/<id> (Fireworks' base models live in account
``fireworks``); POST datasets, POST datasets/<id>:upload (multipart ``file``), GET datasets/<id>
(UPLOADING on the first look after the upload, then READY); POST supervisedFineTuningJobs
(?supervisedFineTuningJobId=), GET supervisedFineTuningJobs/<id>, POST .../<id>:cancel and
.../<id>:resume; POST deployedModels. Plus POST /v1/chat/completions, which answers for base
models (serverless) and for fine-tuned models only once deployed.

A job's clock is the client's polling: each GET moves it one tick (CREATING -> VALIDATING ->
RUNNING, ``percent_per_poll`` a tick -> COMPLETED or FAILED).
    fake.plan = JobPlan(outcome="failed", error_message="...")
    fake.credit_usd = 0.0                 # job creation refused: insufficient credit
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fake_hosted import FakeHosted, Reply, _parse_multipart, iso

FAKE_KEY = "fw_fakeFireworksKey0123456789abcdef"
ACCOUNT = "fake-acct"
BASE_MODELS = {"llama-v3p1-8b-instruct": True, "qwen2p5-7b-instruct": True, "flux-1-dev": False}
PRICE_PER_M = 0.50


@dataclass
class JobPlan:
    outcome: str = "completed"            # completed | failed
    percent_per_poll: int = 25
    fail_at_percent: int = 50
    epochs: int = 2
    error_message: str = "Dataset row 7 exceeds the maximum context length of 8192 tokens"


def _error(message: str, code: int = 3) -> dict[str, Any]:
    """The gRPC gateway's shape (code 3 INVALID_ARGUMENT, 5 NOT_FOUND, 7 PERMISSION_DENIED, 16 UNAUTHENTICATED)."""
    return {"code": code, "message": message, "details": []}


class _Job:
    def __init__(self, fake: FakeFireworks, job_id: str, request: dict[str, Any], plan: JobPlan) -> None:
        self.fake, self.id, self.request, self.plan = fake, job_id, request, plan
        self.created, self.completed = time.time(), None
        self.state, self.percent, self.paused_at = "JOB_STATE_CREATING", 0, None
        dataset = fake.datasets[request["dataset"].rsplit("/", 1)[-1]]
        self.epochs = int(request.get("epochs") or plan.epochs)
        self.tokens = max(1, len(dataset["content"]) // 4) * self.epochs
        output = request.get("outputModel") or job_id
        self.output = output if output.startswith("accounts/") else f"accounts/{ACCOUNT}/models/{output}"
        self.resumes = 0

    def tick(self) -> None:
        if self.state in ("JOB_STATE_COMPLETED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_PAUSED"):
            return
        if self.state == "JOB_STATE_CANCELLING":
            self.state = "JOB_STATE_CANCELLED"
        elif self.state == "JOB_STATE_CREATING":
            self.state = "JOB_STATE_VALIDATING"
        elif self.state == "JOB_STATE_VALIDATING":
            self.state = "JOB_STATE_RUNNING"
        elif self.percent >= 100:
            self.state, self.completed = "JOB_STATE_COMPLETED", time.time()
            self.fake.models[self.output] = {"state": "READY", "kind": "HF_PEFT_ADDON", "tunable": True}
        elif self.plan.outcome == "failed" and self.percent >= self.plan.fail_at_percent and not self.resumes:
            self.state = "JOB_STATE_FAILED"
        else:
            self.percent = min(100, self.percent + self.plan.percent_per_poll)

    def to_json(self) -> dict[str, Any]:
        cost = self.tokens * PRICE_PER_M / 1e6
        body: dict[str, Any] = {
            "name": f"accounts/{ACCOUNT}/supervisedFineTuningJobs/{self.id}", "state": self.state,
            "dataset": self.request["dataset"], "baseModel": self.request.get("baseModel"),
            "warmStartFrom": self.request.get("warmStartFrom"), "outputModel": self.output,
            "epochs": self.epochs, "learningRate": self.request.get("learningRate", 1e-4),
            "loraRank": self.request.get("loraRank", 8), "displayName": self.request.get("displayName"),
            "createTime": iso(self.created), "updateTime": iso(time.time()),
            "completedTime": iso(self.completed) if self.completed else None,
            "estimatedCost": {"currencyCode": "USD", "units": str(int(cost)), "nanos": int((cost % 1) * 1e9)},
            "jobProgress": {"percent": self.percent, "epoch": min(self.epochs - 1, self.percent * self.epochs // 100),
                            "inputTokens": self.tokens * self.percent // 100},
        }
        if self.state == "JOB_STATE_FAILED":
            body["status"] = {"code": "INVALID_ARGUMENT", "message": self.plan.error_message}
        else:
            body["status"] = {"code": "OK", "message": ""}
        return body


class FakeFireworks(FakeHosted):
    name = "fake-fireworks"

    def __init__(self, api_key: str | None = FAKE_KEY) -> None:
        super().__init__(api_key)
        self.plan = JobPlan()
        self.credit_usd = 100.0
        self.datasets: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, _Job] = {}
        self.models: dict[str, dict[str, Any]] = {}
        self.deployed: dict[str, dict[str, Any]] = {}

    def auth_error(self, sent: str) -> Reply:
        return Reply(401, _error(f"unauthenticated: invalid API key '{sent}'", 16))

    def servable(self, model: str) -> str | None:
        account, _, name = model.partition("/models/")
        if account == "accounts/fireworks" and BASE_MODELS.get(name) is not None:
            return None
        if model in self.deployed:
            return None
        return f"Model not found, inaccessible, and/or not deployed: {model}"

    def route(self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]) -> Reply | None:
        parts = [p for p in path.split("/") if p]
        if parts[:2] != ["v1", "accounts"] or len(parts) < 4:
            return None
        account, rest = parts[2], parts[3:]
        if rest[0] == "models" and method == "GET" and len(rest) == 2:
            return self._model(account, rest[1])
        if account != ACCOUNT:
            return Reply(403, _error(f"permission denied: the key has no access to account {account}", 7))
        if rest[0] == "datasets":
            return self._datasets(method, rest[1:], body, headers)
        if rest[0] == "supervisedFineTuningJobs":
            return self._jobs(method, rest[1:], query, body)
        if rest == ["deployedModels"] and method == "POST":
            return self._deploy(json.loads(body or b"{}"))
        return None

    def _model(self, account: str, model_id: str) -> Reply:
        name = f"accounts/{account}/models/{model_id}"
        if account == "fireworks" and model_id in BASE_MODELS:
            return Reply(200, {"name": name, "kind": "HF_BASE_MODEL", "state": "READY",
                               "tunable": BASE_MODELS[model_id], "supportsLora": True})
        if name in self.models:
            return Reply(200, {"name": name, **self.models[name]})
        return Reply(404, _error(f"model {name} not found", 5))

    # -- datasets --------------------------------------------------------------------------------
    def _datasets(self, method: str, rest: list[str], body: bytes, headers: dict[str, str]) -> Reply | None:
        if method == "POST" and not rest:
            request = json.loads(body or b"{}")
            dataset_id = request.get("datasetId")
            if not dataset_id:
                return Reply(400, _error("datasetId is required"))
            if dataset_id in self.datasets:
                return Reply(400, _error(f"dataset {dataset_id} already exists", 6))
            self.datasets[dataset_id] = {"request": request, "content": None, "state": "UPLOADING", "looks": 0}
            return Reply(200, self._dataset_json(dataset_id))
        dataset_id, _, action = (rest[0] if rest else "").partition(":")
        if dataset_id not in self.datasets:
            return Reply(404, _error(f"dataset {dataset_id} not found", 5))
        record = self.datasets[dataset_id]
        if method == "POST" and action == "upload":
            fields = _parse_multipart(headers.get("content-type", ""), body)
            content = fields.get("file", (b"", None))[0]
            for number, line in enumerate(content.decode("utf-8", "replace").splitlines(), 1):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    row = None
                if not isinstance(row, dict) or not isinstance(row.get("messages"), list):
                    return Reply(400, _error(f"invalid dataset: line {number} has no 'messages' list"))
            record["content"] = content
            return Reply(200, {"id": dataset_id, "bytes": len(content), "filename": fields["file"][1]})
        if method == "GET" and not action:
            if record["content"] is not None:
                record["looks"] += 1
                if record["looks"] >= 2:   # reading the file takes a moment: one look sees UPLOADING
                    record["state"] = "READY"
            return Reply(200, self._dataset_json(dataset_id))
        return None

    def _dataset_json(self, dataset_id: str) -> dict[str, Any]:
        record = self.datasets[dataset_id]
        lines = len((record["content"] or b"").splitlines())
        return {"name": f"accounts/{ACCOUNT}/datasets/{dataset_id}", "state": record["state"],
                "exampleCount": str(lines), "format": "CHAT", "status": {"code": "OK", "message": ""},
                "displayName": record["request"].get("dataset", {}).get("displayName")}

    # -- jobs ------------------------------------------------------------------------------------
    def _jobs(self, method: str, rest: list[str], query: dict[str, str], body: bytes) -> Reply | None:
        if method == "POST" and not rest:
            return self._create(json.loads(body or b"{}"), query.get("supervisedFineTuningJobId"))
        job_id, _, action = (rest[0] if rest else "").partition(":")
        job = self.jobs.get(job_id)
        if job is None:
            return Reply(404, _error(f"supervised fine-tuning job {job_id} not found", 5))
        if method == "GET" and not action:
            job.tick()
            return Reply(200, job.to_json())
        if method == "POST" and action == "cancel":
            if job.state in ("JOB_STATE_COMPLETED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
                return Reply(400, _error(f"job {job_id} is already in a final state ({job.state})", 9))
            job.state = "JOB_STATE_CANCELLING"
            return Reply(200, {})
        if method == "POST" and action == "resume":
            if job.state not in ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_PAUSED"):
                return Reply(400, _error(f"job {job_id} cannot be resumed from {job.state}", 9))
            job.state, job.resumes = "JOB_STATE_RUNNING", job.resumes + 1
            return Reply(200, job.to_json())
        return None

    def _create(self, request: dict[str, Any], job_id: str | None) -> Reply:
        dataset_id = str(request.get("dataset", "")).rsplit("/", 1)[-1]
        if self.datasets.get(dataset_id, {}).get("state") != "READY":
            return Reply(400, _error(f"dataset {request.get('dataset')} is not READY"))
        base, warm = request.get("baseModel"), request.get("warmStartFrom")
        if bool(base) == bool(warm):
            return Reply(400, _error("exactly one of base_model and warm_start_from must be given"))
        if warm and warm not in self.models:
            return Reply(404, _error(f"model {warm} not found", 5))
        if base:
            _, _, name = base.partition("/models/")
            if not BASE_MODELS.get(name):
                return Reply(400, _error(f"model {base} is not tunable"))
        job_id = job_id or f"fakejob{self.next_id():05d}"
        job = _Job(self, job_id, request, self.plan)
        if job.tokens * PRICE_PER_M / 1e6 > self.credit_usd:
            return Reply(400, _error("insufficient credit balance to start this fine-tuning job; add credits", 9))
        self.jobs[job_id] = job
        return Reply(200, job.to_json())

    def _deploy(self, request: dict[str, Any]) -> Reply:
        model = str(request.get("model"))
        if model not in self.models:
            return Reply(404, _error(f"model {model} not found", 5))
        name = f"accounts/{ACCOUNT}/deployedModels/{model.rsplit('/', 1)[-1]}-{self.next_id()}"
        self.deployed[model] = {"name": name, "model": model, "state": "DEPLOYED",
                                "deployment": request.get("deployment"), "displayName": request.get("displayName")}
        return Reply(200, self.deployed[model])


@pytest.fixture(name="fake_fireworks")
def fake_fireworks_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFireworks]:
    """A started fake with FIREWORKS_BASE_URL, FIREWORKS_API_KEY and FIREWORKS_ACCOUNT_ID set for this test."""
    with FakeFireworks() as fake:
        monkeypatch.setenv("FIREWORKS_BASE_URL", fake.url)
        monkeypatch.setenv("FIREWORKS_API_KEY", FAKE_KEY)
        monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", ACCOUNT)
        yield fake
