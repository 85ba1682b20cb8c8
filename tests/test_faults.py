"""Faults the product must survive, each with real processes: the app killed (SIGKILL) while runs
train and started again (a live run is found again, a run killed meanwhile is marked lost, events
are ingested once, never twice); a training process killed under ``python -m core train``; the run
folder removed mid-run; the disk filling up mid-run (a real 24 MB tmpfs when this user may mount one,
else ENOSPC injected into the training process's writes); the database held by another process
(every command that opens it, and a page); the fake OpenAI answering 429s, 500s and timeouts past
every retry (what tests/test_openai_*.py do not cover already: a whole run through core.training.jobs, and
an evaluation).

    .venv/bin/python -m pytest -q tests/test_faults.py          # -m "not slow" skips the app restart
"""
from __future__ import annotations

import collections
import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_openai import FAKE_KEY, FakeOpenAI, fake_openai_fixture  # noqa: F401 - the fixture

from core.store import Store
from core.store import runs as db
from core.training import jobs
from core.training.config import TrainConfig

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "dados" / "seed"
_METRIC_SKIP = db._METRIC_SKIP


def tiny_config(model: Path, **overrides) -> dict:
    values = dict(base_model=str(model), data="seed-study", max_steps=100_000, batch_size=2, grad_accum=1,
                  max_seq_len=64, learning_rate=3e-3, warmup_steps=0, lora_r=4, lora_alpha=8, eval_every=0,
                  eval_examples=4, save_every=0, max_train_examples=16, grace_s=10.0)
    values.update(overrides)
    return values


def metric_rows_of_events(run_dir: Path, upto: int | None = None) -> collections.Counter:
    """(step, name) of every metric value in events.jsonl (up to byte ``upto``), as ingestion stores them."""
    data = (Path(run_dir) / "events.jsonl").read_bytes()
    data = data[:upto] if upto is not None else data
    found: collections.Counter = collections.Counter()
    for raw in data[: data.rfind(b"\n") + 1].splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(raw)
            if event.get("type") == "metric" and event.get("step") is not None:
                for name, value in event.items():
                    if name not in _METRIC_SKIP and isinstance(value, (int, float)) and not isinstance(value, bool):
                        found[(int(event["step"]), name)] += 1
    return found


def metric_rows_of_db(store: Store, run_id: str) -> collections.Counter:
    return collections.Counter((int(s), n) for s, n in store.fetchall(
        "SELECT step, name FROM run_metrics WHERE run_id = ?", [run_id]))


def wait_for(condition, timeout: float = 120.0, every: float = 0.3, what: str = "condition"):
    end = time.time() + timeout
    while time.time() < end:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def metric_lines(run_dir: Path) -> int:
    path = Path(run_dir) / "events.jsonl"
    return sum(1 for line in path.read_text(errors="replace").splitlines() if '"type": "metric"' in line) \
        if path.exists() else 0


def kill_group(pid: int | None) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(pid), signal.SIGKILL)


@pytest.fixture
def cleanup_runs(isolated_results: Path):
    """Never leave a training process behind, whatever the test did."""
    yield
    for heartbeat in (isolated_results / "runs").glob("*/heartbeat") if (isolated_results / "runs").exists() else []:
        with contextlib.suppress(Exception):
            kill_group(json.loads(heartbeat.read_text())["pid"])


# -- the app killed while runs train, then started again ---------------------------------------------
LAUNCHER = """
import json, sys
from core.training import jobs
from core.store import Store
from core.training.config import TrainConfig
with Store() as store:
    ids = [jobs.launch(store, TrainConfig.from_preset("custom", **c)) for c in json.loads(sys.argv[1])]
print(json.dumps(ids))
"""


def app_pid(url: str) -> int:
    import psutil

    port = url.rsplit(":", 1)[1]
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info["cmdline"] or []
        if "streamlit" in " ".join(cmd) and "--server.port" in cmd and cmd[cmd.index("--server.port") + 1] == port:
            return proc.pid
    raise AssertionError(f"no app process on port {port}")


def visit(url: str) -> None:
    """Open the app in the real browser: Streamlit runs app.py (and starts the supervisor) on a visit."""
    from tests.browser.harness import browser_page, page_errors, wait_idle

    with browser_page() as page:
        page.goto(url + "/treino")
        wait_idle(page, 90)
        assert not page_errors(page)
        time.sleep(6)  # a few supervisor passes (every 2 s)


