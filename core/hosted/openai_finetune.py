"""OpenAI fine-tuning: the run config, and the helpers the app side uses around a run.

    cfg = OpenAITrainConfig(model="gpt-4o-mini-2024-07-18", training_file="dados/train.jsonl", n_epochs=3)
    fill_prices(cfg, store)                 # prices go into config.json: the subprocess has no database
    env = launch_env(api_key)               # the key reaches the subprocess only through its environment
    request_pause(run_dir); request_resume(run_dir)      # picked up by the backend's poll loop
    pause_openai_run(run); resume_openai_run(run)        # the same, checked against the run's row
    add_cli_arguments(parser); settings_from_args(args)  # the OpenAI options of `python -m core train`
    register_model_from_event(store, event)              # ingestion: ft: and checkpoint models -> registry
    rows = parse_result_csv(raw)            # OpenAI's per-step result file, parsed defensively

The job itself is driven by core/training/backends/openai_backend.py inside the training subprocess.
"""
from __future__ import annotations

import base64
import binascii
import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import ConfigBase, field_help, option
from core.errors import UserFacingError
from core.hosted.common import RUN_TOP_LEVEL, merge_run_config

STATE_FILE = "openai_state.json"
PAUSE_FILE = "pause"
RESUME_FILE = "resume"
KEY_ENV = "OPENAI_API_KEY"
MODEL_KIND = "openai-finetune"
# OpenAI's result-file columns -> our metric names (valid_* is what local runs call eval_*).
METRIC_NAMES = {
    "train_loss": "train_loss",
    "train_accuracy": "train_mean_token_accuracy",
    "train_mean_token_accuracy": "train_mean_token_accuracy",
    "valid_loss": "eval_loss",
    "validation_loss": "eval_loss",
    "valid_accuracy": "eval_mean_token_accuracy",
    "valid_mean_token_accuracy": "eval_mean_token_accuracy",
    "full_valid_loss": "full_eval_loss",
    "full_valid_mean_token_accuracy": "full_eval_mean_token_accuracy",
}
NOT_METRICS = {"step", "total_steps", "epoch", "elapsed_tokens", "timestamp"}
OPENAI_FORMATS = ("openai-chat",)
# Top-level keys of a run's config.json an OpenAI run understands beside those of any hosted run.
_TOP_LEVEL = (*RUN_TOP_LEVEL, ("base_url", "base_url"))


def _auto_or(value: Any, cast: type, low: float, high: float) -> bool:
    if value == "auto":
        return True
    try:
        number = cast(value)
    except (TypeError, ValueError):
        return False
    return low <= number <= high and (cast is not int or float(value) == number)


