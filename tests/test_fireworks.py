"""The Fireworks backend (core/training/backends/fireworks_backend.py) and client helpers (core/hosted/fireworks.py)
driving the official ``fireworks-ai`` client against the fake Fireworks server (tests/fake_fireworks.py):
a whole job, a rejected key, a model that cannot be tuned, too little credit, a failed job, a
cancel then :resume, a warm start, deploying (only when asked) and chatting with the result; and
the key searched for on disk."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from backend_runs import (
    SEED_FILE,
    assert_key_nowhere,
    backend_ctx,
    events_of,
    run_backend,
    statuses_of,
    write_examples,
)
from fake_fireworks import ACCOUNT, FAKE_KEY, FakeFireworks, JobPlan, fake_fireworks_fixture  # noqa: F401

from core.config import ConfigError
from core.hosted import fireworks as api
from core.hosted.common import FIREWORKS, MissingKeyError, NoCreditError, explain, provider_report
from core.training.backends.base import CANCEL_FILE, RunContext, read_events
from core.training.backends.fireworks_backend import FireworksBackend, FireworksTrainConfig

MODEL = "accounts/fireworks/models/llama-v3p1-8b-instruct"


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Path]:
    return {"train": write_examples(tmp_path / "train.jsonl", 12),
            "valid": write_examples(tmp_path / "valid.jsonl", 4, start=12)}


def _config(data: dict[str, Path], **overrides) -> dict:
    section = {"model": MODEL, "n_epochs": 2, "learning_rate": 1e-4, "lora_rank": 16, "suffix": "seed",
               "poll_interval_s": 0.02, "max_retries": 0, "price_training_per_m": 0.50,
               "price_input_per_m": 0.20, "price_output_per_m": 0.20}
    section.update(overrides)
    return {"backend": "fireworks", "data_path": str(data["train"]), "format": "openai-chat", "fireworks": section}


def _ctx(run_dir: Path, config: dict, resume: bool = False, key: str | None = FAKE_KEY) -> RunContext:
    return backend_ctx(run_dir, config, "FIREWORKS_API_KEY", key, resume)


def _run(run_dir: Path, config: dict, **kwargs) -> list[dict]:
    return run_backend(FireworksBackend(), _ctx(run_dir, config, **kwargs))


def test_a_whole_job_then_deploy_and_chat(fake_fireworks: FakeFireworks, data, tmp_path: Path) -> None:
    run_dir = tmp_path / "run-1"
    events = _run(run_dir, _config(data, validation_file=str(data["valid"])))
    assert statuses_of(events) == ["validating_files", "running", "succeeded"]

    # the client's requests: model check, dataset create + :upload + GET until READY, then the job
    paths = [(r.method, r.path) for r in fake_fireworks.requests]
    assert paths[0] == ("GET", "/v1/accounts/fireworks/models/llama-v3p1-8b-instruct")
    assert paths[1:5] == [("POST", f"/v1/accounts/{ACCOUNT}/datasets"),
                          ("POST", f"/v1/accounts/{ACCOUNT}/datasets/run-1-train:upload"),
                          ("GET", f"/v1/accounts/{ACCOUNT}/datasets/run-1-train"),
                          ("GET", f"/v1/accounts/{ACCOUNT}/datasets/run-1-train")]
    assert fake_fireworks.calls("POST", "/datasets$")[0].json() == {
        "datasetId": "run-1-train", "dataset": {"displayName": "train.jsonl", "userUploaded": {}, "format": "CHAT",
                                                "exampleCount": "12"}}
    create = fake_fireworks.calls("POST", "/supervisedFineTuningJobs$")[0]
    assert create.query == {"supervisedFineTuningJobId": "run-1"}
    sent = create.json()
    assert sent["baseModel"] == MODEL and sent["dataset"] == f"accounts/{ACCOUNT}/datasets/run-1-train"
    assert sent["epochs"] == 2 and sent["learningRate"] == 1e-4 and sent["loraRank"] == 16
    assert sent["outputModel"] == "seed-run-1" and sent["evaluationDataset"].endswith("/datasets/run-1-valid")

    progress = events_of(events, "progress")
    assert [p["step"] for p in progress] == [25, 50, 75, 100] and {p["total_steps"] for p in progress} == {100}
    assert progress[-1]["step_unit"] == "percent" and progress[1]["epoch"] == 1.0
    assert not events_of(events, "metric")   # Fireworks has no per-step loss for supervised jobs

    job = fake_fireworks.jobs["run-1"]
    (result,) = events_of(events, "result")
    output = f"accounts/{ACCOUNT}/models/seed-run-1"
    assert result["fine_tuned_model"] == output and result["remote_job_id"] == "run-1"
    assert result["trained_tokens"] == job.tokens and result["actual_cost_usd"] == pytest.approx(job.tokens * 0.5e-6)
    assert result["estimated_cost_usd"] == pytest.approx(job.tokens * 0.5e-6, abs=1e-9)
    assert result["needs_deploy"] is True and "must first be deployed" in result["deploy_note"]
    entry = result["register_model"]
    assert entry["kind"] == "fireworks-finetune" and entry["remote_model"] == output and entry["needs_deploy"]
    assert entry["chat_base_url"] == fake_fireworks.url + "/v1" and entry["account_id"] == ACCOUNT
    assert not fake_fireworks.deployed   # nothing is deployed unless asked

    # chat: refused until deployed, then the fine-tune answers through the OpenAI-compatible API
    from core.hosted.openai_client import make_client

    chat = make_client(api_key=FAKE_KEY, base_url=entry["chat_base_url"], max_retries=0)
    with pytest.raises(Exception, match="not deployed"):
        chat.chat.completions.create(model=output, messages=[{"role": "user", "content": "Dune"}])
    sentence = api.deploy_cost_sentence(output, per_hour=3.89, input_per_m=0.2, output_per_m=0.2, as_of="2026-05-01")
    assert "$3.89 per GPU-hour" in sentence and "$0.20 in" in sentence and "2026-05-01" in sentence
    deployed = api.deploy(api.make_client(), output)
    assert deployed.state == "DEPLOYED" and fake_fireworks.calls("POST", "/deployedModels$")[0].json()["model"] == output
    answer = chat.chat.completions.create(model=output, messages=[{"role": "user", "content": "Dune"}])
    assert answer.choices[0].message.content == f"{output} says: Dune"
    assert_key_nowhere(run_dir, FAKE_KEY)


def test_a_rejected_key_and_a_missing_account(fake_fireworks: FakeFireworks, data, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "fw_wrongKey9876543210abcdefghij"
    events = _run(tmp_path / "a", _config(data), key=wrong)
    assert statuses_of(events) == ["failed"] and "Fireworks did not accept the API key (401)" in events[-1]["message"]
    assert not fake_fireworks.datasets
    assert_key_nowhere(tmp_path / "a", wrong)

    monkeypatch.delenv("FIREWORKS_ACCOUNT_ID")
    events = _run(tmp_path / "b", _config(data))
    assert events[-1]["message"].startswith("No Fireworks account id: set the FIREWORKS_ACCOUNT_ID")
    monkeypatch.delenv("FIREWORKS_API_KEY")
    with pytest.raises(MissingKeyError, match="No Fireworks API key"):
        api.make_client(account_id=ACCOUNT)


def test_a_model_that_cannot_be_tuned_and_too_little_credit(fake_fireworks: FakeFireworks, data,
                                                            tmp_path: Path) -> None:
    events = _run(tmp_path / "a", _config(data, model="accounts/fireworks/models/flux-1-dev"))
    assert "Fireworks cannot fine-tune 'accounts/fireworks/models/flux-1-dev'" in events[-1]["message"]
    events = _run(tmp_path / "b", _config(data, model="accounts/fireworks/models/nope"))
    assert "Fireworks cannot fine-tune 'accounts/fireworks/models/nope' (404" in events[-1]["message"]
    assert not fake_fireworks.datasets

    fake_fireworks.credit_usd = 0.0
    events = _run(tmp_path / "c", _config(data))
    assert statuses_of(events) == ["failed"] and "for lack of credit" in events[-1]["message"]
    assert "app.fireworks.ai/account/billing" in events[-1]["message"] and not fake_fireworks.jobs


def test_a_failed_job_then_resume_continues_the_same_job(fake_fireworks: FakeFireworks, data, tmp_path: Path) -> None:
    fake_fireworks.plan = JobPlan(outcome="failed", fail_at_percent=50)
    run_dir = tmp_path / "run-f"
    events = _run(run_dir, _config(data))
    assert events[-1]["message"] == ("The Fireworks fine-tuning job run-f failed: Dataset row 7 exceeds the maximum "
                                     "context length of 8192 tokens (INVALID_ARGUMENT).")
    events = _run(run_dir, _config(data), resume=True)
    assert len(fake_fireworks.calls("POST", ":resume$")) == 1 and len(fake_fireworks.jobs) == 1
    assert statuses_of(events)[-1] == "succeeded" and events_of(events, "resumed")[0]["from_step"] == 50


def test_cancel_then_resume(fake_fireworks: FakeFireworks, data, tmp_path: Path) -> None:
    fake_fireworks.plan = JobPlan(percent_per_poll=5)
    run_dir = tmp_path / "run-c"
    ctx = _ctx(run_dir, _config(data))
    worker = threading.Thread(target=FireworksBackend().run, args=(ctx,))
    worker.start()
    end = time.time() + 15
    while not any(e["type"] == "progress" for e in read_events(run_dir)[0]) and time.time() < end:
        time.sleep(0.02)
    (run_dir / CANCEL_FILE).touch()
    worker.join(15)
    ctx.events.close()
    events = read_events(run_dir)[0]
    assert statuses_of(events)[-1] == "cancelled" and events[-1]["message"] == "The Fireworks job run-c was cancelled."
    assert len(fake_fireworks.calls("POST", ":cancel$")) == 1

    (run_dir / CANCEL_FILE).unlink()
    events = _run(run_dir, _config(data), resume=True)
    assert statuses_of(events)[-1] == "succeeded" and len(fake_fireworks.calls("POST", ":resume$")) == 1
    assert events_of(events, "result")[-1]["fine_tuned_model"] == f"accounts/{ACCOUNT}/models/seed-run-c"
    assert_key_nowhere(run_dir, FAKE_KEY)


def test_warm_start_from_an_earlier_fine_tune(fake_fireworks: FakeFireworks, data, tmp_path: Path) -> None:
    first = events_of(_run(tmp_path / "one", _config(data)), "result")[0]["fine_tuned_model"]
    events = _run(tmp_path / "two", _config(data, warm_start_from=first))
    assert statuses_of(events)[-1] == "succeeded"
    sent = fake_fireworks.calls("POST", "/supervisedFineTuningJobs$")[-1].json()
    assert sent["warmStartFrom"] == first and "baseModel" not in sent


def test_a_file_fireworks_refuses(fake_fireworks: FakeFireworks, data, tmp_path: Path) -> None:
    completion = tmp_path / "completion.jsonl"
    completion.write_text('{"prompt": "a\\n\\n###\\n\\n", "completion": " b"}\n')
    events = _run(tmp_path / "a", {**_config(data), "data_path": str(completion), "format": "completion"})
    assert "Fireworks fine-tuning takes openai-chat files, not completion" in events[-1]["message"]
    assert not fake_fireworks.requests   # refused before anything was sent


def test_config_and_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIREWORKS_BASE_URL", raising=False)
    assert api.chat_base_url() == "https://api.fireworks.ai/inference/v1"
    cfg = FireworksTrainConfig.from_run_config({"data_path": "x.jsonl", "fireworks": {"account_id": "me"}})
    assert cfg.model == MODEL and cfg.account_id == "me" and cfg.training_file == "x.jsonl"
    with pytest.raises(ConfigError, match="lora_rank"):
        FireworksTrainConfig(lora_rank=0)
    assert api.split_model("accounts/a/models/m") == ("a", "m") and api.split_model("m") == ("fireworks", "m")
    assert api.resource_id("Run_2026.01 ABC") == "run-2026-01-abc"
    assert api.chat_base_url("http://h:1/") == "http://h:1/v1"
    error = explain(FIREWORKS, type("BadRequestError", (Exception,), {"status_code": 400, "body": {
        "code": 9, "message": "insufficient credit balance"}})("x"), "create")
    assert isinstance(error, NoCreditError)
    from core.formats.validate import validate_file

    report = provider_report(validate_file(SEED_FILE, "openai-chat"), "fireworks")
    assert report.ok and report.n_examples == 1500