@pytest.mark.slow
def test_app_killed_while_runs_train_then_restarted(isolated_results: Path, tiny_model_dir: Path,
                                                    cleanup_runs) -> None:
    from tests.browser.harness import running_app

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("no chromium: install Debian's chromium (scripts/install.sh)")
    configs = [tiny_config(tiny_model_dir), tiny_config(tiny_model_dir, seed=7)]
    done = subprocess.run([sys.executable, "-c", LAUNCHER, json.dumps(configs)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    live, killed = json.loads(done.stdout.splitlines()[-1])  # the launcher has exited; the runs go on
    dirs = {r: isolated_results / "runs" / r for r in (live, killed)}
    wait_for(lambda: all(metric_lines(d) >= 3 for d in dirs.values()), what="both runs training")

    with running_app(isolated_results) as url:
        visit(url)
        os.killpg(app_pid(url), signal.SIGKILL)  # the app dies: no shutdown, no last ingestion
        time.sleep(1)
    heartbeat = json.loads((dirs[killed] / "heartbeat").read_text())
    kill_group(heartbeat["pid"])  # a training process dies while no app watches it
    with Store(read_only=True) as store:  # what the killed app had stored (the WAL is replayed)
        first = {r: db.get_run(store, r) for r in dirs}
        ingested = {r: metric_rows_of_db(store, r) for r in dirs}
    for run_id, run in first.items():
        assert run["events_offset"] > 0, "the first app ingested nothing before it was killed"
        assert ingested[run_id] == metric_rows_of_events(dirs[run_id], run["events_offset"])

    with running_app(isolated_results) as url:
        visit(url)
    with Store() as store:
        found = db.get_run(store, live)
        lost = db.get_run(store, killed)
        assert found["status"] in ("starting", "running"), found  # found again, still training
        assert found["events_offset"] > first[live]["events_offset"]
        assert metric_rows_of_db(store, live) == metric_rows_of_events(dirs[live], found["events_offset"])
        assert lost["status"] == "lost" and "last heartbeat at" in lost["status_message"], lost
        assert metric_rows_of_db(store, killed) == metric_rows_of_events(dirs[killed])  # every line, once
        ended = jobs.cancel_run(store, live, grace_s=15)
        assert ended["status"] == "cancelled", ended
        jobs.ingest_run(store, ended)
        assert metric_rows_of_db(store, live) == metric_rows_of_events(dirs[live])  # every line, once
        assert max(metric_rows_of_db(store, live).values()) == 1


# -- a training process killed under the CLI -----------------------------------------------------------
def test_cli_train_when_its_training_process_is_killed(isolated_results: Path, tiny_model_dir: Path,
                                                       cleanup_runs) -> None:
    argv = [sys.executable, "-m", "core", "train", "--model", str(tiny_model_dir), "--data", "seed-study",
            "--format", "chat-template", "--max-steps", "100000", "--batch-size", "2", "--grad-accum", "1",
            "--max-seq-len", "64", "--max-train-examples", "16", "--eval-every", "0"]
    cli = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        beat = wait_for(lambda: next(iter((isolated_results / "runs").glob("*/heartbeat")), None)
                        if (isolated_results / "runs").exists() else None, what="a heartbeat")
        wait_for(lambda: metric_lines(beat.parent) >= 2, what="training steps")
        kill_group(json.loads(beat.read_text())["pid"])  # as the OOM killer would
        out, err = cli.communicate(timeout=120)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 1 and "Traceback" not in err, err
    assert ": lost" in out and "stopped without reporting an end" in err
    with Store() as store:
        (run,) = db.list_runs(store)
        assert run["status"] == "lost" and "output.log" in run["status_message"]
        assert metric_rows_of_db(store, run["id"]) == metric_rows_of_events(beat.parent)


# -- the run folder removed while the run trains -----------------------------------------------------------
def test_run_folder_removed_mid_run(isolated_results: Path, tiny_model_dir: Path, cleanup_runs) -> None:
    import shutil

    with Store() as store:
        other = jobs.launch(store, TrainConfig.from_preset("custom", **tiny_config(tiny_model_dir, max_steps=3)))
        run_id = jobs.launch(store, TrainConfig.from_preset("custom", **tiny_config(tiny_model_dir,
                                                                                      save_every=5)))
        run_dir = isolated_results / "runs" / run_id
        wait_for(lambda: metric_lines(run_dir) >= 3, what="training steps")
        shutil.rmtree(run_dir)

        def ended() -> dict | None:
            for run in jobs.poll(store):  # the supervisor's pass: must never raise
                assert run is not None
            run = db.get_run(store, run_id)
            return run if run["status"] in db.TERMINAL else None

        run = wait_for(ended, timeout=60, what="the run to end")
        assert run["status"] == "failed" and "was removed" in run["status_message"], run
        assert str(run_dir) in run["status_message"]
        assert not jobs.process_alive(run)  # stopped, not training on into a folder nobody reads
        wait_for(lambda: jobs.poll(store) is not None and db.get_run(store, other)["status"] in db.TERMINAL,
                 what="the other run")
        assert db.get_run(store, other)["status"] == "succeeded"  # nothing else affected


# -- the disk fills up mid-run -----------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path):
    """A 24 MB tmpfs when this user may mount one (root in CI containers), else None."""
    folder = tmp_path / "small_disk"
    folder.mkdir()
    mounted = False
    if os.geteuid() == 0 and not os.environ.get("FTDASH_TEST_NO_MOUNT"):  # (set it to try the simulation)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(folder)],
                                 capture_output=True).returncode == 0
    yield folder if mounted else None
    if mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path) -> Path:
    filler = folder / "filler.bin"
    with contextlib.suppress(OSError), filler.open("wb") as handle:
        while True:
            handle.write(b"\0" * (1 << 20))
            handle.flush()
    return filler


