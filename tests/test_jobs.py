"""The run supervisor with real training subprocesses (the tiny model): launch and ingest, a run
killed and the supervisor restarted (lost, nothing ingested twice), cancel (graceful, and forced
after the grace period), resume from the checkpoint, secrets only in the environment."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from core.store import Store
from core.store import runs as db
from core.training import jobs
from core.training.config import TrainConfig

SEED = Path(__file__).resolve().parent.parent / "dados" / "seed"


def _config(model: Path, **overrides) -> TrainConfig:
    values = dict(base_model=str(model), data="seed-study", max_steps=3, batch_size=2, grad_accum=1, max_seq_len=64,
                  learning_rate=3e-3, warmup_steps=0, lora_r=4, lora_alpha=8, eval_every=0, eval_examples=4,
                  save_every=0, max_train_examples=16, grace_s=20.0)
    values.update(overrides)
    return TrainConfig.from_preset("custom", **values)


def _wait(store: Store, run_id: str, condition, timeout: float = 120.0) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        jobs.poll(store)
        run = db.get_run(store, run_id)
        if condition(run):
            return run
        time.sleep(0.3)
    raise AssertionError(f"timed out; run is {db.get_run(store, run_id)}")


def _metric_rows(store: Store, run_id: str) -> list[tuple]:
    return store.fetchall("SELECT step, name FROM run_metrics WHERE run_id = ? ORDER BY step, name", [run_id])


def test_launch_runs_in_the_background_and_is_recorded(db_store: Store, tiny_model_dir: Path) -> None:
    secret = "sk-never-written-anywhere-123456"
    started = time.time()
    run_id = jobs.launch(db_store, _config(tiny_model_dir, max_steps=4, save_every=2, eval_every=2),
                         env={"OPENAI_API_KEY": secret})
    assert time.time() - started < 10  # launching never waits for the training
    run = db.get_run(db_store, run_id)
    assert run["status"] == "starting" and run["pid"] and run["curated_name"] == "seed-study"
    environ = Path(f"/proc/{run['pid']}/environ")
    if environ.exists():  # the key reaches the subprocess through its environment only
        assert secret.encode() in environ.read_bytes()
    run = _wait(db_store, run_id, lambda r: r["status"] in db.TERMINAL)
    assert run["status"] == "succeeded", jobs.run_log_tail(run)
    assert run["step"] == 4 and run["total_steps"] == 4 and run["trained_tokens"] > 0
    assert run["started_at"] and run["ended_at"] and run["wall_s"] > 0 and run["tokens_per_s"] > 0
    assert run["device"].startswith("cpu") and run["peak_rss_mb"] > 0 and run["final_loss"] > 0
    assert run["output_model"].endswith("adapter") and run["actual_cost_usd"] is not None
    assert run["events_offset"] == (Path(run["run_dir"]) / "events.jsonl").stat().st_size
    names = {name for _, name in _metric_rows(db_store, run_id)}
    assert {"train_loss", "eval_loss", "lr"} <= names
    models = {m["id"] for m in db_store.fetch_dicts("SELECT id FROM models WHERE run_id = ?", [run_id])}
    assert models == {f"local-ft:{run_id}", f"local-ft:{run_id}@2"}
    for path in Path(run["run_dir"]).rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".log", ""):
            assert secret not in path.read_text(errors="replace"), path
    assert secret not in json.dumps(db_store.fetch_dicts("SELECT * FROM runs"), default=str)
    curves = db.metrics_df(db_store, [run_id])
    assert set(curves["name"]) == {"train_loss", "eval_loss"} and curves["tokens_seen"].notna().all()


def test_killed_run_is_marked_lost_after_a_supervisor_restart(isolated_results: Path, tiny_model_dir: Path) -> None:
    store = Store()
    run_id = jobs.launch(store, _config(tiny_model_dir, max_steps=100_000))
    run = _wait(store, run_id, lambda r: (r["step"] or 0) >= 3)
    os.killpg(int(run["pid"]), signal.SIGKILL)  # the whole process group, as an OOM killer or a crash would
    jobs._CHILDREN.clear()                      # the app restarts: it knows nothing but the database
    store.close()
    time.sleep(0.5)
    store = Store()
    try:
        before = _metric_rows(store, run_id)
        polled = jobs.poll(store)
        assert [r["id"] for r in polled] == [run_id]
        run = db.get_run(store, run_id)
        assert run["status"] == "lost" and "last heartbeat at" in run["status_message"]
        assert run["last_heartbeat"] is not None and run["ended_at"] is not None
        after = _metric_rows(store, run_id)
        assert len(after) >= len(before) and len(after) == len(set(after))  # nothing ingested twice
        jobs.poll(store)
        jobs.ingest_run(store, run)
        assert _metric_rows(store, run_id) == after
        events, _ = jobs.read_events(Path(run["run_dir"]))
        assert len(after) == sum(1 for e in events if e["type"] == "metric" for k in e
                                 if k in ("train_loss", "lr", "grad_norm", "eval_loss"))
        with pytest.raises(jobs.RunStateError, match="no checkpoint"):
            jobs.resume_run(store, run_id)
    finally:
        store.close()


def test_concurrent_polls_never_ingest_twice(db_store: Store, tiny_model_dir: Path) -> None:
    run_id = jobs.launch(db_store, _config(tiny_model_dir, max_steps=6))
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            jobs.poll(db_store)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        _wait(db_store, run_id, lambda r: r["status"] in db.TERMINAL)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    rows = _metric_rows(db_store, run_id)
    assert len(rows) == len(set(rows)) and len([r for r in rows if r[1] == "train_loss"]) == 6


def test_cancel_saves_a_checkpoint_and_resume_continues(db_store: Store, tiny_model_dir: Path) -> None:
    run_id = jobs.launch(db_store, _config(tiny_model_dir, max_steps=100_000))
    _wait(db_store, run_id, lambda r: (r["step"] or 0) >= 2)
    run = jobs.cancel_run(db_store, run_id)
    assert run["status"] == "cancelled" and "checkpoint" in run["status_message"]
    checkpoint = jobs.latest_checkpoint(Path(run["run_dir"]))
    assert checkpoint is not None
    saved_step = int(checkpoint.name.split("-")[1])
    with pytest.raises(jobs.RunStateError):
        jobs.cancel_run(db_store, run_id)
    jobs.resume_run(db_store, run_id)
    assert db.get_run(db_store, run_id)["status"] == "starting"
    with pytest.raises(jobs.RunStateError, match="still running"):
        jobs.resume_run(db_store, run_id)
    run = _wait(db_store, run_id, lambda r: (r["step"] or 0) >= saved_step + 2)
    assert run["resumes"] == 1 and run["status"] == "running"
    run = jobs.cancel_run(db_store, run_id, wait=True)
    assert run["status"] == "cancelled"
    steps = [s for s, name in _metric_rows(db_store, run_id) if name == "train_loss"]
    assert steps == list(range(1, len(steps) + 1))  # continuous, no step twice


def test_a_stuck_run_is_killed_after_the_grace_period(db_store: Store, tiny_model_dir: Path) -> None:
    run_id = jobs.launch(db_store, _config(tiny_model_dir, max_steps=100_000))
    run = _wait(db_store, run_id, lambda r: (r["step"] or 0) >= 1)
    os.kill(int(run["pid"]), signal.SIGSTOP)  # it can no longer look at the cancel file
    started = time.time()
    run = jobs.cancel_run(db_store, run_id, grace_s=1.0)
    assert time.time() - started < 30
    assert run["status"] == "cancelled" and "ended before it reported" in run["status_message"]
    assert not jobs.process_alive(run)


def test_bad_input_is_one_sentence_and_creates_nothing(db_store: Store, tiny_model_dir: Path) -> None:
    with pytest.raises(jobs.UserFacingError, match="neither a training file nor a curated dataset"):
        jobs.launch(db_store, _config(tiny_model_dir, data="no-such-dataset"))
    with pytest.raises(jobs.UserFacingError, match="lora_r"):
        jobs.launch(db_store, _config(tiny_model_dir, lora_r=0))
    assert db.list_runs(db_store) == []
    with pytest.raises(jobs.RunNotFoundError):
        jobs.cancel_run(db_store, "nope")


def test_a_run_whose_process_vanished_before_an_app_start_is_lost(db_store: Store, tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "old-run"
    run_dir.mkdir(parents=True)
    (run_dir / "events.jsonl").write_text(json.dumps({"type": "status", "status": "running", "t": time.time()}) + "\n")
    db.insert_run(db_store, {"id": "old-run", "backend": "local", "base_model": "smollm2", "config_json": "{}",
                             "status": "starting", "run_dir": str(run_dir), "pid": 2**22 + 12345})
    jobs.poll(db_store)
    run = db.get_run(db_store, "old-run")
    assert run["status"] == "lost" and "never sent a heartbeat" in run["status_message"]


def test_a_run_seen_before_its_pid_is_stored_is_starting_not_lost(db_store: Store, tmp_path: Path) -> None:
    """The supervisor may read a new run's row before the launcher has spawned its process and stored
    the pid (seconds under load): a run folder written moments ago is starting; an old one is lost."""
    for name, age_s in (("new-run", 0), ("old-run", 600)):
        run_dir = tmp_path / "runs" / name
        run_dir.mkdir(parents=True)
        (run_dir / "config.json").write_text("{}")
        os.utime(run_dir / "config.json", (time.time() - age_s, time.time() - age_s))
        db.insert_run(db_store, {"id": name, "backend": "local", "base_model": "smollm2", "config_json": "{}",
                                 "status": "starting", "run_dir": str(run_dir)})
    jobs.poll(db_store)
    assert db.get_run(db_store, "new-run")["status"] == "starting"
    old = db.get_run(db_store, "old-run")
    assert old["status"] == "lost" and "never sent a heartbeat" in old["status_message"]


def test_several_gpus_launch_the_same_run_under_accelerate(monkeypatch, tmp_path: Path) -> None:
    from accelerate.commands.launch import launch_command_parser

    config = TrainConfig.from_preset("cpu-demo")
    monkeypatch.setattr(jobs, "_cuda_devices", lambda: 1)
    assert jobs.train_command(tmp_path, config)[1:] == ["-m", "core.training.trainer", str(tmp_path)]
    monkeypatch.setattr(jobs, "_cuda_devices", lambda: 4)
    command = jobs.train_command(tmp_path, config, resume=True)
    assert command[1:3] == ["-m", "accelerate.commands.launch"]
    parsed = launch_command_parser().parse_args(command[3:])
    assert parsed.multi_gpu and parsed.num_processes == 4 and parsed.module
    assert parsed.training_script == "core.training.trainer" and parsed.training_script_args == [str(tmp_path), "--resume"]
    single = TrainConfig.from_preset("cpu-demo", multi_gpu=False)
    assert "accelerate.commands.launch" not in jobs.train_command(tmp_path, single)


# -- estimates beside the actual figures, and what can be resumed -----------------------------------
def _finished(store: Store, run_id: str, **values) -> None:
    row = {"id": run_id, "backend": "local", "base_model": "m", "config_json": "{}", "status": "succeeded",
           "run_dir": f"/nowhere/{run_id}", **values}
    db.insert_run(store, row)


def test_later_estimates_use_past_runs_on_the_same_hardware(db_store: Store, tiny_model_dir: Path) -> None:
    from core.training.run_data import estimate_run, expected_device

    config = _config(tiny_model_dir, max_steps=4).for_launch(db_store)
    first = estimate_run(db_store, config)
    assert first is not None and first.throughput_kind == "table" and first.overhead_s is None
    device = expected_device(config)
    assert device and device.startswith("cpu: ")
    # a finished run of this model on this device: 1,000 tokens at 50 tokens/s in 60 s wall (40 s outside training)
    _finished(db_store, "r1", base_model=str(tiny_model_dir), device=device, trained_tokens=1000, tokens_per_s=50.0,
              wall_s=60.0)
    _finished(db_store, "r2", base_model=str(tiny_model_dir), device="cuda: another machine, bf16",
              trained_tokens=1000, tokens_per_s=5000.0, wall_s=2.0)
    later = estimate_run(db_store, config)
    assert later.throughput_kind == "past-runs" and later.tokens_per_s == 50.0 and later.overhead_s == 40.0
    assert later.throughput_source == f"1 earlier run of {tiny_model_dir} on {device}: median 50 tokens/s"
    assert later.time_s == pytest.approx(40.0 + later.billable_tokens / 50.0)
    assert later.total_cost_usd == pytest.approx(later.time_s / 3600 * config.price_per_hour)


def test_estimate_vs_actual_has_the_error_once_a_run_succeeded() -> None:
    from core.training.run_data import estimate_vs_actual

    run = {"status": "succeeded", "estimated_wall_s": 25.0, "wall_s": 63.0, "estimated_cost_usd": 0.002,
           "actual_cost_usd": 0.001}
    check = estimate_vs_actual(run)
    assert check["time_error_pct"] == pytest.approx(-60.3, abs=0.1) and check["cost_error_pct"] == pytest.approx(100)
    assert estimate_vs_actual({**run, "status": "cancelled"})["time_error_pct"] is None
    assert estimate_vs_actual({"status": "succeeded", "wall_s": 5.0})["time_error_pct"] is None


def test_runs_command_shows_estimate_and_error_and_no_none(isolated_results: Path, capsys) -> None:
    from core.cli import main

    with Store() as store:
        _finished(store, "20260101-000000-m-aaaa", estimated_wall_s=25.0, wall_s=63.0, estimated_cost_usd=0.002,
                  actual_cost_usd=0.001)
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    header, line = out.splitlines()[:2]
    assert header.split()[-8:] == ["est_s", "wall_s", "time_err", "est_usd", "quote_usd", "usd", "cost_err", "model"]
    assert line.split()[-8:-1] == ["25", "63", "-60%", "$0.0020", "—", "$0.0010", "+100%"]  # no provider quote
    assert "None" not in out and "—" in line  # step, losses, ... unknown: a dash


@pytest.mark.parametrize("run, reason", [
    ({"backend": "openai", "status": "failed"}, "before OpenAI created a job"),
    ({"backend": "openai", "status": "failed", "remote_job_id": "ftjob-1"}, "does not restart an ended job"),
    ({"backend": "openai", "status": "cancelled", "remote_job_id": "ftjob-1"}, "does not restart an ended job"),
    ({"backend": "openai", "status": "lost", "remote_job_id": "ftjob-1"}, None),   # re-attach to the job
    ({"backend": "local", "status": "failed"}, "saved no checkpoint"),
    ({"backend": "local", "status": "succeeded"}, "already finished"),
    ({"backend": "openai", "status": "running", "remote_job_id": "ftjob-1"}, "still running"),
])
def test_resume_is_offered_only_where_it_can_work(run, reason, db_store: Store, tmp_path: Path) -> None:
    run = {"id": "r", "run_dir": str(tmp_path), **run}
    blocker = jobs.resume_blocker(run)
    assert (blocker is None) if reason is None else (reason in blocker)
    if reason and run["status"] in db.TERMINAL:
        _finished(db_store, "r", **{k: v for k, v in run.items() if k != "id"})
        with pytest.raises(jobs.RunStateError, match=reason):
            jobs.resume_run(db_store, "r")


def test_a_local_run_with_a_checkpoint_can_resume(tmp_path: Path) -> None:
    (tmp_path / "checkpoints" / "step-000002").mkdir(parents=True)
    (tmp_path / "checkpoints" / "step-000002" / "trainer_state.json").write_text("{}")
    assert jobs.resume_blocker({"id": "r", "backend": "local", "status": "cancelled", "run_dir": str(tmp_path)}) is None
