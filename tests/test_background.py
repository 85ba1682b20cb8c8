"""Background tasks (core.background) and the page helper that follows them (ui.common.follow_task)."""
from __future__ import annotations

import threading

import pytest

from core.background import Tasks
from core.errors import UserFacingError
from ui.common import follow_task


class Gate:
    """Work that reports progress, then waits until the test lets it finish."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = threading.Event()
        self.reported = threading.Event()

    def __call__(self, progress) -> str:
        self.calls += 1
        progress(0.5, "half way")
        self.reported.set()
        assert self.release.wait(30)
        return "result"


class Stopped(Exception):
    """What Streamlit raises in a script thread at its next st call after a reload or a rerun."""


class StoppingBar:
    def __init__(self) -> None:
        self.shown: list[tuple[float, str]] = []

    def progress(self, fraction: float, text: str) -> None:
        self.shown.append((fraction, text))
        raise Stopped

    def empty(self) -> None:
        pass


class Bar(StoppingBar):
    def progress(self, fraction: float, text: str) -> None:
        self.shown.append((fraction, text))


def test_one_key_one_piece_of_work_seen_by_every_caller() -> None:
    tasks, work = Tasks(), Gate()
    shared = {"rows": 0}
    first = tasks.start("file", work, state=shared)
    assert work.reported.wait(10)
    second = tasks.start("file", work, state={"rows": 1})
    assert second is first and not first.done and second.state is shared
    assert (first.fraction, first.message) == (0.5, "half way")
    assert tasks.running() == ["file"]
    work.release.set()
    assert first.wait(10) and first.outcome() == "result"
    assert work.calls == 1 and tasks.running() == []


def test_a_stopped_script_run_leaves_the_work_going_and_the_next_run_gets_its_result() -> None:
    tasks, work = Tasks(), Gate()
    with pytest.raises(Stopped):  # the page was reloaded while it drew the progress bar
        follow_task(tasks.start("file", work), StoppingBar(), poll_s=0.01)
    work.release.set()
    bar = Bar()
    assert follow_task(tasks.start("file", work), bar) == "result"
    assert work.calls == 1, "the reload did not start the read again"


def test_the_follower_draws_progress_until_the_end() -> None:
    tasks, work = Tasks(), Gate()
    task = tasks.start("file", work)
    assert work.reported.wait(10)
    bar = Bar()
    threading.Timer(0.3, work.release.set).start()
    assert follow_task(task, bar, poll_s=0.05) == "result"
    assert bar.shown and bar.shown[0] == (0.5, "half way")


def test_a_failure_is_shown_once_and_the_next_start_tries_again() -> None:
    tasks, calls = Tasks(), []

    def flaky(progress) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise UserFacingError("the database is locked by another process")
        return "read"

    with pytest.raises(UserFacingError, match="locked"):
        follow_task(tasks.start("file", flaky), Bar())
    assert follow_task(tasks.start("file", flaky), Bar()) == "read", "the next run tries again"
    assert len(calls) == 2
    assert tasks.start("file", flaky).outcome() == "read" and len(calls) == 2
    tasks.forget("file")
    assert tasks.start("file", flaky).wait(10) and len(calls) == 3


def test_only_the_latest_finished_tasks_are_kept_and_running_ones_never_dropped() -> None:
    tasks, slow = Tasks(keep=2), Gate()
    running = tasks.start("slow", slow)
    for key in ("a", "b", "c"):
        assert tasks.start(key, lambda progress, key=key: key.upper()).wait(10)
    tasks.start("d", lambda progress: "D").wait(10)
    assert tasks.get("slow") is running, "a running task is never forgotten"
    assert tasks.get("a") is None and tasks.get("b") is None
    assert tasks.get("d").outcome() == "D"
    tasks.forget("slow")  # still running: stays
    assert tasks.get("slow") is running
    slow.release.set()
    assert running.wait(10)


def test_outcome_of_a_running_task_is_an_error() -> None:
    tasks, work = Tasks(), Gate()
    task = tasks.start("file", work)
    with pytest.raises(RuntimeError, match="still running"):
        task.outcome()
    work.release.set()
    task.wait(10)
