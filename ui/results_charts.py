"""Plotly figures of the results page (page 5), drawn from the DataFrames of core/compare/results.py,
in the page's language: titles and legends from locales/resultados.py, metric names translated,
numbers in hover text and point labels written by locales/numbers.py (0.668 / 0,668, $0.0012 /
US$ 0,0012), and the figure's own separators set for its axes.

    from ui import results_charts as charts
    fig = charts.cost_accuracy_figure(results.cost_accuracy(store, eval_id), "pt")
    fig.show()
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from locales import numbers, t
from ui.core_text import metric_label

FINETUNED_COLOR, BASE_COLOR, IMPORTED_COLOR = "#d62728", "#1f77b4", "#7f7f7f"
LAYOUT = {"template": "plotly_white", "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "height": 400,
          "title_font_size": 15, "legend": {"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0}}


def short(name: Any, width: int = 26) -> str:
    """A label that fits under a bar: the start and the end of a long name (run ids differ at the
    end, model names at the start)."""
    text = str(name)
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[-(width - 1 - head):]


def _layout(lang: str, **extra: Any) -> dict[str, Any]:
    return {**LAYOUT, "separators": numbers.plotly_separators(lang), **extra}


def _color(row: pd.Series) -> str:
    if row.get("kind") == "imported":
        return FINETUNED_COLOR if row.get("finetuned") else IMPORTED_COLOR
    return FINETUNED_COLOR if row.get("finetuned") else BASE_COLOR


def _metric(frame: pd.DataFrame, lang: str) -> str:
    return metric_label(str(frame["main_metric"].iloc[0]), lang)


def run_status(status: Any, lang: str) -> str:
    """A run's status in the page's language (page 3's words), the stored word when unknown."""
    key = f"treino.status_{status}"
    text = t(key, lang)
    return str(status) if text == key else text


def _empty(message: str, lang: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14})
    fig.update_layout(**_layout(lang, height=220), xaxis={"visible": False}, yaxis={"visible": False})
    return fig


