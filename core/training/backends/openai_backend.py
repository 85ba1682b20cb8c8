"""The OpenAI backend: a hosted fine-tuning job, driven and watched from the training subprocess.

    python -m core.training.trainer RUN_DIR          # with config.json {"backend": "openai", ...}; the key comes
                                          # only through the environment (OPENAI_API_KEY)

Flow (../shared/DESIGN.md, "OpenAI, as it stands"): validate the training (and validation) file
with core/formats/validate.py, upload them (``files.create(purpose="fine-tune")``), create the job with
``method={"type": "supervised", "supervised": {"hyperparameters": ...}}`` ("auto" or set values),
then poll ``retrieve`` + ``list_events`` + ``checkpoints.list`` and turn what is new into run
events (status / progress / metric / checkpoint / log, each exactly once, even across a restart:
``openai_state.json`` in the run folder remembers the job and what was already emitted). On
success the per-step result CSV is fetched and parsed defensively, and a ``result`` event carries
``fine_tuned_model``, ``trained_tokens`` (billable, known only now) and ``actual_cost_usd``.

Control from the app goes through files in the run folder, like ``cancel`` (core/training/backends/base.py):
``pause`` asks for ``jobs.pause``, ``resume`` for ``jobs.resume`` (``request_pause`` /
``request_resume`` in core/hosted/openai_finetune.py). A subprocess started again with ``ctx.resume`` re-attaches to its job (it
never creates a second one) and resumes it if it is paused.

The subprocess cannot write the database, so the models to register (the ``ft:`` model and every
checkpoint model) ride in the events as ``register_model``; the app's ingestion (core/training/jobs.py)
hands each one to ``core.hosted.openai_finetune.register_model_from_event``.
"""
from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import openai

from core.errors import UserFacingError
from core.hosted.common import rejected_sentence
from core.hosted.openai_client import FileRejectedError, JobFailedError, explain, is_transient, make_client, scrub
from core.hosted.openai_finetune import (
    KEY_ENV,
    MODEL_KIND,
    NOT_METRICS,
    PAUSE_FILE,
    RESUME_FILE,
    STATE_FILE,
    OpenAITrainConfig,
    metric_name,
    parse_number,
    parse_result_csv,
    request_resume,
)
from core.training.backends.base import TERMINAL_STATUSES, RunContext, read_events
from core.training.backends.hosted_files import TrainingFiles


# -- run state kept in the run folder --------------------------------------------------------------
@dataclass
class _State:
    """The remote ids and control flags (saved in openai_state.json), and what was already emitted
    (rebuilt from events.jsonl itself, so an event written just before a crash is never repeated)."""

    job_id: str | None = None
    training_file_id: str | None = None
    validation_file_id: str | None = None
    cancel_sent: bool = False
    pause_sent: bool = False
    # rebuilt from the events, not saved:
    status: str | None = field(default=None, metadata={"saved": False})
    seen_events: set[str] = field(default_factory=set, metadata={"saved": False})
    seen_checkpoints: set[str] = field(default_factory=set, metadata={"saved": False})
    metrics: dict[int, dict[str, float]] = field(default_factory=dict, metadata={"saved": False})
    last_step: int = field(default=0, metadata={"saved": False})
    total_steps: int | None = field(default=None, metadata={"saved": False})

    @classmethod
    def load(cls, run_dir: Path) -> _State:
        path = run_dir / STATE_FILE
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        state = cls(**{k: v for k, v in data.items() if k in cls._saved()})
        events, _ = read_events(run_dir)
        for event in events:
            kind = event.get("type")
            if event.get("openai_event_id"):
                state.seen_events.add(event["openai_event_id"])
            if kind == "status":
                state.status = event.get("status")
            elif kind == "checkpoint" and event.get("checkpoint_id"):
                state.seen_checkpoints.add(event["checkpoint_id"])
            elif kind == "metric" and event.get("step") is not None:
                values = {k: v for k, v in event.items() if k not in ("type", "t", "step", "epoch", "openai_event_id")}
                state.metrics.setdefault(int(event["step"]), {}).update(values)
            elif kind == "progress":
                state.last_step = max(state.last_step, int(event.get("step") or 0))
                state.total_steps = event.get("total_steps") or state.total_steps
        return state

    @classmethod
    def _saved(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.metadata.get("saved", True)]

    def save(self, run_dir: Path) -> None:
        path = run_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({name: getattr(self, name) for name in self._saved()}), encoding="utf-8")
        tmp.replace(path)


