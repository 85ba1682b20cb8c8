"""Long work of the app in background threads, found again by key from any session or after a reload.

    tasks = Tasks(keep=3)
    task = tasks.start(("read", path, stamp), lambda progress: slow_work(progress=progress))
    task.done, task.fraction, task.message, task.result, task.error, task.wait(timeout)

Why: work done inside a Streamlit script run dies with that run — a reload, a slider moved while a
1.7 GB file is read, a closed tab — and starts again from nothing on the next run. Here the work runs
in a daemon thread of the app process; a page only follows it (draws its progress, then uses its
result), and any later run of any session that asks for the same key gets the same task, running or
finished. The ``keep`` most recently asked finished tasks are kept (running ones are never dropped).
A failed task is handed out once with its exception (the page shows it); the next ``start`` of that
key tries again — the failure may have been passing (a database locked by another process).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

Progress = Callable[[float, str], None]


@dataclass
class Task:
    """One piece of work: its progress while it runs, then its result or its exception."""

    key: Hashable
    started_at: float = field(default_factory=time.time)
    fraction: float = 0.0
    message: str = ""
    result: Any = None
    error: BaseException | None = None
    ended_at: float | None = None
    state: Any = None  # what the work fills as it goes, for followers to read (core.models.live_answers' batch)
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def done(self) -> bool:
        return self.finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work ends (or ``timeout`` seconds); True when it has."""
        return self.finished.wait(timeout)

    def outcome(self) -> Any:
        """The result of a finished task, or its exception raised again."""
        if not self.done:
            raise RuntimeError(f"task {self.key!r} is still running")
        if self.error is not None:
            raise self.error
        return self.result

    def report(self, fraction: float, message: str) -> None:
        """The Progress callback the work is given."""
        self.fraction, self.message = max(0.0, min(1.0, float(fraction))), message


class Tasks:
    """A keyed set of background tasks (one per app process: the page keeps it in st.cache_resource)."""

    def __init__(self, keep: int = 3, name: str = "task") -> None:
        self.keep = keep
        self.name = name
        self._tasks: OrderedDict[Hashable, Task] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, key: Hashable, work: Callable[[Progress], Any], state: Any = None) -> Task:
        """The task for ``key``: the one running or finished well, else ``work`` started now (also
        after a failure, which the previous start handed out), with ``state`` attached."""
        with self._lock:
            task = self._tasks.get(key)
            if task is not None and not (task.done and task.error is not None):
                self._tasks.move_to_end(key)
                return task
            task = Task(key, state=state)
            self._tasks[key] = task
            self._trim()
        threading.Thread(target=self._run, args=(task, work), daemon=True,
                         name=f"{self.name}-{len(self._tasks)}").start()
        return task

    def get(self, key: Hashable) -> Task | None:
        with self._lock:
            return self._tasks.get(key)

    def forget(self, key: Hashable) -> None:
        """Drop a finished task (the next start does the work again); a running one stays."""
        with self._lock:
            task = self._tasks.get(key)
            if task is not None and task.done:
                del self._tasks[key]

    def running(self) -> list[Hashable]:
        with self._lock:
            return [key for key, task in self._tasks.items() if not task.done]

    def _trim(self) -> None:
        finished = [key for key, task in self._tasks.items() if task.done]
        while len(self._tasks) > self.keep and finished:
            del self._tasks[finished.pop(0)]  # oldest asked first

    @staticmethod
    def _run(task: Task, work: Callable[[Progress], Any]) -> None:
        try:
            task.result = work(task.report)
        except BaseException as exc:  # noqa: BLE001 - kept for the page that follows the task
            task.error = exc
        finally:
            task.ended_at = time.time()
            task.finished.set()
