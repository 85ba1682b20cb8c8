"""Batch evaluation: config checks, example draw, variants, a real run of the tiny local model,
resume after an interruption (nothing regenerated, no duplicates), the background thread with
cancel, remote models and the LLM judge through the fake OpenAI server."""
from __future__ import annotations

import threading
import time

import pytest
from fake_openai import fake_openai_fixture  # noqa: F401 - the fixture

from core.compare import evaluate
from core.compare.evaluate import (
    EvalConfig,
    evaluation_state,
    run_evaluation,
    select_examples,
    start_evaluation,
)
from core.compare.prompt_variants import VARIANTS, first_sentence, variant_reference
from core.config import ConfigError
from core.store import Store
from core.store.compare import eval_examples, get_evaluation


@pytest.fixture
def tiny_id(store, tiny_model_dir) -> str:
    from core.models.registry import add_local_model

    return add_local_model(store, str(tiny_model_dir), display_name="tiny", price_per_hour=3.6)


def _config(models: list[str], **kw) -> EvalConfig:
    base = {"data": "seed-study", "limit": 4, "max_new_tokens": 6, "batch_size": 2, "metrics": ["rougeL", "chrf",
            "length_ratio", "repetition"]}
    return EvalConfig(models=models, **{**base, **kw})


class Crash(BaseException):
    """Stands for the process dying (Ctrl-C, the app killed) in the middle of an evaluation."""


def test_config_checks_name_the_field() -> None:
    with pytest.raises(ConfigError, match="models"):
        EvalConfig(models=[])
    with pytest.raises(ConfigError, match="variants"):
        EvalConfig(models=["local:smollm2"], variants=["klingon"])
    with pytest.raises(ConfigError, match="limit"):
        EvalConfig(models=["local:smollm2"], limit=-1)
    with pytest.raises(ConfigError, match="judge_rubric"):
        EvalConfig(models=["local:smollm2"], judge_model="openai:x", judge_rubric="no placeholders")
    config = EvalConfig(models=["b", "a", "a"], metrics=["rougeL"])
    assert config.models == ["b", "a"]
    assert EvalConfig.from_json(config.to_json()) == config


def test_eval_id_depends_on_what_decides_the_answers() -> None:
    a = EvalConfig(models=["x", "y"], limit=10)
    assert a.eval_id() == EvalConfig(models=["y", "x"], limit=10, metrics=["rougeL"], batch_size=4).eval_id()
    assert a.eval_id() != EvalConfig(models=["x", "y"], limit=11).eval_id()
    assert a.eval_id() != EvalConfig(models=["x", "y"], limit=10, variants=["default", "pt-br"]).eval_id()


def test_select_examples_is_seeded_and_ordered(seed_rows) -> None:
    rows = seed_rows["test"]
    first = select_examples(rows, 5, seed=1)
    assert first == select_examples(rows, 5, seed=1)
    assert first != select_examples(rows, 5, seed=2)
    assert [i for i, _, _ in first] == sorted(i for i, _, _ in first)
    assert first[0][1] == rows[first[0][0]]["title"]
    assert len(select_examples(rows, None, 0)) == len(rows) == len(select_examples(rows, 10_000, 0))


def test_variants_are_data_with_their_reference() -> None:
    assert set(VARIANTS) >= {"default", "question", "pt-br", "summary"}
    assert VARIANTS["default"].user_template is None  # the model's own training template
    for v in VARIANTS.values():
        assert v.reference in ("content", "first_sentence") and v.note_en and v.note_pt
        assert v.user_template is None or "{title}" in v.user_template
    text = "A history of Rome. It covers 500 years! More text follows here."
    assert first_sentence(text) == "A history of Rome."
    assert variant_reference(VARIANTS["summary"], text) == "A history of Rome."
    assert variant_reference(VARIANTS["pt-br"], text) == text
    assert len(first_sentence("word " * 100).split()) == 40


def test_unknown_model_and_data_are_one_sentence(store) -> None:
    from core.data.curated import CuratedNotFoundError
    from core.models.registry import UnknownModelError

    with pytest.raises(UnknownModelError):
        run_evaluation(store, EvalConfig(models=["local:nope"]))
    with pytest.raises(CuratedNotFoundError):
        run_evaluation(store, EvalConfig(models=["local:smollm2"], data="/no/such/folder"))


