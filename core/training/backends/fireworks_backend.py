"""The Fireworks backend: a supervised LoRA fine-tune on Fireworks, driven from the training subprocess.

    python -m core.training.trainer RUN_DIR      # config.json {"backend": "fireworks", "fireworks": {...}}; the key
                                      # comes only through the environment (FIREWORKS_API_KEY); the
                                      # account id (not a secret) from the config or FIREWORKS_ACCOUNT_ID

Flow (core/hosted/fireworks.py has the requests): check the file (OpenAI chat JSONL, which
Fireworks takes unchanged), check that the base model exists and is tunable (a rejected key stops
the run here, before any upload), create the dataset, upload the file and wait until it is READY,
create the job (``outputModel`` named after the run), then poll it: its state, its percent done and
epoch (Fireworks has no per-step loss for supervised jobs, so progress events carry
``step`` = percent with ``total_steps`` = 100 and ``step_unit`` = "percent"). A cancel file sends
``:cancel``; a run resumed (``--resume``) whose job was cancelled, failed or paused sends
``:resume``, and the same job goes on from its last checkpoint. ``warm_start_from`` starts a new
job from an earlier fine-tune instead of a base model.

The fine-tuned model answers chat only once deployed, which costs money: the result says so, and
deploying is left to an explicit request (core.hosted.fireworks.deploy).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import option
from core.hosted import fireworks as api
from core.hosted.common import FIREWORKS
from core.training.backends.hosted_common import HostedBackend, HostedTrainConfig

DEFAULT_MODEL = "accounts/fireworks/models/llama-v3p1-8b-instruct"


@dataclass
class FireworksTrainConfig(HostedTrainConfig):
    """A Fireworks fine-tune; built by the page or the CLI, stored (no key) in config.json["fireworks"]."""

    model: str = option(DEFAULT_MODEL, "The Fireworks base model to fine-tune (accounts/fireworks/models/...).")
    account_id: str | None = option(None, "Your Fireworks account id (not a secret); empty uses FIREWORKS_ACCOUNT_ID.")
    output_model: str | None = option(None, "The fine-tuned model's id in your account; empty: made from the "
                                            "suffix and the run id.")
    warm_start_from: str | None = option(None, "Keep training an earlier fine-tune (accounts/<you>/models/<id>) "
                                               "instead of starting from the base model.")
    max_context_length: int | None = option(None, "Longest example in tokens; empty uses the model's default.")
    dataset_wait_s: float = option(300.0, "How long to wait for Fireworks to read the uploaded file.")

    SECTION = "fireworks"
    SUFFIX_MAX = 30   # the output model id is at most 63 characters, the run id takes the rest

    def validate(self) -> None:
        super().validate()
        self.check(self.max_context_length is None or self.max_context_length > 0, "max_context_length",
                   "must be a positive number of tokens")


class FireworksBackend(HostedBackend):
    name = "fireworks"
    provider = FIREWORKS
    config_cls = FireworksTrainConfig

    def connect(self) -> None:
        cfg = self.cfg
        self.client = api.make_client(self.key, cfg.account_id, cfg.base_url, timeout=cfg.request_timeout_s,
                                      max_retries=cfg.max_retries)
        self.account = str(self.client.account_id)

    def start_job(self, train: Path, valid: Path | None) -> bool:
        cfg, run_id = self.cfg, self.ctx.run_id
        api.check_model(self.client, cfg.warm_start_from or cfg.model)
        self.state.training_file_id = self._upload(train, f"{run_id}-train")
        if valid is not None:
            self.state.validation_file_id = self._upload(valid, f"{run_id}-valid")
        self.save_state()
        if self.cancelled_before_job():
            return False
        output = cfg.output_model or api.resource_id(f"{cfg.suffix or 'ft'}-{run_id}")
        job = api.create_job(self.client, api.JobSettings(
            dataset=str(self.state.training_file_id), model=None if cfg.warm_start_from else cfg.model,
            warm_start_from=cfg.warm_start_from, output_model=output, epochs=cfg.n_epochs,
            learning_rate=cfg.learning_rate, lora_rank=cfg.lora_rank, evaluation_dataset=self.state.validation_file_id,
            display_name=run_id, max_context_length=cfg.max_context_length, job_id=api.resource_id(run_id)))
        self.state.job_id = api.job_id_of(job)
        quoted = api.estimated_cost_usd(job)
        self.state.estimate = {"total_usd": quoted} if quoted is not None else None
        self.save_state()
        self._log("info", f"Created Fireworks fine-tuning job {self.state.job_id} (output model {output})"
                          + (f"; Fireworks estimates ${quoted:,.2f}." if quoted is not None else "."))
        self._set_status(api.status_of(job))
        return True

    def _upload(self, path: Path, dataset_id: str) -> str:
        lines = sum(1 for line in path.open(encoding="utf-8") if line.strip())
        name = api.upload_dataset(self.client, path, api.resource_id(dataset_id), n_examples=lines,
                                  wait_s=self.cfg.dataset_wait_s, poll_s=min(2.0, self.cfg.poll_interval_s))
        self._log("info", f"Uploaded {path.name} ({lines} examples) as the Fireworks dataset {name}.")
        return name

    def on_resume(self, status: str) -> None:
        if status not in ("cancelled", "failed", "paused"):
            return
        job_id = str(self.state.job_id)
        self._log("info", f"Resuming Fireworks job {job_id} from its last checkpoint.")
        self._emit("resumed", from_step=self.state.last_step, remote_job_id=job_id)
        job = api.resume(self.client, job_id)
        self.state.cancel_sent, self.state.status = False, None
        self._set_status(api.status_of(job))

    def poll(self) -> tuple[str, Any]:
        job = api.get_job(self.client, str(self.state.job_id))
        percent, epoch = api.progress(job)
        if percent is not None and int(percent) > self.state.last_step:
            elapsed = time.time() - self.started
            step = int(percent)
            self.state.last_step = step
            done = {"step": step, "total_steps": 100, "step_unit": "percent", "percent": percent,
                    "elapsed_s": round(elapsed, 1)}
            if epoch is not None:
                done["epoch"] = epoch
            if 0 < percent < 100:
                done["eta_s"] = round(elapsed / percent * (100 - percent), 1)
            self._emit("progress", **done)
        return api.status_of(job), job

    def cancel_remote(self) -> None:
        api.cancel(self.client, str(self.state.job_id))

    def failure(self, job: Any) -> str:
        return api.failure_reason(job)

    def result(self, job: Any) -> dict[str, Any]:
        cfg = self.cfg
        output = api.output_model(job, self.account)
        progress = job.job_progress
        tokens = progress.input_tokens if progress and progress.input_tokens else None
        price = cfg.price_training_per_m
        cost = tokens * price / 1e6 if tokens is not None and price is not None else None
        created, done = job.create_time, job.completed_time or job.update_time
        remote_s = (done - created).total_seconds() if created and done else None
        deploy_note = api.deploy_cost_sentence(output or "the model", input_per_m=cfg.price_input_per_m,
                                               output_per_m=cfg.price_output_per_m)
        self._log("info", deploy_note)
        return {
            "fine_tuned_model": output, "trained_tokens": tokens, "actual_cost_usd": cost,
            "estimated_cost_usd": (self.state.estimate or {}).get("total_usd"),
            "wall_s": remote_s or round(time.time() - self.started, 1), "remote_wall_s": remote_s,
            "watch_wall_s": round(time.time() - self.started, 1),
            "tokens_per_s": round(tokens / remote_s, 1) if tokens and remote_s else None,
            **self.loss_summary(),
            "hyperparameters": {"n_epochs": job.epochs or cfg.n_epochs, "learning_rate": job.learning_rate,
                                "lora_r": job.lora_rank or cfg.lora_rank},
            "remote_job_id": self.state.job_id, "peak_rss_mb": None, "peak_gpu_mb": None, "device": "fireworks",
            "needs_deploy": True, "deploy_note": deploy_note,
            "register_model": self.model_entry(api.MODEL_KIND, output, chat_base_url=api.chat_base_url(cfg.base_url),
                                               needs_deploy=True, account_id=self.account) if output else None,
        }
