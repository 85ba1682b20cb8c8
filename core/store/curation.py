"""Tables and queries for raw datasets, token-count caches, curation presets and saved curated
datasets (01xx).

raw_datasets      every raw file opened for curation (fingerprint, path, format, rows, bad lines).
token_counts      tokens(title) + tokens(content) per row, per (dataset key, tokenizer): the key is
                  "<fingerprint>|<title column>|<content column>|<cleaning>" (core.data.curation.Features),
                  so moving a slider never counts a row twice, across restarts too.
curation_presets  presets saved by users (the built-in ones live in core/data/curation.py).
curated_datasets  saved curations: name + version (previous max + 1), config, funnel, counts, folder.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import duckdb

    from core.data.datasets import LoadReport
    from core.store import Store

MIGRATIONS: list[tuple[str, str]] = [
    ("0101_curated_datasets", """
        CREATE SEQUENCE curated_datasets_id;
        CREATE TABLE curated_datasets (
            id INTEGER PRIMARY KEY DEFAULT nextval('curated_datasets_id'),
            name VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            input_path VARCHAR,
            input_fingerprint VARCHAR,
            config_json VARCHAR NOT NULL,
            funnel_json VARCHAR NOT NULL,
            tokenizer VARCHAR,
            train_rows INTEGER,
            test_rows INTEGER,
            train_tokens BIGINT,
            test_tokens BIGINT,
            folder VARCHAR NOT NULL,
            created_at TIMESTAMP DEFAULT current_timestamp,
            UNIQUE (name, version)
        );
    """),
    ("0102_raw_datasets", """
        CREATE TABLE raw_datasets (
            fingerprint VARCHAR PRIMARY KEY,    -- core.data.rawfiles.fingerprint: size, mtime, head/tail hash
            path VARCHAR NOT NULL,
            format VARCHAR,                     -- jsonl | json | csv | parquet, '.gz' when compressed
            size_bytes BIGINT,
            rows BIGINT,                        -- rows read (good lines for JSON lines)
            lines BIGINT,                       -- JSON lines only
            bad_lines BIGINT,
            first_seen TIMESTAMP DEFAULT current_timestamp,
            last_used TIMESTAMP DEFAULT current_timestamp
        );
    """),
    ("0103_token_counts", """
        CREATE TABLE token_counts (
            dataset_key VARCHAR NOT NULL,       -- fingerprint|title column|content column|cleaning
            tokenizer VARCHAR NOT NULL,
            row_idx BIGINT NOT NULL,            -- position of the row among the rows read
            tokens INTEGER NOT NULL             -- tokens(title) + tokens(content), cleaned text
        );
    """),
    ("0104_curation_presets", """
        CREATE TABLE curation_presets (
            name VARCHAR PRIMARY KEY,
            config_json VARCHAR NOT NULL,
            created_at TIMESTAMP DEFAULT current_timestamp,
            updated_at TIMESTAMP DEFAULT current_timestamp
        );
    """),
]


# -- raw datasets ---------------------------------------------------------------------------------
def record_raw_dataset(store: Store, report: LoadReport) -> None:
    with store.transaction() as cur:
        cur.execute("DELETE FROM raw_datasets WHERE fingerprint = ?", [report.fingerprint])
        cur.execute(
            "INSERT INTO raw_datasets (fingerprint, path, format, size_bytes, rows, lines, bad_lines) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [report.fingerprint, report.path, report.format, report.size_bytes, report.rows, report.lines,
             report.bad_lines])


def list_raw_datasets(store: Store) -> list[dict[str, Any]]:
    return store.fetch_dicts("SELECT * FROM raw_datasets ORDER BY last_used DESC")


# -- token counts ---------------------------------------------------------------------------------
def load_token_counts(store: Store, dataset_key: str, tokenizer: str) -> tuple[np.ndarray, np.ndarray]:
    """(row positions ascending, token counts) cached for a dataset key and tokenizer."""
    cur = store.execute(
        "SELECT row_idx, tokens FROM token_counts WHERE dataset_key = ? AND tokenizer = ? ORDER BY row_idx",
        [dataset_key, tokenizer])
    found = cur.fetchnumpy()
    return np.asarray(found["row_idx"], dtype=np.int64), np.asarray(found["tokens"], dtype=np.int32)


def save_token_counts(store: Store, dataset_key: str, tokenizer: str, rows: np.ndarray,
                      counts: np.ndarray) -> None:
    """Add counts of rows never counted before (callers pass only those)."""
    if len(rows) == 0:
        return
    import pyarrow as pa

    table = pa.Table.from_arrays([
        pa.Array.from_buffers(pa.int64(), len(rows), [None, pa.py_buffer(np.ascontiguousarray(rows, np.int64))]),
        pa.Array.from_buffers(pa.int32(), len(counts), [None, pa.py_buffer(np.ascontiguousarray(counts, np.int32))]),
    ], names=["row_idx", "tokens"])
    with store.transaction() as cur:
        cur.register("new_token_counts", table)
        try:
            cur.execute("INSERT INTO token_counts SELECT ?, ?, row_idx, tokens FROM new_token_counts",
                        [dataset_key, tokenizer])
        finally:
            cur.unregister("new_token_counts")


def count_cached_tokens(store: Store, dataset_key: str, tokenizer: str) -> int:
    row = store.fetchone("SELECT count(*) FROM token_counts WHERE dataset_key = ? AND tokenizer = ?",
                         [dataset_key, tokenizer])
    return int(row[0]) if row else 0


# -- presets ---------------------------------------------------------------------------------------
def get_preset(store: Store, name: str) -> str | None:
    row = store.fetchone("SELECT config_json FROM curation_presets WHERE name = ?", [name])
    return str(row[0]) if row else None


def put_preset(store: Store, name: str, config_json: str) -> None:
    with store.transaction() as cur:
        cur.execute("DELETE FROM curation_presets WHERE name = ?", [name])
        cur.execute("INSERT INTO curation_presets (name, config_json) VALUES (?, ?)", [name, config_json])


def delete_preset(store: Store, name: str) -> None:
    store.execute("DELETE FROM curation_presets WHERE name = ?", [name])


def list_presets(store: Store) -> list[dict[str, Any]]:
    return store.fetch_dicts("SELECT name, config_json, updated_at FROM curation_presets ORDER BY name")


# -- curated datasets ------------------------------------------------------------------------------
def next_curated_version(cur: duckdb.DuckDBPyConnection, name: str) -> int:
    row = cur.execute("SELECT coalesce(max(version), 0) FROM curated_datasets WHERE name = ?", [name]).fetchone()
    return int(row[0] if row else 0) + 1


def insert_curated(cur: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    columns = list(values)
    cur.execute(f"INSERT INTO curated_datasets ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [values[c] for c in columns])


def find_curated(store: Store, name: str, version: int | None = None) -> dict[str, Any] | None:
    """The saved curated dataset ``name`` at ``version`` (latest when None)."""
    if version is None:
        rows = store.fetch_dicts(
            "SELECT * FROM curated_datasets WHERE name = ? ORDER BY version DESC LIMIT 1", [name])
    else:
        rows = store.fetch_dicts("SELECT * FROM curated_datasets WHERE name = ? AND version = ?", [name, version])
    return rows[0] if rows else None


def list_curated(store: Store) -> list[dict[str, Any]]:
    return store.fetch_dicts("SELECT * FROM curated_datasets ORDER BY name, version DESC")
