"""Core tables shared by every feature: key/value settings."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.store import Store

MIGRATIONS = [
    ("0001_settings", "CREATE TABLE settings (key VARCHAR PRIMARY KEY, value VARCHAR)"),
]


def get_setting(store: Store, key: str, default: str | None = None) -> str | None:
    row = store.fetchone("SELECT value FROM settings WHERE key = ?", [key])
    return row[0] if row else default


def set_setting(store: Store, key: str, value: str) -> None:
    # under the store's write lock: the app's sessions write the same keys at once (the current
    # models, the language), and two bare writes of one key in DuckDB fail ("Conflict on update",
    # "Duplicate key") instead of one waiting for the other
    with store.transaction():
        store.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", [key, value])