@dataclass
class OpenAITrainConfig(ConfigBase):
    """What an OpenAI fine-tune needs; built by the page or the CLI, stored (no key) in config.json."""

    model: str = option("gpt-4o-mini-2024-07-18", "The OpenAI base model to fine-tune (from the price table).")
    training_file: str = option("", "The training file in OpenAI chat JSONL format (exported on page 2), or a "
                                    "curated dataset folder, whose train split is written in that format with "
                                    "the prompt template.")
    validation_file: str | None = option(None, "An optional validation file in the same format: OpenAI reports "
                                               "valid_loss on it while training.")
    suffix: str | None = option(None, "Up to 64 characters added to the fine-tuned model's name "
                                      "(ft:<model>:<org>:<suffix>:<id>).")
    seed: int | None = option(None, "The job's seed; the same seed and data give the same result (mostly).")
    n_epochs: int | str = option("auto", "Epochs: 'auto' lets OpenAI choose (3, adjusted for tiny or huge files), "
                                         "or a number from 1 to 50.")
    batch_size: int | str = option("auto", "Examples per batch: 'auto' or a number from 1 to 256.")
    learning_rate_multiplier: float | str = option("auto", "Scale of the learning rate: 'auto' or a number above 0 "
                                                           "(the seed study used 1.8).")
    format: str = option("openai-chat", "Training format of the files: OpenAI chat JSONL (checked before upload).")
    base_url: str | None = option(None, "Another OpenAI-compatible API base URL; empty uses OPENAI_BASE_URL or "
                                        "api.openai.com.")
    poll_interval_s: float = option(10.0, "Seconds between two looks at the job's status, events and checkpoints.")
    max_outage_s: float = option(900.0, "How long the network or OpenAI may stay unreachable while polling before "
                                        "the run is marked failed (the job itself keeps going at OpenAI).")
    request_timeout_s: float = option(120.0, "Seconds one API request may take before it is retried.")
    max_retries: int = option(3, "Retries of a request that hit a 429, a 5xx, a timeout or a dropped connection.")
    price_training_per_m: float | None = option(None, "USD per 1M training tokens (filled from the price table "
                                                      "at launch).")
    price_input_per_m: float | None = option(None, "USD per 1M input tokens of the fine-tuned model.")
    price_output_per_m: float | None = option(None, "USD per 1M output tokens of the fine-tuned model.")
    prompt_template: dict[str, Any] | None = option(None, "The system/user/assistant template used to build the "
                                                          "training file (the playground reuses it).")
    max_train_examples: int | None = option(None, "With a curated dataset: send only its first N training "
                                                  "examples (empty or 0 = all of them).")

    def validate(self) -> None:
        self.check(bool(self.model and self.model.strip()), "model", "must name an OpenAI model")
        self.check(self.format in OPENAI_FORMATS, "format", f"must be one of {', '.join(OPENAI_FORMATS)}")
        self.check(self.suffix is None or len(self.suffix) <= 64, "suffix", "must be at most 64 characters")
        self.check(_auto_or(self.n_epochs, int, 1, 50), "n_epochs", "must be 'auto' or a whole number from 1 to 50")
        self.check(_auto_or(self.batch_size, int, 1, 256), "batch_size", "must be 'auto' or a whole number 1-256")
        self.check(_auto_or(self.learning_rate_multiplier, float, 1e-6, 100), "learning_rate_multiplier",
                   "must be 'auto' or a number above 0")
        self.check(self.max_train_examples is None or self.max_train_examples >= 0, "max_train_examples",
                   "must be 0 (all) or more")
        self.check(self.poll_interval_s > 0, "poll_interval_s", "must be above 0")
        for name in ("price_training_per_m", "price_input_per_m", "price_output_per_m"):
            value = getattr(self, name)
            self.check(value is None or (value >= 0 and math.isfinite(value)), name, "must be a price >= 0")

    def hyperparameters(self) -> dict[str, Any]:
        def norm(value: Any, cast: type) -> Any:
            return "auto" if value in ("auto", None, "") else cast(value)

        return {"n_epochs": norm(self.n_epochs, int), "batch_size": norm(self.batch_size, int),
                "learning_rate_multiplier": norm(self.learning_rate_multiplier, float)}

    @classmethod
    def from_run_config(cls, config: dict[str, Any]) -> OpenAITrainConfig:
        """From a run's config.json: the ``openai`` section, completed by the top-level keys that mean
        the same for any run (the data the launcher resolved, the template, the model as a fallback);
        other top-level keys (the local seed, a local format, ...) belong to the local backend."""
        return cls.from_dict(merge_run_config(config, "openai", set(cls.__dataclass_fields__), OPENAI_FORMATS,
                                              _TOP_LEVEL))


def fill_prices(config: OpenAITrainConfig, store: Any) -> OpenAITrainConfig:
    """Copy the model's prices from the price table into the config (the launcher calls this: the
    subprocess never opens the database). Unknown prices stay None: the run says so at the end."""
    from core.costs.prices import UnknownPriceError, get_price

    try:
        price = get_price(store, config.model)
    except UnknownPriceError:
        return config
    config.price_training_per_m = price.training
    config.price_input_per_m = price.input
    config.price_output_per_m = price.output
    return config


def launch_env(api_key: str | None) -> dict[str, str]:
    """Extra environment for the training subprocess: the only way a typed key reaches it."""
    return {KEY_ENV: api_key} if api_key else {}


def request_pause(run_dir: str | Path) -> None:
    """Ask the run's training process to pause its OpenAI job (it does so at its next poll)."""
    run_dir = Path(run_dir)
    (run_dir / RESUME_FILE).unlink(missing_ok=True)
    (run_dir / PAUSE_FILE).touch()


def request_resume(run_dir: str | Path) -> None:
    """Ask the run's training process to resume its paused OpenAI job."""
    run_dir = Path(run_dir)
    (run_dir / PAUSE_FILE).unlink(missing_ok=True)
    (run_dir / RESUME_FILE).touch()


class RunControlError(UserFacingError):
    """The run cannot be paused or resumed now."""


def pause_openai_run(run: dict[str, Any]) -> None:
    """Pause a live OpenAI run (``run`` is its row); one sentence when it cannot be."""
    if run.get("backend") != "openai":
        raise RunControlError(f"Run {run['id']} is a local run: only OpenAI jobs can be paused; cancel it instead "
                              "(its last checkpoint is kept and it can be resumed).")
    if run.get("status") not in ("starting", "validating_files", "queued", "running"):
        raise RunControlError(f"Run {run['id']} is {run.get('status')}: only a running OpenAI job can be paused.")
    request_pause(run["run_dir"])


def resume_openai_run(run: dict[str, Any]) -> None:
    """Resume the paused job of a live OpenAI run (a run whose process has ended is resumed by
    core.training.jobs.resume_run, which starts it again and re-attaches to the job)."""
    if run.get("backend") != "openai" or run.get("status") != "paused":
        raise RunControlError(f"Run {run['id']} is not a paused OpenAI run (it is {run.get('status')}).")
    request_resume(run["run_dir"])


