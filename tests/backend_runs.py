"""Running a hosted backend (OpenAI, Together, Fireworks) in the test process, as the training
subprocess would, and reading what it wrote; shared by tests/test_openai_backend.py,
tests/test_together.py and tests/test_fireworks.py (imported, not a test module itself).

    ctx = backend_ctx(run_dir, config, "TOGETHER_API_KEY", FAKE_KEY)
    events = run_backend(TogetherBackend(), ctx)
    assert statuses_of(events)[-1] == "succeeded"
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.training.backends.base import EventWriter, RunContext, read_events

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "dados" / "seed" / "trn_gpt4_formatted.jsonl"


def write_examples(path: Path, n: int, start: int = 0) -> Path:
    """``n`` chat examples of the seed file from line ``start``, written to ``path``."""
    lines = SEED_FILE.read_text(encoding="utf-8").splitlines()[start:start + n]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def backend_ctx(run_dir: Path, config: dict, key_env: str, key: str | None, resume: bool = False) -> RunContext:
    """A run folder with ``config`` written in it; the key (if any) given as the launcher gives it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(config))
    return RunContext(run_id=run_dir.name, run_dir=run_dir, config=config, events=EventWriter(run_dir),
                      resume=resume, secrets={key_env: key} if key else {})


def run_backend(backend: Any, ctx: RunContext) -> list[dict]:
    """Run ``backend`` to its end; the events it wrote."""
    try:
        backend.run(ctx)
    finally:
        ctx.events.close()
    return read_events(ctx.run_dir)[0]


def events_of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


def statuses_of(events: list[dict]) -> list[str]:
    return [e["status"] for e in events_of(events, "status")]


def wait_for_events(run_dir: Path, predicate: Callable[[list[dict]], bool], timeout: float = 15.0) -> list[dict]:
    """The run's events once ``predicate`` holds for them (a backend running in another thread)."""
    end = time.time() + timeout
    while time.time() < end:
        events = read_events(run_dir)[0]
        if predicate(events):
            return events
        time.sleep(0.02)
    raise AssertionError(f"timed out; events so far: {read_events(run_dir)[0]}")


def assert_key_nowhere(folder: Path, key: str) -> None:
    """No file below ``folder`` holds ``key`` (and there are files to search)."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert key.encode() not in path.read_bytes(), f"the key was written to {path}"
