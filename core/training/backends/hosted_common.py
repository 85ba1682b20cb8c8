"""What the hosted backends (together, fireworks) share: their run config, the state they keep in
the run folder, and the loop that follows a remote job and honours the cancel file.

    class TogetherBackend(HostedBackend): ...   # connect / start_job / poll / on_resume / result

``HostedBackend.run(ctx)`` (core/training/backends/base.py's contract): read the config, connect (the key
only from ``ctx.secrets`` or the environment), create the job once (its id is saved in
``<provider>_state.json`` at once, so a restarted subprocess re-attaches instead of paying twice),
poll it every ``poll_interval_s`` (network trouble is waited out for ``max_outage_s``), turn what is
new into events exactly once, and end with a terminal status: ``succeeded`` after a ``result``
event naming ``fine_tuned_model`` and carrying ``register_model``; ``cancelled``; or ``failed``
with one sentence. Every text written goes through ``scrub``: no key ever reaches the run folder.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from core.config import ConfigBase, option
from core.hosted.common import (
    FileRejectedError,
    HostedError,
    JobFailedError,
    Provider,
    check_training_file,
    merge_run_config,
    scrub,
)
from core.training.backends.base import RunContext, read_events
from core.training.backends.hosted_files import TrainingFiles


@dataclass
class HostedTrainConfig(ConfigBase):
    """The settings every hosted fine-tune has; the provider's section of config.json fills them."""

    model: str = option("", "The provider's base model to fine-tune with LoRA.")
    training_file: str = option("", "The training file (JSONL exported on page 2) or a curated dataset folder, "
                                    "whose train split is written as OpenAI chat JSONL with the prompt template.")
    validation_file: str | None = option(None, "An optional validation file in the same format.")
    format: str = option("openai-chat", "Training format of the files (checked against the provider's rules).")
    n_epochs: int = option(3, "Passes over the training data.")
    learning_rate: float | None = option(None, "The learning rate; empty uses the provider's default.")
    lora_rank: int | None = option(None, "LoRA rank; empty uses the provider's default for the model.")
    suffix: str | None = option(None, "Added to the fine-tuned model's name, to find it later.")
    seed: int | None = option(None, "The job's random seed, where the provider takes one.")
    base_url: str | None = option(None, "Another API base URL; empty uses the provider's variable or its own.")
    poll_interval_s: float = option(10.0, "Seconds between two looks at the job.")
    max_outage_s: float = option(900.0, "How long the provider may stay unreachable while polling before the run "
                                        "is marked failed (the job itself keeps going there).")
    request_timeout_s: float = option(60.0, "Seconds one API request may take.")
    max_retries: int = option(2, "Retries of a request that hit a 429, a 5xx, a timeout or a dropped connection.")
    price_training_per_m: float | None = option(None, "USD per 1M training tokens (from the price table at launch).")
    price_input_per_m: float | None = option(None, "USD per 1M input tokens of the fine-tuned model.")
    price_output_per_m: float | None = option(None, "USD per 1M output tokens of the fine-tuned model.")
    prompt_template: dict[str, Any] | None = option(None, "The template used to build the training file (the "
                                                          "playground reuses it).")
    max_train_examples: int | None = option(None, "With a curated dataset: send only its first N examples.")

    SECTION = ""              # the key of the provider's section in config.json
    SUFFIX_MAX = 40

    def validate(self) -> None:
        self.check(bool(self.model and self.model.strip()), "model", "must name the provider's base model")
        self.check(isinstance(self.n_epochs, int) and 1 <= self.n_epochs <= 100, "n_epochs",
                   "must be a whole number from 1 to 100")
        self.check(self.learning_rate is None or (0 < float(self.learning_rate) < 1), "learning_rate",
                   "must be a number between 0 and 1")
        self.check(self.lora_rank is None or (isinstance(self.lora_rank, int) and 1 <= self.lora_rank <= 512),
                   "lora_rank", "must be a whole number from 1 to 512")
        self.check(self.suffix is None or len(self.suffix) <= self.SUFFIX_MAX, "suffix",
                   f"must be at most {self.SUFFIX_MAX} characters")
        self.check(self.poll_interval_s > 0, "poll_interval_s", "must be above 0")
        self.check(self.max_retries >= 0, "max_retries", "must be 0 or more")
        self.check(self.max_train_examples is None or self.max_train_examples >= 0, "max_train_examples",
                   "must be 0 (all) or more")
        for name in ("price_training_per_m", "price_input_per_m", "price_output_per_m"):
            value = getattr(self, name)
            self.check(value is None or (value >= 0 and math.isfinite(value)), name, "must be a price >= 0")

    @classmethod
    def from_run_config(cls, config: dict[str, Any]) -> Any:
        """From config.json: the provider's section, completed by the top-level keys any run has."""
        return cls.from_dict(merge_run_config(config, cls.SECTION, set(cls.__dataclass_fields__),
                                              ("openai-chat", "completion")))


_NOT_METRICS = {"type", "t", "step", "epoch", "remote_event_id"}


