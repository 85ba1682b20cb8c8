"""Answers generated in the background of the app process, which a page follows as they grow.

The playground starts a batch (2–4 models on one prompt, or the arena's hidden pair) and gets its
id back at once; each model streams in its own thread (core.models.generate.stream_many) into the batch,
so a rerun, a click on another widget or a page reload never stops the answers. A page redraws
from ``snapshot()`` while the batch runs (a fragment on a short timer) and keeps the id in the URL,
so a reload finds the batch again. Each answer is stored (core.models.generate.record_answer) by the
batch's thread as soon as it is complete: the app process is the database's only writer.

    batch_id = start_batch(store, [("local:smollm2", settings)], "Dune", source="playground")
    get_batch(batch_id).snapshot()   # {"done": False, "columns": [{"model_id", "text", "answer", ...}]}

Batches live in memory (the last ``KEEP`` of them): after an app restart the stored answers are in
the generations table, and the page starts afresh.
"""
from __future__ import annotations

import copy
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from core.background import Tasks
from core.models.answers import Answer, GenerationSettings
from core.models.generate import record_answer, stream_many
from core.models.registry import get_registered
from core.store import Store

KEEP = 64  # batches remembered (finished ones are dropped first, oldest first; running ones never)


@dataclass
class LiveColumn:
    """One model's answer in a batch: the text so far, then the final Answer (as a dict) and the id
    of its stored generation."""

    model_id: str
    settings: GenerationSettings
    text: str = ""
    answer: dict[str, Any] | None = None
    generation_id: int | None = None


@dataclass
class LiveBatch:
    batch_id: str
    prompt: str
    source: str
    meta: dict[str, Any]
    columns: list[LiveColumn]
    started_at: float = field(default_factory=time.time)
    extra: dict[str, Any] = field(default_factory=dict)  # what the page keeps with it (the arena's vote)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def done(self) -> bool:
        return self.finished.is_set()

    def snapshot(self) -> dict[str, Any]:
        """A copy of the batch as it stands: safe to draw while the threads write."""
        with self.lock:
            return {"batch_id": self.batch_id, "prompt": self.prompt, "source": self.source, "meta": dict(self.meta),
                    "done": self.done, "extra": copy.deepcopy(self.extra),
                    "columns": [{"model_id": c.model_id, "text": c.text, "answer": copy.deepcopy(c.answer),
                                 "generation_id": c.generation_id} for c in self.columns]}

    def set_extra(self, **values: Any) -> None:
        with self.lock:
            self.extra.update(values)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every answer is complete and stored (tests, the CLI); True when done."""
        return self.finished.wait(timeout)


# One task per batch (core.background): the last KEEP kept, a running one never dropped.
_batches = Tasks(keep=KEEP, name="answers")


def get_batch(batch_id: str | None) -> LiveBatch | None:
    task = _batches.get(batch_id) if batch_id else None
    return task.state if task else None


def running_batches() -> list[str]:
    return [str(key) for key in _batches.running()]


def start_batch(store: Store, jobs: list[tuple[str, GenerationSettings]], prompt: str, *, source: str,
                meta: dict[str, Any] | None = None, api_key: str | None = None) -> str:
    """Start every job's answer in the background; returns the batch id. Unknown models fail here,
    in one sentence; a model that fails later gets an Answer with its error, like the others."""
    for model_id, _ in jobs:
        get_registered(store, model_id)
    meta = dict(meta or {})
    batch = LiveBatch(uuid.uuid4().hex[:12], prompt, source, meta,
                      [LiveColumn(model_id, settings) for model_id, settings in jobs])
    _batches.start(batch.batch_id, lambda progress: _run(store, batch, api_key), state=batch)
    return batch.batch_id


def _run(store: Store, batch: LiveBatch, api_key: str | None) -> None:
    jobs = [(c.model_id, c.settings) for c in batch.columns]
    try:
        for index, item in stream_many(store, jobs, batch.prompt, api_key=api_key):
            column = batch.columns[index]
            if isinstance(item, Answer):
                _finish(store, batch, column, item)
            else:
                with batch.lock:
                    column.text += item
        for column in batch.columns:  # a job that ended without an Answer (it cannot, but never hang)
            if column.answer is None:
                _finish(store, batch, column, Answer(column.model_id, batch.prompt, column.text, error="no answer"))
    except Exception as exc:  # noqa: BLE001 - the page shows it on every column still open
        for column in batch.columns:
            if column.answer is None:
                with batch.lock:
                    column.answer = Answer(column.model_id, batch.prompt, column.text,
                                           error=str(exc) or type(exc).__name__).to_dict()
    finally:
        batch.finished.set()


def _finish(store: Store, batch: LiveBatch, column: LiveColumn, answer: Answer) -> None:
    generation_id = record_answer(store, answer, column.settings, source=batch.source, **batch.meta)
    with batch.lock:
        column.answer, column.generation_id, column.text = answer.to_dict(), generation_id, answer.text
        # done under the same lock: a snapshot that shows every answer also says the batch is done
        if all(c.answer is not None for c in batch.columns):
            batch.finished.set()
