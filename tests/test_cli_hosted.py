"""``python -m core train --backend together|fireworks`` end to end: real CLI subprocesses (the same
launch, run folder, database row and training subprocess as the page) against the fake Together and
Fireworks servers on 127.0.0.1 (tests/fake_together.py, tests/fake_fireworks.py) driven by the
official clients: a whole job (exit 0, ``runs`` shows the fine-tuned model, ``generate`` answers
through it), a rejected key, a failed job with the provider's reason, ``cancel RUN`` then
``resume RUN`` continuing from the last checkpoint, a Fireworks deploy that asks first; and every
key searched for on disk afterwards (database file, run folders, logs)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_fireworks import ACCOUNT, FakeFireworks, fake_fireworks_fixture  # noqa: F401 - the fixture
from fake_fireworks import FAKE_KEY as FIREWORKS_KEY
from fake_fireworks import JobPlan as FireworksPlan
from fake_together import FAKE_KEY as TOGETHER_KEY
from fake_together import FakeTogether, JobPlan, fake_together_fixture  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
TOGETHER_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
FAST = ["--data", "seed-study", "--max-train-examples", "12", "--poll-interval", "0.05"]
OPENAI_DECOY = "sk-decoyOpenAIKeyThatMustStayHome0123456789"


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def _together(*extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return _cli("train", "--backend", "together", "--model", TOGETHER_MODEL, "--suffix", "seed", *FAST, *extra, env=env)


def _runs() -> list[dict]:
    result = _cli("runs", "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _one_sentence_error(result: subprocess.CompletedProcess) -> str:
    """The CLI's failure line for a run that did not succeed (the progress bar aside)."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("run ") and " failed: " in line]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def _assert_no_key_on_disk(results: Path, *keys: str) -> None:
    """No key in any file the run wrote (config, events, state, output.log, training file), in the
    database file, nor in any text the database holds."""
    files = [p for p in results.rglob("*") if p.is_file()]
    assert any(p.name == "output.log" for p in files) and any(p.suffix == ".duckdb" for p in files)
    for path in files:
        data = path.read_bytes()
        for key in keys:
            assert key.encode() not in data, f"a key was written to {path}"
    from core.store import Store

    with Store() as store:
        for table in ("runs", "models", "run_metrics", "estimates"):
            text = json.dumps(store.fetch_dicts(f"SELECT * FROM {table}"), default=str)
            assert not any(key in text for key in keys), table


def test_a_together_job_end_to_end_then_chat(fake_together: FakeTogether, isolated_results: Path) -> None:
    result = _together("--lora-rank", "8", "--epochs", "2", "--learning-rate", "2e-5",
                       env={"OPENAI_API_KEY": OPENAI_DECOY})
    assert result.returncode == 0, result.stderr
    assert ": succeeded" in result.stdout and "model fakeuser/" in result.stdout
    (run,) = _runs()
    assert run["backend"] == "together" and run["status"] == "succeeded" and run["base_model"] == TOGETHER_MODEL
    assert run["output_model"].startswith("fakeuser/Meta-Llama-3.1-8B-Instruct-Reference-seed")
    assert run["remote_job_id"].startswith("ft-fake") and run["step"] == 6 and run["final_loss"] is not None
    assert run["provider_quote_usd"] is not None and run["estimated_cost_usd"] is None  # no public Together rate
    (job,) = fake_together.jobs.values()   # the job got the run's hyperparameters
    assert job.request["n_epochs"] == 2 and job.request["learning_rate"] == 2e-5
    assert job.request["training_type"]["lora_r"] == 8 and job.request["suffix"] == "seed"
    table = _cli("runs")
    assert run["output_model"] in table.stdout
    model_id = f"together:{run['output_model']}"
    listed = _cli("models", "list")
    assert model_id in listed.stdout and "openai:fakeuser" not in listed.stdout
    answer = _cli("generate", "--model", model_id, "--prompt", "The Hobbit", "--max-new-tokens", "16",
                  env={"OPENAI_API_KEY": OPENAI_DECOY})
    assert answer.returncode == 0, answer.stderr
    assert "The Hobbit" in answer.stdout
    chats = fake_together.calls("POST", r"/v1/chat/completions")
    assert chats and all(OPENAI_DECOY not in str(c.headers) for c in chats)
    assert all(c.headers.get("authorization") == f"Bearer {TOGETHER_KEY}" for c in chats)
    _assert_no_key_on_disk(isolated_results, TOGETHER_KEY, OPENAI_DECOY)