def test_disk_full_mid_run(small_disk: Path | None, tiny_model_dir: Path, monkeypatch, tmp_path: Path,
                           cleanup_runs) -> None:
    """The database and the run on a small disk that fills up while the run trains: the run ends
    failed ("the disk is full") or lost, every supervisor pass and CLI command meanwhile either works
    or says the disk is full in one sentence, and once there is space again everything is there."""
    from core.errors import UserFacingError

    if small_disk is None:  # no mount allowed here: ENOSPC injected into the training process's writes
        return _disk_full_simulated(tiny_model_dir, tmp_path, monkeypatch)
    results = small_disk / "resultados"
    monkeypatch.setenv("FTDASH_RESULTS", str(results))
    monkeypatch.setenv("FTDASH_DB", str(results / "estudo.duckdb"))
    sentences: list[str] = []

    def supervise(store: Store) -> None:
        try:
            jobs.poll(store)  # anything but a UserFacingError is a crash of the supervisor or the page
        except UserFacingError as exc:
            sentences.append(str(exc))

    store = Store()
    try:
        done = jobs.launch(store, TrainConfig.from_preset("custom", **tiny_config(tiny_model_dir, max_steps=2)))
        wait_for(lambda: jobs.poll(store) is not None and db.get_run(store, done)["status"] in db.TERMINAL)
        run_id = jobs.launch(store, TrainConfig.from_preset("custom", **tiny_config(tiny_model_dir,
                                                                                      save_every=4)))
        run_dir = results / "runs" / run_id
        wait_for(lambda: metric_lines(run_dir) >= 2, what="training steps")
        filler = fill(small_disk)
        wait_for(lambda: supervise(store) or not jobs.process_alive(db.get_run(store, run_id)), timeout=180,
                 what="the training process to stop on the full disk")
    finally:
        store.close()
    cli = subprocess.run([sys.executable, "-m", "core", "import", str(SEED / "fine_tuning_llama_gpt.ods"),
                          "--no-score"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 2 and cli.stderr.startswith("error: ") and "is full" in cli.stderr, cli.stderr
    assert cli.stderr.count("\n") == 1
    filler.unlink()  # space again: the supervisor records how the run ended
    with Store() as store:
        run = wait_for(lambda: supervise(store) or (db.get_run(store, run_id)["status"] in db.TERMINAL
                                                    and db.get_run(store, run_id)), timeout=60, what="the run's end")
        assert run["status"] in ("failed", "lost"), run
        message = run["status_message"]
        assert ("disk is full" in message if run["status"] == "failed" else "stopped without reporting" in message), run
        assert db.get_run(store, done)["status"] == "succeeded"  # nothing else affected
        assert {r["id"] for r in db.list_runs(store)} == {done, run_id}
        assert store.fetchone("SELECT count(*) FROM evaluations")[0] == 0  # the refused import left nothing
    assert all("is full" in s for s in sentences), sentences


def _disk_full_simulated(tiny_model_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """The training process's own writes fail with ENOSPC after a few events (no mount allowed):
    it ends without a traceback of its own, and the supervisor marks the run."""
    from core.training import trainer as train
    from core.training.backends import base

    with Store() as store:
        run_id = jobs.launch(store, TrainConfig.from_preset("custom", **tiny_config(tiny_model_dir,
                                                                                      max_steps=1)))
        wait_for(lambda: jobs.poll(store) is not None and db.get_run(store, run_id)["status"] in db.TERMINAL)
        run_dir = Path(db.get_run(store, run_id)["run_dir"])
    config = json.loads((run_dir / "config.json").read_text())
    again = tmp_path / "runs" / "disk-full-run"
    again.mkdir(parents=True)
    (again / "config.json").write_text(json.dumps({**config, "max_steps": 50, "save_every": 5}))
    real_emit = base.EventWriter.emit
    count = {"n": 0}

    def emit(self, type_, **fields):
        count["n"] += 1
        if count["n"] > 4:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_emit(self, type_, **fields)

    monkeypatch.setattr(base.EventWriter, "emit", emit)
    assert train.run(again) in ("failed", "starting", "running")  # returns: no second traceback
    assert "disk is full" in train.explain_crash(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))


# -- the database held by another process ----------------------------------------------------------------
HOLDER = "from core.store import Store; s = Store(); print('holding', flush=True); import time; time.sleep(600)"


@pytest.fixture
def held_database(isolated_results: Path):
    """Another process (an app, a second CLI) holds the database file."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


LOCKED_COMMANDS = {
    "runs": ["runs"],
    "db": ["db"],
    "models": ["models", "list"],
    "curate --name": ["curate", str(SEED / "train.jsonl"), "--name", "livros"],
    "export NAME": ["export", "livros", "--format", "alpaca", "--out", "{tmp}/x.jsonl"],
    "estimate": ["estimate", "--data", str(SEED / "trn_gpt4_formatted.jsonl"), "--format", "openai-chat", "--model",
                 "gpt-4o-mini-2024-07-18"],
    "train": ["train", "--data", "seed-study", "--max-steps", "2"],
    "cancel": ["cancel", "some-run"],
    "resume": ["resume", "some-run"],
    "pause": ["pause", "some-run"],
    "eval": ["eval", "--models", "local:smollm2", "--limit", "1"],
    "generate": ["generate", "--model", "local:smollm2", "--prompt", "A book"],
    "report": ["report"],
    "import": ["import", str(SEED / "fine_tuning_llama_gpt.ods")],
}


def test_every_command_on_a_locked_database_is_one_sentence(held_database: int, tmp_path: Path) -> None:
    problems = []
    for name, argv in LOCKED_COMMANDS.items():
        argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
        done = subprocess.run([sys.executable, "-m", "core", *argv], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        # cancel reaches a run through its folder when the database is held (tests/test_cli_train.py)
        said = "No single run folder matches" if name == "cancel" else f"in use by another process (process {held_database})"
        if not (done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ") and said in lines[0]):
            problems.append(f"{name}: exit {done.returncode}, stderr {done.stderr[-400:]!r}")
    assert not problems, "\n".join(problems)
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize("page", ["1_dados", "2_formatos", "3_treino", "4_playground", "5_resultados"])
def test_a_page_on_a_locked_database_is_one_sentence(page: str, held_database: int) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "paginas" / f"{page}.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "in use by another process" in at.error[0].value
    st.cache_resource.clear()


# -- OpenAI answering 429s, 500s and timeouts past every retry ------------------------------------------
@pytest.fixture
def keyed_fake(fake_openai: FakeOpenAI, monkeypatch) -> FakeOpenAI:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    return fake_openai


def _openai_run(store: Store, train_file: Path, **openai) -> dict:
    config = TrainConfig.from_preset("custom", backend="openai", base_model="gpt-4o-mini-2024-07-18",
                                          data=str(train_file), format="openai-chat",
                                          openai={"model": "gpt-4o-mini-2024-07-18", "poll_interval_s": 0.05,
                                                  "max_retries": 1, **openai})
    run_id = jobs.launch(store, config)
    return wait_for(lambda: jobs.poll(store) is not None and db.get_run(store, run_id)["status"] in db.TERMINAL
                    and db.get_run(store, run_id), timeout=180, what="the OpenAI run to end")


@pytest.mark.parametrize("where, status, words", [
    (("POST", "^/files$"), 500, "server error (500)"),
    (("POST", "^/fine_tuning/jobs$"), 429, "429"),
    (("POST", "^/files$"), 503, "server error (503)"),
])
def test_openai_run_when_the_api_keeps_failing(keyed_fake: FakeOpenAI, isolated_results: Path, where, status: int,
                                               words: str, cleanup_runs) -> None:
    """Every retry answered with an error: the run ends failed with one sentence (no key in it),
    after the client's retries, and no job is left behind on the server."""
    keyed_fake.fail(*where, status, times=1000, type_="server_error" if status >= 500 else "requests")
    with Store() as store:
        run = _openai_run(store, SEED / "trn_gpt4_formatted.jsonl")
        assert run["status"] == "failed" and words in run["status_message"], run["status_message"]
        assert FAKE_KEY not in run["status_message"] and "Traceback" not in run["status_message"]
        assert len(keyed_fake.calls(*where)) >= 2  # retried before giving up
        if where[1] == "^/files$":
            assert not keyed_fake.calls("POST", "^/fine_tuning/jobs$")


def test_openai_run_when_polling_times_out_for_too_long(keyed_fake: FakeOpenAI, isolated_results: Path,
                                                        cleanup_runs) -> None:
    keyed_fake.delay("^/fine_tuning/jobs/[^/]+$", 2.0, times=1000)  # every status poll times out
    with Store() as store:
        run = _openai_run(store, SEED / "trn_gpt4_formatted.jsonl", request_timeout_s=0.3, max_outage_s=3.0)
        assert run["status"] == "failed" and "timed out" in run["status_message"], run["status_message"]
        assert run["remote_job_id"], "the job id is kept, so the run can be re-attached later"


@pytest.mark.parametrize("fault", ["429", "500", "timeout"])
def test_evaluation_when_the_api_keeps_failing(keyed_fake: FakeOpenAI, store: Store, fault: str,
                                              monkeypatch) -> None:
    """An evaluation of an OpenAI model whose every call fails: it ends, each answer keeps one
    sentence as its error, the evaluation says how many failed, and a later run fills them in."""
    from core.compare.evaluate import EvalConfig, run_evaluation
    from core.models.registry import ensure_default_models
    from core.store.compare import get_evaluation

    ensure_default_models(store)
    if fault == "timeout":  # real slow answers; only the client's 60 s limit is made 0.3 s for the test
        import core.models.generate_remote
        from core.hosted.openai_client import make_client

        keyed_fake.delay("/chat/completions", 3.0, times=1000)
        monkeypatch.setattr(core.models.generate_remote, "_client", lambda model, max_retries, api_key=None: make_client(
            api_key=api_key, max_retries=max_retries, timeout=0.3))
    else:
        keyed_fake.fail("POST", "/chat/completions", int(fault), times=1000,
                        type_="server_error" if fault == "500" else "requests")
    config = EvalConfig(models=["openai:gpt-4o-mini-2024-07-18"], data="seed-study", limit=2,
                        metrics=["rougeL"], main_metric="rougeL", max_new_tokens=8)
    started = time.time()
    eval_id = run_evaluation(store, config)
    assert time.time() - started < 120
    row = get_evaluation(store, eval_id)
    assert row["status"] == "succeeded" and "2 answer(s) failed" in row["status_message"], row
    errors = [r[0] for r in store.fetchall("SELECT error FROM eval_answers WHERE eval_id = ?", [eval_id])]
    assert len(errors) == 2 and all(e and "\n" not in e and FAKE_KEY not in e for e in errors), errors
    keyed_fake.rules.clear()
    run_evaluation(store, config)
    assert store.fetchone("SELECT count(*) FROM eval_answers WHERE eval_id = ? AND error IS NULL", [eval_id])[0] == 2
