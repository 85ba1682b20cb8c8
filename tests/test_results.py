"""Results from DuckDB on a hand-made evaluation whose numbers are known: leaderboard, costs with
the Pareto front, the four criteria, flexibility, per-example table, best/worst, paired test,
model pairs, and the plotly figures drawn from them."""
from __future__ import annotations

import math

import plotly.graph_objects as go
import pytest

from core.compare import results
from core.store.compare import create_evaluation, save_answers, save_scores, upsert_model
from ui import results_charts as charts

EVAL = "ev-handmade"
BASE, FT, GPT = "local:smollm2", "local-ft:run1", "openai:gpt-4o-mini-2024-07-18"
SEMANTIC = {  # model -> variant -> per-example scores
    BASE: {"default": [0.2, 0.3, 0.4, 0.5], "question": [0.3] * 4},
    FT: {"default": [0.6, 0.7, 0.8, 0.9], "question": [0.5] * 4},
    GPT: {"default": [0.3] * 4},
}
COST = {BASE: 0.001, FT: 0.002, GPT: 0.005}  # USD per answer


@pytest.fixture
def handmade(store):
    upsert_model(store, id=BASE, kind="local-base", display_name="SmolLM2", base_model="smollm2", price_per_hour=0.1)
    upsert_model(store, id=FT, kind="local-finetune", display_name="SmolLM2 ft", base_model="smollm2",
                 adapter_path="/x", run_id="run1", price_per_hour=0.1)
    upsert_model(store, id=GPT, kind="openai", display_name="gpt-4o-mini", remote_model="gpt-4o-mini-2024-07-18",
                 price_input_per_m=0.3, price_output_per_m=1.2)
    store.execute("INSERT INTO runs (id, backend, base_model, config_json, status, run_dir, wall_s, tokens_per_s, "
                  "actual_cost_usd, trained_tokens, created_at) VALUES ('run1', 'local', 'smollm2', '{}', 'succeeded', "
                  "'/r', 3600, 100, 0.5, 360000, now())")
    for step, loss in enumerate([2.3, 2.2, 2.1], start=1):
        store.execute("INSERT INTO run_metrics (run_id, step, name, value) VALUES ('run1', ?, 'train_loss', ?)",
                      [step, loss])
    examples = [(i, f"Book {i}", f"The reference of book {i}. Second sentence.") for i in range(4)]
    models = [{"model_id": BASE, "display_name": "SmolLM2", "kind": "local-base", "base_model": "smollm2"},
              {"model_id": FT, "display_name": "SmolLM2 ft", "kind": "local-finetune", "finetuned": True,
               "base_model": "smollm2", "run_id": "run1"},
              {"model_id": GPT, "display_name": "gpt-4o-mini", "kind": "openai"}]
    create_evaluation(store, EVAL, "eval", "handmade", '{"main_metric": "semantic"}', "succeeded", examples, models)
    answers, scores = [], []
    for model, variants in SEMANTIC.items():
        for variant, values in variants.items():
            for i, value in enumerate(values):
                answers.append({"eval_id": EVAL, "model_id": model, "variant": variant, "idx": i, "prompt": f"Book {i}",
                                "reference": examples[i][2], "answer": f"{model} on book {i} ({variant})",
                                "total_s": 1.0, "tokens_in": 5, "tokens_out": 10, "cost_usd": COST[model]})
                scores.append((EVAL, model, variant, i, "semantic", value, None))
                scores.append((EVAL, model, variant, i, "rougeL", value / 2, None))
    save_answers(store, answers)
    save_scores(store, scores)
    return store


def test_pareto_front_by_hand() -> None:
    # (cost, score): A cheap+bad, B mid+good, C expensive+worse than B (dominated), D unknown cost.
    assert results.pareto_front([1.0, 2.0, 3.0, math.nan], [0.3, 0.8, 0.7, 0.9]) == [True, True, False, False]
    assert results.pareto_front([1.0, 1.0], [0.5, 0.5]) == [True, True]  # ties dominate nobody
    assert results.pareto_front([], []) == []


