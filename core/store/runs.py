"""Tables and queries for training runs and their metrics (03xx).

The app process is the only writer: it creates the run row at launch and ingests the run
folder's events.jsonl from ``events_offset``; training subprocesses never touch the database.
``ingest_events`` applies one batch of events and moves the offset in ONE transaction, reading
the offset inside it, so a batch is never applied twice (two tabs polling at once, a crash
between the two writes) nor half.

    insert_run(store, {"id": ..., "backend": "local", ...})
    ingest_events(store, run_id, lambda offset: read_events(run_dir, offset))
    curves = metrics_df(store, [run_a, run_b], names=("train_loss", "eval_loss"))
"""
from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.store import Store

MIGRATIONS: list[tuple[str, str]] = [
    ("0301_runs", """
        CREATE TABLE runs (
            id VARCHAR PRIMARY KEY,             -- e.g. 20261125-164501-smollm2-ab12
            backend VARCHAR NOT NULL,           -- local | openai
            base_model VARCHAR NOT NULL,        -- model spec (smollm2, org/name, folder) or OpenAI model
            curated_name VARCHAR,               -- curated dataset name (or folder) and version used
            curated_version INTEGER,
            data_path VARCHAR,                  -- the training file / folder actually used
            format VARCHAR,                     -- training format (openai-chat, chat-template, ...)
            config_json VARCHAR NOT NULL,       -- full config, secrets masked
            status VARCHAR NOT NULL,            -- starting|validating_files|queued|running|paused|succeeded|failed|cancelled|lost
            status_message VARCHAR,             -- one sentence for failures / lost runs
            run_dir VARCHAR NOT NULL,
            pid INTEGER,
            device VARCHAR,
            created_at TIMESTAMP DEFAULT current_timestamp,
            started_at TIMESTAMP,
            ended_at TIMESTAMP,
            last_heartbeat TIMESTAMP,
            wall_s DOUBLE,
            total_steps INTEGER,
            step INTEGER,
            trained_tokens BIGINT,
            tokens_per_s DOUBLE,
            peak_rss_mb DOUBLE,
            peak_gpu_mb DOUBLE,
            estimated_cost_usd DOUBLE,
            estimated_wall_s DOUBLE,
            actual_cost_usd DOUBLE,
            final_loss DOUBLE,
            best_loss DOUBLE,
            output_model VARCHAR,               -- adapter folder (local) or fine-tuned model id (openai)
            remote_job_id VARCHAR,              -- OpenAI job id
            events_offset BIGINT DEFAULT 0      -- bytes of events.jsonl already ingested
        );
        CREATE TABLE run_metrics (
            run_id VARCHAR NOT NULL,
            step INTEGER NOT NULL,
            epoch DOUBLE,
            tokens_seen BIGINT,
            name VARCHAR NOT NULL,              -- train_loss, eval_loss, lr, train_mean_token_accuracy, ...
            value DOUBLE,
            t DOUBLE
        );
    """),
    ("0302_runs_progress", """
        ALTER TABLE runs ADD COLUMN epoch DOUBLE;              -- epochs done (fractional), last progress
        ALTER TABLE runs ADD COLUMN elapsed_s DOUBLE;          -- training seconds at the last progress event
        ALTER TABLE runs ADD COLUMN eta_s DOUBLE;              -- seconds left at the last progress event
        ALTER TABLE runs ADD COLUMN progress_at TIMESTAMP;     -- when that progress event was written
        ALTER TABLE runs ADD COLUMN last_checkpoint VARCHAR;   -- folder (local) or model id (openai)
        ALTER TABLE runs ADD COLUMN resumes INTEGER DEFAULT 0; -- how many times the run was resumed
    """),
    # Together and Fireworks runs (issue 12): the provider's own price quote for the job (Together's
    # estimate-price, Fireworks' estimatedCost), shown beside the estimate made at launch and the
    # actual cost; Together's billed total exactly as its API reports it (its unit is not documented);
    # and what ``step`` counts (Fireworks reports percent done, not optimizer steps).
    ("0303_runs_hosted", """
        ALTER TABLE runs ADD COLUMN provider_quote_usd DOUBLE;
        ALTER TABLE runs ADD COLUMN billed_total_price DOUBLE;
        ALTER TABLE runs ADD COLUMN step_unit VARCHAR;          -- NULL: steps; 'percent' (Fireworks)
    """),
    # Lineage (issue 13): the recipe step that launched the run and its inputs' fingerprints
    # (core/study/lineage.py), so `study diff` can say what differs between two runs.
    ("0304_runs_lineage", "ALTER TABLE runs ADD COLUMN lineage_json VARCHAR"),
]

