"""Launching, supervising, cancelling and resuming training runs (local LoRA; OpenAI, Together and
Fireworks hosted jobs).

A run is a subprocess, ``python -m core.training.trainer RUN_DIR`` (argument list, no shell, its own
process group), that talks to the app only through its folder resultados/runs/<run_id>/
(core/training/backends/base.py). The app, the only database writer, ingests the folder's events from the
last byte offset on every poll; a run whose process is gone without a final status is marked
``lost`` with its last heartbeat. What a run trains on, and its estimate, come from core/training/run_data.py. So a run survives a page reload, a second tab and an app
restart: the next poll finds it again.

    config = TrainConfig.from_preset("cpu-demo", data="seed-study")
    run_id = launch(store, config)                  # returns at once; the run trains in the background
    poll(store)                                     # ingest events, detect lost runs (the page's timer)
    cancel_run(store, run_id)                       # cancel file, grace period, then kill the group
    resume_run(store, run_id)                       # continue from the last checkpoint

With more than one CUDA device the same run starts under ``accelerate launch --multi_gpu`` (one
process per GPU, rank 0 writes the events). The training settings are ``TrainConfig``
(core/training/config.py), re-exported here.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import secrets as _secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.config import mask_secrets
from core.errors import UserFacingError
from core.paths import runs_dir
from core.processes import Children, start_detached, write_json
from core.store import Store
from core.store import runs as db
from core.study import lineage
from core.training.backends.base import (
    CANCEL_FILE,
    CONFIG_FILE,
    EVENTS_FILE,
    HEARTBEAT_FILE,
    LOG_FILE,
    latest_checkpoint,
    read_events,
)
from core.training.config import PROVIDER_NAMES, PROVIDER_SECTIONS, TrainConfig
from core.training.run_data import check_data, estimate_run, resolve_data
from core.training.run_data import cuda_devices as _cuda_devices

ACTIVE_POLL_S = 2.0
_CHILDREN = Children()   # started by this process, so that polling them reaps them


class RunNotFoundError(UserFacingError):
    """No run has that id."""


class RunStateError(UserFacingError):
    """The run cannot do that now (cancel a finished run, resume a running one, ...)."""


class LaunchError(UserFacingError):
    """The training process could not be started."""



# -- launching -------------------------------------------------------------------------------------
def new_run_id(config: TrainConfig) -> str:
    model = config.remote_model()
    slug = re.sub(r"[^a-z0-9]+", "-", Path(model).name.lower()).strip("-")[:24] or "model"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-{_secrets.token_hex(2)}"


def train_command(run_dir: Path, config: TrainConfig, resume: bool = False) -> list[str]:
    """The argument list of the training process: ``accelerate launch`` on several GPUs."""
    tail = ["-m", "core.training.trainer", str(run_dir)] + (["--resume"] if resume else [])
    gpus = _cuda_devices() if config.backend == "local" and config.multi_gpu and config.device in ("auto", "cuda") else 0
    if gpus > 1:
        # autocast is the backend's own business: accelerate only starts one process per GPU (DDP)
        return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(gpus),
                "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", *tail]
    return [sys.executable, *tail]


# Every hosted provider's key variable: a hosted run's process gets its own provider's key only.
_PROVIDER_KEYS = {"openai": ("OPENAI_API_KEY",), "together": ("TOGETHER_API_KEY",), "fireworks": ("FIREWORKS_API_KEY",)}


def child_env(backend: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The training process's environment: the app's, the extra ``env`` (a typed key), and for a
    hosted run none of the other providers' keys (a Together job never sees the OpenAI key)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    if backend in _PROVIDER_KEYS:
        for other, names in _PROVIDER_KEYS.items():
            if other != backend:
                for name in names:
                    full_env.pop(name, None)
    return full_env


def _spawn(run_id: str, run_dir: Path, command: list[str], env: dict[str, str] | None,
           backend: str = "local") -> subprocess.Popen:
    try:
        process = start_detached(command, child_env(backend, env), run_dir / LOG_FILE)
    except OSError as exc:
        raise LaunchError(f"The training process could not be started ({exc.strerror or exc}).") from None
    _CHILDREN.add(run_id, process)
    return process


def launch(store: Store, config: TrainConfig, env: dict[str, str] | None = None,
           estimate: Any = None) -> str:
    """Start a run in the background and return its id (row, folder and process exist by then).

    ``env`` carries secrets (a key typed in the page: ``core.hosted.openai_finetune.launch_env`` or
    ``core.hosted.models.launch_env(backend, key)``) to the subprocess only; the config written to
    the run folder and the database has every secret-looking value masked.
    """
    config.validate()
    data = resolve_data(store, config)
    check_data(data)
    config = config.for_launch(store)
    if config.backend == "openai" and not config.openai.get("training_file") and data.kind == "file":
        config.openai["training_file"] = str(data.path)
    if estimate is None:
        estimate = estimate_run(store, config, data)
    run_id = new_run_id(config)
    run_dir = runs_dir() / run_id
    run_dir.mkdir(parents=True)
    stored = mask_secrets({**config.run_record(), "data_path": str(data.path), "curated_name": data.curated_name,
                           "curated_version": data.curated_version})
    write_json(run_dir / CONFIG_FILE, stored)
    base_model = config.remote_model()
    # the recipe step (if any) and the fingerprints of the run's inputs, for `study diff` and page 5
    lineage_json = lineage.to_json(lineage.record(lineage.run_inputs(store, config, data)))
    with store.transaction():
        db.insert_run(store, {
            "id": run_id, "backend": config.backend, "base_model": base_model, "curated_name": data.curated_name,
            "curated_version": data.curated_version, "data_path": str(data.path), "format": config.format,
            "config_json": json.dumps(stored, ensure_ascii=False, sort_keys=True), "status": "starting",
            "run_dir": str(run_dir), "estimated_cost_usd": getattr(estimate, "total_cost_usd", None),
            "estimated_wall_s": getattr(estimate, "time_s", None), "lineage_json": lineage_json,
        })
    if estimate is not None:
        with contextlib.suppress(Exception):
            from core.costs.estimates import save_estimate

            save_estimate(store, estimate, run_id=run_id)
    try:
        process = _spawn(run_id, run_dir, train_command(run_dir, config), env, config.backend)
    except LaunchError as exc:
        db.mark_ended(store, run_id, "failed", str(exc))
        raise
    db.update_run(store, run_id, pid=process.pid)
    return run_id


# -- supervising -----------------------------------------------------------------------------------
STARTING_GRACE_S = 120.0  # a run with no pid and no heartbeat yet is starting, not lost, this long


def process_alive(run: dict[str, Any]) -> bool:
    """Whether the run's process (the pid the launcher recorded) still runs this run."""
    pid = run.get("pid")
    child = _CHILDREN.get(run["id"])
    if child is not None and (child.pid == pid or not pid):
        return child.poll() is None
    if not pid:
        # launched a moment ago, here or by another process, its pid not stored yet: a fresh heartbeat,
        # or a run folder written moments ago (the supervisor may read the new row before the launcher
        # has spawned the process; under load that took seconds, and a newcomer's first run was lost)
        age = heartbeat_age(run)
        if age is not None:
            return age < 30
        try:
            return time.time() - (Path(run["run_dir"]) / CONFIG_FILE).stat().st_mtime < STARTING_GRACE_S
        except OSError:
            return False
    try:
        import psutil

        proc = psutil.Process(int(pid))
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        # the pid may have been reused by an unrelated process after a reboot
        return str(Path(run["run_dir"]).name) in " ".join(proc.cmdline())
    except (psutil.Error, ValueError, OSError):
        return False


