"""The OpenAI backend (core/training/backends/openai_backend.py) driving real jobs on the fake OpenAI server
(tests/fake_openai.py): the whole flow, failures, cancel, pause/resume, a crash and re-attach, and
the helpers of core/hosted/openai_finetune.py (config, result CSV, registry entries)."""
from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from backend_runs import ROOT, backend_ctx, events_of, run_backend, statuses_of, wait_for_events, write_examples
from fake_openai import FAKE_KEY, FakeOpenAI, JobPlan, fake_openai_fixture  # noqa: F401 - the fixture

from core.config import ConfigError
from core.hosted.openai_finetune import (
    OpenAITrainConfig,
    fill_prices,
    launch_env,
    parse_result_csv,
    register_model_from_event,
    request_pause,
    request_resume,
)
from core.training.backends import get_backend
from core.training.backends.base import CANCEL_FILE, RunContext, read_events
from core.training.backends.openai_backend import OpenAIBackend

MODEL = "gpt-4o-mini-2024-07-18"


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Path]:
    return {"train": write_examples(tmp_path / "train.jsonl", 12),
            "valid": write_examples(tmp_path / "valid.jsonl", 10, start=12)}


def _config(data: dict[str, Path], **overrides) -> dict:
    """A run config shaped like the launcher's (core/training/config.py): generic keys at the top, the
    OpenAI settings in the ``openai`` section (``overrides`` go there)."""
    openai = {"model": MODEL, "validation_file": str(data["valid"]), "suffix": "seedtest", "seed": 7,
              "n_epochs": 3, "learning_rate_multiplier": 1.8, "poll_interval_s": 0.02, "price_training_per_m": 3.0,
              "price_input_per_m": 0.3, "price_output_per_m": 1.2}
    openai.update(overrides)
    return {"backend": "openai", "base_model": "smollm2", "data_path": str(data["train"]),
            "format": "chat-template", "seed": 3407, "openai": openai}


def _ctx(run_dir: Path, config: dict, resume: bool = False, key: str | None = FAKE_KEY) -> RunContext:
    return backend_ctx(run_dir, config, "OPENAI_API_KEY", key, resume)


def _run(run_dir: Path, config: dict, **kwargs) -> list[dict]:
    return run_backend(OpenAIBackend(), _ctx(run_dir, config, **kwargs))


def _metric_pairs(events: list[dict]) -> list[tuple[int, str]]:
    skip = {"type", "t", "step", "epoch", "openai_event_id"}
    return [(e["step"], name) for e in events_of(events, "metric") for name in e if name not in skip]


def test_backend_is_found_by_name() -> None:
    assert isinstance(get_backend("openai"), OpenAIBackend)


