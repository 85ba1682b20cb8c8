"""The Together backend (core/training/backends/together_backend.py) and client helpers (core/hosted/together.py)
driving the official ``together`` client against the fake Together server (tests/fake_together.py):
a whole job, a rejected key, an unknown model, too little credit, a failed job, a cancel, a
continue-from-checkpoint, no network, chat with the result; and the key searched for on disk."""
from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest
from backend_runs import (
    assert_key_nowhere,
    backend_ctx,
    events_of,
    run_backend,
    statuses_of,
    wait_for_events,
    write_examples,
)
from fake_together import FAKE_KEY, FakeTogether, JobPlan, fake_together_fixture  # noqa: F401 - the fixture

from core.config import ConfigError
from core.hosted import together as api
from core.hosted.common import TOGETHER, NoNetworkError, RejectedKeyError, explain, scrub
from core.training.backends.base import CANCEL_FILE, RunContext, read_events
from core.training.backends.together_backend import TogetherBackend, TogetherTrainConfig

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Path]:
    return {"train": write_examples(tmp_path / "train.jsonl", 12),
            "valid": write_examples(tmp_path / "valid.jsonl", 4, start=12)}


def _config(data: dict[str, Path], **overrides) -> dict:
    section = {"model": MODEL, "n_epochs": 3, "learning_rate": 2e-5, "lora_rank": 16, "suffix": "seedtest",
               "poll_interval_s": 0.02, "max_retries": 0, "price_training_per_m": 0.48,
               "price_input_per_m": 0.18, "price_output_per_m": 0.18}
    section.update(overrides)
    return {"backend": "together", "base_model": "smollm2", "data_path": str(data["train"]),
            "format": "openai-chat", "together": section}


def _ctx(run_dir: Path, config: dict, resume: bool = False, key: str | None = FAKE_KEY) -> RunContext:
    return backend_ctx(run_dir, config, "TOGETHER_API_KEY", key, resume)


def _run(run_dir: Path, config: dict, **kwargs) -> list[dict]:
    return run_backend(TogetherBackend(), _ctx(run_dir, config, **kwargs))


def test_a_whole_job_then_chat_with_the_result(fake_together: FakeTogether, data, tmp_path: Path) -> None:
    run_dir = tmp_path / "run1"
    events = _run(run_dir, _config(data, validation_file=str(data["valid"]), n_evals=2))
    statuses = statuses_of(events)
    assert statuses[0] == "queued" and statuses[-1] == "succeeded" and "running" in statuses, statuses
    assert len(statuses) == len(set(statuses)) and events[-1]["type"] == "status"

    # the client's own sequence: limits, upload (302 -> signed PUT -> preprocess), estimate, create
    paths = [(r.method, r.path) for r in fake_together.requests]
    first = paths.index(("GET", "/v1/fine-tunes/models/limits"))
    upload = paths.index(("POST", "/v1/files"))
    assert first < upload and paths[upload + 1][0] == "PUT" and paths[upload + 2][1].endswith("/preprocess")
    assert paths.index(("POST", "/v1/fine-tunes/estimate-price")) < paths.index(("POST", "/v1/fine-tunes"))
    assert all("authorization" not in h for h in fake_together.put_headers)  # the key never goes to storage
    sent = fake_together.calls("POST", r"^/v1/fine-tunes$")[0].json()
    assert sent["model"] == MODEL and sent["n_epochs"] == 3 and sent["learning_rate"] == 2e-5
    assert sent["training_type"]["type"] == "Lora" and sent["training_type"]["lora_r"] == 16
    assert sent["training_type"]["lora_alpha"] == 32 and sent["suffix"] == "seedtest"
    assert sent["validation_file"].startswith("file-") and sent["n_evals"] == 2
    assert sent["training_method"] == {"method": "sft", "train_on_inputs": "auto"}

    # per-step loss from the metrics endpoint, each once; progress; checkpoints; the estimate
    metrics = events_of(events, "metric")
    train = {e["step"]: e["train_loss"] for e in metrics if "train_loss" in e}
    assert sorted(train) == [1, 2, 3, 4, 5, 6] and train[6] == pytest.approx(2.0 * 0.9 ** 6, abs=1e-4)
    assert {e["step"] for e in metrics if "eval_loss" in e} == {2, 4, 6}
    pairs = [(e["step"], k) for e in metrics for k in e if k not in ("type", "t", "step", "epoch")]
    assert len(pairs) == len(set(pairs))
    progress = events_of(events, "progress")
    assert [p["step"] for p in progress] == [1, 2, 3, 4, 5, 6] and progress[-1]["total_steps"] == 6
    assert [c["step"] for c in events_of(events, "checkpoint")] == [2, 4, 6]
    assert any(e.get("estimate", {}).get("available") for e in events_of(events, "log"))

    job = next(iter(fake_together.jobs.values()))
    (result,) = events_of(events, "result")
    assert result["fine_tuned_model"] == job.output and result["remote_job_id"] == job.id
    assert result["trained_tokens"] == job.token_count * 3
    assert result["actual_cost_usd"] == pytest.approx(job.token_count * 3 * 0.48 / 1e6)
    assert result["estimated_cost_usd"] == pytest.approx(job.token_count * 3 * 0.48 / 1e6, rel=0.05)
    assert result["final_loss"] == pytest.approx(2.0 * 0.9 ** 6, abs=1e-4)
    assert result["hyperparameters"]["lora_r"] == 16
    entry = result["register_model"]
    assert entry["kind"] == "together-finetune" and entry["remote_model"] == job.output
    assert entry["chat_base_url"] == fake_together.url + "/v1" and entry["base_model"] == MODEL

    # the fine-tune answers through Together's OpenAI-compatible chat API
    from core.hosted.openai_client import make_client

    chat = make_client(api_key=FAKE_KEY, base_url=entry["chat_base_url"], max_retries=0)
    answer = chat.chat.completions.create(model=entry["remote_model"], messages=[{"role": "user", "content": "Dune"}])
    assert answer.choices[0].message.content.startswith(job.output) and "Dune" in answer.choices[0].message.content
    assert fake_together.calls("POST", "/v1/chat/completions")[-1].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert_key_nowhere(run_dir, FAKE_KEY)


