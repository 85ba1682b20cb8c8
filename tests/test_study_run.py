"""``python -m core study run``: a tiny recipe on the bundled sample (real curation, a 2-step LoRA
run of the tiny model, a real evaluation, the xlsx), run twice (the second reuses every step),
changed (only what is downstream runs again), killed mid-training (the next run goes on), and
bad paths (one sentence, exit 2)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.store import Store
from core.store import runs as run_table
from core.store.curation import list_curated
from core.study.recipe import load_recipe
from core.study.runner import plan_recipe, run_recipe
from core.study.steps import DataChangedError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "dados" / "amostra_trn_20k.json.gz"

RECIPE = """\
[study]
name = "tiny-study"

[data]
path = "{sample}"

[curation]
name = "tiny-data"
train_size = 24
test_size = 6

[[formats]]
format = "openai-chat"

[[runs]]
name = "tiny"
base_model = "{model}"
format = "chat-template"
max_steps = {steps}
batch_size = 2
grad_accum = 1
max_seq_len = 64
max_train_examples = 12
learning_rate = 0.003
warmup_steps = 0
eval_every = 0
eval_examples = 4
save_every = 1
target_modules = ["q_proj", "v_proj"]

[[runs]]
name = "gpt"
backend = "openai"
base_model = "gpt-4o-mini-2024-07-18"

[evaluation]
models = ["run:tiny", "run:gpt"]
limit = 3
max_new_tokens = 8
metrics = ["rougeL", "chrf"]
main_metric = "chrf"
checkpoints = true
checkpoint_limit = 2

