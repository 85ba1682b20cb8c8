"""Together fine-tuning through its official client (PyPI ``together`` 3.1.1), in plain sentences.

    client = make_client()                     # TOGETHER_API_KEY / TOGETHER_BASE_URL, or explicit
    limits = model_limits(client, MODEL)       # checks the key and that MODEL can be fine-tuned
    file_id = upload(client, Path("train.jsonl"))
    quote = estimate(client, JobSettings(model=MODEL, training_file=file_id, n_epochs=3))
    job = create_job(client, settings, limits)   # LoRA SFT; settings.from_checkpoint continues a job
    job = retrieve(client, job.id); status_of(job); output_model(job); failure_reason(client, job)
    rows = metrics(client, job.id)             # [{"step": 1, "train_loss": 2.1, "lr": 1e-5, ...}]
    cancel(client, job.id)

What the client sends (read from together/resources and together/lib): ``files.upload`` POSTs
/v1/files (multipart: purpose, file_name, file_type, checksum) without following redirects, reads
the 302's Location (a signed URL) and X-Together-File-Id, PUTs the bytes there, then POSTs
/v1/files/{id}/preprocess. ``fine_tuning.create`` GETs /v1/fine-tunes/models/limits?model_name=
(unless given the limits), POSTs /v1/fine-tunes/estimate-price, then POSTs /v1/fine-tunes. A job is
followed with GET /v1/fine-tunes/{id}, /events, /checkpoints and /metrics (rows keyed
``train/global_step``, ``train/loss``, ``eval/loss``...), stopped with POST /v1/fine-tunes/{id}/cancel;
continuing is a new job with ``from_checkpoint="JOB_ID[:STEP]"`` (no model: it comes from the job).
Its chat API is OpenAI-compatible at ``<base>/v1`` (``chat_base_url``), where a finished LoRA
fine-tune answers under its output model name (serverless LoRA inference).

Every function raises only core.hosted.common.HostedError subclasses.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.hosted.common import (
    TOGETHER,
    HostedError,
    MissingKeyError,
    NoCreditError,
    guard,
    missing_key_sentence,
)

PROVIDER = TOGETHER
KEY_ENV = TOGETHER.key_env
BASE_URL_ENV = TOGETHER.base_url_env
MODEL_KIND = "together-finetune"
# Together's job states -> the run statuses of core/training/backends/base.py.
STATES = {"pending": "queued", "queued": "queued", "running": "running", "compressing": "running",
          "uploading": "running", "cancel_requested": "running", "cancelled": "cancelled", "error": "failed",
          "user_error": "failed", "completed": "succeeded"}
FINAL_STATES = ("completed", "cancelled", "error", "user_error")
SUFFIX_MAX = 40  # the client's docstring: up to 40 characters added to the output model's name


def resolve_base_url(base_url: str | None = None) -> str:
    """The host root in use (the client's paths carry /v1): the argument, else TOGETHER_BASE_URL,
    else api.together.ai; a trailing /v1 someone typed is dropped."""
    url = (base_url or os.environ.get(BASE_URL_ENV) or TOGETHER.default_base_url).rstrip("/")
    return url[:-3] if url.endswith("/v1") else url


def chat_base_url(base_url: str | None = None) -> str:
    """The OpenAI-compatible base URL of Together's chat API (for core/openai_client.make_client)."""
    return resolve_base_url(base_url) + "/v1"


def make_client(api_key: str | None = None, base_url: str | None = None, timeout: float = 60.0,
                max_retries: int = 2) -> Any:
    """A ``together.Together`` client; the key from the argument or TOGETHER_API_KEY (never logged).
    It retries 408/409/429/5xx and dropped connections ``max_retries`` times with back-off."""
    from together import Together

    key = api_key or os.environ.get(KEY_ENV)
    if not key:
        raise MissingKeyError(missing_key_sentence(TOGETHER))
    return Together(api_key=key, base_url=resolve_base_url(base_url), timeout=timeout, max_retries=max_retries)


@dataclass
class JobSettings:
    """One LoRA SFT job, in Together's terms (built by the backend from the run's config)."""

    model: str
    training_file: str
    n_epochs: int = 3
    learning_rate: float = 1e-5
    lora_rank: int | None = None          # None: the model's default rank (from the limits)
    lora_alpha: float | None = None       # None: twice the rank
    batch_size: int | str = "max"
    suffix: str | None = None
    validation_file: str | None = None
    n_evals: int = 0
    n_checkpoints: int = 1
    seed: int | None = None
    from_checkpoint: str | None = None    # "JOB_ID" or "JOB_ID:STEP": continue that job's training


@dataclass
class Estimate:
    """Together's quote for a job (POST /v1/fine-tunes/estimate-price)."""

    available: bool
    total_usd: float | None = None
    train_tokens: float | None = None
    eval_tokens: float | None = None
    allowed_to_proceed: bool | None = None
    user_limit_usd: float | None = None
    unavailable_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def model_limits(client: Any, model: str) -> Any:
    """The model's fine-tuning limits (max rank, epochs, learning-rate range); the first call of a
    run, so a rejected key or a model Together cannot fine-tune is told before anything is uploaded."""
    with guard(TOGETHER, "model", model):
        return client.fine_tuning.model_limits(model_name=model)


def upload(client: Any, path: Path) -> str:
    """Upload a JSONL training file (the client checks it first); returns its file id."""
    with guard(TOGETHER, "upload", path.name):
        return str(client.files.upload(path, purpose="fine-tune", check=True).id)


def _training_type(settings: JobSettings) -> dict[str, Any]:
    lora: dict[str, Any] = {"type": "Lora"}
    if settings.lora_rank:
        lora["lora_r"] = int(settings.lora_rank)
        lora["lora_alpha"] = int(settings.lora_alpha or 2 * settings.lora_rank)
    return lora


def estimate(client: Any, settings: JobSettings) -> Estimate:
    """Together's price quote; NoCreditError when it says the account may not proceed."""
    from together import omit

    with guard(TOGETHER, "create", settings.model):
        quote = client.fine_tuning.estimate_price(
            training_file=settings.training_file, model=settings.model if not settings.from_checkpoint else omit,
            from_checkpoint=settings.from_checkpoint or omit, n_epochs=settings.n_epochs, n_evals=settings.n_evals,
            validation_file=settings.validation_file or omit, training_method={"method": "sft"},
            training_type=_training_type(settings))
    if getattr(quote, "estimation_available", False) is not True:
        return Estimate(False, unavailable_reason=getattr(quote, "unavailable_reason", None))
    result = Estimate(True, quote.estimated_total_price, quote.estimated_train_token_count,
                      quote.estimated_eval_token_count, quote.allowed_to_proceed, quote.user_limit)
    if result.allowed_to_proceed is False:
        limit = f" (your limit is ${result.user_limit_usd:,.2f})" if result.user_limit_usd is not None else ""
        raise NoCreditError(f"Together estimates this job at ${result.total_usd or 0:,.2f} and says the account "
                            f"cannot pay for it{limit}: add credit at {TOGETHER.billing_url}, or train on less "
                            "data or fewer epochs.")
    return result


def create_job(client: Any, settings: JobSettings, limits: Any | None = None) -> Any:
    """Create the LoRA SFT job (or, with ``from_checkpoint``, a job that continues another one)."""
    continuing = bool(settings.from_checkpoint)
    with guard(TOGETHER, "create", settings.from_checkpoint or settings.model):
        return client.fine_tuning.create(
            training_file=settings.training_file, model=None if continuing else settings.model,
            from_checkpoint=settings.from_checkpoint, n_epochs=settings.n_epochs,
            learning_rate=settings.learning_rate, batch_size=settings.batch_size,
            validation_file=settings.validation_file or "", n_evals=settings.n_evals,
            n_checkpoints=settings.n_checkpoints, suffix=settings.suffix or None, random_seed=settings.seed,
            # a continued job inherits LoRA and its rank from the job it continues
            lora=None if continuing else True, lora_r=None if continuing else settings.lora_rank,
            lora_alpha=None if continuing else settings.lora_alpha, train_on_inputs="auto",
            training_method="sft", model_limits=limits)


def retrieve(client: Any, job_id: str) -> Any:
    with guard(TOGETHER, "poll", job_id):
        return client.fine_tuning.retrieve(job_id)


def events(client: Any, job_id: str) -> list[Any]:
    with guard(TOGETHER, "poll", job_id):
        return list(client.fine_tuning.list_events(job_id).data or [])


def checkpoints(client: Any, job_id: str) -> list[Any]:
    with guard(TOGETHER, "poll", job_id):
        return list(client.fine_tuning.list_checkpoints(job_id).data or [])


def _metric_name(key: str) -> str | None:
    """``train/loss`` -> train_loss, ``eval/loss`` -> eval_loss, ``train/learning_rate`` -> lr,
    ``train/epoch`` -> epoch; the step and time columns are not metrics."""
    prefix, _, base = key.rpartition("/")
    if base in ("global_step", "step", "timestamp") or base.endswith("_step"):
        return None
    if base == "learning_rate":
        return "lr"
    if base == "epoch":
        return "epoch"
    return f"{prefix or 'train'}_{base}".replace("/", "_").replace("-", "_").lower()


def metrics(client: Any, job_id: str, from_step: int | None = None) -> list[dict[str, float]]:
    """Per-step metrics, oldest first: {"step", "train_loss", "eval_loss", "lr", "epoch", ...}."""
    from together import omit

    with guard(TOGETHER, "poll", job_id):
        rows = client.fine_tuning.list_metrics(job_id, global_step_from=from_step if from_step else omit).metrics
    out: list[dict[str, float]] = []
    for raw in rows or []:
        step = raw.get("train/global_step", raw.get("global_step", raw.get("step")))
        if step is None:
            continue
        row: dict[str, float] = {"step": int(step)}
        for key, value in raw.items():
            name = _metric_name(str(key))
            if name and isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
                row[name] = float(value)
        out.append(row)
    return sorted(out, key=lambda r: r["step"])


def cancel(client: Any, job_id: str) -> None:
    with guard(TOGETHER, "cancel", job_id):
        client.fine_tuning.cancel(job_id)


def extra(job: Any, name: str) -> Any:
    """A field of the job that this client version may not declare (total_steps, steps_completed)."""
    value = getattr(job, name, None)
    if value is None and getattr(job, "model_extra", None):
        value = job.model_extra.get(name)
    return value


def status_of(job: Any) -> str:
    return STATES.get(str(job.status), "running")


def output_model(job: Any) -> str | None:
    """The name the fine-tuned model answers to in Together's chat API."""
    return getattr(job, "x_model_output_name", None) or extra(job, "model_output_name") or None


def failure_reason(client: Any, job: Any) -> str:
    """Together's own words for a failed job: its last error event, else a fallback."""
    found = [e for e in (getattr(job, "events", None) or []) if not isinstance(e, str)]
    if not found:
        try:
            found = events(client, job.id)
        except HostedError:  # the reason is a courtesy: never let fetching it hide the failure itself
            found = []
    for event in reversed(found):
        if getattr(event, "type", None) == "job_error" or getattr(event, "level", None) in ("error", "legacy_ierror"):
            return str(event.message).strip().rstrip(".")
    kind = "your data or settings (user_error)" if str(job.status) == "user_error" else "Together's side"
    return f"Together gave no reason; the error is on {kind}"
