"""Tables and queries for training runs and their metrics (03xx).

The app process is the only writer: it creates the run row at launch and ingests the run
folder's events.jsonl from ``events_offset``; training subprocesses never touch the database.
"""
from __future__ import annotations

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
]


def get_run(store: Store, run_id: str) -> dict[str, Any] | None:
    rows = store.fetch_dicts("SELECT * FROM runs WHERE id = ?", [run_id])
    return rows[0] if rows else None


def list_runs(store: Store) -> list[dict[str, Any]]:
    return store.fetch_dicts("SELECT * FROM runs ORDER BY created_at DESC")