[report]
"""


def _write(folder: Path, model: Path, steps: int = 2, **changes: str) -> Path:
    text = RECIPE.format(sample=SAMPLE, model=model, steps=steps)
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    path = folder / "tiny.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "TOGETHER_API_KEY", "FIREWORKS_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def _statuses(events: list[dict]) -> dict[str, str]:
    return {e["step"]: e["status"] for e in events if e["event"] == "step" and e["status"] != "progress"}


@pytest.mark.slow  # ~40 s on 2 busy cores: two tiny trainings, three evaluations
def test_run_twice_then_change_the_curation(tmp_path: Path, tiny_model_dir: Path) -> None:
    recipe = load_recipe(_write(tmp_path, tiny_model_dir))
    events: list[dict] = []
    with Store() as store:
        first = run_recipe(store, recipe, on_event=events.append)
        assert _statuses(events) == {
            "data": "done", "curation": "done", "format:openai-chat-train": "done", "train:tiny": "done",
            "train:gpt": "skipped", "checkpoints:tiny": "done", "evaluation": "done", "report": "done"}
        notes = [e["message"] for e in events if e.get("status") == "progress" and "done" not in e]
        assert notes == ["evaluation: dropped run:gpt (its run was skipped)"]
        assert "OPENAI_API_KEY is not set" in next(e["message"] for e in events if e.get("step") == "train:gpt")
        assert events[0]["event"] == "plan" and events[-1] == {**events[-1], "event": "end", "status": "succeeded"}
        assert first.message.startswith("study tiny-study finished: 7 ran, 0 reused, 1 skipped")
        (run,) = run_table.list_runs(store)
        evaluation = first.steps[[s["step"] for s in first.steps].index("evaluation")]
        eval_id = json.loads(store.fetchone("SELECT outputs_json FROM study_steps WHERE step = 'evaluation' "
                                            "AND status = 'done'")[0])["eval_id"]
        assert eval_id in evaluation["message"]
        report = Path(os.environ["FTDASH_RESULTS"]) / "tiny-study.xlsx"
        assert report.is_file()
        lineage = json.loads(run["lineage_json"])
        assert (lineage["study"], lineage["step"], lineage["recipe_sha"]) == ("tiny-study", "train:tiny", recipe.sha)

        events.clear()
        mtime = report.stat().st_mtime_ns
        second = run_recipe(store, recipe, on_event=events.append)
        assert set(_statuses(events).values()) == {"reused", "skipped"}
        assert second.message == "nothing to do: 7 steps reused, 1 skipped"
        assert "reused curation: tiny-data v1 (inputs unchanged)" in [e.get("message") for e in events]
        assert len(list_curated(store)) == 1 and len(run_table.list_runs(store)) == 1
        assert report.stat().st_mtime_ns == mtime
        assert json.loads(store.fetchone("SELECT outputs_json FROM study_steps WHERE step = 'evaluation' "
                                         "ORDER BY id DESC LIMIT 1")[0])["eval_id"] == eval_id
        assert {r["state"] for r in plan_recipe(store, recipe)} == {"reuse", "skip"}

        changed = load_recipe(_write(tmp_path, tiny_model_dir, **{"test_size = 6": "test_size = 5"}))
        plan = {r["step"]: r["state"] for r in plan_recipe(store, changed)}
        assert plan["data"] == "reuse" and plan["curation"] == "run" and plan["report"] == "run"
        events.clear()
        run_recipe(store, changed, on_event=events.append)
        statuses = _statuses(events)
        assert statuses.pop("data") == "reused" and statuses.pop("train:gpt") == "skipped"
        assert set(statuses.values()) == {"done"}, statuses
        assert [c["version"] for c in list_curated(store)] == [2, 1] and len(run_table.list_runs(store)) == 2
        last = json.loads(store.fetchone("SELECT outputs_json FROM study_steps WHERE step = 'evaluation' "
                                         "ORDER BY id DESC LIMIT 1")[0])["eval_id"]
        assert last != eval_id


def test_a_changed_raw_file_stops_the_run(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text(f'[study]\nname = "d"\n[data]\npath = "{SAMPLE}"\nfingerprint = "blake2b:0"\n', encoding="utf-8")
    with Store() as store:
        with pytest.raises(DataChangedError, match="--accept-changed-data"):
            run_recipe(store, load_recipe(path))
        result = run_recipe(store, load_recipe(path), accept_changed_data=True)
        assert "changed, accepted" in result.steps[0]["message"]


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "study", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, **kwargs)


def test_bad_recipe_paths_are_one_sentence(tmp_path: Path) -> None:
    for target, words in ((tmp_path / "nope.toml", "does not exist"), (tmp_path, "is not a file")):
        done = _cli("run", str(target))
        assert done.returncode == 2 and done.stderr.startswith("error: ") and words in done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[study]\nname = "x"\n[[runs]]\nname = "a"\nlora_r = 0\n', encoding="utf-8")
    done = _cli("run", str(bad))
    assert done.returncode == 2 and done.stderr.startswith(f"error: {bad}, line ") and "Traceback" not in done.stderr


@pytest.mark.slow
def test_killed_mid_training_goes_on_from_there(tmp_path: Path, tiny_model_dir: Path) -> None:
    recipe = _write(tmp_path, tiny_model_dir, steps=12)
    progress = tmp_path / "progress.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "core", "study", "run", str(recipe), "--progress",
                                str(progress)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:  # the run is launched and recorded once it reports progress
            lines = progress.read_text(encoding="utf-8").splitlines() if progress.exists() else []
            if any('"train:tiny"' in line and '"progress"' in line for line in lines):
                break
            assert process.poll() is None, lines
            time.sleep(0.2)
        else:
            pytest.fail("the training step never started")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    done = _cli("run", str(recipe))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.endswith("reused curation: tiny-data v1 (inputs unchanged)") for line in lines), lines
    train = next(line for line in lines if "train:tiny:" in line)
    assert " picked up, succeeded" in train or " resumed, succeeded" in train, train
    with Store() as store:
        (run,) = run_table.list_runs(store)  # the same run, not a second one
        assert run["status"] == "succeeded" and run["step"] == 12


def test_models_and_judge_that_need_a_missing_key_are_dropped(tmp_path: Path) -> None:
    from core.study.steps import Context
    from core.study.steps_compare import EvaluationStep

    path = tmp_path / "e.toml"
    path.write_text('[study]\nname = "e"\n[evaluation]\nmodels = ["local:smollm2", "openai:gpt-4o-mini-2024-07-18"]\n'
                    'judge_model = "openai:gpt-4o-mini-2024-07-18"\nmain_metric = "judge"\n', encoding="utf-8")
    recipe = load_recipe(path)
    with Store() as store:
        ctx = Context(store, recipe)
        inputs = EvaluationStep("evaluation", recipe).inputs(ctx)
    assert inputs["config"]["models"] == ["local:smollm2"] and inputs["config"]["judge_model"] is None
    assert inputs["config"]["main_metric"] == "semantic" and inputs["config"]["data"] == "seed-study"
    assert ctx.notes == ["evaluation: dropped openai:gpt-4o-mini-2024-07-18 (OPENAI_API_KEY is not set)",
                         "evaluation: no judge (openai:gpt-4o-mini-2024-07-18 needs OPENAI_API_KEY, which is not set)"]