def read_heartbeat(run: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return json.loads((Path(run["run_dir"]) / HEARTBEAT_FILE).read_text())
    except (OSError, ValueError):
        return None


def heartbeat_age(run: dict[str, Any]) -> float | None:
    beat = read_heartbeat(run)
    return time.time() - float(beat["t"]) if beat and beat.get("t") else None


def _register(store: Store, event: dict[str, Any]) -> None:
    """The registry hook of ingestion: models an event carries become usable in the playground.
    Routed on the entry's kind first: a Together or Fireworks fine-tune is registered as
    ``together:…`` / ``fireworks:…`` with its own provider's chat URL, never as an OpenAI model (which
    would send it the OpenAI key)."""
    entry = event.get("register_model")
    if not isinstance(entry, dict):
        return
    kind = entry.get("kind")
    if kind == "local-finetune" and entry.get("adapter_path"):
        from core.models.registry import add_local_finetune

        add_local_finetune(store, str(entry["run_id"]), str(entry["base_model"]), entry["adapter_path"],
                           step=entry.get("step"), prompt_template=entry.get("prompt_template"),
                           price_per_hour=entry.get("price_per_hour"))
    elif kind in ("together-finetune", "fireworks-finetune"):
        from core.hosted.models import register_model_from_event as register_hosted

        register_hosted(store, event)
    elif entry.get("remote_model") and kind in (None, "openai-finetune"):
        from core.hosted.openai_finetune import register_model_from_event

        register_model_from_event(store, event)


def ingest_run(store: Store, run: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply the run's new events (one transaction); returns them."""
    run_dir = Path(run["run_dir"])
    beat = read_heartbeat(run)
    return db.ingest_events(store, run["id"], lambda offset: read_events(run_dir, offset),
                            on_event=lambda event: _register(store, event),
                            heartbeat=float(beat["t"]) if beat and beat.get("t") else None)


def check_run(store: Store, run: dict[str, Any]) -> dict[str, Any]:
    """Ingest one active run and mark it lost if its process died without a final status."""
    ingest_run(store, run)
    current = db.get_run(store, run["id"]) or run
    if current["status"] not in db.TERMINAL and _folder_gone(Path(current["run_dir"])):
        return _folder_removed(store, current)
    if current["status"] in db.TERMINAL or process_alive(current):
        return current
    ingest_run(store, current)  # it may have written its last lines just before exiting
    current = db.get_run(store, run["id"]) or current
    if current["status"] not in db.TERMINAL:
        beat = read_heartbeat(current)
        when = time.strftime("%H:%M:%S", time.localtime(float(beat["t"]))) if beat and beat.get("t") else None
        cancelled = (Path(current["run_dir"]) / CANCEL_FILE).exists()
        message = ("Stopped by the user; the process was ended before it reported (saved checkpoints are kept)."
                   if cancelled else
                   "The training process stopped without reporting an end"
                   + (f" (last heartbeat at {when})" if when else " (it never sent a heartbeat)")
                   + "; see output.log, and resume it from its last checkpoint if it has one.")
        db.mark_ended(store, current["id"], "cancelled" if cancelled else "lost", message,
                      float(beat["t"]) if beat and beat.get("t") else None)
        current = db.get_run(store, run["id"]) or current
    _CHILDREN.pop(run["id"])
    return current


def _folder_gone(run_dir: Path) -> bool:
    """config.json (written by the launcher) and events.jsonl are both gone: someone removed the
    folder (a checkpoint being saved may have recreated a bare one since)."""
    return not (run_dir / CONFIG_FILE).exists() and not (run_dir / EVENTS_FILE).exists()


def _folder_removed(store: Store, run: dict[str, Any]) -> dict[str, Any]:
    """The run folder is gone: the process can no longer report (its events go to a deleted file),
    so stop it and say why, instead of showing a run that never moves again."""
    if run.get("pid") and process_alive(run):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(run["pid"]), signal.SIGKILL)
    db.mark_ended(store, run["id"], "failed",
                  f"The run folder {run['run_dir']} was removed while the run was going, so the run was stopped; "
                  "its events, checkpoints and log are gone (launch it again).")
    child = _CHILDREN.pop(run["id"])
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
    return db.get_run(store, run["id"]) or run


def poll(store: Store) -> list[dict[str, Any]]:
    """One supervision pass over every run that has not ended; returns them as they are now."""
    return [check_run(store, run) for run in db.active_runs(store)]


_SUPERVISORS: dict[int, tuple[Store, threading.Thread]] = {}
_SHUTDOWN = threading.Event()


def start_supervisor(store: Store, interval: float = ACTIVE_POLL_S) -> threading.Thread:
    """A daemon thread that polls while the app runs (idempotent per store): runs are ingested and
    their models registered even when nobody looks at the training page."""
    known = _SUPERVISORS.get(id(store))
    if known is not None and known[0] is store and known[1].is_alive():
        return known[1]

    def loop() -> None:
        while not _SHUTDOWN.is_set() and _SUPERVISORS.get(id(store), (None,))[0] is store:
            with contextlib.suppress(Exception):  # a failed pass is retried; the page shows errors
                poll(store)
            _SHUTDOWN.wait(interval)

    thread = threading.Thread(target=loop, daemon=True, name="run-supervisor")
    _SUPERVISORS[id(store)] = (store, thread)
    thread.start()
    return thread


def stop_supervisor(store: Store) -> None:
    _SUPERVISORS.pop(id(store), None)


@atexit.register
def _stop_supervisors() -> None:
    # A daemon thread killed inside a DuckDB call at interpreter exit aborts the process: let the
    # passes in flight finish first.
    _SHUTDOWN.set()
    for _, thread in list(_SUPERVISORS.values()):
        thread.join(timeout=10)


def get_run(store: Store, run_id: str) -> dict[str, Any]:
    found = db.find_run(store, run_id)
    if not found:
        raise RunNotFoundError(f"There is no run {run_id!r}; `python -m core runs` lists them.")
    if len(found) > 1:
        raise RunNotFoundError(f"{run_id!r} matches {len(found)} runs; give more of the id.")
    return found[0]


# -- cancel and resume -----------------------------------------------------------------------------
def _signal_group(run: dict[str, Any], sig: int) -> None:
    if run.get("pid") and process_alive(run):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(run["pid"]), sig)


