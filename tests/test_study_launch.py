"""core/study/launch.py with the real CLI: a tiny recipe (the first rows of the bundled sample, a small
curation, one export, no training) run in the background; its progress file read back to the end,
a second start refused while it runs, a stop mid-run and a second run that reuses what finished;
uploaded recipes kept without overwriting another file.

    .venv/bin/python -m pytest -q tests/test_study_launch.py
"""
from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest

from core.paths import sample_raw_path

SECRET = "sk-study-launch-secret-0123456789"
RAW_ROWS = 3000   # ~350 rows survive seed-notebook: enough for 40 train / 10 test


def tiny_raw(folder: Path, rows: int = RAW_ROWS) -> Path:
    """The bundled sample's first rows, as a raw file of the same shape."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "raw.json"
    with gzip.open(sample_raw_path(), "rt", encoding="utf-8") as src, open(path, "w", encoding="utf-8") as out:
        for i, line in enumerate(src):
            if i >= rows:
                break
            out.write(line)
    return path


def tiny_recipe(folder: Path, name: str = "tiny-study", evaluation: bool = False) -> Path:
    """A recipe over ``tiny_raw``: data, curation (40/10), one training file; with ``evaluation``
    also the bundled model on 2 test examples, 8 new tokens."""
    tiny_raw(folder)
    text = f"""
[study]
name = "{name}"
title = "A tiny study for tests"

[data]
path = "raw.json"

[curation]
name = "{name}-data"
preset = "seed-notebook"
train_size = 40
test_size = 10

[[formats]]
format = "openai-chat"
split = "train"
template = "seed-openai"
tokenizer = "smollm2"
"""
    if evaluation:
        text += """
