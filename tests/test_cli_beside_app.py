"""The CLI beside the running app (core/store/remote.py): while the app holds the DuckDB file, CLI
commands send their SQL to it and get Store's API back; nothing is lost or applied twice.

Unit tests run a real server on a real database file in this process (the "app") against a
``RemoteStore`` (the "CLI"), plus real CLI subprocesses against a holder process that serves;
the browser test starts the real app (``streamlit run app.py``) with a real chromium page open
and runs ``runs``, ``curate --name``, ``export``, ``train``, ``eval`` and ``report --xlsx`` beside it.

    .venv/bin/python -m pytest -q tests/test_cli_beside_app.py
"""
from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from core.paths import sample_raw_path
from core.store import DiskFullError, Store
from core.store.remote import AppServer, RemoteStore, connect_to_app, endpoint_path, serve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app_store(isolated_results: Path):
    """The app's side: a Store on a real file, served."""
    store = Store()
    serve(store)
    yield store
    store.close()


@pytest.fixture
def remote(app_store: Store):
    client = connect_to_app(app_store.path)
    assert isinstance(client, RemoteStore)
    yield client
    client.close()


TABLE = ("CREATE TABLE sample (id INTEGER, name VARCHAR, happened TIMESTAMP, day DATE, ok BOOLEAN, score DOUBLE, "
         "meta JSON, big BIGINT)")


def _fill(store: Store) -> None:
    store.execute(TABLE)
    store.execute("INSERT INTO sample VALUES (1, 'a', TIMESTAMP '2026-01-02 03:04:05', DATE '2026-01-02', true, 0.5, "
                  "'{\"k\": 1}', 9007199254740993), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")


def test_results_are_what_a_local_store_gives(app_store: Store, remote: RemoteStore) -> None:
    _fill(app_store)
    queries = ["SELECT * FROM sample ORDER BY id", "SELECT sum(id), count(*), avg(score) FROM sample",
               "SELECT name FROM sample WHERE id = ?"]
    for sql in queries:
        params = [1] if "?" in sql else None
        assert remote.fetchall(sql, params) == app_store.fetchall(sql, params)
        assert remote.fetchone(sql, params) == app_store.fetchone(sql, params)
        assert remote.fetch_dicts(sql, params) == app_store.fetch_dicts(sql, params)
        assert remote.execute(sql, params).fetchall() == app_store.execute(sql, params).fetchall()
        assert remote.fetch_df(sql, params).equals(app_store.fetch_df(sql, params))
    row = remote.fetchone("SELECT * FROM sample WHERE id = 1")
    assert row is not None and isinstance(row[2], dt.datetime) and isinstance(row[3], dt.date)
    assert row[7] == 9007199254740993 and not isinstance(row[7], Decimal)
    assert isinstance(remote.fetchone("SELECT sum(id) FROM sample")[0], int)  # HUGEINT stays an int
    cur = remote.execute("SELECT id, score FROM sample ORDER BY id")
    assert [d[0] for d in cur.description] == ["id", "score"]
    assert list(cur.fetchnumpy()["id"]) == [1, 2]
    assert remote.applied_migrations() == app_store.applied_migrations()


def test_writes_commit_roll_back_and_nest(app_store: Store, remote: RemoteStore) -> None:
    import pyarrow as pa

    app_store.execute("CREATE TABLE t (n INTEGER)")
    with remote.transaction() as cur:
        cur.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(5)])
        with remote.transaction() as inner:  # joins the outer transaction
            inner.execute("INSERT INTO t VALUES (100)")
        cur.register("extra", pa.table({"n": [7, 8]}))
        cur.execute("INSERT INTO t SELECT n FROM extra")
        cur.unregister("extra")
    assert app_store.fetchone("SELECT count(*), sum(n) FROM t") == (8, 125)
    with pytest.raises(ValueError), remote.transaction() as cur:
        cur.execute("INSERT INTO t VALUES (1000)")
        raise ValueError("the command failed halfway")
    assert app_store.fetchone("SELECT max(n) FROM t") == (100,)  # nothing of the failed unit kept


def test_errors_come_back_as_their_own_classes(app_store: Store, remote: RemoteStore, monkeypatch) -> None:
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        remote.fetchall("SELECT * FROM no_such_table")
    app_store.execute("CREATE TABLE u (k INTEGER PRIMARY KEY)")
    remote.execute("INSERT INTO u VALUES (1)")
    with pytest.raises(duckdb.ConstraintException):
        remote.execute("INSERT INTO u VALUES (1)")
    import core.store as store_module

    def full(exc: Exception) -> bool:
        return True

    monkeypatch.setattr(store_module, "_is_disk_full", full)
    with pytest.raises(DiskFullError, match="disk holding the database"):
        remote.execute("SELECT * FROM no_such_table")


