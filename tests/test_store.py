"""The DuckDB store: migrations recorded once, transactions all-or-nothing, a clear lock error."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from core.store import DatabaseLockedError, DatabaseUnreadableError, Store, all_migrations
from core.store.base import get_setting, set_setting


def test_migrations_are_applied_once_and_recorded(tmp_path) -> None:
    path = tmp_path / "x.duckdb"
    with Store(path) as s:
        names = s.applied_migrations()
        assert names == [n for n, _ in all_migrations()]
        assert s.migrate() == []
    with Store(path) as s:  # reopening applies nothing new and keeps data
        assert s.migrate() == []


def test_transaction_rolls_back_on_error(store) -> None:
    set_setting(store, "a", "1")
    with pytest.raises(RuntimeError), store.transaction() as cur:
        cur.execute("INSERT OR REPLACE INTO settings VALUES ('a', '2')")
        raise RuntimeError("boom")
    assert get_setting(store, "a") == "1"


def test_locked_database_gives_one_sentence(tmp_path) -> None:
    path = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(path)!r})
            print("ready", flush=True)
            sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseLockedError) as info:
            Store(path)
        message = str(info.value)
        assert "in use by another process" in message and "\n" not in message
    finally:
        holder.communicate("\n", timeout=10)


def test_not_a_database_file(tmp_path) -> None:
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseUnreadableError):
        Store(bad)


def test_cli_db_command(tmp_path, capsys) -> None:
    from core.cli import main

    assert main(["--db", str(tmp_path / "c.duckdb"), "db"]) == 0
    assert "migration: 0001_settings" in capsys.readouterr().out


def test_sessions_writing_one_setting_at_once_never_conflict(tmp_path) -> None:
    """The app's sessions write the same setting together (the current models on page 4 under the load
    test): every write lands, none fails with DuckDB's 'Conflict on update' or 'Duplicate key'."""
    import threading

    errors: list[str] = []
    with Store(tmp_path / "s.duckdb") as store:
        def work(i: int) -> None:
            try:
                for n in range(100):
                    set_setting(store, "current.models", f"{i}-{n}")
            except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
                errors.append(repr(exc)[:200])
            finally:
                store.close_cursor()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert get_setting(store, "current.models", "").endswith("-99")
        assert store.fetchone("SELECT count(*) FROM settings WHERE key = 'current.models'") == (1,)