@dataclass
class HostedState:
    """Remote ids and control flags (saved in the run folder) and what was already emitted (rebuilt
    from events.jsonl, so an event written just before a crash is never repeated)."""

    job_id: str | None = None
    training_file_id: str | None = None
    validation_file_id: str | None = None
    cancel_sent: bool = False
    previous_jobs: list[str] = field(default_factory=list)
    step_offset: int = 0              # steps done by earlier jobs this run continues
    estimate: dict[str, Any] | None = None
    status: str | None = field(default=None, metadata={"saved": False})
    seen: set[str] = field(default_factory=set, metadata={"saved": False})
    metrics: dict[int, dict[str, float]] = field(default_factory=dict, metadata={"saved": False})
    last_step: int = field(default=0, metadata={"saved": False})

    @classmethod
    def load(cls, run_dir: Path, filename: str) -> HostedState:
        path = run_dir / filename
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        state = cls(**{k: v for k, v in data.items() if k in cls._saved()})
        for event in read_events(run_dir)[0]:
            if event.get("remote_event_id"):
                state.seen.add(str(event["remote_event_id"]))
            if event.get("type") == "status":
                state.status = event.get("status")
            elif event.get("type") == "metric" and event.get("step") is not None:
                values = {k: v for k, v in event.items() if k not in _NOT_METRICS and isinstance(v, (int, float))}
                state.metrics.setdefault(int(event["step"]), {}).update(values)
            elif event.get("type") == "progress" and event.get("step") is not None:
                state.last_step = max(state.last_step, int(event["step"]))
            elif event.get("type") == "resumed" and event.get("from_step") is not None:
                state.rewind(int(event["from_step"]))
        return state

    def rewind(self, step: int) -> None:
        """Forget what was emitted past ``step``: a continued job redoes those steps (the database
        drops their metrics too, core/store/runs.py), and its new values must be emitted again."""
        self.metrics = {s: values for s, values in self.metrics.items() if s <= step}
        self.last_step = min(self.last_step, step)

    @classmethod
    def _saved(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.metadata.get("saved", True)]

    def save(self, run_dir: Path, filename: str) -> None:
        path = run_dir / filename
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({name: getattr(self, name) for name in self._saved()}), encoding="utf-8")
        tmp.replace(path)