def test_run_with_the_tiny_model(store, tiny_id) -> None:
    seen: list[tuple[int, int]] = []
    config = _config([tiny_id], variants=["default", "summary"])
    eval_id = run_evaluation(store, config, on_progress=lambda d, t, m: seen.append((d, t)))
    row = get_evaluation(store, eval_id)
    assert row["status"] == "succeeded" and row["done"] == row["total"] == 8
    assert seen[-1] == (8, 8)
    answers = store.fetch_dicts("SELECT * FROM eval_answers WHERE eval_id = ? ORDER BY variant, idx", [eval_id])
    assert len(answers) == 8 and all(a["error"] is None for a in answers)
    assert all(0 < a["tokens_out"] <= 6 and a["cost_usd"] > 0 for a in answers)
    # the summary variant asks differently and is scored against the first sentence
    summary = [a for a in answers if a["variant"] == "summary"]
    assert summary[0]["prompt"].startswith("Summarize the book")
    example = {e["idx"]: e for e in eval_examples(store, eval_id)}[summary[0]["idx"]]
    assert summary[0]["reference"] == first_sentence(example["reference"])
    default = [a for a in answers if a["variant"] == "default"]
    assert default[0]["prompt"] == example["title"] or default[0]["idx"] != summary[0]["idx"]
    (count,) = store.fetchone("SELECT count(*) FROM eval_scores WHERE eval_id = ?", [eval_id])
    assert count == 8 * 4
    # the same config again: nothing to do, same id
    assert run_evaluation(store, config) == eval_id
    assert store.fetchone("SELECT count(*) FROM eval_answers WHERE eval_id = ?", [eval_id])[0] == 8


def test_resume_after_interruption_regenerates_nothing(store, tiny_id, monkeypatch) -> None:
    import core.models.generate

    generated: list[str] = []
    real = core.models.generate.generate_batch

    def counting(store_, model_id, prompts, settings=None, **kwargs):
        generated.extend(prompts)
        return real(store_, model_id, prompts, settings, **kwargs)

    monkeypatch.setattr(core.models.generate, "generate_batch", counting)
    config = _config([tiny_id], limit=6, batch_size=2)

    def die_after_two(done: int, total: int, message: str) -> None:
        if done >= 2:
            raise Crash

    with pytest.raises(Crash):
        run_evaluation(store, config, on_progress=die_after_two)
    eval_id = config.eval_id()
    first = store.fetch_dicts("SELECT idx, answer, created_at FROM eval_answers WHERE eval_id = ?", [eval_id])
    assert len(first) == 2 and len(generated) == 2
    assert evaluation_state(store, eval_id)["state"] == "interrupted"  # said running, nothing runs it

    generated.clear()
    run_evaluation(store, config)
    assert len(generated) == 4  # only the missing ones
    rows = store.fetch_dicts("SELECT idx, answer, created_at FROM eval_answers WHERE eval_id = ? ORDER BY idx", [eval_id])
    assert len(rows) == 6 and len({r["idx"] for r in rows}) == 6
    kept = {r["idx"]: r for r in rows}
    for r in first:  # the first two are the very rows stored before the crash
        assert kept[r["idx"]]["created_at"] == r["created_at"] and kept[r["idx"]]["answer"] == r["answer"]
    dupes = store.fetchone("SELECT count(*) - count(DISTINCT (model_id, variant, idx, metric)) FROM eval_scores "
                           "WHERE eval_id = ?", [eval_id])[0]
    assert dupes == 0
    assert get_evaluation(store, eval_id)["status"] == "succeeded"


def test_scores_missing_after_a_crash_are_filled_and_new_metrics_added(store, tiny_id) -> None:
    config = _config([tiny_id], limit=2, metrics=["rougeL"])
    eval_id = run_evaluation(store, config)
    store.execute("DELETE FROM eval_scores WHERE eval_id = ? AND idx = (SELECT min(idx) FROM eval_answers)", [eval_id])
    more = _config([tiny_id], limit=2, metrics=["rougeL", "repetition"])
    assert run_evaluation(store, more) == eval_id  # metrics are not part of the id
    got = store.fetchall("SELECT metric, count(*) FROM eval_scores WHERE eval_id = ? GROUP BY 1 ORDER BY 1", [eval_id])
    assert got == [("repetition", 2), ("rougeL", 2)]


