"""What the results page and the xlsx show, computed from DuckDB: leaderboard, cost vs accuracy
with the Pareto front, the seed study's four criteria, flexibility across prompt variants,
training runs and loss curves, per-example comparisons, best/worst examples, paired tests.

Every function takes the Store and an evaluation id (imported sheets are evaluations too, so old
comparisons sit beside new ones) and returns pandas DataFrames; charts are drawn from these by
ui/results_charts.py.

    board = leaderboard(store, eval_id)             # one row per model, main metric with its 95% CI
    front = cost_accuracy(store, eval_id)           # + total cost per 1k answers and on_front
    python -m core report --xlsx out.xlsx           # the same numbers in a workbook
"""
from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from core.compare.metrics import HIGHER_IS_BETTER, PairedResult, bootstrap_ci, corpus_scores, paired_test
from core.store import compare as db

if TYPE_CHECKING:
    from core.store import Store

METRIC_LABELS = {"rougeL": "ROUGE-L", "chrf": "chrF", "bleu": "BLEU", "semantic": "Semantic (MiniLM)",
                 "length_ratio": "Length ratio", "repetition": "Repetition", "judge": "LLM judge"}
CRITERIA = ("precision", "training_efficiency", "operating_cost", "flexibility")


def eval_config(store: Store, eval_id: str) -> dict[str, Any]:
    row = db.get_evaluation(store, eval_id)
    if row is None:
        return {}
    try:
        return dict(json.loads(row["config_json"]))
    except (TypeError, ValueError):
        return {}


def main_metric(store: Store, eval_id: str, requested: str | None = None) -> str:
    """The metric to rank by: the one asked for, else the evaluation's, else what was scored."""
    scored = set(db.eval_scores_df(store, eval_id)["metric"].unique()) if eval_id else set()
    for name in (requested, eval_config(store, eval_id).get("main_metric"), "judge", "semantic", "rougeL"):
        if name and name in scored:
            return name
    return requested or "semantic"


def variants_of(store: Store, eval_id: str) -> list[str]:
    answers = db.eval_answers_df(store, eval_id)
    from core.compare.prompt_variants import VARIANTS

    found = list(dict.fromkeys(answers["variant"])) if len(answers) else []
    order = list(VARIANTS)  # the as-trained prompt first, then in the order they are defined
    return sorted(found, key=lambda v: (order.index(v) if v in order else len(order), v))


def _models(store: Store, eval_id: str) -> pd.DataFrame:
    return pd.DataFrame(db.eval_models(store, eval_id),
                        columns=["eval_id", "model_id", "display_name", "kind", "finetuned", "base_model", "run_id",
                                 "position"])


def _wide_scores(store: Store, eval_id: str, variant: str | None) -> pd.DataFrame:
    """One row per (model, variant, example), one column per metric."""
    scores = db.eval_scores_df(store, eval_id)
    if variant is not None:
        scores = scores[scores["variant"] == variant]
    if scores.empty:
        return pd.DataFrame(columns=["model_id", "variant", "idx"])
    return scores.pivot_table(index=["model_id", "variant", "idx"], columns="metric", values="value",
                              aggfunc="first").reset_index()


