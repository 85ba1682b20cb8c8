"""The DuckDB database: one file, one writer, named migrations.

DuckDB lets one process hold a file read-write, and while it does no other process can open
it at all. So the app process is the only writer (one ``Store``, one connection, a cursor per
thread), training subprocesses never open the database (they append to events.jsonl), and the
CLI opens the file itself only when the app is not running; while it is, the CLI sends its SQL
to the app (``core.store.remote``: ``RemoteStore`` has this class's API), and where neither is
possible ``DatabaseLockedError`` says so in one sentence.

Every open ``Store`` is closed at interpreter exit (cursors first): a DuckDB object still alive
then (say, the cursor of a daemon thread) makes DuckDB's bindings print "nanobind: leaked ..."
lines in the user's terminal.

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

import atexit
import contextlib
import importlib
import re
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from core.errors import UserFacingError
from core.paths import db_path

# Modules of this package that contribute migrations; each has MIGRATIONS = [(name, sql), ...].
MIGRATION_MODULES = ("core.store.base", "core.store.curation", "core.store.formats",
                     "core.store.runs", "core.store.compare", "core.store.ratings", "core.store.study")


class DatabaseLockedError(UserFacingError):
    """Another process (usually the running app) holds the database file."""

    def __init__(self, message: str, path: str = "", holder_pid: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.holder_pid = holder_pid  # the process DuckDB names as the holder, when it does


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


class _Slot:
    """A thread's cursor and transaction flag. The store keeps (weakly) every slot so that
    ``close`` can drop the cursors of threads that still run (a daemon thread's thread-local
    would otherwise keep its cursor alive until the interpreter is gone)."""

    __slots__ = ("cursor", "in_transaction", "__weakref__")

    def __init__(self) -> None:
        self.cursor: duckdb.DuckDBPyConnection | None = None
        self.in_transaction = False


_OPEN_STORES: weakref.WeakSet[Store] = weakref.WeakSet()


@atexit.register
def _close_open_stores() -> None:
    # Registered when this package is first imported, so it runs after the exit handlers of
    # modules that import it (core.training.jobs joins its supervisor threads first).
    for store in list(_OPEN_STORES):
        with contextlib.suppress(Exception):
            store.close()


class Store:
    """One DuckDB connection for the whole process; ``cursor()`` gives each thread its own."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = str(path if path is not None else db_path())
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn: duckdb.DuckDBPyConnection | None = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:
            raise self._explain_open_error(exc) from None
        except duckdb.Error as exc:
            raise DatabaseUnreadableError(
                f"The database file {self.path} could not be opened ({str(exc).splitlines()[0]})."
            ) from None
        self._local = threading.local()
        self._slots: weakref.WeakSet[_Slot] = weakref.WeakSet()
        self._slots_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._on_close: list[Any] = []  # callables run first by close() (the app's endpoint for the CLI)
        self.read_only = read_only
        _OPEN_STORES.add(self)
        if not read_only:
            self.migrate()

    def _explain_open_error(self, exc: Exception) -> UserFacingError:
        text = str(exc)
        if "lock" in text.lower():
            pid = re.search(r"PID (\d+)", text)
            who = f" (process {pid.group(1)})" if pid else ""
            return DatabaseLockedError(
                f"The database {self.path} is in use by another process{who}, usually the running app: "
                "stop the app or use it instead, or point --db / FTDASH_DB at another file.",
                path=self.path, holder_pid=int(pid.group(1)) if pid else None,
            )
        return DatabaseUnreadableError(f"The database file {self.path} could not be opened ({text.splitlines()[0]}).")

    # -- connections -------------------------------------------------------------------------
    def _slot(self) -> _Slot:
        slot = getattr(self._local, "slot", None)
        if slot is None:
            slot = self._local.slot = _Slot()
            with self._slots_lock:
                self._slots.add(slot)
        return slot

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (DuckDB cursors are not shared across threads)."""
        slot = self._slot()
        if slot.cursor is None:
            if self._conn is None:
                raise duckdb.ConnectionException(f"The database {self.path} was closed.")
            slot.cursor = self._conn.cursor()
        return slot.cursor

    def close_cursor(self) -> None:
        """Close this thread's cursor now (a thread that is about to end and used the store)."""
        slot = getattr(self._local, "slot", None)
        if slot is not None and slot.cursor is not None:
            cur, slot.cursor = slot.cursor, None
            with contextlib.suppress(duckdb.Error):
                cur.close()

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
            slot = self._slot()
            if slot.in_transaction:
                yield cur
                return
            cur.execute("BEGIN TRANSACTION")
            slot.in_transaction = True
            try:
                yield cur
            except BaseException:
                slot.in_transaction = False
                cur.execute("ROLLBACK")
                raise
            slot.in_transaction = False
            try:
                cur.execute("COMMIT")
            except duckdb.Error as exc:  # e.g. the write-ahead log could not be written
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                if _is_disk_full(exc):
                    raise self._disk_full() from None
                raise

    def close(self) -> None:
        """Close every thread's cursor, then the connection (idempotent). Nothing of DuckDB's is
        left referenced, even from threads that still run."""
        hooks, self._on_close = self._on_close, []
        for hook in hooks:
            with contextlib.suppress(Exception):
                hook()
        with self._slots_lock:
            slots = list(self._slots)
        for slot in slots:
            cur, slot.cursor = slot.cursor, None
            if cur is not None:
                with contextlib.suppress(duckdb.Error):
                    cur.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        _OPEN_STORES.discard(self)

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