def _wait_end(store: Store, run_id: str, seconds: float) -> dict[str, Any]:
    end = time.time() + seconds
    while True:
        run = check_run(store, db.get_run(store, run_id) or {"id": run_id})
        if run["status"] in db.TERMINAL or not process_alive(run) or time.time() >= end:
            return run
        time.sleep(0.25)


def cancel_run(store: Store, run_id: str, grace_s: float | None = None, wait: bool = True) -> dict[str, Any]:
    """Ask the run to stop (cancel file); after ``grace_s`` end its whole process group (SIGTERM,
    then SIGKILL). ``wait=False`` returns at once and escalates in a background thread (the page).
    A Together or Fireworks run whose process is gone (lost) has its remote job cancelled directly."""
    run = get_run(store, run_id)
    if run["status"] not in db.TERMINAL and not process_alive(run):
        run = check_run(store, run)   # the process died unseen: the run is lost now
    if run["status"] == "lost" and run["backend"] in PROVIDER_SECTIONS and run.get("remote_job_id"):
        return cancel_remote_job(store, run)
    if run["status"] in db.TERMINAL:
        raise RunStateError(f"Run {run['id']} has already ended ({run['status']}).")
    (Path(run["run_dir"]) / CANCEL_FILE).touch()
    grace = grace_s if grace_s is not None else float(db.config_of(run).get("grace_s") or 20.0)

    def escalate() -> dict[str, Any]:
        current = _wait_end(store, run["id"], grace)
        if process_alive(current):
            _signal_group(current, signal.SIGTERM)
            current = _wait_end(store, run["id"], 5.0)
        if process_alive(current):
            _signal_group(current, signal.SIGKILL)
            current = _wait_end(store, run["id"], 5.0)
        return check_run(store, current)

    if wait:
        return escalate()
    threading.Thread(target=escalate, daemon=True, name=f"cancel-{run['id']}").start()
    return run