def test_background_thread_and_cancel(store, tiny_id, monkeypatch) -> None:
    import core.models.generate

    real = core.models.generate.generate_batch
    gate = threading.Event()

    def slow(*args, **kwargs):
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(core.models.generate, "generate_batch", slow)
    config = _config([tiny_id], limit=6, batch_size=2)
    eval_id = start_evaluation(store, config)
    assert start_evaluation(store, config) == eval_id  # already running: not started twice
    assert evaluation_state(store, eval_id)["state"] in ("queued", "running")
    evaluate.cancel_evaluation(store, eval_id)
    gate.set()
    deadline = time.time() + 60
    while evaluate.is_running_here(eval_id) and time.time() < deadline:
        time.sleep(0.1)
    state = evaluation_state(store, eval_id)
    assert state["state"] == "cancelled"
    assert store.fetchone("SELECT count(*) FROM eval_answers WHERE eval_id = ?", [eval_id])[0] <= 2
    # resuming in the background finishes it
    monkeypatch.setattr(core.models.generate, "generate_batch", real)
    start_evaluation(store, config, eval_id)
    deadline = time.time() + 60
    while evaluate.is_running_here(eval_id) and time.time() < deadline:
        time.sleep(0.1)
    assert evaluation_state(store, eval_id)["state"] == "succeeded"
    assert store.fetchone("SELECT count(*) FROM eval_answers WHERE eval_id = ?", [eval_id])[0] == 6


def test_remote_model_and_llm_judge_through_the_fake_openai(store, tiny_id, fake_openai) -> None:
    rubric = "Grade the ANSWER {answer} against {reference}. SCORE: 3"
    config = _config([tiny_id, "openai:gpt-4o-mini-2024-07-18"], limit=3, judge_model="openai:gpt-4o-mini-2024-07-18",
                     judge_rubric=rubric)
    eval_id = run_evaluation(store, config)
    remote = store.fetch_dicts("SELECT * FROM eval_answers WHERE eval_id = ? AND model_id LIKE 'openai:%'", [eval_id])
    assert len(remote) == 3 and all(r["answer"].startswith("gpt-4o-mini-2024-07-18 says:") for r in remote)
    assert all(r["cost_usd"] > 0 for r in remote)
    judged = store.fetchall("SELECT value, detail FROM eval_scores WHERE eval_id = ? AND metric = 'judge'", [eval_id])
    assert len(judged) == 6 and {v for v, _ in judged} == {0.5}
    # the judge really saw the rubric with the texts filled in
    bodies = [c.json()["messages"][-1]["content"] for c in fake_openai.calls("POST", "/chat/completions")]
    assert any(b.startswith("Grade the ANSWER gpt-4o-mini") for b in bodies)


def test_remote_failures_are_kept_as_errors_and_retried(store, fake_openai) -> None:
    fake_openai.fail("POST", "/chat/completions", 400, times=50)
    config = _config(["openai:gpt-4o-mini-2024-07-18"], limit=2)
    eval_id = run_evaluation(store, config)
    row = get_evaluation(store, eval_id)
    assert row["status"] == "succeeded" and "2 answer(s) failed" in row["status_message"]
    fake_openai.rules.clear()
    run_evaluation(store, config)
    assert store.fetchone("SELECT count(*) FROM eval_answers WHERE eval_id = ? AND error IS NULL", [eval_id])[0] == 2


def test_eval_command(tiny_model_dir, tmp_path, capsys) -> None:
    from core.cli import main

    out = tmp_path / "eval.xlsx"
    args = ["eval", "--models", str(tiny_model_dir), "--limit", "2", "--max-new-tokens", "4", "--metrics",
            "rougeL,repetition", "--main-metric", "rougeL", "--xlsx", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "evaluation: ev-" in printed and "main metric: rougeL" in printed and out.exists()
    assert main(args) == 0  # resumes: nothing left to do
    capsys.readouterr()
    with Store() as store:
        assert store.fetchone("SELECT count(*) FROM eval_answers")[0] == 2
    for bad in (["eval", "--models", "local:nope"], ["eval"], ["eval", "--models", "local:smollm2", "--limit", "-1"],
                ["eval", "--models", "local:smollm2", "--variants", "klingon"], ["eval", "--id", "ev-none"]):
        assert main(bad) == 2, bad
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err


@pytest.mark.slow
def test_bundled_model_answers_in_english_and_scores_above_zero(store) -> None:
    """The real SmolLM2 on 3 seed test titles, two variants: real text, every metric, a real spread."""
    from core.compare.results import flexibility, leaderboard

    config = EvalConfig(models=["local:smollm2"], limit=3, max_new_tokens=32, batch_size=3,
                        variants=["default", "summary"])
    eval_id = run_evaluation(store, config)
    answers = store.fetch_dicts("SELECT * FROM eval_answers WHERE eval_id = ?", [eval_id])
    assert len(answers) == 6 and all(len(a["answer"].split()) >= 3 for a in answers)
    board = leaderboard(store, eval_id)
    assert board.loc[0, "semantic"] > 0.1 and board.loc[0, "inference_cost_per_1k"] > 0
    assert flexibility(store, eval_id)["spread"].notna().all()