TERMINAL = ("succeeded", "failed", "cancelled", "lost")
# Run columns an event may set directly (status / progress / result events carry them).
_PROGRESS_COLUMNS = {"step": "step", "total_steps": "total_steps", "epoch": "epoch", "tokens_seen": "trained_tokens",
                     "tokens_per_s": "tokens_per_s", "elapsed_s": "elapsed_s", "eta_s": "eta_s", "step_unit": "step_unit"}
_STATUS_COLUMNS = ("device", "remote_job_id", "total_steps", "pid")
_RESULT_COLUMNS = {"trained_tokens": "trained_tokens", "wall_s": "wall_s", "tokens_per_s": "tokens_per_s",
                   "peak_rss_mb": "peak_rss_mb", "peak_gpu_mb": "peak_gpu_mb", "final_loss": "final_loss",
                   "best_loss": "best_loss", "actual_cost_usd": "actual_cost_usd", "device": "device",
                   "remote_job_id": "remote_job_id", "adapter_path": "output_model",
                   "fine_tuned_model": "output_model", "steps": "step",
                   # the provider's quote; the launch estimate (estimated_cost_usd) stays the run's own
                   "estimated_cost_usd": "provider_quote_usd", "billed_total_price": "billed_total_price"}
_METRIC_SKIP = {"type", "t", "step", "epoch", "tokens_seen", "openai_event_id", "metrics", "register_model"}


