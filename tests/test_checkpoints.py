"""Every checkpoint scored (core/compare/checkpoints.py, ``eval --checkpoints``, page 5's tab): a real
run of the tiny model saving checkpoints, scored on its dataset's test split (steps 0, 2, 4 with
intervals), a second scoring that reuses every answer, the CLI's table and verdict, one-sentence
errors, and the tab drawn in both languages; plus fast checks on rows written directly."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_page
from streamlit.testing.v1 import AppTest

from core.cli import main
from core.compare.checkpoints import (
    CheckpointError,
    checkpoint_curve,
    checkpoint_eval_id,
    learned,
    render_curve,
    score_checkpoints,
    step_models,
)
from core.store import Store
from core.store import compare as cdb
from core.store import runs as rdb

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "dados" / "seed"


# -- rows written directly (fast) ------------------------------------------------------------------
def _run_row(store: Store, run_id: str, status: str = "succeeded", **extra) -> None:
    row = {"id": run_id, "backend": "local", "base_model": "smollm2", "curated_name": "seed-study",
           "curated_version": None, "data_path": str(SEED), "format": "chat-template", "config_json": "{}",
           "status": status, "run_dir": "/nonexistent", "step": 4, "total_steps": 4, **extra}
    rdb.insert_run(store, row)


def _register(store: Store, run_id: str, steps: list[int | None]) -> None:
    from core.models.registry import add_local_finetune

    for step in steps:
        add_local_finetune(store, run_id, "smollm2", f"/nonexistent/{step}", step=step)


def _fake_scores(store: Store, run_id: str, values: dict[int, list[float]]) -> str:
    """A checkpoint evaluation of the run as score_checkpoints records it, with these semantic scores."""
    from core.compare.checkpoints import checkpoint_config, prepare_checkpoints

    config, points, _ = checkpoint_config(store, run_id, limit=len(next(iter(values.values()))),
                                          metrics=["semantic", "rougeL"])
    _, eval_id = prepare_checkpoints(store, run_id, limit=config.limit or 0, metrics=["semantic", "rougeL"])
    examples = [e["idx"] for e in cdb.eval_examples(store, eval_id)]
    rows = []
    for point in points:
        for idx, value in zip(examples, values[point.step]):
            rows.append((eval_id, point.model_id, "default", idx, "semantic", value, None))
            rows.append((eval_id, point.model_id, "default", idx, "rougeL", value / 2, None))
    cdb.save_scores(store, rows)
    cdb.update_evaluation(store, eval_id, status="succeeded", done=len(rows) // 2, total=len(rows) // 2)
    return eval_id


def test_steps_base_checkpoints_final_and_the_curve(store: Store) -> None:
    _run_row(store, "r-fast")
    _register(store, "r-fast", [2, None])
    points = step_models(store, rdb.get_run(store, "r-fast"))
    assert [(p.step, p.model_id, p.role) for p in points] == [
        (0, "local:smollm2", "base"), (2, "local-ft:r-fast@2", "checkpoint"), (4, "local-ft:r-fast", "final")]
    assert checkpoint_curve(store, "r-fast").empty and checkpoint_eval_id(store, "r-fast") is None
    low, mid, high = [0.30 + 0.01 * (i % 3) for i in range(12)], [0.4] * 12, [0.55 + 0.01 * (i % 4) for i in range(12)]
    eval_id = _fake_scores(store, "r-fast", {0: low, 2: mid, 4: high})
    assert checkpoint_eval_id(store, "r-fast") == eval_id
    assert cdb.get_evaluation(store, eval_id)["title"].startswith("checkpoints · r-fast")
    curve = checkpoint_curve(store, "r-fast")
    assert list(curve["step"]) == [0, 2, 4] and list(curve["n"]) == [12, 12, 12]
    assert curve.attrs["metric"] == "semantic"
    assert curve["value"].tolist() == pytest.approx([sum(low) / 12, 0.4, sum(high) / 12])
    assert (curve["low"] <= curve["value"]).all() and (curve["value"] <= curve["high"]).all()
    verdict = learned(curve)
    assert verdict.outcome == "learned" and verdict.p < 0.05 and verdict.n == 12
    assert verdict.sentence().startswith("semantic rose from 0.31 at step 0 to 0.565 at step 4")
    assert verdict.sentence().endswith(": it learned.")
    rouge = checkpoint_curve(store, "r-fast", "rougeL")
    assert rouge.attrs["metric"] == "rougeL" and rouge["value"].iloc[0] == pytest.approx(sum(low) / 24)
    table = render_curve(curve)
    assert table.splitlines()[0].split()[:5] == ["step", "semantic", "low", "high", "n"]
    assert "local-ft:r-fast@2 (checkpoint)" in table
    cdb.delete_evaluation(store, eval_id)  # deleted on page 5: the run is simply not scored any more
    assert checkpoint_eval_id(store, "r-fast") is None and checkpoint_curve(store, "r-fast").empty


def test_openai_checkpoints_are_steps_and_the_last_one_is_the_final_model(store: Store) -> None:
    from core.models.registry import add_openai_finetune

    base = "gpt-4o-mini-2024-07-18"
    _run_row(store, "r-oai", backend="openai", base_model=base, step=30, total_steps=30,
             output_model=f"ft:{base}:org::job1")
    for remote in (f"ft:{base}:org::job1:ckpt-step-10", f"ft:{base}:org::job1:ckpt-step-20",
                   f"ft:{base}:org::job1:ckpt-step-30", f"ft:{base}:org::job1"):
        add_openai_finetune(store, remote, base, run_id="r-oai")
    points = step_models(store, rdb.get_run(store, "r-oai"))
    assert [(p.step, p.model_id, p.role) for p in points] == [
        (0, f"openai:{base}", "base"), (10, f"openai:ft:{base}:org::job1:ckpt-step-10", "checkpoint"),
        (20, f"openai:ft:{base}:org::job1:ckpt-step-20", "checkpoint"), (30, f"openai:ft:{base}:org::job1", "final")]


def test_no_change_worse_and_too_few(store: Store) -> None:
    _run_row(store, "r-flat")
    _register(store, "r-flat", [None])  # no checkpoint: base vs final still
    flat = [0.4, 0.5, 0.45, 0.42, 0.47, 0.44]
    _fake_scores(store, "r-flat", {0: flat, 4: list(reversed(flat))})
    assert learned(checkpoint_curve(store, "r-flat")).outcome == "no_change"
    assert "no significant change" in learned(checkpoint_curve(store, "r-flat")).sentence()
    _run_row(store, "r-worse")
    _register(store, "r-worse", [None])
    _fake_scores(store, "r-worse", {0: [0.6 + 0.01 * i for i in range(8)], 4: [0.2 + 0.01 * i for i in range(8)]})
    verdict = learned(checkpoint_curve(store, "r-worse"))
    assert verdict.outcome == "worse" and "fell" in verdict.sentence()
    assert learned(checkpoint_curve(store, "r-none")).outcome == "too_few"


def test_errors_are_one_sentence_and_write_nothing(store: Store, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="There is no run 'nope'"):
        score_checkpoints(store, "nope")
    _run_row(store, "r-running", status="running")
    with pytest.raises(CheckpointError, match="still running"):
        score_checkpoints(store, "r-running")
    _run_row(store, "r-failed", status="failed")
    with pytest.raises(CheckpointError, match="registered no model"):
        score_checkpoints(store, "r-failed")
    no_test = tmp_path / "no-test"
    no_test.mkdir()
    (no_test / "train.jsonl").write_text(json.dumps({"title": "t", "content": "c"}) + "\n")
    _run_row(store, "r-notest", curated_name=None, data_path=str(no_test))
    _register(store, "r-notest", [None])
    with pytest.raises(CheckpointError, match="no test split"):
        score_checkpoints(store, "r-notest")
    _run_row(store, "r-gone", curated_name="deleted", curated_version=3, data_path=str(tmp_path / "gone"))
    _register(store, "r-gone", [None])
    with pytest.raises(CheckpointError, match="no longer there"):
        score_checkpoints(store, "r-gone")
    _run_row(store, "r-ok")
    _register(store, "r-ok", [None])
    with pytest.raises(CheckpointError, match="metrics"):
        score_checkpoints(store, "r-ok", metrics=["nonsense"])
    assert cdb.list_evaluations(store) == []


def test_cli_error_is_one_line(capsys) -> None:
    assert main(["eval", "--checkpoints", "no-such-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: There is no run") and err.count("\n") == 1


def _app(lang: str = "en") -> AppTest:
    return run_page("5_resultados.py", lang)


def test_tab_shows_curve_verdict_and_table_in_both_languages() -> None:
    with Store() as store:
        _run_row(store, "r-tab")
        _register(store, "r-tab", [2, None])
        _fake_scores(store, "r-tab", {0: [0.3 + 0.01 * i for i in range(8)], 2: [0.4] * 8,
                                      4: [0.6 + 0.01 * i for i in range(8)]})
        _run_row(store, "r-unscored")
        _register(store, "r-unscored", [None])
    at = _app()
    assert not at.exception
    assert at.selectbox(key="ck_run").value == "r-unscored"  # the newest finished run first
    at.selectbox(key="ck_run").set_value("r-tab").run()
    assert not at.exception
    assert any("it learned" in s.value for s in at.success), [s.value for s in at.success]
    table = [d.value for d in at.dataframe if "step" in d.value.columns][0]
    assert list(table["step"]) == [0, 2, 4]
    at.selectbox(key="ck_run").set_value("r-unscored").run()
    assert at.button(key="ck_score")
    pt = _app("pt")
    pt.selectbox(key="ck_run").set_value("r-tab").run()
    assert not pt.exception
    assert any("aprendeu" in s.value for s in pt.success), [s.value for s in pt.success]


# -- a real run of the tiny model, scored ----------------------------------------------------------
@pytest.fixture
def tiny_run(tiny_model_dir: Path, capsys) -> str:
    code = main(["train", "--model", str(tiny_model_dir), "--data", "seed-study", "--format", "chat-template",
                 "--max-steps", "4", "--save-every", "2", "--batch-size", "2", "--grad-accum", "1",
                 "--max-seq-len", "64", "--max-train-examples", "12", "--lr", "0.003", "--eval-every", "2",
                 "--eval-examples", "4"])
    assert code == 0, capsys.readouterr()
    with Store() as store:
        (run,) = rdb.list_runs(store)
    capsys.readouterr()
    return str(run["id"])


def test_a_real_run_scored_resumed_and_through_the_cli(tiny_run: str, tiny_model_dir: Path, capsys) -> None:
    seen: list[tuple[int, int]] = []
    with Store() as store:
        eval_id = score_checkpoints(store, tiny_run, limit=3, max_new_tokens=4, metrics=["rougeL", "chrf"],
                                    on_progress=lambda done, total, _: seen.append((done, total)))
        assert seen and seen[-1] == (9, 9)
        curve = checkpoint_curve(store, tiny_run)
        assert list(curve["step"]) == [0, 2, 4] and list(curve["n"]) == [3, 3, 3]
        assert curve.attrs["metric"] == "rougeL"  # semantic was not asked for
        assert curve["model_id"].iloc[0] == f"local:{tiny_model_dir.resolve()}"
        assert ((curve["value"] >= 0) & (curve["value"] <= 1)).all()
        assert ((curve["low"] <= curve["value"]) & (curve["value"] <= curve["high"])).all()
        answers = cdb.eval_answers_df(store, eval_id)
        assert len(answers) == 9 and answers["error"].isna().all()
        assert learned(curve).outcome in ("learned", "worse", "no_change", "too_few")
    # the CLI: the same evaluation again, nothing new generated, the table and the verdict
    assert main(["eval", "--checkpoints", tiny_run[:15], "--limit", "3", "--max-new-tokens", "4",
                 "--metrics", "rougeL,chrf", "--main-metric", "chrf"]) == 0
    out = capsys.readouterr().out
    assert f"evaluation: {eval_id} (checkpoints of {tiny_run})" in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["step", "chrf"])
    assert [line.split()[0] for line in lines[header + 1:header + 4]] == ["0", "2", "4"]
    assert any(line.startswith("chrf ") and ("learned" in line or "change" in line or "worse" in line)
               for line in lines)
    with Store() as store:
        again = cdb.eval_answers_df(store, eval_id)
        assert len(again) == 9 and set(again["created_at"]) == set(answers["created_at"])


def test_the_tab_scores_a_real_run_in_the_background(tiny_run: str) -> None:
    import time

    from core.compare import evaluate

    at = _app()
    assert at.selectbox(key="ck_run").value == tiny_run  # the CLI made it the study's current run
    assert any("3 models (the base at step 0, 1 checkpoint(s), the final model)" in c.value for c in at.caption)
    at.number_input(key="ck_limit").set_value(2)
    at.number_input(key="ck_tokens").set_value(4)
    at.button(key="ck_score").click().run()
    assert not at.exception
    deadline = time.time() + 120
    while any(t.is_alive() for t, _ in evaluate._threads.values()) and time.time() < deadline:
        time.sleep(0.2)
    at.run()
    assert not at.exception and not at.error
    table = [d.value for d in at.dataframe if "step" in d.value.columns][0]
    assert list(table["step"]) == [0, 2, 4] and list(table["n"]) == [2, 2, 2]
    verdicts = [m.value for m in [*at.success, *at.info, *at.warning] if "step 0" in m.value]
    assert verdicts and "went from" in verdicts[0] and "at step 4" in verdicts[0]