def test_together_refusals_are_one_sentence(fake_together: FakeTogether, isolated_results: Path) -> None:
    rejected = _together(env={"TOGETHER_API_KEY": "tgp_v1_wrongWrongWrong0123456789"})
    assert rejected.returncode == 1
    assert "Together did not accept the API key (401)" in _one_sentence_error(rejected)
    unknown = _cli("train", "--backend", "together", "--model", "nobody/not-a-model", *FAST)
    assert unknown.returncode == 1 and "Together cannot fine-tune 'nobody/not-a-model'" in _one_sentence_error(unknown)
    fake_together.credit_usd = 0.0
    broke = _together()
    assert broke.returncode == 1 and "credit" in _one_sentence_error(broke)
    fake_together.credit_usd = 100.0
    fake_together.plan = JobPlan(outcome="error", error_message="Training diverged: the loss became NaN at step 3")
    failed = _together()
    line = _one_sentence_error(failed)
    assert failed.returncode == 1 and "failed: Training diverged: the loss became NaN at step 3" in line
    offline = _together(env={"TOGETHER_BASE_URL": "http://127.0.0.1:9"})
    assert offline.returncode == 1 and "Could not reach Together" in _one_sentence_error(offline)
    statuses = [r["status"] for r in _runs()]
    assert statuses == ["failed"] * 5
    _assert_no_key_on_disk(isolated_results, TOGETHER_KEY, "tgp_v1_wrongWrongWrong0123456789")


def _wait(predicate, timeout: float = 60.0) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_cancel_then_resume_continues_from_the_checkpoint(fake_together: FakeTogether, isolated_results: Path) -> None:
    fake_together.plan = JobPlan(steps=400)   # long enough to be cancelled while it runs
    started = _together("--epochs", "20", "--detach")
    assert started.returncode == 0, started.stderr
    _wait(lambda: any(job.checkpoints for job in fake_together.jobs.values()))
    (run,) = _runs()
    cancelled = _cli("cancel", run["id"])
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"run {run['id']}: cancelled" in cancelled.stdout and "was cancelled" in cancelled.stdout
    (old,) = fake_together.jobs.values()
    assert old.status == "cancelled"
    saved = max(c["step"] for c in old.checkpoints)
    fake_together.plan = JobPlan(steps=4)
    resumed = _cli("resume", run["id"])
    assert resumed.returncode == 0, resumed.stderr
    new = next(job for job in fake_together.jobs.values() if job.id != old.id)
    assert new.request["from_checkpoint"] == f"{old.id}:{saved}"
    (after,) = _runs()
    assert after["status"] == "succeeded" and after["remote_job_id"] == new.id and after["step"] == saved + 4
    assert after["resumes"] == 1 and after["output_model"]
    _assert_no_key_on_disk(isolated_results, TOGETHER_KEY)


