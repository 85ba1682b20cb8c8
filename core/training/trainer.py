"""The training subprocess: ``python -m core.training.trainer RUN_DIR [--resume]``.

Started by core/training/jobs.py (never by hand, though it works): reads RUN_DIR/config.json, picks the
backend (``config["backend"]``: local, openai, together or fireworks) and runs it. It never opens the database; it
talks to the app only through the run folder (core/training/backends/base.py): events.jsonl, a heartbeat
rewritten every few seconds by a thread, and the cancel file. Secrets come only from the
environment (``SECRET_ENV``), never from config.json.

Whatever happens the run ends with a terminal status event: the backend's own, or ``failed`` with
the reason in one sentence (bad data, a model that cannot be loaded, out of memory, a bug) while
the traceback goes to stderr, which the launcher sends to RUN_DIR/output.log. SIGTERM (the
supervisor's second step of a cancel) asks the backend to stop like the cancel file does.

Under ``accelerate launch`` (several GPUs) every rank runs this; only rank 0 writes events and the
heartbeat.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import shutil
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.errors import UserFacingError
from core.training.backends.base import (
    CANCEL_FILE,
    CONFIG_FILE,
    TERMINAL_STATUSES,
    EventWriter,
    RunContext,
    write_heartbeat,
)

# Each hosted backend reads only its own provider's key from here (FIREWORKS_ACCOUNT_ID is not a
# secret: it rides in config.json or the environment).
SECRET_ENV = ("OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "HF_TOKEN", "TOGETHER_API_KEY",
              "FIREWORKS_API_KEY")
HEARTBEAT_S = 3.0
DISK_FULL_BYTES = 4 << 20  # less free space than this where the run writes: call it full


class _SilentEvents:
    """The event writer of ranks other than 0: every call is a no-op."""

    last_status: str | None = None

    def emit(self, type_: str, **fields: Any) -> dict[str, Any]:
        return {"type": type_, **fields}

    def close(self) -> None:
        pass


def _rank() -> int:
    return int(os.environ.get("RANK", "0") or 0)


def secrets_from_env() -> dict[str, str]:
    return {name: os.environ[name] for name in SECRET_ENV if os.environ.get(name)}


def _disk_nearly_full(folder: Path | None) -> bool:
    try:
        return folder is not None and shutil.disk_usage(folder).free < DISK_FULL_BYTES
    except OSError:
        return False


def explain_crash(exc: BaseException, run_dir: Path | None = None) -> str:
    """One sentence for an unexpected failure (the traceback is in output.log)."""
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, MemoryError) or "out of memory" in text.lower() or name == "OutOfMemoryError":
        return ("The run ran out of memory: lower the batch size or the maximum sequence length, "
                "or use a smaller model (details in output.log).")
    # safetensors and torch wrap the OS error in their own classes ("file write failed"): look at
    # the text, and at the disk itself
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "no space left on device" in str(exc).lower() \
            or _disk_nearly_full(run_dir):
        return ("The disk is full (no space left on device while the run wrote its files): free some space, "
                "then resume the run from its last checkpoint.")
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
        return f"The training data could not be read ({name}: {text[:200]}); see output.log."
    text = text[:300].rstrip(".")
    return f"The run crashed with {name}{': ' + text if text else ''} (the traceback is in output.log)."


class _Heartbeat(threading.Thread):
    """Rewrites the heartbeat file every few seconds while the process lives; the supervisor
    shows its time when a run is lost."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(daemon=True, name="heartbeat")
        self.run_dir = run_dir
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            # a full disk must not kill the training; the run may look lost, that is all
            with contextlib.suppress(OSError):
                write_heartbeat(self.run_dir)
            self.stopped.wait(HEARTBEAT_S)


def _quietly(func: Any, *args: Any, **kwargs: Any) -> None:
    """Last words of a failing run: on a full disk or a removed run folder they cannot be written,
    and trying must not turn one failure into a second traceback (the supervisor marks it lost)."""
    try:
        func(*args, **kwargs)
    except OSError as exc:
        print(f"could not record the end of the run ({exc})", file=sys.stderr)


def run(run_dir: Path, resume: bool = False) -> str:
    """Run the backend for ``run_dir``; returns the final status."""
    run_dir = run_dir.resolve()
    main_rank = _rank() == 0
    events: Any = EventWriter(run_dir) if main_rank else _SilentEvents()
    heartbeat = _Heartbeat(run_dir)
    if main_rank:
        heartbeat.start()

    def on_sigterm(signum: int, frame: Any) -> None:
        # The supervisor's cancel escalates to SIGTERM after a grace period: treat it as one more
        # cancel request; a backend that still does not stop gets SIGKILL.
        (run_dir / CANCEL_FILE).touch()

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        config = json.loads((run_dir / CONFIG_FILE).read_text(encoding="utf-8"))
        events.emit("status", status="starting", message=None, pid=os.getpid() if main_rank else None,
                    resume=resume)
        from core.training.backends import get_backend

        ctx = RunContext(run_id=run_dir.name, run_dir=run_dir, config=config, events=events, resume=resume,
                         secrets=secrets_from_env())
        get_backend(str(config.get("backend", "local"))).run(ctx)
        if events.last_status not in TERMINAL_STATUSES:
            events.emit("status", status="failed", message="The backend stopped without saying how the run ended.")
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _quietly(events.emit, "log", level="error", message=str(exc))
        _quietly(events.emit, "status", status="failed", message=str(exc))
    except (Exception, MemoryError) as exc:
        traceback.print_exc()
        _quietly(events.emit, "log", level="error",
                 message="".join(traceback.format_exception_only(exc)).strip()[:2000])
        _quietly(events.emit, "status", status="failed", message=explain_crash(exc, run_dir))
    except KeyboardInterrupt:
        _quietly(events.emit, "status", status="cancelled", message="Interrupted.")
    finally:
        heartbeat.stopped.set()
        if main_rank:
            _quietly(write_heartbeat, run_dir, done=True)
        sys.stderr.flush()
        sys.stdout.flush()
        _quietly(events.close)
    return events.last_status or "failed"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.training.trainer", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="The run folder (resultados/runs/<run_id>) with config.json.")
    parser.add_argument("--resume", action="store_true", help="Continue from the run's last checkpoint.")
    args = parser.parse_args(argv)
    if not (args.run_dir / CONFIG_FILE).exists():
        print(f"error: {args.run_dir / CONFIG_FILE} does not exist.", file=sys.stderr)
        return 2
    return 0 if run(args.run_dir, resume=args.resume) == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