def add_cli_arguments(parser: Any) -> None:
    """The OpenAI options of ``python -m core train`` (they fill TrainConfig.openai)."""
    group = parser.add_argument_group("OpenAI backend (--backend openai)")
    group.add_argument("--openai-model", help=field_help(OpenAITrainConfig, "model"))
    group.add_argument("--n-epochs", help=field_help(OpenAITrainConfig, "n_epochs"))
    group.add_argument("--openai-batch-size", help=field_help(OpenAITrainConfig, "batch_size"))
    group.add_argument("--lr-multiplier", help=field_help(OpenAITrainConfig, "learning_rate_multiplier"))
    group.add_argument("--suffix", help=field_help(OpenAITrainConfig, "suffix"))
    group.add_argument("--openai-seed", type=int, help=field_help(OpenAITrainConfig, "seed"))
    group.add_argument("--validation-file", help=field_help(OpenAITrainConfig, "validation_file"))
    group.add_argument("--poll-interval", type=float, help=field_help(OpenAITrainConfig, "poll_interval_s"))


def settings_from_args(args: Any) -> dict[str, Any]:
    """TrainConfig.openai from the parsed options above (only those given; numbers or 'auto')."""
    def number(text: str | None, cast: type) -> Any:
        if text is None or text == "auto":
            return text
        try:
            return cast(text)
        except ValueError:
            return text  # OpenAITrainConfig says, in one sentence, what it must be

    values = {"model": args.openai_model, "n_epochs": number(args.n_epochs, int),
              "batch_size": number(args.openai_batch_size, int),
              "learning_rate_multiplier": number(args.lr_multiplier, float), "suffix": args.suffix,
              "seed": args.openai_seed, "validation_file": args.validation_file, "poll_interval_s": args.poll_interval}
    return {k: v for k, v in values.items() if v is not None}


# -- the result file -------------------------------------------------------------------------------
def _decode_result(raw: bytes) -> str:
    """OpenAI has served the result file both as plain CSV and base64-encoded CSV."""
    text = raw.decode("utf-8", "replace").lstrip("\ufeff")
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    if "," in first_line:
        return text
    try:
        return base64.b64decode(b"".join(raw.split()), validate=True).decode("utf-8", "replace").lstrip("\ufeff")
    except (binascii.Error, ValueError):
        return text


def metric_name(column: str) -> str:
    clean = re.sub(r"[^a-z0-9]+", "_", column.strip().lower()).strip("_")
    return METRIC_NAMES.get(clean, clean)


def parse_number(value: Any) -> float | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_result_csv(raw: bytes | str) -> list[dict[str, float]]:
    """Rows of OpenAI's step metrics file as {"step": n, metric: value, ...}: unknown numeric columns
    kept (names normalised), blanks and non-numbers dropped, a missing step column numbered 1..n."""
    text = _decode_result(raw.encode() if isinstance(raw, str) else raw)
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for index, record in enumerate(reader, start=1):
        row: dict[str, float] = {}
        for column, value in record.items():
            if column is None:
                continue  # more cells than headers
            name, number = metric_name(column), parse_number(value)
            if number is not None and name:
                row[name] = number
        step = row.pop("step", None)
        row = {"step": int(step) if step is not None else index, **row}
        if len(row) > 1:
            rows.append(row)
    return rows


# -- app side: the ingestion registers what the events carry ---------------------------------------
def register_model_from_event(store: Any, event: dict[str, Any]) -> str | None:
    """Register the model an event carries in ``register_model`` (checkpoint / result events of an
    OpenAI run) in the model registry, priced as its base model; returns its id (``openai:ft:...``).
    Called by core/training/jobs.py while ingesting; harmless for events without one."""
    entry = event.get("register_model")
    if not isinstance(entry, dict) or not entry.get("remote_model"):
        return None
    from core.models.registry import add_openai_finetune
    from core.store.compare import get_model, upsert_model

    remote = str(entry["remote_model"])
    model_id = add_openai_finetune(store, remote, entry.get("base_model") or "", run_id=entry.get("run_id"),
                                   prompt_template=entry.get("prompt_template"))
    row = get_model(store, model_id) or {}
    changed = False
    for column in ("price_input_per_m", "price_output_per_m"):
        if row.get(column) is None and entry.get(column) is not None:
            row[column], changed = entry[column], True   # the price table had no row: use the launch's
    if entry.get("step") is not None:
        row["display_name"], changed = f"{remote} (step {entry['step']})", True
    if changed:
        row.pop("created_at", None)
        upsert_model(store, **row)
    return model_id