def leaderboard_figure(board: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Main metric per model with its 95% bootstrap interval; fine-tunes in red."""
    if board.empty or board["main"].isna().all():
        return _empty(t("resultados.chart.no_data", lang), lang)
    data = board.iloc[::-1]
    hover = [t("resultados.chart.hover_score", lang, name=n, score=numbers.number(v, lang, 3),
               low=numbers.number(lo, lang, 3), high=numbers.number(hi, lang, 3))
             for n, v, lo, hi in zip(data["display_name"], data["main"], data["main_low"], data["main_high"])]
    fig = go.Figure(go.Bar(
        x=data["main"], y=[short(n, 34) for n in data["display_name"]], orientation="h",
        marker_color=[_color(r) for _, r in data.iterrows()], hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        error_x={"type": "data", "symmetric": False, "array": data["main_high"] - data["main"],
                 "arrayminus": data["main"] - data["main_low"]}))
    metric = _metric(board, lang)
    fig.update_layout(**_layout(lang, height=140 + 45 * len(data)), xaxis_title=metric,
                      title=t("resultados.chart.leaderboard", lang, metric=metric))
    return fig


def cost_accuracy_figure(points: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Accuracy vs total cost per 1k answers (training + inference); the Pareto front joined by a line."""
    if points.empty or points["total_cost_per_1k"].isna().all():
        return _empty(t("resultados.chart.no_cost", lang), lang)
    data = points.dropna(subset=["total_cost_per_1k", "main"])
    if data.empty:  # costs known but no scores yet (an evaluation still running)
        return _empty(t("resultados.chart.no_data", lang), lang)
    costs = data["total_cost_per_1k"].astype(float)
    log_x = bool(costs.min() > 0 and costs.max() / costs.min() > 50)
    metric = _metric(data, lang)
    fig = go.Figure()
    front = data[data["on_front"]].sort_values("total_cost_per_1k")
    fig.add_trace(go.Scatter(x=front["total_cost_per_1k"], y=front["main"], mode="lines",
                             line={"dash": "dot", "color": "#2ca02c"}, name=t("resultados.chart.front", lang)))
    hover = [t("resultados.chart.hover_cost", lang, name=r["display_name"], metric=metric,
               total=numbers.usd(r["total_cost_per_1k"], lang, 4), score=numbers.number(r["main"], lang, 3),
               training=numbers.usd(_zero(r["training_cost_usd"]), lang, 4),
               inference=numbers.usd(_zero(r["inference_cost_per_1k"]), lang, 4))
             for _, r in data.iterrows()]
    fig.add_trace(go.Scatter(
        x=data["total_cost_per_1k"], y=data["main"], mode="markers+text", text=[short(n) for n in data["display_name"]],
        textposition=_label_sides(costs), name=t("resultados.chart.models", lang), cliponaxis=False,
        error_y={"type": "data", "symmetric": False, "array": data["main_high"] - data["main"],
                 "arrayminus": data["main"] - data["main_low"], "color": "#bbbbbb", "thickness": 1},
        marker={"size": [16 if f else 10 for f in data["on_front"]], "color": [_color(r) for _, r in data.iterrows()],
                "line": {"width": [2 if f else 0 for f in data["on_front"]], "color": "#2ca02c"}},
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>"))
    fig.update_layout(**_layout(lang), title={"text": t("resultados.chart.cost_accuracy", lang),
                                              "subtitle": {"text": t("resultados.chart.cost_accuracy_sub", lang)}},
                      xaxis_title=t("resultados.chart.total_cost", lang), yaxis_title=metric,
                      xaxis_type="log" if log_x else "linear", showlegend=True)
    if not log_x:  # room for the labels at both ends
        lo, hi = float(costs.min()), float(costs.max())
        pad = (hi - lo) * 0.25 or max(abs(hi), 1e-6) * 0.5
        fig.update_xaxes(range=[max(0.0, lo - pad) if lo >= 0 else lo - pad, hi + pad])
    return fig


def _label_sides(costs: pd.Series) -> list[str]:
    """Labels lean inwards (cheap points to the right, dear ones to the left): centred, the names of
    the points at both ends ran off the chart."""
    if costs.nunique() < 2:
        return ["top center"] * len(costs)
    return ["top right" if share <= 0.5 else "top left" for share in costs.rank(pct=True, method="first")]


def _zero(value: Any) -> float:
    return 0.0 if value is None or pd.isna(value) else float(value)


def cost_breakdown_figure(parts: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Training cost and inference cost per 1,000 answers, stacked per model."""
    if parts.empty or parts["usd"].fillna(0).sum() == 0:
        return _empty(t("resultados.chart.no_cost", lang), lang)
    fig = go.Figure()
    for component, color in (("training", "#9467bd"), ("inference_per_1k", "#ff7f0e")):
        mine = parts[parts["component"] == component]
        name = t(f"resultados.chart.cost_{component}", lang)
        fig.add_trace(go.Bar(x=[short(n) for n in mine["display_name"]], y=mine["usd"].fillna(0), name=name,
                             marker_color=color, hovertemplate="%{hovertext}<extra></extra>",
                             hovertext=[f"{m} · {name}: {numbers.usd(_zero(v), lang, 4)}"
                                        for m, v in zip(mine["display_name"], mine["usd"])]))
    fig.update_layout(**_layout(lang), barmode="stack", title=t("resultados.chart.cost_breakdown", lang), yaxis_title="USD")
    return fig


def training_figure(runs: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Training time (bars) and tokens/s (diamonds, right axis) per run."""
    runs = runs.dropna(subset=["wall_s"]) if not runs.empty else runs
    if runs.empty:
        return _empty(t("resultados.chart.no_runs", lang), lang)
    fig = go.Figure()
    labels = [f"{short(r['id'], 22)}<br>{run_status(r['status'], lang)}" for _, r in runs.iterrows()]
    minutes, rate = t("resultados.chart.minutes", lang), t("resultados.chart.tokens_s", lang)
    fig.add_trace(go.Bar(x=labels, y=runs["wall_s"] / 60, name=minutes, marker_color="#9467bd",
                         hovertext=[numbers.number(v / 60, lang, 1) + f" {minutes}" for v in runs["wall_s"]],
                         hovertemplate="%{hovertext}<extra></extra>"))
    fig.add_trace(go.Scatter(x=labels, y=runs["tokens_per_s"], name=rate, yaxis="y2",
                             mode="markers", marker={"symbol": "diamond", "size": 12, "color": "#17becf"},
                             hovertext=[numbers.number(v, lang, 0) + f" {rate}" for v in runs["tokens_per_s"]],
                             hovertemplate="%{hovertext}<extra></extra>"))
    fig.update_layout(**_layout(lang), title=t("resultados.chart.training", lang), yaxis_title=minutes,
                      yaxis2={"title": rate, "overlaying": "y", "side": "right"})
    return fig


def loss_figure(curves: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Loss curves of every run overlaid: train solid, eval dashed."""
    if curves.empty:
        return _empty(t("resultados.chart.no_runs", lang), lang)
    fig = go.Figure()
    for (run_id, name), mine in curves.groupby(["run_id", "name"]):
        curve = t(f"resultados.chart.{name}", lang) if name in ("train_loss", "eval_loss") else str(name)
        fig.add_trace(go.Scatter(x=mine["step"], y=mine["value"], mode="lines", name=f"{short(run_id, 22)} · {curve}",
                                 line={"dash": "dash" if name == "eval_loss" else "solid"}))
    fig.update_layout(**_layout(lang), title=t("resultados.chart.loss", lang), xaxis_title=t("resultados.chart.step", lang),
                      yaxis_title=t("resultados.chart.loss_axis", lang))
    return fig


def criteria_figure(crit: pd.DataFrame, lang: str = "en") -> go.Figure:
    """The four criteria as 0..1 scores (1 = best of these models), grouped per model."""
    if crit.empty:
        return _empty(t("resultados.chart.no_data", lang), lang)
    fig = go.Figure()
    for name in ("precision", "training_efficiency", "operating_cost", "flexibility"):
        values = crit[name].astype(float)
        fig.add_trace(go.Bar(x=[short(n) for n in crit["display_name"]], y=values.fillna(0),
                             name=t(f"resultados.criteria.{name}", lang), textposition="outside",
                             text=[numbers.number(v, lang, 2) for v in values]))  # a missing value: n/a, n/d
    fig.update_layout(**_layout(lang), barmode="group", title=t("resultados.chart.criteria", lang), yaxis_range=[0, 1.15],
                      yaxis_title=t("resultados.chart.relative", lang))
    return fig


def flexibility_figure(flex: pd.DataFrame, lang: str = "en", label: Callable[[str], str] = str) -> go.Figure:
    """Main metric per prompt variant, per model; the spread across variants is the flexibility.
    ``label`` names a variant (the page passes its translated names)."""
    if flex.empty:
        return _empty(t("resultados.chart.no_data", lang), lang)
    fig = go.Figure()
    for variant, mine in flex.groupby("variant", sort=False):
        fig.add_trace(go.Bar(x=[short(n) for n in mine["display_name"]], y=mine["mean"], name=label(str(variant))))
    spreads = flex.groupby("display_name", sort=False)["spread"].first()
    for model, spread in spreads.items():
        if not math.isnan(spread):
            fig.add_annotation(x=short(model), y=float(flex[flex["display_name"] == model]["mean"].max()), yshift=18,
                               text=f"Δ {numbers.number(spread, lang, 3)}", showarrow=False)
    fig.update_layout(**_layout(lang), barmode="group", title=t("resultados.chart.flexibility", lang))
    return fig
