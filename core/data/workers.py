"""Worker processes for reading big raw files: ``ordered_map(func, tasks, workers)`` runs
``func(task)`` in plain ``python -c`` subprocesses and yields the results in task order.

    from core.data.workers import ordered_map
    for block in ordered_map(block_from_range, ranges, workers=2):
        ...

Used by core/data/datasets.py with the block functions of core/data/rowblocks.py; a worker imports
only this module and the module of the function it runs (numpy and core.data.cleaning for those).
"""
from __future__ import annotations

import collections
import contextlib
import os
import pickle
import struct
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from core.errors import UserFacingError
from core.paths import PROJECT_ROOT


class _Workers:
    """Worker processes that run ``func(task)`` for the parent, results read back in task order.

    Plain subprocesses (``python -c`` importing this module) talking pickles over their stdin and
    stdout, rather than multiprocessing: a fresh interpreter imports only this module and numpy
    (~30 MB, where a fork would count a copy of everything the parent loaded), and nothing re-runs
    the parent's ``__main__`` (multiprocessing's spawn does that, which breaks scripts and costs a
    Streamlit import per worker). How many tasks wait in a pipe: see ordered_map.
    """

    def __init__(self, count: int) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                                         os.environ.get("PYTHONPATH")])))
        self.procs = [subprocess.Popen([sys.executable, "-c", "from core.data.workers import _serve; _serve()"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
                      for _ in range(count)]

    def send(self, index: int, func: Callable[[Any], Any], task: Any) -> None:
        data = pickle.dumps((func.__module__, func.__qualname__, task), protocol=pickle.HIGHEST_PROTOCOL)
        pipe = self.procs[index].stdin
        assert pipe is not None
        pipe.write(struct.pack("<Q", len(data)) + data)
        pipe.flush()

    def receive(self, index: int) -> Any:
        pipe = self.procs[index].stdout
        assert pipe is not None
        head = pipe.read(8)
        if len(head) < 8:
            raise RuntimeError(f"curation worker {self.procs[index].pid} stopped unexpectedly")
        ok, value = pickle.loads(pipe.read(struct.unpack("<Q", head)[0]))
        if not ok:
            error, trace = value
            if isinstance(error, UserFacingError):  # e.g. a tokenizer that cannot load: its sentence
                raise error
            raise RuntimeError(f"curation worker failed:\n{trace}")
        return value

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(OSError):
                if proc.stdin:
                    proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _serve() -> None:
    """Worker loop: read (module, function name, task), answer (ok, result or traceback), until EOF."""
    import importlib

    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = source.read(8)
        if len(head) < 8:
            return
        try:
            module, name, task = pickle.loads(source.read(struct.unpack("<Q", head)[0]))
            answer = (True, getattr(importlib.import_module(module), name)(task))
        except Exception as exc:  # noqa: BLE001 - sent to the parent, which raises it
            answer = (False, (exc, traceback.format_exc()))
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an exception that does not pickle: its traceback alone
            data = pickle.dumps((False, (None, answer[1][1])), protocol=pickle.HIGHEST_PROTOCOL)
        sink.write(struct.pack("<Q", len(data)) + data)
        sink.flush()


def ordered_map(func: Callable[[Any], Any], tasks: Iterator[Any], workers: int,
                 on_start: Callable[[], None] | None = None, ahead: int = 1) -> Iterator[Any]:
    """Results in task order; with workers > 1, task k runs in worker k mod workers. ``on_start``
    runs once the workers exist (a thread it starts overlaps with their reading).

    ``ahead`` tasks wait in each worker's pipe, so a worker that finishes one starts the next
    without waiting for the parent (busy counting tokens in curation). Only for small tasks: the
    parent's writes must never block while a worker blocks writing its answer, so tasks that carry
    data (a decompressed .gz block) use 1."""
    if workers <= 1:
        if on_start:
            on_start()
        for task in tasks:
            yield func(task)
        return
    pool = _Workers(workers)
    try:
        if on_start:
            on_start()
        busy: collections.deque[int] = collections.deque()  # worker of each task in flight, in task order
        for _ in range(max(1, ahead)):
            for index in range(workers):
                task = next(tasks, None)
                if task is None:
                    break
                pool.send(index, func, task)
                busy.append(index)
        while busy:
            index = busy.popleft()
            result = pool.receive(index)
            task = next(tasks, None)
            if task is not None:
                pool.send(index, func, task)
                busy.append(index)
            yield result
    finally:
        pool.close()