def _ts(t: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(float(t))
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


# -- rows ------------------------------------------------------------------------------------------
def insert_run(store: Store, row: dict[str, Any]) -> None:
    columns = list(row)
    store.cursor().execute(f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                  [row[c] for c in columns])


def update_run(store: Store, run_id: str, **values: Any) -> None:
    if values:
        sets = ", ".join(f"{k} = ?" for k in values)
        with store.transaction() as cur:  # the write lock: the supervisor thread may be ingesting
            cur.execute(f"UPDATE runs SET {sets} WHERE id = ?", [*values.values(), run_id])


def get_run(store: Store, run_id: str) -> dict[str, Any] | None:
    rows = store.fetch_dicts("SELECT * FROM runs WHERE id = ?", [run_id])
    return rows[0] if rows else None


def find_run(store: Store, prefix: str) -> list[dict[str, Any]]:
    """Runs whose id is ``prefix`` exactly, else those starting with it (the CLI takes short ids)."""
    exact = get_run(store, prefix)
    if exact:
        return [exact]
    return store.fetch_dicts("SELECT * FROM runs WHERE starts_with(id, ?) ORDER BY created_at DESC", [prefix])


def list_runs(store: Store, limit: int | None = None) -> list[dict[str, Any]]:
    suffix = f" LIMIT {int(limit)}" if limit else ""
    return store.fetch_dicts("SELECT * FROM runs ORDER BY created_at DESC, id DESC" + suffix)


def active_runs(store: Store) -> list[dict[str, Any]]:
    """Runs that have not reached an end (their process may still be alive)."""
    marks = ", ".join(f"'{s}'" for s in TERMINAL)
    return store.fetch_dicts(f"SELECT * FROM runs WHERE status NOT IN ({marks}) ORDER BY created_at")


def mark_ended(store: Store, run_id: str, status: str, message: str | None,
               last_heartbeat: float | None = None) -> bool:
    """Close a run that did not report its own end (lost, or killed after a cancel); False when it
    already had one (its own terminal event wins)."""
    with store.transaction() as cur:
        row = cur.execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone()
        if row is None or row[0] in TERMINAL:
            return False
        cur.execute("UPDATE runs SET status = ?, status_message = ?, ended_at = current_localtimestamp(), "
                    "last_heartbeat = coalesce(?, last_heartbeat), "
                    "wall_s = coalesce(wall_s, elapsed_s) WHERE id = ?",
                    [status, message, _ts(last_heartbeat), run_id])
    return True


def prepare_resume(store: Store, run_id: str, pid: int | None = None) -> None:
    """A run about to be continued: open again, one more resume, metrics past its checkpoint are
    dropped when the resumed process says from where it starts (the ``resumed`` event)."""
    with store.transaction() as cur:
        cur.execute("UPDATE runs SET status = 'starting', status_message = NULL, ended_at = NULL, pid = ?, "
                    "resumes = coalesce(resumes, 0) + 1 WHERE id = ?", [pid, run_id])


# -- ingestion -------------------------------------------------------------------------------------
def ingest_events(store: Store, run_id: str, read: Callable[[int], tuple[list[dict[str, Any]], int]],
                  on_event: Callable[[dict[str, Any]], None] | None = None,
                  heartbeat: float | None = None) -> list[dict[str, Any]]:
    """Read the events after the stored offset and apply them, all in one transaction.

    ``read(offset) -> (events, new_offset)`` is called inside the transaction (the store's write
    lock is held), so two threads can never ingest the same bytes. ``on_event`` runs for every
    event inside the transaction too (the model registry hook): if it fails, nothing is applied.
    A batch is one UPDATE of the run row and one bulk insert of metrics, however many events it
    holds (a fast GPU run writes hundreds per second). Returns the events applied.
    """
    with store.transaction() as cur:
        row = cur.execute("SELECT events_offset FROM runs WHERE id = ?", [run_id]).fetchone()
        if row is None:
            return []
        offset = int(row[0] or 0)
        events, new_offset = read(offset)
        batch = _Batch(cur, run_id)
        for event in events:
            batch.apply(event)
            if on_event is not None:
                on_event(event)
        batch.sets["events_offset"] = new_offset
        if heartbeat is not None:
            batch.sets["last_heartbeat"] = _ts(heartbeat)
        batch.flush()
    return events


class _Batch:
    """The effect of a batch of events on one run: column values (the last event wins) and
    metric rows, written by ``flush``."""

    def __init__(self, cur: Any, run_id: str) -> None:
        self.cur, self.run_id = cur, run_id
        self.sets: dict[str, Any] = {}
        self.rows: list[tuple[Any, ...]] = []
        self.started_at: dt.datetime | None = None

    def apply(self, event: dict[str, Any]) -> None:
        kind, t, sets = event.get("type"), event.get("t"), self.sets
        if kind == "status":
            status = event.get("status")
            if isinstance(status, str) and status:
                sets["status"], sets["status_message"] = status, event.get("message")
                sets["ended_at"] = _ts(t) if status in TERMINAL else None
                if status == "running" and self.started_at is None:
                    self.started_at = _ts(t)
            sets.update({c: event[c] for c in _STATUS_COLUMNS if event.get(c) is not None})
        elif kind == "progress":
            sets.update({c: event[k] for k, c in _PROGRESS_COLUMNS.items() if event.get(k) is not None})
            sets["progress_at"] = _ts(t)
        elif kind == "metric" and event.get("step") is not None:
            step, epoch, seen = int(event["step"]), _number(event.get("epoch")), event.get("tokens_seen")
            for name, value in event.items():
                number = None if name in _METRIC_SKIP else _number(value)
                if number is not None:
                    self.rows.append((self.run_id, step, epoch, seen, name, number, t))
        elif kind == "checkpoint":
            sets["last_checkpoint"] = event.get("path") or event.get("model_id")
        elif kind == "resumed":
            # metrics the previous process wrote past the checkpoint are replaced by the new ones
            self._insert_rows()
            from_step = int(event.get("from_step") or 0)
            self.cur.execute("DELETE FROM run_metrics WHERE run_id = ? AND step > ?", [self.run_id, from_step])
            sets["step"] = from_step
        elif kind == "result":
            sets.update({c: event[k] for k, c in _RESULT_COLUMNS.items()
                         if event.get(k) is not None and not isinstance(event[k], (dict, list))})

    def _insert_rows(self) -> None:
        # one multi-row INSERT per 500 rows: far faster in DuckDB than a statement per row
        for start in range(0, len(self.rows), 500):
            part = self.rows[start:start + 500]
            marks = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(part))
            self.cur.execute(f"INSERT INTO run_metrics VALUES {marks}", [v for row in part for v in row])
        self.rows = []

    def flush(self) -> None:
        self._insert_rows()
        if self.started_at is not None:
            self.cur.execute("UPDATE runs SET started_at = coalesce(started_at, ?) WHERE id = ?",
                             [self.started_at, self.run_id])
        if self.sets:
            assignments = ", ".join(f"{c} = ?" for c in self.sets)
            self.cur.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*self.sets.values(), self.run_id])