def test_a_rejected_key_is_one_sentence_and_never_written(fake_together: FakeTogether, data, tmp_path: Path) -> None:
    wrong = "tgp_v1_wrongKey_9876543210abcdefghij"
    events = _run(tmp_path / "run", _config(data), key=wrong)
    (status,) = events_of(events, "status")
    assert status["status"] == "failed" and "did not accept the API key (401)" in status["message"]
    assert not fake_together.calls("POST", "/v1/files")    # stopped before any upload
    assert_key_nowhere(tmp_path / "run", wrong)
    (refused,) = fake_together.calls("GET", "/models/limits")   # Together's 401 echoed the key back to us
    assert refused.headers["authorization"] == f"Bearer {wrong}"


def test_an_unknown_model_and_too_little_credit(fake_together: FakeTogether, data, tmp_path: Path) -> None:
    events = _run(tmp_path / "a", _config(data, model="acme/not-a-model"))
    assert statuses_of(events) == ["failed"]
    assert "Together cannot fine-tune 'acme/not-a-model' (404" in events[-1]["message"]
    assert not fake_together.calls("POST", "/v1/files")

    fake_together.credit_usd = 0.0
    events = _run(tmp_path / "b", _config(data))
    message = events[-1]["message"]
    assert statuses_of(events) == ["failed"] and "cannot pay for it" in message and "add credit" in message
    assert not fake_together.jobs   # no job was created


def test_a_failed_job_carries_togethers_reason(fake_together: FakeTogether, data, tmp_path: Path) -> None:
    fake_together.plan = JobPlan(outcome="error", fail_at_step=3)
    events = _run(tmp_path / "run", _config(data))
    assert statuses_of(events)[-1] == "failed"
    job = next(iter(fake_together.jobs.values()))
    assert events[-1]["message"] == (f"The Together fine-tuning job {job.id} failed: Training diverged: the loss "
                                     "became NaN at step 3.")
    assert not events_of(events, "result")
    assert {e["step"] for e in events_of(events, "metric")} == {1, 2, 3}


def test_cancel_then_continue_from_the_last_checkpoint(fake_together: FakeTogether, data, tmp_path: Path) -> None:
    fake_together.plan = JobPlan(steps=8)
    run_dir = tmp_path / "run"
    config = _config(data, n_epochs=4)
    ctx = _ctx(run_dir, config)
    worker = threading.Thread(target=TogetherBackend().run, args=(ctx,))
    worker.start()
    wait_for_events(run_dir, lambda ev: any(e["type"] == "checkpoint" and e["step"] >= 4 for e in ev))
    (run_dir / CANCEL_FILE).touch()
    worker.join(15)
    ctx.events.close()
    events = read_events(run_dir)[0]
    first = next(iter(fake_together.jobs.values()))
    assert statuses_of(events)[-1] == "cancelled" and events[-1]["message"] == (
        f"The Together job {first.id} was cancelled.")
    assert len(fake_together.calls("POST", r"/cancel$")) == 1
    checkpoint = max(c["step"] for c in events_of(events, "checkpoint"))

    # resumed: a new job from the cancelled job's last checkpoint, its steps counted on from there
    (run_dir / CANCEL_FILE).unlink()
    fake_together.plan = JobPlan(steps=4)
    events = _run(run_dir, config, resume=True)
    second = fake_together.jobs[max(fake_together.jobs, key=lambda k: fake_together.jobs[k].created)]
    sent = fake_together.calls("POST", r"^/v1/fine-tunes$")[-1].json()
    assert sent["from_checkpoint"] == f"{first.id}:{checkpoint}" and "model" not in sent
    assert "training_type" not in sent   # inherited from the job it continues
    (resumed,) = events_of(events, "resumed")
    assert resumed["from_step"] == checkpoint
    assert statuses_of(events)[-1] == "succeeded"
    result = events_of(events, "result")[-1]
    assert result["fine_tuned_model"] == second.output and result["previous_jobs"] == [first.id]
    after = [e["step"] for e in events_of(events, "metric") if e["t"] >= resumed["t"] and "train_loss" in e]
    assert after == [checkpoint + s for s in (1, 2, 3, 4)]
    assert_key_nowhere(run_dir, FAKE_KEY)


