"""The contract between the run supervisor (core/training/jobs.py) and a backend in its subprocess.

A run folder ``resultados/runs/<run_id>/`` holds:
  config.json    the run's config (secrets masked), written by the launcher
  events.jsonl   one JSON object per line, appended and flushed by the subprocess only
  heartbeat      rewritten every few seconds by the subprocess: ``{"pid": .., "t": ..}``
  cancel         created by the supervisor to ask for a graceful stop
  output.log     the subprocess's stdout and stderr
  (local) checkpoints/, adapter/, merged/

The subprocess never opens the database (DuckDB allows one process per file); the app ingests
events.jsonl from the last byte offset it read. Every event has ``type`` and ``t`` (unix time):
  status      status: starting|validating_files|queued|running|paused|succeeded|failed|cancelled,
              message (one sentence for failures)
  progress    step, total_steps, epoch, tokens_seen, tokens_per_s, elapsed_s, eta_s
  metric      step and any of train_loss, eval_loss, lr, epoch, tokens_seen, train_mean_token_accuracy, ...
  checkpoint  step and path (local) or model_id (openai)
  log         level, message
  result      trained_tokens, wall_s, tokens_per_s, peak_rss_mb, peak_gpu_mb, final_loss, best_loss,
              adapter_path or fine_tuned_model, actual_cost_usd, ...
  resumed     from_step: a resumed process starts again after this step (metrics past it are dropped)
Any event may carry ``register_model`` (a dict: kind local-finetune with adapter_path, or
openai-finetune with remote_model; plus base_model, run_id, step, prices): the supervisor adds
that model to the registry when it ingests the event.
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

EVENTS_FILE = "events.jsonl"
HEARTBEAT_FILE = "heartbeat"
CANCEL_FILE = "cancel"
CONFIG_FILE = "config.json"
LOG_FILE = "output.log"
TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")


class EventWriter:
    """Appends events, one flushed JSON line each, so a reader never sees half a line for long."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / EVENTS_FILE
        self._lock = threading.Lock()
        self._handle = self.path.open("a", encoding="utf-8")
        self.last_status: str | None = None  # so core/training/trainer.py knows whether a terminal status was written

    def emit(self, type_: str, **fields: Any) -> dict[str, Any]:
        event = {"type": type_, "t": round(time.time(), 3), **fields}
        line = json.dumps(event, ensure_ascii=False, default=str)
        with self._lock:
            self._handle.write(line + "\n")
            self._handle.flush()
            if type_ == "status" and fields.get("status"):
                self.last_status = str(fields["status"])
        return event

    def close(self) -> None:
        self._handle.close()


def write_heartbeat(run_dir: Path, **extra: Any) -> None:
    path = Path(run_dir) / HEARTBEAT_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "t": time.time(), **extra}))
    tmp.replace(path)


def read_events(run_dir: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete events after byte ``offset``, and the offset to resume from (a trailing partial
    line is left for next time, so nothing is ingested twice or half)."""
    path = Path(run_dir) / EVENTS_FILE
    if not path.exists():
        return [], offset
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    end = data.rfind(b"\n") + 1
    events = []
    for raw in data[:end].splitlines():
        try:
            events.append(json.loads(raw))
        except json.JSONDecodeError:
            continue  # a torn line from a killed writer: skip it, keep going
    return events, offset + end


@dataclass
class RunContext:
    """What a backend gets in the subprocess."""

    run_id: str
    run_dir: Path
    config: dict[str, Any]
    events: EventWriter
    resume: bool = False
    secrets: dict[str, str] = field(default_factory=dict)  # from the environment, never written

    def cancel_requested(self) -> bool:
        return (self.run_dir / CANCEL_FILE).exists()

    def heartbeat(self, **extra: Any) -> None:
        write_heartbeat(self.run_dir, **extra)


class Backend(Protocol):
    name: str

    def run(self, ctx: RunContext) -> None:
        """Train; emit events; end with a terminal status event. Raise only on bugs."""


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint folder (checkpoints/step-NNNNNN with its state file)."""
    folder = Path(run_dir) / "checkpoints"
    done = [p for p in folder.glob("step-*") if (p / "trainer_state.json").exists()] if folder.is_dir() else []
    return max(done, key=lambda p: int(p.name.split("-")[1]), default=None)