def cancel_remote_job(store: Store, run: dict[str, Any]) -> dict[str, Any]:
    """Cancel the Together / Fireworks job of a run whose watching process is gone (the key from the
    environment), and record the run as cancelled; a job that already ended is said so."""
    from core.hosted.common import HostedError
    from core.hosted.models import cancel_job

    provider, job_id = run["backend"], str(run["remote_job_id"])
    try:
        cancel_job(provider, job_id, db.config_of(run).get(provider) or {})
    except HostedError as exc:
        raise RunStateError(f"Run {run['id']}'s job {job_id} could not be cancelled: {exc}") from None
    name = {"together": "Together", "fireworks": "Fireworks"}[provider]
    db.update_run(store, run["id"], status="cancelled",
                  status_message=f"The {name} job {job_id} was cancelled (its watching process had stopped).")
    return db.get_run(store, run["id"]) or run




def resume_blocker(run: dict[str, Any]) -> str | None:
    """Why ``run`` cannot be resumed now (one sentence), or None when resuming can work: a local
    run that stopped with a checkpoint saved; a hosted run whose watching process was lost while
    its job went on (the new process re-attaches to it); a Together or Fireworks run whose job was
    cancelled or failed (Together continues it as a new job from its last checkpoint, Fireworks
    resumes the same job). An OpenAI job that failed or was cancelled stays so at OpenAI, and a
    run that failed before creating a job has nothing to resume."""
    status = run["status"]
    if status == "succeeded":
        return f"Run {run['id']} has already finished; launch a new run to train more."
    if status not in db.TERMINAL:
        return f"Run {run['id']} is still running."
    if run["backend"] == "local":
        if latest_checkpoint(Path(run["run_dir"])) is None:
            return f"Run {run['id']} saved no checkpoint to resume from; launch it again instead."
        return None
    provider = PROVIDER_NAMES.get(run["backend"], run["backend"])
    if not run.get("remote_job_id"):
        return (f"Run {run['id']} ended before {provider} created a job, so there is nothing to resume; "
                "launch it again.")
    if run["backend"] in PROVIDER_SECTIONS:
        return None
    if status != "lost":
        return (f"Run {run['id']}'s OpenAI job ended ({status}); OpenAI does not restart an ended job: "
                "launch a new run.")
    return None