def test_a_new_run_can_start_from_another_jobs_checkpoint(fake_together: FakeTogether, data, tmp_path: Path) -> None:
    first = events_of(_run(tmp_path / "one", _config(data)), "result")[0]["remote_job_id"]
    events = _run(tmp_path / "two", _config(data, from_checkpoint=f"{first}:2"))
    assert statuses_of(events)[-1] == "succeeded"
    assert fake_together.calls("GET", "/models/limits")[-1].query == {"model_name": first}
    assert fake_together.calls("POST", r"^/v1/fine-tunes$")[-1].json()["from_checkpoint"] == f"{first}:2"


def test_no_network_and_a_bad_file_are_one_sentence(monkeypatch: pytest.MonkeyPatch, data, tmp_path: Path) -> None:
    with socket.socket() as sock:   # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("TOGETHER_BASE_URL", f"http://127.0.0.1:{port}")
    events = _run(tmp_path / "a", _config(data, request_timeout_s=2))
    assert events[-1]["status"] == "failed" and events[-1]["message"].startswith(
        f"Could not reach Together at http://127.0.0.1:{port}")

    bad = tmp_path / "bad.jsonl"
    bad.write_text(data["train"].read_text().splitlines()[0] + "\n{\"title\": 1}\n")
    events = _run(tmp_path / "b", {**_config(data), "data_path": str(bad)})
    assert events[-1]["message"].startswith("The training file bad.jsonl cannot be used for Together fine-tuning: "
                                            "line 2:")


def test_config_and_helpers() -> None:
    cfg = TogetherTrainConfig.from_run_config({"data_path": "x.jsonl", "base_model": "smollm2",
                                               "together": {"model": MODEL, "lora_rank": 8}})
    assert cfg.model == MODEL and cfg.training_file == "x.jsonl" and cfg.lora_rank == 8
    with pytest.raises(ConfigError, match="suffix"):
        TogetherTrainConfig(model=MODEL, suffix="x" * 41)
    with pytest.raises(ConfigError, match="n_evals"):
        TogetherTrainConfig(model=MODEL, n_evals=2)
    assert api.resolve_base_url("http://h:1/v1/") == "http://h:1" and api.chat_base_url("http://h:1") == "http://h:1/v1"
    assert api._metric_name("eval/loss") == "eval_loss" and api._metric_name("train/global_step") is None
    assert scrub(f"key {FAKE_KEY} and fw_abcdefghijkl", [FAKE_KEY]) == "key *** and ***"
    error = explain(TOGETHER, ConnectionRefusedError("x"))
    assert "Unexpected error talking to Together" in str(error)
    with pytest.raises(RejectedKeyError):
        raise explain(TOGETHER, type("AuthenticationError", (Exception,), {"status_code": 401})("no"))
    assert isinstance(explain(TOGETHER, type("APIConnectionError", (Exception,), {})("x")), NoNetworkError)


def test_the_result_joins_the_registry_and_answers(fake_together: FakeTogether, data, tmp_path: Path, store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from core.hosted.models import chat_client, launch_env, register_model_from_event
    from core.store.compare import get_model

    (result,) = events_of(_run(tmp_path / "run", _config(data)), "result")
    model_id = register_model_from_event(store, result)
    row = get_model(store, model_id)
    assert model_id == f"together:{result['fine_tuned_model']}" and row["kind"] == "together-finetune"
    assert row["endpoint_url"] == fake_together.url + "/v1" and row["price_input_per_m"] == 0.18
    assert FAKE_KEY not in json.dumps(row, default=str)
    assert register_model_from_event(store, {"register_model": {"kind": "openai-finetune", "remote_model": "x"}}) is None
    answer = chat_client(row).chat.completions.create(model=row["remote_model"],
                                                      messages=[{"role": "user", "content": "Emma"}])
    assert answer.choices[0].message.content.endswith("says: Emma")
    monkeypatch.delenv("TOGETHER_API_KEY")
    with pytest.raises(Exception, match="No Together API key"):
        chat_client(row)
    assert launch_env("together", "k") == {"TOGETHER_API_KEY": "k"} and launch_env("fireworks", None) == {}