class OpenAIBackend(TrainingFiles):
    name = "openai"
    provider_name = "OpenAI"
    file_error = FileRejectedError

    def run(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.started = time.time()
        self.key = ctx.secrets.get(KEY_ENV) or os.environ.get(KEY_ENV)
        self.state = _State.load(ctx.run_dir)
        ctx.heartbeat(status="starting")
        try:
            self.cfg = OpenAITrainConfig.from_run_config(ctx.config)
            self.client = make_client(api_key=self.key, base_url=self.cfg.base_url,
                                      timeout=self.cfg.request_timeout_s, max_retries=self.cfg.max_retries)
            if self.state.job_id is None:
                if not self._start_job():
                    return
            elif ctx.resume:
                self._log("info", f"Re-attached to OpenAI job {self.state.job_id}.")
                if self.state.status == "paused" or (self.ctx.run_dir / PAUSE_FILE).exists():
                    request_resume(ctx.run_dir)
            job = self._watch()
            self._finish(job)
        except (UserFacingError, openai.OpenAIError) as exc:
            # OpenAI's own 401 text quotes part of the key: log only the error's kind then
            detail = "" if isinstance(exc, openai.AuthenticationError) else f": {exc}"
            self._emit("log", level="error", message=f"{type(exc).__name__}{detail}")
            self._emit("status", status="failed", message=explain(exc), remote_job_id=self.state.job_id)
        finally:
            self.state.save(ctx.run_dir)

    # -- events ----------------------------------------------------------------------------------
    def _emit(self, type_: str, **fields: Any) -> None:
        """Every event goes through here: a last guard scrubs the key out of any text."""
        clean = {k: scrub(v, [self.key]) if isinstance(v, str) else v for k, v in fields.items()}
        self.ctx.events.emit(type_, **clean)

    def _log(self, level: str, message: str) -> None:
        self._emit("log", level=level, message=message)

    def _set_status(self, status: str, message: str | None = None) -> None:
        if status != self.state.status:
            self.state.status = status
            self._emit("status", status=status, message=message, remote_job_id=self.state.job_id)

    # -- before the job ------------------------------------------------------------------------
    def _validate(self, path: Path, what: str) -> None:
        from core.formats.validate import validate_file

        report = validate_file(path, self.cfg.format, model=self.cfg.model)
        for warning in report.warnings[:20]:
            self._log("warning", f"{path.name}: {warning}")
        if not report.ok:
            raise FileRejectedError(rejected_sentence(report, what, path.name, "OpenAI"))

    def _upload(self, path: Path, what: str) -> str:
        try:
            uploaded = self.client.files.create(file=path, purpose="fine-tune")
        except openai.BadRequestError as exc:
            raise FileRejectedError(f"OpenAI rejected the {what} file {path.name}: "
                                    f"{explain(exc).split(': ', 1)[-1]}") from exc
        self._log("info", f"Uploaded the {what} file {path.name} as {uploaded.id}.")
        return uploaded.id

    def _start_job(self) -> bool:
        """Validate, upload and create the job; False when cancelled before the job existed."""
        cfg = self.cfg
        self._log("info", f"Checking {cfg.training_file} before upload.")
        train = self._check_file(cfg.training_file, "training")
        valid = self._check_file(cfg.validation_file, "validation") if cfg.validation_file else None
        if self._cancelled_before_job():
            return False
        self.state.training_file_id = self._upload(train, "training")
        if valid is not None:
            self.state.validation_file_id = self._upload(valid, "validation")
        self.state.save(self.ctx.run_dir)
        if self._cancelled_before_job():
            return False
        params: dict[str, Any] = {
            "model": cfg.model, "training_file": self.state.training_file_id,
            "method": {"type": "supervised", "supervised": {"hyperparameters": cfg.hyperparameters()}},
        }
        if self.state.validation_file_id:
            params["validation_file"] = self.state.validation_file_id
        if cfg.suffix:
            params["suffix"] = cfg.suffix
        if cfg.seed is not None:
            params["seed"] = int(cfg.seed)
        try:
            job = self.client.fine_tuning.jobs.create(**params)
        except openai.BadRequestError as exc:
            param = (exc.body or {}).get("param") if isinstance(exc.body, dict) else None
            if param in ("training_file", "validation_file"):
                raise FileRejectedError(explain(exc)) from exc
            raise
        self.state.job_id = job.id
        self.state.save(self.ctx.run_dir)
        self._log("info", f"Created OpenAI fine-tuning job {job.id}.")
        self._set_status(job.status)
        return True

    def _cancelled_before_job(self) -> bool:
        if self.ctx.cancel_requested():
            self._emit("status", status="cancelled", message="Cancelled before the OpenAI job was created.",
                       remote_job_id=None)
            return True
        return False

    # -- while the job runs ----------------------------------------------------------------------
    def _watch(self) -> Any:
        jobs = self.client.fine_tuning.jobs
        outage_since: float | None = None
        while True:
            self.ctx.heartbeat(remote_job_id=self.state.job_id, status=self.state.status)
            try:
                self._controls()
                job = jobs.retrieve(self.state.job_id)
                self._note_job(job)
                self._new_events()
                self._new_checkpoints(job)
            except openai.OpenAIError as exc:
                if not is_transient(exc):
                    raise
                now = time.time()
                if outage_since is None:
                    outage_since = now
                    self._log("warning", f"Polling the job failed ({explain(exc)}); retrying.")
                if now - outage_since > self.cfg.max_outage_s:
                    raise
                self._sleep(self.cfg.poll_interval_s)
                continue
            if outage_since is not None:
                self._log("info", "Reached OpenAI again.")
                outage_since = None
            self.state.save(self.ctx.run_dir)
            if job.status in TERMINAL_STATUSES:
                return job
            self._set_status(job.status)
            self._sleep(self.cfg.poll_interval_s)

    def _controls(self) -> None:
        jobs, run_dir, job_id = self.client.fine_tuning.jobs, self.ctx.run_dir, self.state.job_id
        try:
            if self.ctx.cancel_requested() and not self.state.cancel_sent:
                self.state.cancel_sent = True
                self._log("info", f"Cancelling OpenAI job {job_id}.")
                jobs.cancel(job_id)
            elif (run_dir / RESUME_FILE).exists():
                (run_dir / RESUME_FILE).unlink(missing_ok=True)
                if self.state.status == "paused" or self.state.pause_sent:
                    self.state.pause_sent = False
                    self._log("info", f"Resuming OpenAI job {job_id}.")
                    jobs.resume(job_id)
            elif (run_dir / PAUSE_FILE).exists() and not self.state.pause_sent and self.state.status == "running":
                self.state.pause_sent = True
                self._log("info", f"Pausing OpenAI job {job_id}.")
                jobs.pause(job_id)
        except (openai.BadRequestError, openai.ConflictError, openai.NotFoundError) as exc:
            # e.g. the job finished between two polls: nothing to control any more
            (run_dir / PAUSE_FILE).unlink(missing_ok=True)
            self._log("warning", f"OpenAI did not accept the request: {explain(exc)}")

    def _pages(self, first_page: Any, seen: set[str]) -> list[Any]:
        """Items newer than the ones already seen (pages are newest first), oldest first."""
        new, page = [], first_page
        while True:
            fresh = [item for item in page.data if item.id not in seen]
            new.extend(fresh)
            if len(fresh) < len(page.data) or not page.has_next_page():
                break
            page = page.get_next_page()
        return list(reversed(new))

    def _new_events(self) -> None:
        page = self.client.fine_tuning.jobs.list_events(self.state.job_id, limit=100)
        for event in self._pages(page, self.state.seen_events):
            self.state.seen_events.add(event.id)
            data = event.data if isinstance(event.data, dict) else {}
            if data.get("step") is not None and (event.type == "metrics" or "train_loss" in data):
                self._step_metrics(data, event.id)
            else:
                level = {"warn": "warning"}.get(event.level, event.level)
                self._emit("log", level=level, message=event.message, openai_event_id=event.id)

    def _step_metrics(self, data: dict[str, Any], event_id: str) -> None:
        step = int(data["step"])
        total = data.get("total_steps") or self.state.total_steps
        self.state.total_steps = int(total) if total else None
        self.state.last_step = max(self.state.last_step, step)
        elapsed = time.time() - self.started
        progress: dict[str, Any] = {"step": step, "total_steps": self.state.total_steps,
                                    "elapsed_s": round(elapsed, 1), "openai_event_id": event_id}
        epochs = self._epochs()
        if epochs and self.state.total_steps:
            progress["epoch"] = round(step * epochs / self.state.total_steps, 3)
        if self.state.total_steps and step:
            progress["eta_s"] = round(elapsed / step * (self.state.total_steps - step), 1)
        self._emit("progress", **progress)
        self._metric(step, {k: v for k, v in data.items() if k not in NOT_METRICS}, progress.get("epoch"), event_id)

    def _metric(self, step: int, values: dict[str, Any], epoch: float | None = None,
                event_id: str | None = None) -> None:
        done = self.state.metrics.setdefault(step, {})
        fresh = {}
        for column, value in values.items():
            name, number = metric_name(column), parse_number(value)
            if number is not None and name not in done:
                fresh[name] = number
        if fresh:
            done.update(fresh)
            extra: dict[str, Any] = {"epoch": epoch} if epoch is not None else {}
            if event_id:
                extra["openai_event_id"] = event_id
            self._emit("metric", step=step, **extra, **fresh)

    def _note_job(self, job: Any) -> None:
        """Remember what the job resolved ("auto" epochs become a number once it runs)."""
        epochs = getattr(job.hyperparameters, "n_epochs", None) if job.hyperparameters else None
        if isinstance(epochs, int):
            self._resolved_epochs = epochs

    def _epochs(self) -> int | None:
        value = getattr(self, "_resolved_epochs", None)
        return value if isinstance(value, int) else None

    def _new_checkpoints(self, job: Any) -> None:
        page = self.client.fine_tuning.jobs.checkpoints.list(self.state.job_id, limit=100)
        for checkpoint in self._pages(page, self.state.seen_checkpoints):
            self.state.seen_checkpoints.add(checkpoint.id)
            model_id = checkpoint.fine_tuned_model_checkpoint
            metrics = checkpoint.metrics.model_dump(exclude_none=True) if checkpoint.metrics else {}
            self._emit("checkpoint", step=checkpoint.step_number, model_id=model_id, checkpoint_id=checkpoint.id,
                       metrics={metric_name(k): v for k, v in metrics.items() if k != "step"},
                       register_model=self._model_entry(model_id, step=checkpoint.step_number))

    def _model_entry(self, remote_model: str, step: int | None = None) -> dict[str, Any]:
        return {"kind": MODEL_KIND, "remote_model": remote_model, "base_model": self.cfg.model,
                "run_id": self.ctx.run_id, "step": step,
                "price_input_per_m": self.cfg.price_input_per_m, "price_output_per_m": self.cfg.price_output_per_m,
                "prompt_template": self.cfg.prompt_template}

    # -- the end ---------------------------------------------------------------------------------
    def _finish(self, job: Any) -> None:
        self._new_events()
        self._new_checkpoints(job)
        if job.status == "cancelled":
            self._emit("status", status="cancelled", message="The OpenAI job was cancelled.",
                       remote_job_id=job.id)
            return
        if job.status == "failed":
            reason = (job.error.message if job.error and job.error.message else "OpenAI gave no reason").rstrip(".")
            code = f" ({job.error.code})" if job.error and job.error.code else ""
            raise JobFailedError(f"The OpenAI fine-tuning job {job.id} failed{code}: {reason}.")
        for row in self._result_rows(job):
            self._metric(int(row["step"]), {k: v for k, v in row.items() if k != "step"})
        self._emit("result", **self._result(job))
        self._emit("status", status="succeeded", message=None, remote_job_id=job.id)

    def _result_rows(self, job: Any) -> list[dict[str, float]]:
        rows: list[dict[str, float]] = []
        for file_id in job.result_files or []:
            try:
                rows.extend(parse_result_csv(self.client.files.content(file_id).read()))
            except (openai.OpenAIError, UnicodeDecodeError, csv.Error) as exc:
                self._log("warning", f"Could not read the result file {file_id}: {explain(exc)}")
        return rows

    def _result(self, job: Any) -> dict[str, Any]:
        tokens = job.trained_tokens
        price = self.cfg.price_training_per_m
        cost = tokens * price / 1e6 if tokens is not None and price is not None else None
        if cost is None:
            self._log("warning", "The actual cost is unknown: no training price for "
                                 f"{self.cfg.model} was in the run's config.")
        steps = sorted(self.state.metrics)   # every metric emitted, from the events and the result file
        train = [self.state.metrics[s]["train_loss"] for s in steps if "train_loss" in self.state.metrics[s]]
        evals = [self.state.metrics[s]["eval_loss"] for s in steps if "eval_loss" in self.state.metrics[s]]
        remote_s = (job.finished_at - job.created_at) if job.finished_at and job.created_at else None
        local_s = round(time.time() - self.started, 1)
        hyper = job.hyperparameters.model_dump() if job.hyperparameters else {}
        return {
            "fine_tuned_model": job.fine_tuned_model, "trained_tokens": tokens, "actual_cost_usd": cost,
            # the job's own duration (queue included) is the training time to compare; a re-attached
            # subprocess saw only part of it
            "wall_s": remote_s if remote_s else local_s, "remote_wall_s": remote_s, "watch_wall_s": local_s,
            "tokens_per_s": round(tokens / remote_s, 1) if tokens and remote_s else None,
            "final_loss": train[-1] if train else None,
            "best_loss": min(evals) if evals else (min(train) if train else None),
            "final_eval_loss": evals[-1] if evals else None,
            "steps": max(steps, default=self.state.last_step) or None,
            "hyperparameters": hyper, "remote_job_id": job.id, "result_files": list(job.result_files or []),
            "peak_rss_mb": None, "peak_gpu_mb": None, "device": "openai",
            "register_model": self._model_entry(job.fine_tuned_model) if job.fine_tuned_model else None,
        }
