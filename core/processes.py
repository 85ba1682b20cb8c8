"""Detached child processes: the trainer (core/training/jobs.py) and a study's run (core/study/launch.py).

    process = start_detached([sys.executable, "-m", "core.training.trainer", ...], env, run_dir / "log.txt")
    CHILDREN.add(run_id, process)     # CHILDREN.get(run_id).poll() reaps it once it ended
    write_json(run_dir / "config.json", config)

A child starts from the project's root with the project on PYTHONPATH, in a session of its own (a
Ctrl-C or the app's stop does not reach it; its group can be signalled as one), stdin closed and its
output appended to a log file. The process that started it keeps its ``Popen`` so that polling it
reaps it: without that an ended child stays a zombie and looks alive by pid. The JSON files written
beside a child (its config, the launcher's pid file) are replaced atomically, so a reader never sees
half of one.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

from core.paths import PROJECT_ROOT


class Children:
    """The processes this process started, by key (run id, study name), shared by every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, subprocess.Popen[bytes]] = {}

    def add(self, key: str, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._items[key] = process

    def get(self, key: str) -> subprocess.Popen[bytes] | None:
        with self._lock:
            return self._items.get(key)

    def pop(self, key: str) -> subprocess.Popen[bytes] | None:
        with self._lock:
            return self._items.pop(key, None)

    def clear(self) -> None:
        """Forget every child (what a restarted app knows: tests simulate it)."""
        with self._lock:
            self._items.clear()


def start_detached(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` as described above (``env`` is its whole environment); raises OSError when it
    cannot be started, which each caller says in its own sentence."""
    env = {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)}
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)
