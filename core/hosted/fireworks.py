"""Fireworks fine-tuning through its official client (PyPI ``fireworks-ai`` 1.2.30), in plain sentences.

    client = make_client()            # FIREWORKS_API_KEY, FIREWORKS_ACCOUNT_ID, FIREWORKS_BASE_URL
    check_model(client, "accounts/fireworks/models/llama-v3p1-8b-instruct")   # exists and is tunable
    dataset = upload_dataset(client, Path("train.jsonl"), "run-20260101-abcd")   # waits until READY
    job = create_job(client, JobSettings(model=..., dataset=dataset, output_model="my-ft", epochs=3))
    job = get_job(client, job_id_of(job)); status_of(job); progress(job); output_model(job)
    cancel(client, job_id); resume(client, job_id)       # :cancel / :resume (continues the same job)
    print(deploy_cost_sentence(model, per_hour=3.89)); deploy(client, model)   # only when asked

What the client sends (read from fireworks/resources): everything under
/v1/accounts/{account}/ — POST datasets (body ``{"datasetId", "dataset": {...}}``), POST
datasets/{id}:upload (multipart ``file``, up to 150 MB), GET datasets/{id} until ``state`` is READY;
POST supervisedFineTuningJobs (``dataset``, ``baseModel`` or ``warmStartFrom``, ``outputModel``,
``epochs``, ``learningRate``, ``loraRank``, ``evaluationDataset``...), GET
supervisedFineTuningJobs/{id} (``state`` JOB_STATE_*, ``jobProgress.percent`` and ``epoch``,
``status.message`` on failure, ``estimatedCost``), POST ...:cancel and ...:resume with an empty
body; POST deployedModels to load a LoRA for inference. With the default base URL the client
calls https://api.fireworks.ai and chat goes to https://api.fireworks.ai/inference/v1; with
FIREWORKS_BASE_URL set, every path (chat too: /v1/chat/completions) goes under that URL.
Fireworks has no per-step loss endpoint for supervised jobs: progress is a percent and an epoch.
A fine-tuned LoRA answers chat only once deployed, which costs money: ``deploy`` is only ever
called on an explicit request, after ``deploy_cost_sentence`` was shown.

Every function raises only core.hosted.common.HostedError subclasses.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.hosted.common import (
    FIREWORKS,
    FileRejectedError,
    MissingKeyError,
    ProviderError,
    UnknownModelError,
    guard,
    missing_key_sentence,
)

PROVIDER = FIREWORKS
KEY_ENV = FIREWORKS.key_env
ACCOUNT_ENV = "FIREWORKS_ACCOUNT_ID"
BASE_URL_ENV = FIREWORKS.base_url_env
MODEL_KIND = "fireworks-finetune"
DEFAULT_CHAT_URL = "https://api.fireworks.ai/inference/v1"
MAX_UPLOAD_BYTES = 150 * 1024 * 1024   # datasets/{id}:upload takes up to 150 MB in one request
STATES = {"JOB_STATE_CREATING": "validating_files", "JOB_STATE_CREATING_INPUT_DATASET": "validating_files",
          "JOB_STATE_VALIDATING": "validating_files", "JOB_STATE_PENDING": "queued", "JOB_STATE_RE_QUEUEING": "queued",
          "JOB_STATE_IDLE": "queued", "JOB_STATE_RUNNING": "running", "JOB_STATE_WRITING_RESULTS": "running",
          "JOB_STATE_CANCELLING": "running", "JOB_STATE_PAUSED": "paused", "JOB_STATE_COMPLETED": "succeeded",
          "JOB_STATE_EARLY_STOPPED": "succeeded", "JOB_STATE_FAILED": "failed", "JOB_STATE_EXPIRED": "failed",
          "JOB_STATE_DELETING": "failed", "JOB_STATE_DELETING_CLEANING_UP": "failed",
          "JOB_STATE_CANCELLED": "cancelled"}
FINAL_STATES = ("JOB_STATE_COMPLETED", "JOB_STATE_EARLY_STOPPED", "JOB_STATE_FAILED", "JOB_STATE_EXPIRED",
                "JOB_STATE_CANCELLED", "JOB_STATE_DELETING", "JOB_STATE_DELETING_CLEANING_UP")
_ID = re.compile(r"[^a-z0-9-]+")


def base_url_override(base_url: str | None = None) -> str | None:
    """The base URL when one is set (argument or FIREWORKS_BASE_URL), else None (the client's own)."""
    url = base_url or os.environ.get(BASE_URL_ENV)
    return url.rstrip("/") if url else None


def chat_base_url(base_url: str | None = None) -> str:
    """The OpenAI-compatible chat base URL, the way the client itself builds the chat path."""
    url = base_url_override(base_url)
    return f"{url}/v1" if url else DEFAULT_CHAT_URL


def make_client(api_key: str | None = None, account_id: str | None = None, base_url: str | None = None,
                timeout: float = 60.0, max_retries: int = 2) -> Any:
    """A ``fireworks.Fireworks`` client for one account. It retries 408/409/429/5xx and dropped
    connections ``max_retries`` times with back-off."""
    from fireworks import Fireworks

    key = api_key or os.environ.get(KEY_ENV)
    if not key:
        raise MissingKeyError(missing_key_sentence(FIREWORKS))
    account = account_id or os.environ.get(ACCOUNT_ENV)
    if not account:
        raise MissingKeyError(f"No Fireworks account id: set the {ACCOUNT_ENV} environment variable or type it "
                              "in the account field (it is the name in your dashboard's URL, not the key).")
    return Fireworks(api_key=key, account_id=account, base_url=base_url_override(base_url), timeout=timeout,
                     max_retries=max_retries)


def resource_id(text: str, limit: int = 63) -> str:
    """A Fireworks resource id (lowercase letters, digits, hyphens) made from any text."""
    clean = _ID.sub("-", text.lower()).strip("-")[:limit].strip("-")
    return clean or "ftdash"


def split_model(name: str, default_account: str = "fireworks") -> tuple[str, str]:
    """``accounts/A/models/M`` -> (A, M); a bare ``M`` is one of Fireworks' own models."""
    parts = name.strip().split("/")
    if len(parts) == 4 and parts[0] == "accounts" and parts[2] == "models":
        return parts[1], parts[3]
    return default_account, parts[-1]


def full_model_name(name: str, account: str = "fireworks") -> str:
    acct, model = split_model(name, account)
    return f"accounts/{acct}/models/{model}"


def check_model(client: Any, model: str) -> Any:
    """The model's record; UnknownModelError when it is missing or not tunable. The first call of a
    run: a rejected key is told here, before any upload."""
    account, model_id = split_model(model)
    with guard(FIREWORKS, "model", model):
        record = client.models.get(model_id, account_id=account)
    if record.tunable is False:
        raise UnknownModelError(f"Fireworks cannot fine-tune {model!r}: it is not marked tunable; pick a model "
                                "from Fireworks' list of fine-tunable models.")
    return record


def upload_dataset(client: Any, path: Path, dataset_id: str, n_examples: int | None = None,
                   wait_s: float = 300.0, poll_s: float = 2.0) -> str:
    """Create a dataset, upload the JSONL file into it and wait until Fireworks has it READY;
    returns its resource name (``accounts/A/datasets/ID``)."""
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise FileRejectedError(f"{path.name} is {size / 2**20:.0f} MB; Fireworks takes at most 150 MB in one "
                                "upload: train on fewer examples.")
    dataset: dict[str, Any] = {"display_name": path.name, "user_uploaded": {}, "format": "CHAT"}
    if n_examples is not None:
        dataset["example_count"] = str(n_examples)
    with guard(FIREWORKS, "upload", path.name):
        client.datasets.create(dataset_id=dataset_id, dataset=dataset)
        client.datasets.upload(dataset_id, file=path)
    end = time.monotonic() + wait_s
    while True:
        with guard(FIREWORKS, "upload", path.name):
            record = client.datasets.get(dataset_id)
        problem = record.status.message if record.status and record.status.code not in (None, "OK") else None
        if problem:
            raise FileRejectedError(f"Fireworks rejected the training file {path.name}: {problem.rstrip('.')}.")
        if record.state == "READY":
            return str(record.name or f"accounts/{client.account_id}/datasets/{dataset_id}")
        if time.monotonic() > end:
            raise ProviderError(f"Fireworks did not finish reading {path.name} within {wait_s:.0f} s; try again later.",
                                transient=True)
        time.sleep(poll_s)


@dataclass
class JobSettings:
    """One supervised LoRA job, in Fireworks' terms."""

    dataset: str                         # accounts/A/datasets/ID
    model: str | None = None             # base model; or warm_start_from (a LoRA to keep training)
    warm_start_from: str | None = None
    output_model: str | None = None      # the fine-tuned model's id (default: the job id)
    epochs: int | None = None
    learning_rate: float | None = None
    lora_rank: int | None = None
    evaluation_dataset: str | None = None
    display_name: str | None = None
    max_context_length: int | None = None
    job_id: str | None = None            # our own id for the job (idempotent re-creation)


def create_job(client: Any, settings: JobSettings) -> Any:
    from fireworks import omit

    def given(value: Any) -> Any:
        return omit if value in (None, "") else value

    with guard(FIREWORKS, "create", settings.model or settings.warm_start_from):
        return client.supervised_fine_tuning_jobs.create(
            dataset=settings.dataset, base_model=given(settings.model), warm_start_from=given(settings.warm_start_from),
            output_model=given(settings.output_model), epochs=given(settings.epochs),
            learning_rate=given(settings.learning_rate), lora_rank=given(settings.lora_rank),
            evaluation_dataset=given(settings.evaluation_dataset), display_name=given(settings.display_name),
            max_context_length=given(settings.max_context_length),
            supervised_fine_tuning_job_id=given(settings.job_id))


def job_id_of(job: Any) -> str:
    """``accounts/A/supervisedFineTuningJobs/ID`` -> ID."""
    return str(job.name).rsplit("/", 1)[-1]


def get_job(client: Any, job_id: str) -> Any:
    with guard(FIREWORKS, "poll", job_id):
        return client.supervised_fine_tuning_jobs.get(job_id)


def cancel(client: Any, job_id: str) -> None:
    with guard(FIREWORKS, "cancel", job_id):
        client.supervised_fine_tuning_jobs.cancel(job_id, body={})


def resume(client: Any, job_id: str) -> Any:
    """Continue a failed, cancelled or paused job from its last checkpoint (the same job id)."""
    with guard(FIREWORKS, "resume", job_id):
        return client.supervised_fine_tuning_jobs.resume(job_id, body={})


def status_of(job: Any) -> str:
    return STATES.get(str(job.state), "running")


def progress(job: Any) -> tuple[float | None, float | None]:
    """(percent done, epoch) as Fireworks reports them; None where it says nothing yet."""
    done = job.job_progress
    if done is None:
        return None, None
    return (float(done.percent) if done.percent is not None else None,
            float(done.epoch) if done.epoch is not None else None)


def estimated_cost_usd(job: Any) -> float | None:
    """The job's ``estimatedCost`` (units + nanos) in dollars, when Fireworks gives one in USD."""
    cost = job.estimated_cost
    if cost is None or (cost.currency_code or "USD") != "USD" or (cost.units is None and cost.nanos is None):
        return None
    return int(cost.units or 0) + int(cost.nanos or 0) / 1e9


def output_model(job: Any, account: str) -> str | None:
    """The fine-tuned model's full name (``accounts/A/models/ID``)."""
    name = job.output_model or (job_id_of(job) if job.name else None)
    return full_model_name(name, account) if name else None


def failure_reason(job: Any) -> str:
    status = job.status
    message = (status.message or "").strip().rstrip(".") if status else ""
    code = f" ({status.code})" if status and status.code and status.code != "OK" else ""
    return f"{message or 'Fireworks gave no reason'}{code}"


def deploy_cost_sentence(model: str, per_hour: float | None = None, input_per_m: float | None = None,
                         output_per_m: float | None = None, as_of: str | None = None) -> str:
    """What deploying ``model`` will cost, to show (and have confirmed) before ``deploy``."""
    prices = []
    if input_per_m is not None or output_per_m is not None:
        prices.append(f"per token at its base model's serverless price (${input_per_m or 0:.2f} in / "
                      f"${output_per_m or 0:.2f} out per 1M tokens) where Fireworks serves it serverless")
    if per_hour is not None:
        prices.append(f"${per_hour:.2f} per GPU-hour on a dedicated deployment, billed while it is up even when "
                      "nobody asks it anything")
    how = " or ".join(prices) if prices else "by the GPU-hour on a dedicated deployment, even while idle"
    dated = f" (prices as of {as_of}; check Fireworks' pricing page)" if as_of else ""
    return (f"To answer in the playground, {model} must first be deployed on Fireworks: it is billed {how}{dated}; "
            "undeploy it on Fireworks' dashboard when you are done.")


def deploy(client: Any, model: str, deployment: str | None = None) -> Any:
    """Load the fine-tuned LoRA for inference (POST deployedModels): on ``deployment`` (a dedicated
    deployment's resource name) or where Fireworks puts it. Costs money: call only when asked."""
    from fireworks import omit

    with guard(FIREWORKS, "deploy", model):
        return client.lora.load(model=model, deployment=deployment or omit, display_name=model.rsplit("/", 1)[-1])
