"""The Together backend: a LoRA fine-tune on Together, driven and watched from the training subprocess.

    python -m core.training.trainer RUN_DIR      # config.json {"backend": "together", "together": {...}}; the key
                                      # comes only through the environment (TOGETHER_API_KEY)

Flow (core/hosted/together.py has the requests): check the file against Together's rules, ask for
the model's limits (a rejected key or a model Together cannot tune stops the run here, before any
upload), upload, ask for the price estimate (an account that may not proceed stops here, with the
quote), create the job, then poll the job, its events, its per-step metrics (train_loss, eval_loss,
lr: Together's metrics endpoint has them) and its checkpoints. A cancel file cancels the job.

Continuing: ``together.from_checkpoint = "JOB_ID[:STEP]"`` starts a run as a new job from another
job's checkpoint; and a run resumed (``--resume``) whose job was cancelled or failed continues as a
new job from that job's last checkpoint, its steps numbered after the ones already done.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import option
from core.hosted import together as api
from core.hosted.common import TOGETHER, HostedError, NoCreditError, ProviderError, RejectedKeyError
from core.training.backends.hosted_common import HostedBackend, HostedTrainConfig

DEFAULT_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


@dataclass
class TogetherTrainConfig(HostedTrainConfig):
    """A Together fine-tune; built by the page or the CLI, stored (no key) in config.json["together"]."""

    model: str = option(DEFAULT_MODEL, "The Together base model to fine-tune with LoRA (its fine-tunable "
                                       "models end in -Reference or are listed as tunable).")
    learning_rate: float | None = option(1e-5, "The learning rate (Together's default is 1e-5).")
    batch_size: int | str = option("max", "Examples per batch: 'max' (the most the model allows) or a number.")
    lora_alpha: float | None = option(None, "LoRA alpha; empty is twice the rank.")
    n_checkpoints: int = option(1, "Checkpoints Together keeps during the job (a later job can continue one).")
    n_evals: int = option(0, "Evaluations on the validation file during the job (needs a validation file).")
    from_checkpoint: str | None = option(None, "Continue another Together job: JOB_ID or JOB_ID:STEP (its model "
                                               "and LoRA settings carry over).")

    SECTION = "together"
    SUFFIX_MAX = api.SUFFIX_MAX

    def validate(self) -> None:
        super().validate()
        self.check(self.batch_size == "max" or (isinstance(self.batch_size, int) and self.batch_size >= 1),
                   "batch_size", "must be 'max' or a whole number from 1")
        self.check(self.n_checkpoints >= 1, "n_checkpoints", "must be 1 or more")
        self.check(self.n_evals >= 0, "n_evals", "must be 0 or more")
        self.check(self.n_evals == 0 or bool(self.validation_file), "n_evals", "needs a validation file")


class TogetherBackend(HostedBackend):
    name = "together"
    provider = TOGETHER
    config_cls = TogetherTrainConfig

    def connect(self) -> None:
        cfg = self.cfg
        self.client = api.make_client(self.key, cfg.base_url, timeout=cfg.request_timeout_s,
                                      max_retries=cfg.max_retries)

    # -- starting ------------------------------------------------------------------------------------
    def start_job(self, train: Path, valid: Path | None) -> bool:
        cfg = self.cfg
        source = cfg.from_checkpoint.split(":")[0] if cfg.from_checkpoint else cfg.model
        limits = api.model_limits(self.client, source)
        self._check_limits(limits)
        self.state.training_file_id = api.upload(self.client, train)
        self._log("info", f"Uploaded the training file {train.name} as {self.state.training_file_id}.")
        if valid is not None:
            self.state.validation_file_id = api.upload(self.client, valid)
            self._log("info", f"Uploaded the validation file {valid.name} as {self.state.validation_file_id}.")
        self.save_state()
        if self.cancelled_before_job():
            return False
        self._create(self._settings(cfg.from_checkpoint), limits)
        return True

    def _check_limits(self, limits: Any) -> None:
        """Say in one sentence what Together would refuse, before uploading anything."""
        cfg, lora = self.cfg, getattr(limits, "lora_training", None)
        problems = []
        if lora is not None and cfg.lora_rank and cfg.lora_rank > lora.max_rank:
            problems.append(f"LoRA rank {cfg.lora_rank} is above its maximum {lora.max_rank}")
        if getattr(limits, "max_num_epochs", None) and cfg.n_epochs > limits.max_num_epochs:
            problems.append(f"{cfg.n_epochs} epochs is above its maximum {limits.max_num_epochs}")
        low, high = getattr(limits, "min_learning_rate", None), getattr(limits, "max_learning_rate", None)
        if cfg.learning_rate is not None and low is not None and high is not None and not low <= cfg.learning_rate <= high:
            problems.append(f"learning rate {cfg.learning_rate:g} is outside {low:g}-{high:g}")
        if problems:
            raise ProviderError(f"Together would refuse this job for {cfg.model}: {'; '.join(problems)}.")

    def _settings(self, from_checkpoint: str | None) -> api.JobSettings:
        cfg = self.cfg
        return api.JobSettings(
            model=cfg.model, training_file=str(self.state.training_file_id), n_epochs=cfg.n_epochs,
            learning_rate=cfg.learning_rate or 1e-5, lora_rank=cfg.lora_rank, lora_alpha=cfg.lora_alpha,
            batch_size=cfg.batch_size, suffix=cfg.suffix, validation_file=self.state.validation_file_id,
            n_evals=cfg.n_evals, n_checkpoints=cfg.n_checkpoints, seed=cfg.seed, from_checkpoint=from_checkpoint)

    def _create(self, settings: api.JobSettings, limits: Any) -> None:
        try:
            quote = api.estimate(self.client, settings)
        except (NoCreditError, RejectedKeyError):
            raise
        except HostedError as exc:  # the quote is a courtesy: a job can start without one
            self._log("warning", f"No price estimate from Together: {exc}")
        else:
            self.state.estimate = quote.as_dict()
            if quote.available:
                self._emit("log", level="info", message=f"Together estimates ${quote.total_usd or 0:,.2f} for "
                           f"{quote.train_tokens or 0:,.0f} training tokens.", estimate=quote.as_dict())
        job = api.create_job(self.client, settings, limits)
        self.state.job_id = str(job.id)
        self.save_state()
        self._log("info", f"Created Together fine-tuning job {job.id}"
                          + (f" from checkpoint {settings.from_checkpoint}." if settings.from_checkpoint else "."))
        self._set_status(api.status_of(job))

    def on_resume(self, status: str) -> None:
        """A cancelled or failed job goes on as a new job from its last checkpoint."""
        if status not in ("cancelled", "failed"):
            return
        old = str(self.state.job_id)
        saved = sorted(c.step for c in api.checkpoints(self.client, old))
        handle = f"{old}:{saved[-1]}" if saved else old
        from_step = self.state.step_offset + (saved[-1] if saved else 0)
        self.state.previous_jobs.append(old)
        self.state.step_offset, self.state.cancel_sent, self.state.status = from_step, False, None
        self.state.rewind(from_step)
        self._emit("resumed", from_step=from_step, remote_job_id=old)
        self._log("info", f"Continuing Together job {old} from checkpoint {handle} as a new job.")
        self._create(self._settings(handle), api.model_limits(self.client, old))

    # -- following -------------------------------------------------------------------------------
    def poll(self) -> tuple[str, Any]:
        job_id = str(self.state.job_id)
        job = api.retrieve(self.client, job_id)
        self._total = api.extra(job, "total_steps") or getattr(self, "_total", None)
        self._events(job_id)
        self._metrics(job, job_id)
        self._checkpoints(job_id)
        return api.status_of(job), job

    def _events(self, job_id: str) -> None:
        for event in api.events(self.client, job_id):
            digest = hashlib.sha1(f"{event.created_at}|{event.type}|{event.message}".encode()).hexdigest()[:12]
            event_id = f"{job_id}:{digest}"
            if event_id in self.state.seen:
                continue
            self.state.seen.add(event_id)
            if event.total_steps:
                self._total = event.total_steps
            level = {"error": "error", "legacy_ierror": "error", "warning": "warning",
                     "legacy_iwarning": "warning"}.get(str(event.level), "info")
            self._log(level, f"{event.message}", remote_event_id=event_id)

    def _metrics(self, job: Any, job_id: str) -> None:
        offset, elapsed = self.state.step_offset, time.time() - self.started
        total = int(self._total) + offset if self._total else None
        remaining = job.progress.seconds_remaining if job.progress and job.progress.estimate_available else None
        for row in api.metrics(self.client, job_id):
            step = row.pop("step") + offset
            epoch = row.pop("epoch", None)
            self.emit_metric(step, row, epoch)
            if step > self.state.last_step:
                self.state.last_step = step
                progress: dict[str, Any] = {"step": step, "total_steps": total, "elapsed_s": round(elapsed, 1)}
                if epoch is not None:
                    progress["epoch"] = epoch
                if remaining is not None:
                    progress["eta_s"] = float(remaining)
                elif total and step > offset:
                    progress["eta_s"] = round(elapsed / (step - offset) * (total - step), 1)
                self._emit("progress", **progress)

    def _checkpoints(self, job_id: str) -> None:
        for checkpoint in api.checkpoints(self.client, job_id):
            handle = f"{job_id}:{checkpoint.step}"
            if handle in self.state.seen:
                continue
            self.state.seen.add(handle)
            self._emit("checkpoint", step=checkpoint.step + self.state.step_offset, model_id=handle,
                       checkpoint_id=handle, remote_event_id=handle, label=checkpoint.checkpoint_type)

    def cancel_remote(self) -> None:
        api.cancel(self.client, str(self.state.job_id))

    # -- the end ---------------------------------------------------------------------------------
    def failure(self, job: Any) -> str:
        return api.failure_reason(self.client, job)

    def result(self, job: Any) -> dict[str, Any]:
        cfg = self.cfg
        output = api.output_model(job)
        epochs = job.n_epochs or cfg.n_epochs
        quoted = (self.state.estimate or {}).get("train_tokens")
        tokens = int(job.token_count * epochs) if job.token_count else (int(quoted) if quoted else None)
        price = cfg.price_training_per_m
        cost = tokens * price / 1e6 if tokens is not None and price is not None else None
        if cost is None:
            self._log("warning", f"The actual cost is unknown: no training price for {cfg.model} in the run's "
                                 "config, or no token count from Together.")
        started = job.started_at or job.created_at
        remote_s = (job.updated_at - started).total_seconds() if job.updated_at and started else None
        lora = job.training_type
        return {
            "fine_tuned_model": output, "trained_tokens": tokens, "actual_cost_usd": cost,
            "estimated_cost_usd": (self.state.estimate or {}).get("total_usd"),
            "billed_total_price": job.total_price,   # as Together reports it (units not documented)
            "wall_s": remote_s or round(time.time() - self.started, 1), "remote_wall_s": remote_s,
            "watch_wall_s": round(time.time() - self.started, 1),
            "tokens_per_s": round(tokens / remote_s, 1) if tokens and remote_s else None,
            **self.loss_summary(),
            "hyperparameters": {"n_epochs": epochs, "learning_rate": job.learning_rate or cfg.learning_rate,
                                "lora_r": getattr(lora, "lora_r", None) or cfg.lora_rank,
                                "lora_alpha": getattr(lora, "lora_alpha", None), "batch_size": job.batch_size},
            "remote_job_id": job.id, "previous_jobs": list(self.state.previous_jobs),
            "peak_rss_mb": None, "peak_gpu_mb": None, "device": "together",
            "register_model": self.model_entry(api.MODEL_KIND, output, chat_base_url=api.chat_base_url(cfg.base_url))
            if output else None,
        }
