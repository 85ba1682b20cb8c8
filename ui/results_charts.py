"""Plotly figures of the results page, drawn from the DataFrames of core/compare/results.py.

Every function takes ``text``, a lookup for UI strings (the page passes its ``tr``; the default
is English from locales/resultados.py), so charts speak the page's language.

    fig = cost_accuracy_figure(results.cost_accuracy(store, eval_id))
    fig.show()
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from core.compare.results import METRIC_LABELS
from locales import t

Text = Callable[[str], str]
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


def _english(key: str) -> str:
    return t(key, "en")


def _color(row: pd.Series) -> str:
    if row.get("kind") == "imported":
        return FINETUNED_COLOR if row.get("finetuned") else IMPORTED_COLOR
    return FINETUNED_COLOR if row.get("finetuned") else BASE_COLOR


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14})
    fig.update_layout(**{**LAYOUT, "height": 220}, xaxis={"visible": False}, yaxis={"visible": False})
    return fig


def leaderboard_figure(board: pd.DataFrame, text: Text = _english) -> go.Figure:
    """Main metric per model with its 95% bootstrap interval; fine-tunes in red."""
    if board.empty or board["main"].isna().all():
        return _empty(text("resultados.chart.no_data"))
    data = board.iloc[::-1]
    fig = go.Figure(go.Bar(
        x=data["main"], y=[short(n, 34) for n in data["display_name"]], orientation="h", marker_color=[_color(r) for _, r in data.iterrows()],
        error_x={"type": "data", "symmetric": False, "array": data["main_high"] - data["main"],
                 "arrayminus": data["main"] - data["main_low"]},
        hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    metric = METRIC_LABELS.get(str(board["main_metric"].iloc[0]), str(board["main_metric"].iloc[0]))
    fig.update_layout(**{**LAYOUT, "height": 140 + 45 * len(data)},
                      title=text("resultados.chart.leaderboard").format(metric=metric), xaxis_title=metric)
    return fig


def cost_accuracy_figure(points: pd.DataFrame, text: Text = _english) -> go.Figure:
    """Accuracy vs total cost per 1k answers (training + inference); the Pareto front joined by a line."""
    if points.empty or points["total_cost_per_1k"].isna().all():
        return _empty(text("resultados.chart.no_cost"))
    data = points.dropna(subset=["total_cost_per_1k", "main"])
    if data.empty:  # costs known but no scores yet (an evaluation still running)
        return _empty(text("resultados.chart.no_data"))
    costs = data["total_cost_per_1k"].astype(float)
    log_x = bool(costs.min() > 0 and costs.max() / costs.min() > 50)
    fig = go.Figure()
    front = data[data["on_front"]].sort_values("total_cost_per_1k")
    fig.add_trace(go.Scatter(x=front["total_cost_per_1k"], y=front["main"], mode="lines",
                             line={"dash": "dot", "color": "#2ca02c"}, name=text("resultados.chart.front")))
    fig.add_trace(go.Scatter(
        x=data["total_cost_per_1k"], y=data["main"], mode="markers+text", text=[short(n) for n in data["display_name"]],
        textposition="top center", name=text("resultados.chart.models"), cliponaxis=False,
        error_y={"type": "data", "symmetric": False, "array": data["main_high"] - data["main"],
                 "arrayminus": data["main"] - data["main_low"], "color": "#bbbbbb", "thickness": 1},
        marker={"size": [16 if f else 10 for f in data["on_front"]], "color": [_color(r) for _, r in data.iterrows()],
                "line": {"width": [2 if f else 0 for f in data["on_front"]], "color": "#2ca02c"}},
        customdata=data[["training_cost_usd", "inference_cost_per_1k"]].fillna(0).values,
        hovertemplate="%{text}<br>total $%{x:.4f}<br>training $%{customdata[0]:.4f}"
                      "<br>inference/1k $%{customdata[1]:.4f}<br>score %{y:.3f}<extra></extra>"))
    fig.update_layout(**LAYOUT, title={"text": text("resultados.chart.cost_accuracy"),
                                       "subtitle": {"text": text("resultados.chart.cost_accuracy_sub")}},
                      xaxis_title=text("resultados.chart.total_cost"),
                      yaxis_title=METRIC_LABELS.get(str(data["main_metric"].iloc[0]), str(data["main_metric"].iloc[0])),
                      xaxis_type="log" if log_x else "linear", showlegend=True)
    if not log_x:  # room for the labels at both ends
        lo, hi = float(costs.min()), float(costs.max())
        pad = (hi - lo) * 0.25 or max(abs(hi), 1e-6) * 0.5
        fig.update_xaxes(range=[max(0.0, lo - pad) if lo >= 0 else lo - pad, hi + pad])
    return fig


def cost_breakdown_figure(parts: pd.DataFrame, text: Text = _english) -> go.Figure:
    if parts.empty or parts["usd"].fillna(0).sum() == 0:
        return _empty(text("resultados.chart.no_cost"))
    fig = go.Figure()
    for component, color in (("training", "#9467bd"), ("inference_per_1k", "#ff7f0e")):
        mine = parts[parts["component"] == component]
        fig.add_trace(go.Bar(x=[short(n) for n in mine["display_name"]], y=mine["usd"].fillna(0), name=text(f"resultados.chart.cost_{component}"),
                             marker_color=color, hovertemplate="%{x}: $%{y:.4f}<extra></extra>"))
    fig.update_layout(**LAYOUT, barmode="stack", title=text("resultados.chart.cost_breakdown"), yaxis_title="USD")
    return fig


def training_figure(runs: pd.DataFrame, text: Text = _english) -> go.Figure:
    """Training time (bars) and tokens/s (diamonds, right axis) per run."""
    runs = runs.dropna(subset=["wall_s"]) if not runs.empty else runs
    if runs.empty:
        return _empty(text("resultados.chart.no_runs"))
    fig = go.Figure()
    labels = [f"{short(r['id'], 22)}<br>{r['status']}" for _, r in runs.iterrows()]
    fig.add_trace(go.Bar(x=labels, y=runs["wall_s"] / 60, name=text("resultados.chart.minutes"),
                         marker_color="#9467bd"))
    fig.add_trace(go.Scatter(x=labels, y=runs["tokens_per_s"], name=text("resultados.chart.tokens_s"),
                             mode="markers", marker={"symbol": "diamond", "size": 12, "color": "#17becf"}, yaxis="y2"))
    fig.update_layout(**LAYOUT, title=text("resultados.chart.training"), yaxis_title=text("resultados.chart.minutes"),
                      yaxis2={"title": text("resultados.chart.tokens_s"), "overlaying": "y", "side": "right"})
    return fig


def loss_figure(curves: pd.DataFrame, text: Text = _english) -> go.Figure:
    """Loss curves of every run overlaid: train solid, eval dashed."""
    if curves.empty:
        return _empty(text("resultados.chart.no_runs"))
    fig = go.Figure()
    for (run_id, name), mine in curves.groupby(["run_id", "name"]):
        fig.add_trace(go.Scatter(x=mine["step"], y=mine["value"], mode="lines", name=f"{short(run_id, 22)} · {name}",
                                 line={"dash": "dash" if name == "eval_loss" else "solid"}))
    fig.update_layout(**LAYOUT, title=text("resultados.chart.loss"), xaxis_title=text("resultados.chart.step"),
                      yaxis_title="loss")
    return fig


def criteria_figure(crit: pd.DataFrame, text: Text = _english) -> go.Figure:
    """The four criteria as 0..1 scores (1 = best of these models), grouped per model."""
    if crit.empty:
        return _empty(text("resultados.chart.no_data"))
    fig = go.Figure()
    for name in ("precision", "training_efficiency", "operating_cost", "flexibility"):
        values = crit[name].astype(float)
        fig.add_trace(go.Bar(x=[short(n) for n in crit["display_name"]], y=values.fillna(0),
                             name=text(f"resultados.criteria.{name}"),
                             text=[text("common.na") if math.isnan(v) else f"{v:.2f}" for v in values], textposition="outside"))
    fig.update_layout(**LAYOUT, barmode="group", title=text("resultados.chart.criteria"), yaxis_range=[0, 1.15],
                      yaxis_title=text("resultados.chart.relative"))
    return fig


def flexibility_figure(flex: pd.DataFrame, text: Text = _english, label: Callable[[str], str] = str) -> go.Figure:
    """Main metric per prompt variant, per model; the spread across variants is the flexibility.
    ``label`` names a variant (the page passes its translated names)."""
    if flex.empty:
        return _empty(text("resultados.chart.no_data"))
    fig = go.Figure()
    for variant, mine in flex.groupby("variant", sort=False):
        fig.add_trace(go.Bar(x=[short(n) for n in mine["display_name"]], y=mine["mean"], name=label(str(variant))))
    spreads = flex.groupby("display_name", sort=False)["spread"].first()
    for model, spread in spreads.items():
        if not math.isnan(spread):
            fig.add_annotation(x=short(model), y=float(flex[flex["display_name"] == model]["mean"].max()), yshift=18,
                               text=f"Δ {spread:.3f}", showarrow=False)
    fig.update_layout(**LAYOUT, barmode="group", title=text("resultados.chart.flexibility"))
    return fig