def resume_run(store: Store, run_id: str, env: dict[str, str] | None = None) -> str:
    """Continue a run: a local one from its last checkpoint, an OpenAI one by re-attaching to its
    job (the backend resumes a paused job)."""
    run = get_run(store, run_id)
    if run["backend"] == "openai" and run["status"] == "paused" and process_alive(run):
        # OpenAI hook: the live training process resumes its paused job itself (core/hosted/openai_finetune.py)
        from core.hosted.openai_finetune import resume_openai_run

        resume_openai_run(run)
        return run["id"]
    if run["status"] not in db.TERMINAL and process_alive(run):
        raise RunStateError(f"Run {run['id']} is still running.")
    # a run still marked active whose process is gone is a lost one the supervisor has not seen yet
    blocker = resume_blocker({**run, "status": run["status"] if run["status"] in db.TERMINAL else "lost"})
    if blocker:
        raise RunStateError(blocker)
    run_dir = Path(run["run_dir"])
    config = TrainConfig.from_run_config(db.config_of(run))
    (run_dir / CANCEL_FILE).unlink(missing_ok=True)
    db.prepare_resume(store, run["id"])
    try:
        process = _spawn(run["id"], run_dir, train_command(run_dir, config, resume=True), env, config.backend)
    except LaunchError as exc:
        db.mark_ended(store, run["id"], "failed", str(exc))
        raise
    db.update_run(store, run["id"], pid=process.pid)
    return run["id"]


def follow(store: Store, run_id: str, on_update: Callable[[dict[str, Any]], None],
           interval: float = 1.0) -> dict[str, Any]:
    """Poll one run until it ends, calling ``on_update`` with its row each time (the CLI's progress
    bar). Ctrl-C cancels the run (and waits for it to stop) before re-raising."""
    try:
        while True:
            run = check_run(store, db.get_run(store, run_id) or {"id": run_id})
            on_update(run)
            if run["status"] in db.TERMINAL:
                return run
            time.sleep(interval)
    except KeyboardInterrupt:
        with contextlib.suppress(UserFacingError):
            cancel_run(store, run_id)
        raise


def run_log_tail(run: dict[str, Any], lines: int = 40) -> str:
    path = Path(run["run_dir"]) / LOG_FILE
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64_000))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