class HostedBackend(TrainingFiles):
    """The loop; subclasses say how to talk to their provider."""

    name = ""
    provider: Provider
    config_cls: type[HostedTrainConfig] = HostedTrainConfig
    extra_secrets: tuple[str, ...] = ()
    file_error = FileRejectedError

    # -- what a provider implements --------------------------------------------------------------
    def connect(self) -> None:
        raise NotImplementedError

    def start_job(self, train: Path, valid: Path | None) -> bool:
        """Upload and create the job; set ``self.state.job_id`` (and save it) as soon as it exists.
        False when a cancel came before the job existed (``cancelled_before_job`` said so)."""
        raise NotImplementedError

    def poll(self) -> tuple[str, Any]:
        """Look at the job once, emit what is new; returns (our status, the job)."""
        raise NotImplementedError

    def cancel_remote(self) -> None:
        raise NotImplementedError

    def on_resume(self, status: str) -> None:
        """``ctx.resume`` on a run whose job exists (``status``: its state now): continue it."""

    def failure(self, job: Any) -> str:
        raise NotImplementedError

    def result(self, job: Any) -> dict[str, Any]:
        raise NotImplementedError

    # -- the run ---------------------------------------------------------------------------------
    @property
    def provider_name(self) -> str:
        return self.provider.name

    @property
    def state_file(self) -> str:
        return f"{self.name}_state.json"

    def run(self, ctx: RunContext) -> None:
        self.ctx, self.started = ctx, time.time()
        self.key = ctx.secrets.get(self.provider.key_env) or os.environ.get(self.provider.key_env)
        self.state = HostedState.load(ctx.run_dir, self.state_file)
        ctx.heartbeat(status="starting")
        try:
            self.cfg = self.config_cls.from_run_config(ctx.config)
            self.connect()
            if self.state.job_id is None:
                self._log("info", f"Checking {self.cfg.training_file} before upload.")
                train = self._check_file(self.cfg.training_file, "training")
                valid = self._check_file(self.cfg.validation_file, "validation") if self.cfg.validation_file else None
                if self.cancelled_before_job() or not self.start_job(train, valid):
                    return
            elif ctx.resume:
                status, _ = self.poll()
                self._log("info", f"Re-attached to {self.provider.name} job {self.state.job_id} ({status}).")
                self.on_resume(status)
            job = self._watch()
            self._finish(job)
        except HostedError as exc:
            self._emit("log", level="error", message=f"{type(exc).__name__}: {exc}")
            self._emit("status", status="failed", message=str(exc), remote_job_id=self.state.job_id)
        finally:
            self.state.save(ctx.run_dir, self.state_file)

    # -- events ----------------------------------------------------------------------------------
    def _secrets(self) -> list[str | None]:
        return [self.key, *(self.ctx.secrets.get(n) or os.environ.get(n) for n in self.extra_secrets)]

    def _emit(self, type_: str, **values: Any) -> None:
        """Every event goes through here: the last guard scrubs any key out of any text."""
        self.ctx.events.emit(type_, **_scrubbed(values, self._secrets()))

    def _log(self, level: str, message: str, remote_event_id: str | None = None) -> None:
        extra = {"remote_event_id": remote_event_id} if remote_event_id else {}
        self._emit("log", level=level, message=message, **extra)

    def _set_status(self, status: str, message: str | None = None) -> None:
        if status != self.state.status:
            self.state.status = status
            self._emit("status", status=status, message=message, remote_job_id=self.state.job_id)

    def save_state(self) -> None:
        self.state.save(self.ctx.run_dir, self.state_file)

    def model_entry(self, kind: str, remote_model: str, step: int | None = None, **extra: Any) -> dict[str, Any]:
        """What the app registers (core/training/jobs.py): the model, never a key."""
        return {"kind": kind, "provider": self.name, "remote_model": remote_model, "base_model": self.cfg.model,
                "run_id": self.ctx.run_id, "step": step, "price_input_per_m": self.cfg.price_input_per_m,
                "price_output_per_m": self.cfg.price_output_per_m, "prompt_template": self.cfg.prompt_template,
                **extra}

    def emit_metric(self, step: int, values: dict[str, float], epoch: float | None = None) -> bool:
        """A metric event with the values not emitted yet for ``step``; False when nothing was new."""
        done = self.state.metrics.setdefault(step, {})
        fresh = {k: v for k, v in values.items() if k not in done and v is not None and math.isfinite(v)}
        if not fresh:
            return False
        done.update(fresh)
        self._emit("metric", step=step, **({"epoch": epoch} if epoch is not None else {}), **fresh)
        return True

    def loss_summary(self) -> dict[str, Any]:
        """final_loss, best_loss, final_eval_loss and steps from every metric emitted in this run."""
        steps = sorted(self.state.metrics)
        train = [self.state.metrics[s]["train_loss"] for s in steps if "train_loss" in self.state.metrics[s]]
        evals = [self.state.metrics[s]["eval_loss"] for s in steps if "eval_loss" in self.state.metrics[s]]
        return {"final_loss": train[-1] if train else None,
                "best_loss": min(evals) if evals else (min(train) if train else None),
                "final_eval_loss": evals[-1] if evals else None,
                "steps": max(steps, default=self.state.last_step) or None}

    # -- before the job --------------------------------------------------------------------------
    def _validate(self, path: Path, what: str) -> None:
        for warning in check_training_file(path, self.name, self.cfg.format, what):
            self._log("warning", warning)

    def cancelled_before_job(self) -> bool:
        if self.ctx.cancel_requested():
            self._emit("status", status="cancelled", message=f"Cancelled before the {self.provider.name} job was "
                                                             "created.", remote_job_id=None)
            return True
        return False

    # -- while the job runs ----------------------------------------------------------------------
    def _watch(self) -> Any:
        outage_since: float | None = None
        while True:
            self.ctx.heartbeat(remote_job_id=self.state.job_id, status=self.state.status)
            try:
                self._controls()
                status, job = self.poll()
            except HostedError as exc:
                if not exc.transient:
                    raise
                now = time.time()
                if outage_since is None:
                    outage_since = now
                    self._log("warning", f"Polling the job failed ({exc}); retrying.")
                if now - outage_since > self.cfg.max_outage_s:
                    raise
                self._sleep(self.cfg.poll_interval_s)
                continue
            if outage_since is not None:
                self._log("info", f"Reached {self.provider.name} again.")
                outage_since = None
            self.save_state()
            if status in ("succeeded", "failed", "cancelled"):
                return job
            self._set_status(status)
            self._sleep(self.cfg.poll_interval_s)

    def _controls(self) -> None:
        if self.ctx.cancel_requested() and not self.state.cancel_sent:
            self.state.cancel_sent = True
            self.save_state()
            self._log("info", f"Cancelling {self.provider.name} job {self.state.job_id}.")
            try:
                self.cancel_remote()
            except HostedError as exc:
                if exc.transient:
                    self.state.cancel_sent = False   # try again at the next poll
                    raise
                self._log("warning", f"{self.provider.name} did not accept the cancel: {exc}")

    # -- the end ---------------------------------------------------------------------------------
    def _finish(self, job: Any) -> None:
        status, job = self.poll()  # the last metrics and events, and the final state
        job_id = self.state.job_id
        if status == "cancelled":
            self._emit("status", status="cancelled", message=f"The {self.provider.name} job {job_id} was cancelled.",
                       remote_job_id=job_id)
            return
        if status == "failed":
            raise JobFailedError(f"The {self.provider.name} fine-tuning job {job_id} failed: "
                                 f"{self.failure(job).rstrip('.')}.")
        result = self.result(job)
        self._emit("result", **result)
        self._emit("status", status="succeeded", message=None, remote_job_id=job_id)


def _scrubbed(value: Any, secrets: list[str | None]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: _scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrubbed(v, secrets) for v in value]
    return value