[evaluation]
models = ["local:smollm2"]
split = "test"
limit = 2
metrics = ["rougeL", "chrf"]
main_metric = "rougeL"
max_new_tokens = 8
"""
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def wait_end(study: str, timeout_s: float = 300) -> dict:
    from core.study.launch import study_state

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        state = study_state(study)
        if not state["alive"]:
            return state
        time.sleep(0.3)
    raise AssertionError(f"the study {study} did not end within {timeout_s} s: {study_state(study)}")


def test_a_run_in_the_background_to_the_end_then_everything_reused(tmp_path: Path, isolated_results: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from core.study.launch import PID_FILE, StudyRunningError, start_study, study_dir, study_state

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)   # passed through to the process, written nowhere
    recipe = tiny_recipe(tmp_path / "recipes")
    launch = start_study(recipe)
    assert launch.study == "tiny-study" and launch.folder == isolated_results / "studies" / "tiny-study"
    assert launch.progress.exists() and (launch.folder / PID_FILE).exists()
    with pytest.raises(StudyRunningError, match="already running"):   # one run per study at a time
        start_study(recipe)
    state = wait_end("tiny-study")
    assert state["status"] == "succeeded", (state, (launch.folder / "log.txt").read_text())
    steps = {s["step"]: s["status"] for s in state["steps"]}
    assert list(steps) == ["data", "curation", "format:openai-chat-train"]
    assert set(steps.values()) == {"done"} and state["steps_done"] == state["steps_total"] == 3
    assert state["counts"] == {"done": 3} and state["wall_s"] > 0 and state["ended"]

    # run again: nothing changed, every step reused; the previous run's files kept beside
    start_study(recipe)
    again = wait_end("tiny-study")
    assert again["status"] == "succeeded" and {s["status"] for s in again["steps"]} == {"reused"}, again
    assert (study_dir("tiny-study") / "previous-progress.jsonl").exists()
    assert study_state("tiny-study")["status"] == "succeeded"   # read again, as a reloaded page would
    for path in study_dir("tiny-study").iterdir():
        assert SECRET not in path.read_text(encoding="utf-8", errors="replace"), path


def test_stop_mid_run_then_go_on(tmp_path: Path) -> None:
    from core.study.launch import StudyRunningError, start_study, stop_study, study_state

    recipe = tiny_recipe(tmp_path / "recipes", name="stop-study", evaluation=True)
    start_study(recipe)
    deadline = time.time() + 120
    while study_state("stop-study")["steps_done"] < 1 and time.time() < deadline:   # let a step finish
        time.sleep(0.2)
    stop_study("stop-study", grace_s=5, wait=True)
    stopped = study_state("stop-study")
    assert not stopped["alive"] and stopped["status"] == "stopped" and stopped["stop_requested"], stopped
    assert stopped["steps_done"] >= 1
    with pytest.raises(StudyRunningError, match="not running"):
        stop_study("stop-study")
    start_study(recipe)
    state = wait_end("stop-study", timeout_s=600)
    assert state["status"] == "succeeded", state
    statuses = {s["step"]: s["status"] for s in state["steps"]}
    assert statuses["data"] == "reused" and statuses["evaluation"] == "done", statuses


def test_a_recipe_that_cannot_run_is_told_not_started(tmp_path: Path) -> None:
    from core.study.launch import StudyLaunchError, start_study, study_state
    from core.study.recipe import RecipeError

    bad = tmp_path / "bad.toml"
    bad.write_text('[study]\nname = "bad"\nbogus = 1\n', encoding="utf-8")
    with pytest.raises(RecipeError, match="line 3"):
        start_study(bad)
    with pytest.raises(StudyLaunchError, match="no recipe file"):
        start_study(tmp_path / "missing.toml")
    assert study_state("bad")["status"] == "none"

    missing_data = tmp_path / "nodata.toml"   # a recipe that reads but whose raw file is not there
    missing_data.write_text('[study]\nname = "nodata"\n[data]\npath = "nowhere.json"\n', encoding="utf-8")
    start_study(missing_data)
    state = wait_end("nodata")
    assert state["status"] == "failed" and "nowhere.json" in state["message"], state


def test_uploaded_recipes_are_checked_and_never_overwrite_another(tmp_path: Path) -> None:
    from core.study.launch import list_recipes, save_recipe_upload, user_recipes_dir
    from core.study.recipe import RecipeError

    good = b'[study]\nname = "mine"\ntitle = "Mine"\n'
    first = save_recipe_upload("mine.toml", good)
    assert first == user_recipes_dir() / "mine.toml" and first.read_bytes() == good
    assert save_recipe_upload("mine.toml", good) == first                 # the same file again: that file
    other = save_recipe_upload("../../mine.toml", good.replace(b"Mine", b"Other"))
    assert other == user_recipes_dir() / "mine-2.toml" and first.read_bytes() == good
    assert first in list_recipes() and other in list_recipes()
    with pytest.raises(RecipeError, match="line 2"):
        save_recipe_upload("broken.toml", b'[study]\nname = "Not Valid"\n')
    with pytest.raises(RecipeError):
        save_recipe_upload("binary.toml", b"\xff\xfe\x00")
    assert not (user_recipes_dir() / "broken.toml").exists() and not (user_recipes_dir() / "binary.toml").exists()


def test_keys_typed_on_the_page_reach_only_the_process_environment(tmp_path: Path, monkeypatch) -> None:
    """needed_keys names what the seed recipe's hosted steps lack; start_study hands typed keys (and
    nothing else) to the study's process environment, and they land in no file of its folder."""
    import subprocess

    from core.study import launch
    from core.study.recipe import load_recipe
    from core.study.steps import needed_keys

    for name in ("OPENAI_API_KEY", "TOGETHER_API_KEY", "FIREWORKS_API_KEY", "FIREWORKS_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    seed = load_recipe(Path(__file__).resolve().parent.parent / "dados" / "estudos" / "seed-study.toml")
    assert needed_keys(seed) == ["OPENAI_API_KEY", "TOGETHER_API_KEY", "FIREWORKS_API_KEY", "FIREWORKS_ACCOUNT_ID"]
    monkeypatch.setenv("TOGETHER_API_KEY", "tg-from-the-environment")
    assert "TOGETHER_API_KEY" not in needed_keys(seed)

    seen: dict[str, str] = {}
    real_popen = subprocess.Popen

    def spy(command, **kwargs):  # the real process runs; only its environment is looked at
        seen.update(kwargs["env"])
        return real_popen(command, **kwargs)

    import core.processes

    monkeypatch.setattr(core.processes.subprocess, "Popen", spy)
    typed = "sk-typed-on-page-six-0123456789"
    recipe = tiny_recipe(tmp_path)
    launch.start_study(recipe, keys={"OPENAI_API_KEY": typed, "PATH": "/nowhere", "EVIL": "x"})
    state = wait_end("tiny-study")
    assert state["status"] == "succeeded", state
    assert seen["OPENAI_API_KEY"] == typed and seen["PATH"] != "/nowhere" and "EVIL" not in seen
    for path in launch.study_dir("tiny-study").rglob("*"):
        if path.is_file():
            assert typed not in path.read_text(errors="replace"), path
