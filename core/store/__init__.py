"""The DuckDB database: one file, one writer, named migrations.

DuckDB lets one process hold a file read-write, and while it does no other process can open
it at all. So the app process is the only writer (one ``Store``, one connection, a cursor per
thread), training subprocesses never open the database (they append to events.jsonl), and the
CLI opens it only when the app is not running: ``DatabaseLockedError`` says so in one sentence.

Schema changes are named migrations (``MIGRATIONS`` lists in the modules of this package, named
``NNNN_description``; numbers: 00xx core, 01xx curation, 02xx formats and prices, 03xx runs,
04xx models and comparisons) applied in name order and recorded in ``schema_migrations``.
This package is the only place that talks SQL.

    from core.store import Store
    store = Store()                 # resultados/estudo.duckdb, or $FTDASH_DB
    store = Store(":memory:")       # tests
    rows = store.fetchall("SELECT name FROM schema_migrations")
"""
from __future__ import annotations

import contextlib
import importlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from core.errors import UserFacingError
from core.paths import db_path

# Modules of this package that contribute migrations; each has MIGRATIONS = [(name, sql), ...].
MIGRATION_MODULES = ("core.store.base", "core.store.curation", "core.store.formats",
                     "core.store.runs", "core.store.compare")


class DatabaseLockedError(UserFacingError):
    """Another process (usually the running app) holds the database file."""


class DatabaseUnreadableError(UserFacingError):
    """The database file exists but is not a DuckDB database we can open."""


class DiskFullError(UserFacingError):
    """A write failed because the disk holding the database is full."""


def _is_disk_full(exc: Exception) -> bool:
    return "no space left on device" in str(exc).lower()


def all_migrations() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for module_name in MIGRATION_MODULES:
        found.extend(importlib.import_module(module_name).MIGRATIONS)
    names = [name for name, _ in found]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise RuntimeError(f"duplicate migration names: {sorted(duplicated)}")
    return sorted(found)


class Store:
    """One DuckDB connection for the whole process; ``cursor()`` gives each thread its own."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = str(path if path is not None else db_path())
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:
            raise self._explain_open_error(exc) from None
        except duckdb.Error as exc:
            raise DatabaseUnreadableError(
                f"The database file {self.path} could not be opened ({str(exc).splitlines()[0]})."
            ) from None
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self.read_only = read_only
        if not read_only:
            self.migrate()

    def _explain_open_error(self, exc: Exception) -> UserFacingError:
        text = str(exc)
        if "lock" in text.lower():
            pid = re.search(r"PID (\d+)", text)
            who = f" (process {pid.group(1)})" if pid else ""
            return DatabaseLockedError(
                f"The database {self.path} is in use by another process{who}, usually the running app: "
                "stop the app or use it instead, or point --db / FTDASH_DB at another file."
            )
        return DatabaseUnreadableError(f"The database file {self.path} could not be opened ({text.splitlines()[0]}).")

    # -- connections -------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (DuckDB cursors are not shared across threads)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._conn.cursor()
            self._local.cursor = cur
        return cur

    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        try:
            return self.cursor().execute(sql, params) if params is not None else self.cursor().execute(sql)
        except duckdb.Error as exc:
            if _is_disk_full(exc):
                raise self._disk_full() from None
            raise

    def _disk_full(self) -> DiskFullError:
        return DiskFullError(f"The disk holding the database {self.path} is full: free some space and try again "
                             "(this change was not saved).")

    def fetchall(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Any = None) -> tuple[Any, ...] | None:
        return self.execute(sql, params).fetchone()

    def fetch_dicts(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        cur = self.execute(sql, params)
        columns = [d[0] for d in cur.description]
        return [dict(zip(columns, row)) for row in cur.fetchall()]

    def fetch_df(self, sql: str, params: Any = None) -> Any:
        """A pandas DataFrame (for charts and exports)."""
        return self.execute(sql, params).df()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing writes: a failure inside leaves the database as it was. Nested calls in
        the same thread join the outer transaction (so several helpers can commit together)."""
        with self._write_lock:
            cur = self.cursor()
            if getattr(self._local, "in_transaction", False):
                yield cur
                return
            cur.execute("BEGIN TRANSACTION")
            self._local.in_transaction = True
            try:
                yield cur
            except BaseException:
                self._local.in_transaction = False
                cur.execute("ROLLBACK")
                raise
            self._local.in_transaction = False
            try:
                cur.execute("COMMIT")
            except duckdb.Error as exc:  # e.g. the write-ahead log could not be written
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                if _is_disk_full(exc):
                    raise self._disk_full() from None
                raise

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- migrations --------------------------------------------------------------------------
    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.fetchall("SELECT name FROM schema_migrations ORDER BY name")]

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded; returns the names applied now."""
        self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, "
            "applied_at TIMESTAMP DEFAULT current_timestamp)"
        )
        done = set(self.applied_migrations())
        applied = []
        for name, sql in all_migrations():
            if name in done:
                continue
            with self.transaction() as cur:
                cur.execute(sql)
                cur.execute("INSERT INTO schema_migrations (name) VALUES (?)", [name])
            applied.append(name)
        return applied