def test_leaderboard_numbers(handmade) -> None:
    board = results.leaderboard(handmade, EVAL)
    assert list(board["model_id"]) == [FT, BASE, GPT] and list(board["rank"]) == [1, 2, 3]
    ft = board.iloc[0]
    assert ft["main_metric"] == "semantic" and ft["main"] == pytest.approx(0.75)
    assert ft["main_low"] <= 0.75 <= ft["main_high"] and ft["n"] == 4 and ft["errors"] == 0
    assert ft["rougeL"] == pytest.approx(0.375)
    assert ft["inference_cost_per_1k"] == pytest.approx(2.0)
    assert ft["training_cost_usd"] == pytest.approx(0.5) and ft["training_time_s"] == 3600
    assert ft["total_cost_per_1k"] == pytest.approx(2.5)
    base = board.set_index("model_id").loc[BASE]
    assert base["training_cost_usd"] == 0 and base["total_cost_per_1k"] == pytest.approx(1.0)
    assert results.leaderboard(handmade, EVAL, metric="rougeL")["main"].iloc[0] == pytest.approx(0.375)
    question = results.leaderboard(handmade, EVAL, variant="question").set_index("model_id")
    assert question.loc[BASE, "main"] == pytest.approx(0.3) and question.loc[GPT, "n"] == 0


def test_cost_accuracy_front_and_breakdown(handmade) -> None:
    points = results.cost_accuracy(handmade, EVAL).set_index("model_id")
    assert points.loc[BASE, "on_front"] and points.loc[FT, "on_front"] and not points.loc[GPT, "on_front"]
    parts = results.cost_breakdown(handmade, EVAL)
    ft = parts[parts["display_name"] == "SmolLM2 ft"].set_index("component")["usd"]
    assert ft["training"] == pytest.approx(0.5) and ft["inference_per_1k"] == pytest.approx(2.0)


def test_flexibility_and_criteria(handmade) -> None:
    flex = results.flexibility(handmade, EVAL)
    spread = flex.groupby("model_id")["spread"].first()
    assert spread[BASE] == pytest.approx(0.05) and spread[FT] == pytest.approx(0.25) and math.isnan(spread[GPT])
    crit = results.criteria(handmade, EVAL).set_index("model_id")
    # relative to the best: precision value / best, costs and spread best / value
    assert crit.loc[FT, "precision"] == pytest.approx(1.0)
    assert crit.loc[BASE, "precision"] == pytest.approx(0.35 / 0.75)
    assert crit.loc[GPT, "precision"] == pytest.approx(0.3 / 0.75)
    assert crit.loc[FT, "training_efficiency"] == 1.0  # the only trained model
    assert math.isnan(crit.loc[BASE, "training_efficiency"]) and math.isnan(crit.loc[GPT, "training_efficiency"])
    assert crit.loc[BASE, "operating_cost"] == 1.0 and crit.loc[GPT, "operating_cost"] == pytest.approx(1 / 5)
    assert crit.loc[FT, "operating_cost"] == pytest.approx(0.5)
    assert crit.loc[BASE, "flexibility"] == 1.0 and crit.loc[FT, "flexibility"] == pytest.approx(0.05 / 0.25)
    assert math.isnan(crit.loc[GPT, "flexibility"])


def test_relative_to_best_edge_cases() -> None:
    import pandas as pd

    assert list(results.relative_to_best(pd.Series([0.0, 2.0]), higher=False)) == [1.0, 0.0]
    assert list(results.relative_to_best(pd.Series([-1.0, 1.0]), higher=True)) == [0.0, 1.0]
    assert list(results.relative_to_best(pd.Series([2.0, 4.0]), higher=True)) == [0.5, 1.0]
    assert results.relative_to_best(pd.Series([float("nan")]), higher=True).isna().all()


def test_per_example_table_filter_and_extremes(handmade) -> None:
    table = results.per_example(handmade, EVAL)
    assert list(table.columns[:3]) == ["idx", "title", "reference"]
    assert {"SmolLM2", "SmolLM2 ft", "gpt-4o-mini", "SmolLM2 ft · semantic"} <= set(table.columns)
    assert len(table) == 4 and table.loc[2, "SmolLM2 ft · semantic"] == pytest.approx(0.8)
    assert list(results.per_example(handmade, EVAL, search="BOOK 3")["idx"]) == [3]
    only = results.per_example(handmade, EVAL, models=[BASE])
    assert "SmolLM2 ft" not in only.columns
    best, worst = results.extremes(handmade, EVAL, FT, k=2)
    assert list(best["idx"]) == [3, 2] and list(worst["idx"]) == [0, 1]