def test_a_fireworks_job_then_deploy_asks_first_then_chat(fake_fireworks: FakeFireworks,
                                                          isolated_results: Path) -> None:
    result = _cli("train", "--backend", "fireworks", "--suffix", "seed", "--lora-rank", "8", "--epochs", "2", *FAST,
                  env={"OPENAI_API_KEY": OPENAI_DECOY})
    assert result.returncode == 0, result.stderr
    (run,) = _runs()
    assert run["status"] == "succeeded" and run["step"] == 100 and run["step_unit"] == "percent"
    assert run["output_model"].startswith(f"accounts/{ACCOUNT}/models/seed-")
    assert run["estimated_cost_usd"] is not None and run["actual_cost_usd"] is not None  # $0.50/1M, dated row
    assert "100%" in _cli("runs").stdout
    model_id = f"fireworks:{run['output_model']}"
    before = _cli("generate", "--model", model_id, "--prompt", "Dune", "--max-new-tokens", "8")
    assert before.returncode == 1 and "deploy it first" in before.stderr
    refused = _cli("models", "deploy", model_id)   # no terminal, no --yes: nothing is deployed
    assert refused.returncode == 2 and "must first be deployed" in refused.stdout and "--yes" in refused.stderr
    assert not fake_fireworks.deployed
    deployed = _cli("models", "deploy", model_id, "--yes")
    assert deployed.returncode == 0, deployed.stderr
    assert run["output_model"] in fake_fireworks.deployed
    answer = _cli("generate", "--model", model_id, "--prompt", "Dune", "--max-new-tokens", "8",
                  env={"OPENAI_API_KEY": OPENAI_DECOY})
    assert answer.returncode == 0 and "Dune" in answer.stdout, answer.stderr
    _assert_no_key_on_disk(isolated_results, FIREWORKS_KEY, OPENAI_DECOY)


def test_fireworks_refusals_are_one_sentence(fake_fireworks: FakeFireworks, isolated_results: Path) -> None:
    rejected = _cli("train", "--backend", "fireworks", *FAST, env={"FIREWORKS_API_KEY": "fw_wrongWrongWrong0123"})
    assert rejected.returncode == 1 and "Fireworks did not accept the API key (401)" in _one_sentence_error(rejected)
    fake_fireworks.plan = FireworksPlan(outcome="failed")
    failed = _cli("train", "--backend", "fireworks", *FAST)
    assert failed.returncode == 1
    assert "exceeds the maximum context length of 8192 tokens" in _one_sentence_error(failed)
    _assert_no_key_on_disk(isolated_results, FIREWORKS_KEY, "fw_wrongWrongWrong0123")


# -- in-process: the launch and ingestion rules the subprocess tests rely on -----------------------
def test_a_hosted_run_gets_only_its_own_providers_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.training.jobs import child_env

    for name, value in (("OPENAI_API_KEY", "sk-o"), ("TOGETHER_API_KEY", "t"), ("FIREWORKS_API_KEY", "f")):
        monkeypatch.setenv(name, value)
    together = child_env("together", {"TOGETHER_API_KEY": "typed"})
    assert together["TOGETHER_API_KEY"] == "typed" and "OPENAI_API_KEY" not in together
    assert "FIREWORKS_API_KEY" not in together
    assert "TOGETHER_API_KEY" not in child_env("openai") and "OPENAI_API_KEY" in child_env("openai")
    assert {"OPENAI_API_KEY", "TOGETHER_API_KEY", "FIREWORKS_API_KEY"} <= set(child_env("local"))


def test_ingestion_registers_a_together_model_as_together_never_openai(store) -> None:
    from core.store.compare import list_models
    from core.training.jobs import _register

    event = {"type": "result", "register_model": {
        "kind": "together-finetune", "provider": "together", "remote_model": "me/llama-seed-1", "base_model": "m",
        "run_id": "r1", "chat_base_url": "https://api.together.ai/v1", "price_input_per_m": 0.2,
        "price_output_per_m": 0.2}}
    _register(store, event)
    ids = {m["id"]: m for m in list_models(store)}
    assert "together:me/llama-seed-1" in ids and "openai:me/llama-seed-1" not in ids
    assert ids["together:me/llama-seed-1"]["endpoint_url"] == "https://api.together.ai/v1"


def test_resume_blocker_names_the_provider() -> None:
    from core.training.jobs import resume_blocker

    run = {"id": "r", "status": "cancelled", "backend": "together", "remote_job_id": "ft-1", "run_dir": "/x"}
    assert resume_blocker(run) is None
    assert resume_blocker({**run, "backend": "fireworks", "status": "failed"}) is None
    blocked = resume_blocker({**run, "backend": "fireworks", "remote_job_id": None})
    assert blocked and "before Fireworks created a job" in blocked
    openai = resume_blocker({**run, "backend": "openai"})
    assert openai and "OpenAI does not restart" in openai