def test_a_job_runs_to_success(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    events = _run(tmp_path / "run1", _config(data))
    statuses = statuses_of(events)
    assert statuses[0] == "validating_files" and statuses[-1] == "succeeded" and "running" in statuses
    assert events[-1]["type"] == "status" and len(statuses) == len(set(statuses))

    # what the client sent: two uploads for fine-tuning, then the job with method hyperparameters
    uploads = fake_openai.calls("POST", "^/files$")
    assert len(uploads) == 2 and all(b'name="purpose"\r\n\r\nfine-tune' in u.body for u in uploads)
    sent = fake_openai.calls("POST", "^/fine_tuning/jobs$")[0].json()
    assert sent["method"] == {"type": "supervised", "supervised": {"hyperparameters": {
        "n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": 1.8}}}
    assert sent["suffix"] == "seedtest" and sent["seed"] == 7 and sent["validation_file"].startswith("file-")
    assert "hyperparameters" not in sent

    # progress and metrics, each exactly once; train loss for every step, eval loss where measured
    progress = events_of(events, "progress")
    assert [p["step"] for p in progress] == [1, 2, 3, 4, 5, 6] and progress[-1]["total_steps"] == 6
    assert progress[-1]["epoch"] == 3.0 and progress[0]["eta_s"] >= 0
    pairs = _metric_pairs(events)
    assert len(pairs) == len(set(pairs))
    assert {s for s, n in pairs if n == "train_loss"} == set(range(1, 7))
    assert {s for s, n in pairs if n == "eval_loss"} == {2, 4, 6}
    assert {n for _, n in pairs} >= {"train_mean_token_accuracy", "eval_mean_token_accuracy"}

    job = next(iter(fake_openai.jobs.values()))
    checkpoints = events_of(events, "checkpoint")
    assert [c["step"] for c in checkpoints] == [2, 4, 6]
    assert checkpoints[0]["model_id"] == f"{job.model_name}:ckpt-step-2"
    assert checkpoints[0]["register_model"]["base_model"] == MODEL

    (result,) = events_of(events, "result")
    assert result["fine_tuned_model"] == job.model_name and job.model_name.startswith(f"ft:{MODEL}:fake-org:seedtest")
    assert result["trained_tokens"] == job.trained_tokens > 0
    assert result["actual_cost_usd"] == pytest.approx(job.trained_tokens * 3.0 / 1e6)
    assert result["final_loss"] == pytest.approx(2.0 * 0.9 ** 6, abs=1e-4)
    assert result["best_loss"] == pytest.approx(2.1 * 0.92 ** 6, abs=1e-4)
    assert result["hyperparameters"]["n_epochs"] == 3 and result["remote_job_id"] == job.id
    assert result["register_model"]["remote_model"] == job.model_name


def test_auto_hyperparameters_and_base64_result_file(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    fake_openai.plan = JobPlan(result_base64=True, n_epochs=2, steps=4)
    events = _run(tmp_path / "run", _config(data, n_epochs="auto", learning_rate_multiplier="auto",
                                            validation_file=None, suffix=None, seed=None))
    sent = fake_openai.calls("POST", "^/fine_tuning/jobs$")[0].json()
    assert sent["method"]["supervised"]["hyperparameters"] == {
        "n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"}
    assert "suffix" not in sent and "seed" not in sent and "validation_file" not in sent
    assert statuses_of(events)[-1] == "succeeded"
    assert events_of(events, "result")[0]["hyperparameters"]["n_epochs"] == 2
    assert events_of(events, "progress")[-1]["epoch"] == 2.0


def test_many_events_between_two_polls_are_paged_through(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    fake_openai.plan = JobPlan(steps=240, steps_per_poll=240)  # 240 step events + checkpoints in one poll
    events = _run(tmp_path / "run", _config(data, validation_file=None))
    assert [p["step"] for p in events_of(events, "progress")] == list(range(1, 241))
    assert len(fake_openai.calls("GET", "/events$")) > len(fake_openai.calls("GET", "^/fine_tuning/jobs/[^/]+$"))
    pairs = _metric_pairs(events)
    assert len(pairs) == len(set(pairs)) and len(events_of(events, "checkpoint")) == 3


def test_a_curated_dataset_is_sent_in_openai_chat_format(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    template = {"system_prompt": "Describe the book.", "user_template": "Title: {title}",
                "assistant_template": "{content}"}
    config = _config(data, validation_file=None, max_train_examples=12)
    config.update(data_path=str(ROOT / "dados" / "seed"), template=template)
    events = _run(tmp_path / "run", config)
    assert statuses_of(events)[-1] == "succeeded"
    (uploaded,) = [f for f in fake_openai.files.values() if f["purpose"] == "fine-tune"]
    lines = [json.loads(line) for line in uploaded["content"].decode().splitlines()]
    assert len(lines) == 12 and lines[0]["messages"][0] == {"role": "system", "content": "Describe the book."}
    assert lines[0]["messages"][1]["content"].startswith("Title: ")
    assert (tmp_path / "run" / "openai_train.jsonl").is_file()
    assert events_of(events, "result")[0]["register_model"]["prompt_template"] == template


def test_failed_job_reports_openais_message(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    fake_openai.plan = JobPlan(outcome="failed", error_code="invalid_training_file",
                               error_message="Training file has 5 duplicated examples.", error_param="training_file")
    events = _run(tmp_path / "run", _config(data))
    last = events[-1]
    assert last["type"] == "status" and last["status"] == "failed"
    job_id = next(iter(fake_openai.jobs))
    assert last["message"] == (f"The OpenAI fine-tuning job {job_id} failed (invalid_training_file): "
                               "Training file has 5 duplicated examples.")
    assert not events_of(events, "result") and last["remote_job_id"] == job_id


def test_training_not_available_is_explained(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    fake_openai.block_training()
    events = _run(tmp_path / "run", _config(data))
    assert events[-1]["status"] == "failed"
    assert "2026-05-07" in events[-1]["message"] and "2027-01-06" in events[-1]["message"]
    assert not fake_openai.jobs


def test_wrong_key_fails_in_one_sentence_without_the_key(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    bad_key = "sk-this-key-is-wrong-and-secret-4242"
    events = _run(tmp_path / "run", _config(data), key=bad_key)
    assert events[-1]["status"] == "failed" and "401" in events[-1]["message"]
    for path in (tmp_path / "run").iterdir():
        assert bad_key not in path.read_text(encoding="utf-8") and "4242" not in path.read_text(encoding="utf-8")


def test_missing_key(fake_openai: FakeOpenAI, data, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    events = _run(tmp_path / "run", _config(data), key=None)
    assert events[-1]["status"] == "failed" and "OPENAI_API_KEY" in events[-1]["message"]


def test_file_rejected_by_openai(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    fake_openai.reject_upload = "The file is not valid JSONL"
    events = _run(tmp_path / "run", _config(data))
    assert events[-1]["status"] == "failed"
    assert events[-1]["message"].startswith("OpenAI rejected the training file train.jsonl: The file is not valid")


def test_bad_file_is_caught_before_any_upload(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "no answer"}]}\nnot json\n', encoding="utf-8")
    events = _run(tmp_path / "run", _config(data, training_file=str(bad)))
    assert events[-1]["status"] == "failed"
    assert events[-1]["message"] == ("The training file bad.jsonl cannot be used for OpenAI fine-tuning: 1 examples; "
                                     "OpenAI requires at least 10 (and 2 more errors).")
    assert not fake_openai.calls("POST", "^/files$")
    events = _run(tmp_path / "run2", _config(data, training_file=str(tmp_path / "missing.jsonl")))
    assert events[-1]["message"].endswith("missing.jsonl does not exist.")


def test_polling_survives_a_short_outage(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    fake_openai.fail("GET", "^/fine_tuning/jobs/[^/]+$", 500, times=6, type_="server_error")
    events = _run(tmp_path / "run", _config(data, max_retries=1))
    assert statuses_of(events)[-1] == "succeeded"
    assert any("retrying" in e["message"] for e in events_of(events, "log") if e["level"] == "warning")


def _in_thread(run_dir: Path, config: dict) -> threading.Thread:
    ctx = _ctx(run_dir, config)
    thread = threading.Thread(target=OpenAIBackend().run, args=(ctx,), daemon=True)
    thread.start()
    return thread


def test_cancel_calls_jobs_cancel(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    fake_openai.plan = JobPlan(steps=100_000)
    run_dir = tmp_path / "run"
    thread = _in_thread(run_dir, _config(data))
    wait_for_events(run_dir, lambda ev: "running" in statuses_of(ev))
    (run_dir / CANCEL_FILE).touch()
    thread.join(10)
    assert not thread.is_alive()
    events = read_events(run_dir)[0]
    assert events[-1]["status"] == "cancelled"
    assert len(fake_openai.calls("POST", "/cancel$")) == 1
    assert next(iter(fake_openai.jobs.values())).to_json()["status"] == "cancelled"


def test_cancel_before_the_job_exists_creates_none(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / CANCEL_FILE).touch()
    events = _run(run_dir, _config(data))
    assert events[-1]["status"] == "cancelled" and not fake_openai.jobs


def test_pause_and_resume(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    thread = _in_thread(run_dir, _config(data))
    wait_for_events(run_dir, lambda ev: "running" in statuses_of(ev))
    request_pause(run_dir)
    wait_for_events(run_dir, lambda ev: "paused" in statuses_of(ev))
    job = next(iter(fake_openai.jobs.values()))
    steps_when_paused = job.steps_done
    time.sleep(0.4)  # the backend keeps polling (a job of the fake moves one step per poll): it must not move
    assert job.steps_done == steps_when_paused and thread.is_alive()
    request_resume(run_dir)
    thread.join(10)
    statuses = statuses_of(read_events(run_dir)[0])
    assert statuses[-1] == "succeeded" and statuses.index("paused") < len(statuses) - 2
    assert statuses[statuses.index("paused") + 1] == "running"
    assert len(fake_openai.calls("POST", "/pause$")) == 1 and len(fake_openai.calls("POST", "/resume$")) == 1


def test_a_killed_subprocess_reattaches_without_a_second_job(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    fake_openai.plan = JobPlan(steps=40)
    run_dir = tmp_path / "run"
    config = _config(data, n_epochs=5)
    _ctx(run_dir, config).events.close()
    script = ("import json, sys; from pathlib import Path\n"
              "from core.training.backends.base import EventWriter, RunContext\n"
              "from core.training.backends.openai_backend import OpenAIBackend\n"
              "d = Path(sys.argv[1]); c = json.loads((d / 'config.json').read_text())\n"
              "OpenAIBackend().run(RunContext('run', d, c, EventWriter(d)))\n")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}  # the key travels in the environment, as in production
    proc = subprocess.Popen([sys.executable, "-c", script, str(run_dir)], cwd=ROOT, env=env)
    try:
        wait_for_events(run_dir, lambda ev: len(events_of(ev, "progress")) >= 2, timeout=30)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    events = _run(run_dir, config, resume=True)
    assert len(fake_openai.calls("POST", "^/fine_tuning/jobs$")) == 1
    assert statuses_of(events)[-1] == "succeeded"
    assert any("Re-attached" in e["message"] for e in events_of(events, "log"))
    pairs = _metric_pairs(events)
    assert len(pairs) == len(set(pairs)) and {s for s, n in pairs if n == "train_loss"} == set(range(1, 41))
    ids = [c["checkpoint_id"] for c in events_of(events, "checkpoint")]
    assert len(ids) == len(set(ids)) == 5
    assert [p["step"] for p in events_of(events, "progress")] == sorted({p["step"] for p in events_of(events, "progress")})


def test_resume_of_a_paused_job_after_restart(fake_openai: FakeOpenAI, data, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    config = _config(data)
    ctx = _ctx(run_dir, config)
    backend = OpenAIBackend()
    # stop the first watcher as soon as it has paused the job (as if the app had been closed)
    original = backend._set_status

    def stop_when_paused(status: str, message: str | None = None) -> None:
        original(status, message)
        if status == "paused":
            raise KeyboardInterrupt
        if status == "running":
            request_pause(run_dir)

    backend._set_status = stop_when_paused
    with pytest.raises(KeyboardInterrupt):
        backend.run(ctx)
    ctx.events.close()
    assert next(iter(fake_openai.jobs.values())).to_json()["status"] == "paused"
    events = _run(run_dir, config, resume=True)
    assert statuses_of(events)[-1] == "succeeded" and len(fake_openai.calls("POST", "/resume$")) == 1


# -- core/hosted/openai_finetune.py ---------------------------------------------------------------------------
def test_config_checks_and_reads_run_configs() -> None:
    cfg = OpenAITrainConfig.from_run_config({"backend": "openai", "base_model": MODEL, "data_path": "x.jsonl",
                                             "openai": {"n_epochs": 4, "suffix": "s"}, "prices": {"training": 3.0}})
    assert (cfg.model, cfg.training_file, cfg.n_epochs, cfg.suffix, cfg.price_training_per_m) == \
        (MODEL, "x.jsonl", 4, "s", 3.0)
    assert cfg.hyperparameters() == {"n_epochs": 4, "batch_size": "auto", "learning_rate_multiplier": "auto"}
    for bad in ({"n_epochs": 0}, {"n_epochs": "lots"}, {"batch_size": 1.5}, {"learning_rate_multiplier": -1},
                {"suffix": "x" * 65}, {"model": " "}):
        with pytest.raises(ConfigError):
            OpenAITrainConfig(**bad)
    assert json.loads(OpenAITrainConfig(training_file="t.jsonl").to_json())["training_file"] == "t.jsonl"
    # the launcher's shape: local-only keys (seed, a local format) do not leak into the OpenAI job
    template = {"system_prompt": "Describe.", "user_template": "{title}", "assistant_template": "{content}"}
    cfg = OpenAITrainConfig.from_run_config({"base_model": "smollm2", "format": "chat-template", "seed": 3407,
                                             "data_path": "d.jsonl", "template": template,
                                             "openai": {"model": MODEL, "training_file": "", "seed": None}})
    assert (cfg.model, cfg.format, cfg.seed, cfg.training_file, cfg.prompt_template) == \
        (MODEL, "openai-chat", None, "d.jsonl", template)
    with pytest.raises(ConfigError):
        OpenAITrainConfig(format="alpaca")


def test_prices_come_from_the_price_table(store) -> None:
    cfg = fill_prices(OpenAITrainConfig(model=MODEL), store)
    assert (cfg.price_training_per_m, cfg.price_input_per_m, cfg.price_output_per_m) == (3.0, 0.3, 1.2)
    unknown = fill_prices(OpenAITrainConfig(model="some-other-model"), store)
    assert unknown.price_training_per_m is None
    assert launch_env("sk-1") == {"OPENAI_API_KEY": "sk-1"} and launch_env(None) == {}


def test_result_csv_is_parsed_defensively() -> None:
    text = ("step, train_loss ,train_accuracy,valid_loss,valid_mean_token_accuracy,Odd Column,note\n"
            "1,2.5,0.5,,,7,hello\n"
            "2,2.1,0.55,2.3,0.5,nan,\n"
            "3,not-a-number,,,,,\n"
            "4,1.9,0.6,2.0,0.52,1,,extra-cell\n")
    rows = parse_result_csv(text)
    assert rows[0] == {"step": 1, "train_loss": 2.5, "train_mean_token_accuracy": 0.5, "odd_column": 7.0}
    assert rows[1] == {"step": 2, "train_loss": 2.1, "train_mean_token_accuracy": 0.55, "eval_loss": 2.3,
                       "eval_mean_token_accuracy": 0.5}
    assert [r["step"] for r in rows] == [1, 2, 4]  # a row with no number at all is dropped
    assert parse_result_csv(base64.b64encode(text.encode())) == rows
    assert parse_result_csv("train_loss\n1.5\n1.2\n") == [{"step": 1, "train_loss": 1.5}, {"step": 2, "train_loss": 1.2}]
    assert parse_result_csv(b"") == [] and parse_result_csv("garbage without commas") == []


def test_models_from_events_reach_the_registry(store) -> None:
    from core.store.compare import get_model

    entry = {"kind": "openai-finetune", "remote_model": f"ft:{MODEL}:org:s:abc:ckpt-step-4", "base_model": MODEL,
             "run_id": "r1", "step": 4, "price_input_per_m": 0.3, "price_output_per_m": 1.2,
             "prompt_template": {"system": "Describe the book."}}
    model_id = register_model_from_event(store, {"type": "checkpoint", "register_model": entry})
    row = get_model(store, model_id)
    assert model_id == f"openai:{entry['remote_model']}" and row["kind"] == "openai-finetune"
    assert (row["remote_model"], row["base_model"], row["run_id"]) == (entry["remote_model"], MODEL, "r1")
    assert (row["price_input_per_m"], row["price_output_per_m"]) == (0.3, 1.2)
    assert row["display_name"].endswith("(step 4)") and "Describe" in row["prompt_template_json"]
    assert register_model_from_event(store, {"type": "metric", "step": 1}) is None
    assert register_model_from_event(store, {"type": "result", "register_model": None}) is None


def test_cli_options_fill_the_openai_settings() -> None:
    import argparse

    from core.hosted.openai_finetune import add_cli_arguments, settings_from_args

    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    args = parser.parse_args(["--openai-model", MODEL, "--n-epochs", "3", "--openai-batch-size", "auto",
                              "--lr-multiplier", "1.8", "--suffix", "seed", "--poll-interval", "5"])
    settings = settings_from_args(args)
    assert settings == {"model": MODEL, "n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": 1.8,
                        "suffix": "seed", "poll_interval_s": 5.0}
    assert OpenAITrainConfig(**settings).hyperparameters()["n_epochs"] == 3
    with pytest.raises(ConfigError, match="n_epochs"):
        OpenAITrainConfig(**settings_from_args(parser.parse_args(["--n-epochs", "many"])))
    assert settings_from_args(parser.parse_args([])) == {}
