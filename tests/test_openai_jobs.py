"""End to end: an OpenAI run launched through core/training/jobs.py (a real ``python -m core.training.trainer``
subprocess) against the fake OpenAI server, with the key handed over only through the process
environment: it succeeds, its models land in the registry, cancel and the 403 work, and the key is
nowhere on disk (run folder, database, xlsx export)."""
from __future__ import annotations

import contextlib
import time
import zipfile
from pathlib import Path

import duckdb
import pytest
from fake_openai import FakeOpenAI, JobPlan, fake_openai_fixture  # noqa: F401 - the fixture

from core.hosted.openai_finetune import launch_env
from core.store import Store
from core.store import runs as db
from core.store.compare import list_models
from core.training import jobs
from core.training.config import TrainConfig

ROOT = Path(__file__).resolve().parent.parent
MODEL = "gpt-4o-mini-2024-07-18"
KEY = "sk-e2e-typed-in-the-page-key-5150"


@pytest.fixture
def store(isolated_results: Path):  # a real database file: it is grepped for the key afterwards
    store = Store()
    yield store
    with contextlib.suppress(duckdb.ConnectionException):  # a test may have closed it to read the file
        for run in db.active_runs(store):  # never leave a training process behind
            jobs.cancel_run(store, run["id"], grace_s=2.0)
        store.close()


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    lines = (ROOT / "dados" / "seed" / "trn_gpt4_formatted.jsonl").read_text(encoding="utf-8").splitlines()[:12]
    path = tmp_path / "train_openai.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def keyed_fake(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """The fake accepts only KEY, and the app's own environment has no key at all: the run can only
    succeed if the launcher passed the session's key to the subprocess."""
    fake_openai.api_key = KEY
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return fake_openai


def _config(train_file: Path, **openai) -> TrainConfig:
    settings = {"model": MODEL, "n_epochs": 2, "suffix": "e2e", "poll_interval_s": 0.05, **openai}
    return TrainConfig(backend="openai", data=str(train_file), format="openai-chat", openai=settings)


def _wait(store: Store, run_id: str, condition, timeout: float = 120.0) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        jobs.poll(store)
        run = db.get_run(store, run_id)
        if condition(run):
            return run
        time.sleep(0.1)
    raise AssertionError(f"timed out; run is {db.get_run(store, run_id)}")