def test_paired_comparison_and_pairs(handmade) -> None:
    r = results.compare_pair(handmade, EVAL, FT, BASE)
    assert r.mean_diff == pytest.approx(0.4) and r.n == 4 and r.wins_a == 4
    assert results.model_pairs(handmade, EVAL) == [(FT, BASE)]


def test_runs_and_loss_curves(handmade) -> None:
    runs = results.runs_summary(handmade)
    assert runs.loc[0, "id"] == "run1" and runs.loc[0, "cost_usd"] == 0.5
    curves = results.loss_curves(handmade, ["run1"])
    assert list(curves["value"]) == [2.3, 2.2, 2.1]
    assert results.loss_curves(handmade, []).empty


def test_figures_draw_from_the_frames(handmade) -> None:
    board = results.cost_accuracy(handmade, EVAL)
    fig = charts.cost_accuracy_figure(board)
    front, points = fig.data
    assert list(front.x) == [1.0, 2.5]  # the front joins the two undominated models by cost
    assert len(points.x) == 3
    assert len(charts.leaderboard_figure(board).data) == 1
    assert len(charts.criteria_figure(results.criteria(handmade, EVAL)).data) == 4
    assert len(charts.flexibility_figure(results.flexibility(handmade, EVAL)).data) == 2
    assert len(charts.loss_figure(results.loss_curves(handmade)).data) == 1
    assert len(charts.training_figure(results.runs_summary(handmade)).data) == 2
    assert len(charts.cost_breakdown_figure(results.cost_breakdown(handmade, EVAL)).data) == 2


def test_empty_database_gives_empty_frames_and_message_figures(store) -> None:
    assert results.runs_summary(store).empty and results.loss_curves(store).empty
    empty = charts.loss_figure(results.loss_curves(store))
    assert isinstance(empty, go.Figure) and empty.layout.annotations[0].text == "No training runs yet."
    create_evaluation(store, "ev-empty", "eval", "t", "{}", "queued", [(0, "a", "b")],
                      [{"model_id": BASE, "display_name": "SmolLM2", "kind": "local-base"}])
    board = results.leaderboard(store, "ev-empty")
    assert board.loc[0, "n"] == 0 and math.isnan(board.loc[0, "main"])
    assert charts.leaderboard_figure(board).layout.annotations[0].text == "No scores yet."
    assert results.flexibility(store, "ev-empty").empty


def test_overview_puts_every_evaluation_side_by_side(handmade) -> None:
    create_evaluation(handmade, "imp-old", "import", "old sheet", "{}", "imported", [(0, "t", "r")],
                      [{"model_id": "imported:Finetuned X", "display_name": "Finetuned X", "kind": "imported",
                        "finetuned": True}])
    save_scores(handmade, [("imp-old", "imported:Finetuned X", "default", 0, "semantic", 0.42, None)])
    table = results.overview(handmade, "semantic")
    assert set(table["eval_id"]) == {EVAL, "imp-old"}
    old = table[table["eval_id"] == "imp-old"].iloc[0]
    assert old["display_name"] == "Finetuned X" and old["mean"] == pytest.approx(0.42) and old["n"] == 1
    ft = table[(table["eval_id"] == EVAL) & (table["display_name"] == "SmolLM2 ft")].iloc[0]
    assert ft["mean"] == pytest.approx(0.75) and ft["n"] == 4


def test_running_evaluation_with_costs_but_no_scores_yet(store) -> None:
    create_evaluation(store, "ev-running", "eval", "t", "{}", "running", [(0, "a", "b")],
                      [{"model_id": BASE, "display_name": "SmolLM2", "kind": "local-base"}])
    save_answers(store, [{"eval_id": "ev-running", "model_id": BASE, "variant": "default", "idx": 0, "answer": "x",
                          "reference": "b", "cost_usd": 0.001}])
    points = results.cost_accuracy(store, "ev-running")
    assert points.loc[0, "total_cost_per_1k"] == pytest.approx(1.0) and math.isnan(points.loc[0, "main"])
    assert charts.cost_accuracy_figure(points).layout.annotations[0].text == "No scores yet."
    assert len(results.criteria(store, "ev-running")) == 1