# -- curves ----------------------------------------------------------------------------------------
def metrics_df(store: Store, run_ids: list[str], names: tuple[str, ...] = ("train_loss", "eval_loss")) -> Any:
    """Long-form metrics (run_id, step, epoch, tokens_seen, name, value) of the given runs; epoch and
    tokens_seen are filled forward from the run's previous rows when an event lacked them."""
    if not run_ids:
        return store.fetch_df("SELECT run_id, step, epoch, tokens_seen, name, value FROM run_metrics WHERE false")
    marks = ", ".join("?" for _ in run_ids)
    name_marks = ", ".join("?" for _ in names)
    return store.fetch_df(
        f"""SELECT run_id, step,
                   coalesce(epoch, last_value(epoch IGNORE NULLS) OVER w) AS epoch,
                   coalesce(tokens_seen, last_value(tokens_seen IGNORE NULLS) OVER w) AS tokens_seen,
                   name, value
            FROM run_metrics WHERE run_id IN ({marks}) AND name IN ({name_marks})
            WINDOW w AS (PARTITION BY run_id, name ORDER BY step ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            ORDER BY run_id, name, step""",
        [*run_ids, *names],
    )


def last_metric(store: Store, run_id: str, name: str) -> float | None:
    """The metric's value at the run's latest step (e.g. the train loss while it trains)."""
    row = store.fetchone("SELECT value FROM run_metrics WHERE run_id = ? AND name = ? ORDER BY step DESC, t DESC "
                         "LIMIT 1", [run_id, name])
    return float(row[0]) if row and row[0] is not None else None


def metric_names(store: Store, run_id: str) -> list[str]:
    return [r[0] for r in store.fetchall("SELECT DISTINCT name FROM run_metrics WHERE run_id = ? ORDER BY 1", [run_id])]


def config_of(run: dict[str, Any]) -> dict[str, Any]:
    try:
        return json.loads(run.get("config_json") or "{}")
    except json.JSONDecodeError:
        return {}


def throughput_history(store: Store, base_model: str, device: str | None = None) -> dict[str, Any] | None:
    """What earlier successful local runs of this model (on this device, when given) measured: the
    median training tokens/s (``rate``), the median seconds a run spent outside its training steps
    (``overhead_s``: loading the model, evaluating, saving) and how many runs (``runs``); None when
    there are none. A new run's time is about overhead + tokens / rate."""
    params: list[Any] = [base_model]
    where = ("backend = 'local' AND status = 'succeeded' AND tokens_per_s > 0 AND trained_tokens > 0 "
             "AND wall_s > 0 AND base_model = ?")
    if device:
        where += " AND device = ?"
        params.append(device)
    row = store.fetchone(f"SELECT median(tokens_per_s), median(greatest(wall_s - trained_tokens / tokens_per_s, 0)), "
                         f"count(*) FROM runs WHERE {where}", params)
    if not row or not row[2]:
        return None
    return {"rate": float(row[0]), "overhead_s": float(row[1] or 0.0), "runs": int(row[2]), "device": device}
