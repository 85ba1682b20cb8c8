"""Tables and queries for raw datasets, token-count caches and saved curated datasets (01xx)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
]


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