def test_a_remote_transaction_holds_the_apps_write_lock(app_store: Store, remote: RemoteStore) -> None:
    app_store.execute("CREATE TABLE seq (who VARCHAR, t DOUBLE)")
    app_wrote = threading.Event()

    def app_writes() -> None:
        with app_store.transaction() as cur:
            cur.execute("INSERT INTO seq VALUES ('app', ?)", [time.monotonic()])
        app_wrote.set()

    with remote.transaction() as cur:
        cur.execute("INSERT INTO seq VALUES ('cli', ?)", [time.monotonic()])
        writer = threading.Thread(target=app_writes)
        writer.start()
        assert not app_wrote.wait(0.5)  # the app's own write waits for the CLI's unit of work
    writer.join(10)
    assert app_wrote.is_set()
    assert [r[0] for r in app_store.fetchall("SELECT who FROM seq ORDER BY t")] == ["cli", "app"]


KILLED_CLIENT = """
import os, sys
sys.path.insert(0, {root!r})
from core.store.remote import connect_to_app
store = connect_to_app({db!r})
with store.transaction() as cur:
    cur.execute("INSERT INTO k VALUES (1)")
    print("inside", flush=True)
    sys.stdin.readline()
    os._exit(9)  # killed mid-transaction: no rollback sent
"""