def test_an_openai_run_succeeds_and_registers_its_models(keyed_fake: FakeOpenAI, store: Store, train_file: Path,
                                                         isolated_results: Path, tmp_path: Path) -> None:
    run_id = jobs.launch(store, _config(train_file), env=launch_env(KEY))
    run = _wait(store, run_id, lambda r: r["status"] in db.TERMINAL)
    assert run["status"] == "succeeded", (run["status_message"], jobs.run_log_tail(run))

    (job,) = keyed_fake.jobs.values()
    assert run["backend"] == "openai" and run["base_model"] == MODEL and run["format"] == "openai-chat"
    assert run["output_model"] == job.model_name and run["remote_job_id"] == job.id
    assert run["trained_tokens"] == job.trained_tokens
    assert run["actual_cost_usd"] == pytest.approx(job.trained_tokens * 3.00 / 1e6)  # the price table's $3/1M
    assert run["estimated_cost_usd"] is not None and run["final_loss"] is not None
    steps = store.fetchall("SELECT DISTINCT step FROM run_metrics WHERE run_id = ? AND name = 'train_loss' "
                           "ORDER BY 1", [run_id])
    assert [s for (s,) in steps] == list(range(1, 7))

    finetunes = {m["remote_model"]: m for m in list_models(store) if m["kind"] == "openai-finetune"}
    assert set(finetunes) == {job.model_name, f"{job.model_name}:ckpt-step-3", f"{job.model_name}:ckpt-step-6"}
    final = finetunes[job.model_name]
    assert final["id"] == f"openai:{job.model_name}" and final["run_id"] == run_id and final["base_model"] == MODEL
    assert (final["price_input_per_m"], final["price_output_per_m"]) == (0.30, 1.20)

    # the fine-tuned model answers through the same client code the playground uses
    from core.hosted.openai_chat import build_messages, complete_chat
    from core.hosted.openai_client import make_client

    answer = complete_chat(make_client(api_key=KEY), final["remote_model"], build_messages("Dune"))
    assert answer.text.endswith("Dune") and answer.usage.completion_tokens > 0

    # the key was used (the fake accepted only it) yet it is written nowhere
    from core.compare.xlsx import write_report

    report = write_report(store, tmp_path / "report.xlsx")
    store.close()
    files = [p for p in isolated_results.rglob("*") if p.is_file()]
    assert any(p.name == "events.jsonl" for p in files) and any(p.suffix == ".duckdb" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
    with zipfile.ZipFile(report) as workbook:
        for name in workbook.namelist():
            assert KEY.encode() not in workbook.read(name), name


def test_cancel_through_the_supervisor(keyed_fake: FakeOpenAI, store: Store, train_file: Path) -> None:
    keyed_fake.plan = JobPlan(steps=100_000)
    run_id = jobs.launch(store, _config(train_file), env=launch_env(KEY))
    _wait(store, run_id, lambda r: r["status"] == "running")
    run = jobs.cancel_run(store, run_id, grace_s=30.0)
    assert run["status"] == "cancelled" and run["status_message"] == "The OpenAI job was cancelled."
    assert len(keyed_fake.calls("POST", "/cancel$")) == 1
    assert next(iter(keyed_fake.jobs.values())).to_json()["status"] == "cancelled"


def test_training_not_available_reaches_the_run_row(keyed_fake: FakeOpenAI, store: Store, train_file: Path) -> None:
    keyed_fake.block_training()
    run_id = jobs.launch(store, _config(train_file), env=launch_env(KEY))
    run = _wait(store, run_id, lambda r: r["status"] in db.TERMINAL)
    assert run["status"] == "failed"
    assert "training_not_available" in run["status_message"] and "2027-01-06" in run["status_message"]
    assert not keyed_fake.jobs


def test_pause_and_resume_of_a_live_run(keyed_fake: FakeOpenAI, store: Store, train_file: Path) -> None:
    from core.hosted.openai_finetune import RunControlError, pause_openai_run

    keyed_fake.plan = JobPlan(steps=30)
    run_id = jobs.launch(store, _config(train_file), env=launch_env(KEY))
    run = _wait(store, run_id, lambda r: r["status"] == "running")
    pause_openai_run(run)
    run = _wait(store, run_id, lambda r: r["status"] == "paused")
    with pytest.raises(RunControlError):
        pause_openai_run(run)
    assert jobs.resume_run(store, run_id) == run_id   # the live process resumes the job; nothing restarts
    run = _wait(store, run_id, lambda r: r["status"] in db.TERMINAL)
    assert run["status"] == "succeeded" and len(keyed_fake.calls("POST", "/resume$")) == 1
    assert len(keyed_fake.calls("POST", "^/fine_tuning/jobs$")) == 1 and run["resumes"] == 0


def test_pause_command_and_a_local_run(keyed_fake: FakeOpenAI, store: Store, train_file: Path, capsys) -> None:
    from core.cli import main

    keyed_fake.plan = JobPlan(steps=100_000)
    run_id = jobs.launch(store, _config(train_file), env=launch_env(KEY))
    _wait(store, run_id, lambda r: r["status"] == "running")
    store.close()  # the CLI opens the database itself, as when the app is not running
    assert main(["pause", run_id[:-2]]) == 0 and "pause requested" in capsys.readouterr().out
    with Store() as again:
        _wait(again, run_id, lambda r: r["status"] == "paused")
        jobs.cancel_run(again, run_id, grace_s=30.0)
        assert main(["pause", run_id]) == 2   # over now: one sentence, exit 2
    assert "only a running OpenAI job can be paused" in capsys.readouterr().err