# -- costs and training --------------------------------------------------------------------------
def runs_summary(store: Store) -> pd.DataFrame:
    """Training runs: time, throughput, tokens, cost (actual, else estimated), losses."""
    runs = db.table_df(store, "runs")
    columns = ["id", "backend", "base_model", "curated_name", "status", "wall_s", "tokens_per_s", "trained_tokens",
               "cost_usd", "final_loss", "best_loss", "output_model", "created_at"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    runs["cost_usd"] = runs["actual_cost_usd"].fillna(runs["estimated_cost_usd"])
    return runs[columns].sort_values("created_at", ascending=False).reset_index(drop=True)


def loss_curves(store: Store, run_ids: list[str] | None = None) -> pd.DataFrame:
    """train_loss / eval_loss per step of the given runs (all runs when None), long form."""
    return db.run_metrics_df(store, run_ids)


def _training_costs(store: Store, models: pd.DataFrame) -> pd.DataFrame:
    """Per model: training time, tokens/s and cost of the run that made it (0 for base models)."""
    runs = db.table_df(store, "runs")
    registry = {m["id"]: m for m in db.list_models(store, include_retired=True)}
    rows = []
    for _, model in models.iterrows():
        entry = {"model_id": model["model_id"], "training_time_s": 0.0, "tokens_per_s": math.nan,
                 "training_cost_usd": 0.0, "trained_tokens": math.nan}
        if model["kind"] == "imported":
            entry.update(training_time_s=math.nan, training_cost_usd=math.nan)
        run_id = model.get("run_id") if pd.notna(model.get("run_id")) else None
        if run_id and not runs.empty and (runs["id"] == run_id).any():
            run = runs[runs["id"] == run_id].iloc[0]
            cost = run.get("actual_cost_usd")
            if cost is None or pd.isna(cost):
                cost = run.get("estimated_cost_usd")
            price = (registry.get(model["model_id"]) or {}).get("price_per_hour")
            if (cost is None or pd.isna(cost)) and price is not None and pd.notna(run.get("wall_s")):
                cost = float(price) * float(run["wall_s"]) / 3600.0  # local hardware billed by the hour
            entry.update(training_time_s=_num(run.get("wall_s")), tokens_per_s=_num(run.get("tokens_per_s")),
                         training_cost_usd=_num(cost), trained_tokens=_num(run.get("trained_tokens")))
        elif run_id:
            entry.update(training_time_s=math.nan, training_cost_usd=math.nan)
        rows.append(entry)
    return pd.DataFrame(rows, columns=["model_id", "training_time_s", "tokens_per_s", "training_cost_usd",
                                       "trained_tokens"])


def _num(value: Any) -> float:
    try:
        return math.nan if value is None or pd.isna(value) else float(value)
    except (TypeError, ValueError):
        return math.nan


# -- leaderboard ---------------------------------------------------------------------------------
def leaderboard(store: Store, eval_id: str, metric: str | None = None, variant: str | None = None) -> pd.DataFrame:
    """One row per model on one variant (default: the as-trained prompt): every metric's mean, the
    main metric with a 95% bootstrap CI, corpus BLEU/chrF, latency, tokens, inference cost per 1k
    answers, training time and cost, and total cost (training + 1k answers). Best first."""
    metric = main_metric(store, eval_id, metric)
    variants = variants_of(store, eval_id)
    variant = variant if variant in variants else (variants[0] if variants else "default")
    models = _models(store, eval_id)
    answers = db.eval_answers_df(store, eval_id)
    answers = answers[answers["variant"] == variant] if len(answers) else answers
    wide = _wide_scores(store, eval_id, variant)
    metric_names = [m for m in METRIC_LABELS if m in wide.columns]
    rows = []
    for _, model in models.iterrows():
        mine = wide[wide["model_id"] == model["model_id"]]
        got = answers[answers["model_id"] == model["model_id"]] if len(answers) else answers
        good = got[got["error"].isna()] if len(got) else got
        row: dict[str, Any] = {"model_id": model["model_id"], "display_name": model["display_name"],
                               "kind": model["kind"], "finetuned": bool(model["finetuned"]), "variant": variant,
                               "n": int(len(good)), "errors": int(len(got) - len(good)), "corpus_bleu": math.nan,
                               "corpus_chrf": math.nan, "latency_s": math.nan, "first_token_s": math.nan,
                               "tokens_out": math.nan, "inference_cost_per_1k": math.nan}
        for name in metric_names:
            row[name] = float(mine[name].mean()) if name in mine and mine[name].notna().any() else math.nan
        est = bootstrap_ci(mine[metric].tolist() if metric in mine else [])
        row.update(main_metric=metric, main=est.mean, main_low=est.low, main_high=est.high)
        if len(good):
            corpus = corpus_scores(good["answer"].fillna("").tolist(), good["reference"].fillna("").tolist())
            row.update(corpus_bleu=corpus["bleu"], corpus_chrf=corpus["chrf"])
            row["latency_s"] = _num(good["total_s"].mean())
            row["first_token_s"] = _num(good["latency_first_token_s"].mean())
            row["tokens_out"] = _num(good["tokens_out"].mean())
            costs = good["cost_usd"].dropna()
            row["inference_cost_per_1k"] = float(costs.mean() * 1000) if len(costs) else math.nan
        rows.append(row)
    board = pd.DataFrame(rows)
    if board.empty:
        return board
    board = board.merge(_training_costs(store, models), on="model_id", how="left")
    board["total_cost_per_1k"] = board["training_cost_usd"].fillna(0) + board["inference_cost_per_1k"]
    board = board.sort_values("main", ascending=not HIGHER_IS_BETTER.get(metric, True), na_position="last")
    board.insert(0, "rank", range(1, len(board) + 1))
    return board.reset_index(drop=True)


def overview(store: Store, metric: str = "semantic") -> pd.DataFrame:
    """All evaluations side by side (new ones and imported sheets): mean ``metric`` per model on
    the as-trained prompt. Different evaluations use different examples: compare with care."""
    return db.scores_overview(store, metric)


def pareto_front(costs: list[float], scores: list[float]) -> list[bool]:
    """True for points no other point beats on both axes (cost lower-or-equal and score
    higher-or-equal, one strictly). Points with an unknown cost or score are never on it."""
    flags = []
    for i, (c, s) in enumerate(zip(costs, scores)):
        if c is None or s is None or math.isnan(c) or math.isnan(s):
            flags.append(False)
            continue
        dominated = any(
            j != i and not (math.isnan(c2) or math.isnan(s2)) and c2 <= c and s2 >= s and (c2 < c or s2 > s)
            for j, (c2, s2) in enumerate(zip(costs, scores)))
        flags.append(not dominated)
    return flags


def cost_accuracy(store: Store, eval_id: str, metric: str | None = None) -> pd.DataFrame:
    """The leaderboard with ``on_front``: the Pareto front of accuracy vs total cost per 1k answers."""
    board = leaderboard(store, eval_id, metric)
    if board.empty:
        return board
    board["on_front"] = pareto_front(board["total_cost_per_1k"].astype(float).tolist(),
                                     board["main"].astype(float).tolist())
    return board


def cost_breakdown(store: Store, eval_id: str) -> pd.DataFrame:
    """Long form: model, component (training | inference_per_1k), usd."""
    board = leaderboard(store, eval_id)
    if board.empty:
        return pd.DataFrame(columns=["display_name", "component", "usd"])
    parts = board[["display_name", "training_cost_usd", "inference_cost_per_1k"]].rename(
        columns={"training_cost_usd": "training", "inference_cost_per_1k": "inference_per_1k"})
    return parts.melt(id_vars="display_name", var_name="component", value_name="usd")


# -- flexibility and the four criteria -----------------------------------------------------------
def flexibility(store: Store, eval_id: str, metric: str | None = None) -> pd.DataFrame:
    """Per model and variant: mean of the main metric, on the examples every variant answered
    (so variants are compared on the same examples); plus per model ``spread`` (max - min) and
    ``std`` across variants in the columns of each row."""
    metric = main_metric(store, eval_id, metric)
    wide = _wide_scores(store, eval_id, None)
    columns = ["model_id", "display_name", "variant", "mean", "n", "spread", "std", "variants"]
    if wide.empty or metric not in wide:
        return pd.DataFrame(columns=columns)
    names = dict(zip(_models(store, eval_id)["model_id"], _models(store, eval_id)["display_name"]))
    rows = []
    order_all = variants_of(store, eval_id)
    for model_id, mine in wide.groupby("model_id"):
        mine = mine.dropna(subset=[metric])
        n_variants = mine["variant"].nunique()
        counts = mine.groupby("idx")["variant"].nunique()
        common = set(counts[counts == n_variants].index)
        per = mine[mine["idx"].isin(common)].groupby("variant")[metric].agg(["mean", "count"])
        order = [v for v in order_all if v in per.index]
        per = per.loc[order + [v for v in per.index if v not in order]]
        spread = float(per["mean"].max() - per["mean"].min()) if len(per) > 1 else math.nan
        std = float(per["mean"].std(ddof=0)) if len(per) > 1 else math.nan
        for variant, values in per.iterrows():
            rows.append({"model_id": model_id, "display_name": names.get(model_id, model_id), "variant": variant,
                         "mean": float(values["mean"]), "n": int(values["count"]), "spread": spread, "std": std,
                         "variants": int(len(per))})
    return pd.DataFrame(rows, columns=columns)


def criteria(store: Store, eval_id: str, metric: str | None = None) -> pd.DataFrame:
    """The seed study's four criteria side by side, per model: raw values, and each as a 0..1
    score relative to the best of these models (value / best, or best / value when smaller is
    better), for one comparable chart. Ratios, not min-max: 0.364 vs 0.365 stays 0.997 vs 1.

    precision            main metric on the as-trained prompt (with its CI)
    training_efficiency  training time, among the models that were trained (base models: n/a)
    operating_cost       USD per 1k answers (inference)
    flexibility          spread of the main metric across prompt variants (smaller is better);
                         n/a with a single variant
    """
    board = leaderboard(store, eval_id, metric)
    if board.empty:
        return board
    flex = flexibility(store, eval_id, board["main_metric"].iloc[0])
    spread = flex.groupby("model_id")["spread"].first() if len(flex) else pd.Series(dtype=float)
    variants_mean = flex.groupby("model_id")["mean"].mean() if len(flex) else pd.Series(dtype=float)
    out = board[["model_id", "display_name", "kind", "finetuned", "main_metric", "main", "main_low", "main_high",
                 "training_time_s", "tokens_per_s", "training_cost_usd", "inference_cost_per_1k",
                 "total_cost_per_1k"]].copy()
    out["flex_spread"] = out["model_id"].map(spread).astype(float)
    out["flex_mean"] = out["model_id"].map(variants_mean).astype(float)
    higher = HIGHER_IS_BETTER.get(str(out["main_metric"].iloc[0]), True)
    out["precision"] = relative_to_best(out["main"], higher=higher)
    trained = out["training_time_s"].where(out["training_time_s"] > 0)
    out["training_efficiency"] = relative_to_best(trained, higher=False)
    out["operating_cost"] = relative_to_best(out["inference_cost_per_1k"], higher=False)
    out["flexibility"] = relative_to_best(out["flex_spread"], higher=False)
    return out


def relative_to_best(values: pd.Series, higher: bool) -> pd.Series:
    """0..1 with 1 = the best value: value / best (higher is better) or best / value (lower is
    better); a zero best when lower is better scores only the zeros 1. Unknown stays NaN."""
    v = values.astype(float)
    known = v.dropna()
    if known.empty:
        return v
    if higher:
        best = known.max()
        if best <= 0 or known.min() < 0:  # ratios mean nothing across zero: fall back to min-max
            lo = known.min()
            return v.where(v.isna(), 1.0) if best == lo else (v - lo) / (best - lo)
        return v / best
    best = known.min()
    if best < 0:
        return v.where(v.isna(), 1.0) if known.max() == best else 1 - (v - best) / (known.max() - best)
    if best == 0:
        return v.where(v.isna(), (v == 0).astype(float))
    return best / v


# -- examples ------------------------------------------------------------------------------------
def per_example(store: Store, eval_id: str, variant: str | None = None, metric: str | None = None,
                search: str = "", models: list[str] | None = None) -> pd.DataFrame:
    """One row per example: title, reference, and for each model its answer and main-metric score
    (columns ``<display name>`` and ``<display name> · <metric>``). ``search`` filters titles,
    references and answers (case-insensitive)."""
    metric = main_metric(store, eval_id, metric)
    variants = variants_of(store, eval_id)
    variant = variant if variant in variants else (variants[0] if variants else "default")
    answers = db.eval_answers_df(store, eval_id)
    if answers.empty:
        return pd.DataFrame(columns=["idx", "title", "reference"])
    answers = answers[answers["variant"] == variant]
    table_models = _models(store, eval_id)
    if models:
        table_models = table_models[table_models["model_id"].isin(models)]
    wide = _wide_scores(store, eval_id, variant)
    out = pd.DataFrame(db.eval_examples(store, eval_id))
    if out.empty:
        return pd.DataFrame(columns=["idx", "title", "reference"])
    refs = answers.drop_duplicates("idx").set_index("idx")["reference"]
    out["reference"] = out["idx"].map(refs).fillna(out["reference"])
    for _, model in table_models.iterrows():
        name = model["display_name"]
        mine = answers[answers["model_id"] == model["model_id"]].set_index("idx")
        text = mine["answer"].where(mine["error"].isna(), "⚠ " + mine["error"].fillna(""))
        out[name] = out["idx"].map(text)
        if metric in wide:
            scores = wide[wide["model_id"] == model["model_id"]].set_index("idx")[metric]
            out[f"{name} · {metric}"] = out["idx"].map(scores)
    if search:
        needle = search.lower()
        text_columns = [c for c in out.columns if not pd.api.types.is_numeric_dtype(out[c])]
        mask = out[text_columns].apply(lambda col: col.fillna("").astype(str).str.lower().str.contains(needle, regex=False))
        out = out[mask.any(axis=1)]
    return out.reset_index(drop=True)


def extremes(store: Store, eval_id: str, model_id: str, k: int = 3, variant: str | None = None,
             metric: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(best k, worst k) examples of one model by the main metric: title, reference, answer, score."""
    metric = main_metric(store, eval_id, metric)
    variants = variants_of(store, eval_id)
    variant = variant if variant in variants else (variants[0] if variants else "default")
    answers = db.eval_answers_df(store, eval_id)
    wide = _wide_scores(store, eval_id, variant)
    columns = ["idx", "title", "reference", "answer", "score"]
    if answers.empty or metric not in wide:
        return pd.DataFrame(columns=columns), pd.DataFrame(columns=columns)
    mine = answers[(answers["model_id"] == model_id) & (answers["variant"] == variant) & answers["error"].isna()]
    scores = wide[wide["model_id"] == model_id].set_index("idx")[metric]
    mine = mine.assign(score=mine["idx"].map(scores)).dropna(subset=["score"])
    ordered = mine.sort_values("score", ascending=not HIGHER_IS_BETTER.get(metric, True))[columns]
    return ordered.head(k).reset_index(drop=True), ordered.tail(k).iloc[::-1].reset_index(drop=True)


def compare_pair(store: Store, eval_id: str, model_a: str, model_b: str, variant: str | None = None,
                 metric: str | None = None) -> PairedResult:
    """Paired bootstrap + Wilcoxon of model A minus model B on the examples both answered."""
    metric = main_metric(store, eval_id, metric)
    variants = variants_of(store, eval_id)
    variant = variant if variant in variants else (variants[0] if variants else "default")
    wide = _wide_scores(store, eval_id, variant)
    if metric not in wide:
        return paired_test([], [])
    a = wide[wide["model_id"] == model_a].set_index("idx")[metric]
    b = wide[wide["model_id"] == model_b].set_index("idx")[metric]
    common = sorted(set(a.index) & set(b.index))
    return paired_test([float(a[i]) for i in common], [float(b[i]) for i in common])


def model_pairs(store: Store, eval_id: str) -> list[tuple[str, str]]:
    """Pairs to compare side by side: each fine-tune with its base when both are in the
    evaluation (the seed study's layout), otherwise every pair in order."""
    models = db.eval_models(store, eval_id)
    ids = [m["model_id"] for m in models]
    pairs = []
    for m in models:
        if not m["finetuned"]:
            continue
        for other in models:
            base = other["model_id"]
            same_base = m.get("base_model") and (other.get("base_model") == m["base_model"]
                                                 or base.endswith(":" + str(m["base_model"]))
                                                 or base == m["base_model"])
            if not other["finetuned"] and same_base:
                pairs.append((m["model_id"], base))
    if pairs:
        return pairs
    return [(ids[i], ids[j]) for i in range(len(ids)) for j in range(i + 1, len(ids))]
