"""Page 3's loss curves: one run's train loss (raw, faint, and its running mean over 5 steps) and
eval loss (dashed, markers), and several runs overlaid against step, epoch or tokens seen, above
the table of every run.

    figure = loss_figure(store, [run_id], "step")          # None while the run has no loss yet
    compare_section(store, runs, run_label)                # the overlay and the runs table
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core.store import runs as db
from locales import t
from ui.common import lang, tr
from ui.treino_runs import runs_table

K = "treino."
COLOURS = {"train_loss": "#1f77b4", "eval_loss": "#ff7f0e"}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]


def loss_figure(store: Any, run_ids: list[str], x: str) -> go.Figure | None:
    """Train and eval loss of these runs; several runs share one chart, one colour each."""
    frame = db.metrics_df(store, run_ids, ("train_loss", "eval_loss"))
    if frame.empty:
        return None
    figure = go.Figure()
    single = len(run_ids) == 1
    for index, run_id in enumerate(run_ids):
        for name in ("train_loss", "eval_loss"):
            part = frame[(frame["run_id"] == run_id) & (frame["name"] == name)].dropna(subset=[x])
            if part.empty:
                continue
            colour = COLOURS[name] if single else PALETTE[index % len(PALETTE)]
            label = tr("treino.curve_" + name) if single else f"{run_id} · {tr('treino.curve_' + name)}"
            if name == "eval_loss":
                figure.add_trace(go.Scatter(x=part[x], y=part["value"], name=label, mode="lines+markers",
                                            line={"dash": "dash", "color": colour}))
                continue
            figure.add_trace(go.Scatter(x=part[x], y=part["value"], name=label, mode="lines", opacity=0.35,
                                        line={"color": colour, "width": 1}, showlegend=single))
            figure.add_trace(go.Scatter(x=part[x], y=part["value"].rolling(5, min_periods=1).mean(),
                                        name=label + " " + tr("treino.smoothed"), mode="lines",
                                        line={"color": colour, "width": 2.5}))
    # the legend above the plot: below it, it ran into the x axis's title
    figure.update_layout(height=340 if single else 380, margin={"l": 10, "r": 10, "t": 30 if single else 70, "b": 10},
                         legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
                         xaxis_title=tr("treino.x_" + x), yaxis_title=tr("treino.loss"))
    return figure


def compare_section(store: Any, runs: dict[str, dict[str, Any]], run_label: Callable[[str], str]) -> None:
    """With two runs or more: the runs to overlay (the succeeded ones first), the x axis, the chart
    and the table of every run."""
    if len(runs) < 2:
        return
    st.subheader(tr("treino.compare"))
    cols = st.columns([4, 2])
    default = [r for r in runs if runs[r]["status"] == "succeeded"][:3]
    chosen = cols[0].multiselect(tr("treino.compare_runs"), list(runs), default=default, key=K + "compare",
                                 format_func=run_label)
    language = lang()  # a pure format_func: Streamlit and AppTest may call it outside the script run
    axis = cols[1].radio(tr("treino.x_axis"), ["step", "epoch", "tokens_seen"], key=K + "x_axis", horizontal=True,
                         format_func=lambda value: t(f"treino.x_{value}", language))
    figure = loss_figure(store, chosen, axis) if chosen else None
    if figure is not None:
        st.plotly_chart(figure, key=K + "compare_chart", config={"displayModeBar": False})
    st.dataframe(runs_table(db.list_runs(store, limit=200)), key=K + "table", hide_index=True)