def test_a_client_killed_mid_transaction_is_rolled_back_and_frees_the_lock(app_store: Store) -> None:
    app_store.execute("CREATE TABLE k (n INTEGER)")
    child = subprocess.Popen([sys.executable, "-c", KILLED_CLIENT.format(root=str(ROOT), db=app_store.path)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "inside"
    child.communicate("\n", timeout=30)
    assert child.returncode == 9
    done = threading.Event()

    def app_writes() -> None:
        with app_store.transaction() as cur:
            cur.execute("INSERT INTO k VALUES (2)")
        done.set()

    threading.Thread(target=app_writes, daemon=True).start()
    assert done.wait(10), "the app's write lock was left held by a dead client"
    assert app_store.fetchall("SELECT n FROM k") == [(2,)]


def test_the_endpoint_file_is_private_and_stale_or_foreign_ones_are_refused(isolated_results: Path) -> None:
    store = Store()
    server = serve(store)
    endpoint = endpoint_path(store.path)
    assert stat.S_IMODE(endpoint.stat().st_mode) == 0o600
    info = json.loads(endpoint.read_text())
    assert info["pid"] == os.getpid() and info["port"] == server.port
    assert connect_to_app(store.path, holder_pid=os.getpid() + 1) is None  # not the process holding the file
    wrong = dict(info, key=(b"x" * 32).hex())
    endpoint.write_text(json.dumps(wrong))
    assert connect_to_app(store.path) is None  # fails the HMAC challenge
    endpoint.write_text(json.dumps(info))
    store.close()  # the app stops: its endpoint goes with it
    assert not endpoint.exists()
    endpoint.write_text(json.dumps(info))  # a stale file (the app was killed): nothing listens
    assert connect_to_app(store.path) is None


def test_the_app_stopping_mid_command_is_one_sentence(app_store: Store, remote: RemoteStore) -> None:
    from core.store.remote import AppGoneError

    assert remote.fetchone("SELECT 1") == (1,)
    app_store.close()
    with pytest.raises(AppGoneError, match="stopped while this command was using it"):
        remote.fetchone("SELECT 1")


def test_events_are_ingested_once_by_the_app_and_the_cli_together(app_store: Store, remote: RemoteStore) -> None:
    from core.store import runs as db
    from core.training import jobs

    run_dir = Path(app_store.path).parent / "runs" / "r1"
    run_dir.mkdir(parents=True)
    db.insert_run(app_store, {"id": "r1", "backend": "local", "base_model": "m", "data_path": "d", "format": "alpaca",
                              "config_json": "{}", "status": "running", "run_dir": str(run_dir)})
    events = run_dir / "events.jsonl"
    steps = 300
    errors: list[BaseException] = []

    def ingest(store: Store) -> None:
        try:
            for _ in range(60):
                jobs.ingest_run(store, db.get_run(store, "r1"))
                time.sleep(0.005)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    readers = [threading.Thread(target=ingest, args=(s,)) for s in (app_store, remote)]
    for reader in readers:
        reader.start()
    with events.open("a") as handle:
        for step in range(1, steps + 1):
            handle.write(json.dumps({"type": "metric", "t": time.time(), "step": step, "train_loss": 1.0 / step}) + "\n")
            handle.flush()
    for reader in readers:
        reader.join(60)
    jobs.ingest_run(remote, db.get_run(remote, "r1"))
    assert not errors
    assert app_store.fetchone("SELECT count(*), count(DISTINCT step) FROM run_metrics WHERE run_id = 'r1'") == (steps, steps)


# -- real CLI processes beside a process that holds the database and serves it ------------------------------
SERVING_HOLDER = ("from core.store import Store; from core.store.remote import serve; s = Store(); serve(s); "
                  "print('serving', flush=True); import sys; sys.stdin.readline(); s.close()")


@pytest.fixture
def serving_holder(isolated_results: Path):
    holder = subprocess.Popen([sys.executable, "-c", SERVING_HOLDER], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "serving"
        yield holder
    finally:
        if holder.returncode is None:  # the test may have stopped it already
            holder.communicate("\n", timeout=30)


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *argv], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_cli_commands_run_beside_a_serving_holder(serving_holder: subprocess.Popen, isolated_results: Path) -> None:
    done = _cli("db")
    assert done.returncode == 0, done.stderr
    assert "migration: 0001_settings" in done.stdout and "nanobind" not in done.stderr
    assert _cli("runs").returncode == 0
    saved = _cli("curate", str(sample_raw_path()), "--name", "beside")
    assert saved.returncode == 0 and "saved beside v1" in saved.stdout, saved.stderr
    listed = _cli("db")
    assert "table: curated_datasets (1 rows)" in listed.stdout
    serving_holder.communicate("\n", timeout=30)  # the holder stops: the file is free and kept what was sent
    assert not endpoint_path(isolated_results / "estudo.duckdb").exists()
    with Store() as store:
        assert store.fetchall("SELECT name, version FROM curated_datasets") == [("beside", 1)]


@pytest.mark.parametrize(("argv", "said"), [
    (["curate", "{sample}", "--preset", "nope", "--name", "x"], "'nope' is not a built-in preset"),
    (["curate", "/no/such/file.json", "--name", "x"], "does not exist"),
    (["curate", "{sample}", "--name", "bad name!"], "cannot name a curated dataset"),
    (["train", "--lr", "5"], "learning_rate"),
    (["eval"], "Give the models"),
    (["eval", "--models", "local:smollm2", "--variants", "nope"], "unknown names"),
    (["eval", "--models", "local:smollm2", "--rubric-file", "/no/such/rubric.txt", "--judge", "x"], "cannot be read"),
    (["report", "--xlsx", "/no/such/folder/r.xlsx"], "does not exist"),
    (["generate", "--model", "local:smollm2"], "Give a prompt"),
    (["import", "/no/such/sheet.ods"], "does not exist"),
    (["estimate", "--data", "/no/such.jsonl", "--format", "alpaca", "--model", "local:smollm2"], "does not exist"),
])
def test_bad_arguments_are_named_before_any_database_work(argv: list[str], said: str, isolated_results: Path) -> None:
    """The database is held by a process that does not serve it: a bad argument is still reported as such."""
    holder = subprocess.Popen([sys.executable, "-c", "from core.store import Store; s = Store(); print('held', flush=True);"
                               " import sys; sys.stdin.readline()"], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "held"
        done = _cli(*[a.replace("{sample}", str(sample_raw_path())) for a in argv])
    finally:
        holder.communicate("\n", timeout=30)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and said in lines[0], done.stderr
    if "built-in preset" not in said:
        assert "in use by another process" not in lines[0]


def test_a_server_that_is_stopped_twice_or_never_used_is_quiet(isolated_results: Path) -> None:
    store = Store()
    server = AppServer(store).start()
    server.stop()
    server.stop()
    store.close()
    assert not endpoint_path(store.path).exists()


EXIT_WITH_BUSY_THREADS = textwrap.dedent("""
    import threading, time
    from core.store import Store
    store = Store()
    def poll():
        store.fetchall("SELECT 1")
        while True:
            time.sleep(1)
    for _ in range(3):
        threading.Thread(target=poll, daemon=True).start()
    time.sleep(0.5)
    store.fetch_df("SELECT 1 AS a")
""")


def test_exit_with_threads_that_used_the_store_prints_nothing(isolated_results: Path) -> None:
    """A daemon thread's cursor alive at exit made DuckDB's bindings print ~45 'nanobind: leaked' lines."""
    done = subprocess.run([sys.executable, "-c", EXIT_WITH_BUSY_THREADS], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0 and done.stderr == "" and done.stdout == ""


# -- the real app with a real browser page open, and the CLI beside it ----------------------------------------
@pytest.mark.slow
@pytest.mark.browser
def test_the_cli_beside_the_running_app_and_a_browser(isolated_results: Path, tiny_model_dir: Path) -> None:
    from tests.browser.harness import browser_page, page_errors, running_app, wait_idle

    results, data = isolated_results, isolated_results.parent / "dados"
    db_file = results / "estudo.duckdb"
    env = {**os.environ, "FTDASH_RESULTS": str(results), "FTDASH_DB": str(db_file), "FTDASH_DATA": str(data),
           "FTDASH_MODELS": str(ROOT / "resultados" / "models"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    def cli(*argv: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "core", *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
        assert "nanobind" not in done.stderr and "Traceback" not in done.stderr, done.stderr
        return done

    with running_app(results, extra_env={"FTDASH_DATA": str(data)}) as url, browser_page() as page:
        page.goto(url + "/dados")
        wait_idle(page, 120)
        deadline = time.time() + 60
        while not endpoint_path(db_file).exists() and time.time() < deadline:
            time.sleep(0.2)
        assert endpoint_path(db_file).exists(), "the app did not serve its database"

        assert cli("runs").returncode == 0
        nope = cli("curate", str(sample_raw_path()), "--preset", "nope", "--name", "x")
        assert nope.returncode == 2 and "There is no preset named 'nope'" in nope.stderr  # asked the app's presets
        saved = cli("curate", str(sample_raw_path()), "--name", "amostra")
        assert saved.returncode == 0 and "saved amostra v1" in saved.stdout, saved.stderr
        exported = cli("export", "amostra", "--format", "alpaca", "--out", str(data / "x.jsonl"))
        assert exported.returncode == 0 and (data / "x.jsonl").exists(), exported.stderr
        trained = cli("train", "--model", str(tiny_model_dir), "--data", "amostra", "--format", "chat-template",
                      "--max-steps", "3", "--batch-size", "2", "--grad-accum", "1", "--max-seq-len", "64",
                      "--max-train-examples", "12", "--eval-every", "0", "--eval-examples", "4")
        assert trained.returncode == 0 and ": succeeded" in trained.stdout, trained.stderr[-2000:]
        run_id = trained.stdout.split()[1]
        evaluated = cli("eval", "--models", str(tiny_model_dir), "--data", "amostra", "--limit", "2",
                        "--metrics", "rougeL", "--main-metric", "rougeL", "--max-new-tokens", "8")
        assert evaluated.returncode == 0 and "evaluation: ev-" in evaluated.stdout, evaluated.stderr[-2000:]
        reported = cli("report", "--xlsx", str(data / "r.xlsx"))
        assert reported.returncode == 0 and (data / "r.xlsx").exists(), reported.stderr
        listed = cli("runs")
        assert listed.returncode == 0 and run_id in listed.stdout and "succeeded" in listed.stdout

        page.reload()  # the open page sees what the CLI saved through the app
        wait_idle(page, 120)
        assert "amostra" in page.content()
        assert not page_errors(page)

    assert not endpoint_path(db_file).exists()  # removed when the app stopped
    log = (results / "streamlit.log").read_text(errors="replace")
    assert "nanobind" not in log and "Traceback" not in log and "FutureWarning" not in log, log[-3000:]
    with Store(db_file) as store:  # the file is free again and holds everything the CLI sent
        assert store.fetchall("SELECT name, version FROM curated_datasets") == [("amostra", 1)]
        run = store.fetch_dicts("SELECT status, run_dir FROM runs WHERE id = ?", [run_id])[0]
        assert run["status"] == "succeeded"
        events = [json.loads(line) for line in (Path(run["run_dir"]) / "events.jsonl").read_text().splitlines()]
        metric_steps = {e["step"] for e in events if e.get("type") == "metric" and e.get("step") is not None}
        stored = store.fetchone("SELECT count(DISTINCT step), count(*) FILTER (WHERE name = 'train_loss') "
                                "FROM run_metrics WHERE run_id = ?", [run_id])
        train_losses = sum(1 for e in events if e.get("type") == "metric" and "train_loss" in e)
        assert stored == (len(metric_steps), train_losses)  # every event once: app and CLI both ingested
        assert store.fetchone("SELECT count(*) FROM evaluations")[0] == 1
