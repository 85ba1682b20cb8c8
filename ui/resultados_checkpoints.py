"""Page 5's tab "Checkpoints": every checkpoint of a run scored on the held-out split, the metric vs
step (with its 95% interval) beside the loss curve on the same steps, the verdict of a paired test
(final step against the base model at step 0) and the table.

    from ui.resultados_checkpoints import checkpoints_tab
    checkpoints_tab(store, "pt")          # inside page 5's tab; streamlit run app.py, then /resultados

A run not scored yet gets a "Score every checkpoint" button: core.compare.checkpoints.start_checkpoints
runs the evaluation in a background thread of the app process, its progress in the evaluations
table, so the bar below survives a page reload. The CLI twin: ``python -m core eval --checkpoints RUN``.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.compare.checkpoints import (
    Verdict,
    checkpoint_config,
    checkpoint_curve,
    checkpoint_record,
    learned,
    start_checkpoints,
)
from core.compare.evaluate import evaluation_state
from core.compare.results import loss_curves
from core.errors import UserFacingError
from core.selection import get_current
from core.store import Store
from core.store.runs import TERMINAL, list_runs
from locales import numbers, t
from ui.common import openai_key_for, show_error, tr
from ui.core_text import metric_label
from ui.resultados_progress import ACTIVE, resume, running_panel
from ui.resultados_tables import styled
from ui.results_charts import LAYOUT, run_status

METRIC_COLOR, BAND_COLOR = "#d62728", "rgba(214, 39, 40, 0.15)"


# -- the figures -----------------------------------------------------------------------------------
def _empty(message: str, language: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14})
    fig.update_layout(**LAYOUT, xaxis_visible=False, yaxis_visible=False)
    return fig


def _layout(language: str, title: str, y_title: str, x_range: list[float]) -> dict[str, Any]:
    return {**LAYOUT, "separators": numbers.plotly_separators(language), "title": title,
            "xaxis": {"title": t("resultados.chart.step", language), "range": x_range},
            "yaxis": {"title": y_title}}


def x_range(curve: pd.DataFrame, losses: pd.DataFrame) -> list[float]:
    """One step axis for both charts: from 0 (the base model) to the last step either one has."""
    last = max([float(curve["step"].max()) if not curve.empty else 0.0,
                float(losses["step"].max()) if not losses.empty else 0.0, 1.0])
    pad = last * 0.03
    return [-pad, last + pad]


def loss_figure(losses: pd.DataFrame, language: str, steps: list[float]) -> go.Figure:
    """The run's train loss (solid) and eval loss (dashed) per step."""
    if losses.empty:
        return _empty(t("checkpoints.no_loss", language), language)
    fig = go.Figure()
    for name, mine in losses.groupby("name"):
        fig.add_trace(go.Scatter(x=mine["step"], y=mine["value"], mode="lines+markers" if len(mine) < 30 else "lines",
                                 name=t(f"resultados.chart.{name}", language),
                                 line={"dash": "dash" if name == "eval_loss" else "solid"}))
    fig.update_layout(**_layout(language, t("checkpoints.chart.loss", language),
                                t("resultados.chart.loss_axis", language), steps))
    return fig


def metric_figure(curve: pd.DataFrame, language: str, steps: list[float]) -> go.Figure:
    """The metric per step with its 95% bootstrap interval as a band."""
    scored = curve[curve["n"] > 0] if not curve.empty else curve
    if scored.empty:
        return _empty(t("checkpoints.no_scores", language), language)
    metric = metric_label(str(curve.attrs.get("metric")), language)
    roles = curve.attrs.get("roles") or {}
    x = scored["step"].tolist()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=scored["high"].tolist() + scored["low"].tolist()[::-1], fill="toself",
                             mode="lines", fillcolor=BAND_COLOR, line={"width": 0}, hoverinfo="skip",
                             name=t("checkpoints.chart.band", language)))
    hover = [t("checkpoints.chart.hover", language, role=t(f"checkpoints.role.{roles.get(m, 'checkpoint')}", language),
               step=numbers.integer(s, language), value=numbers.number(v, language, 3),
               low=numbers.number(lo, language, 3), high=numbers.number(hi, language, 3),
               n=numbers.integer(n, language))
             for m, s, v, lo, hi, n in scored[["model_id", "step", "value", "low", "high", "n"]].itertuples(index=False)]
    fig.add_trace(go.Scatter(x=x, y=scored["value"], mode="lines+markers", name=metric, hovertext=hover,
                             hoverinfo="text", line={"color": METRIC_COLOR}, marker={"size": 9}))
    fig.update_layout(**_layout(language, t("checkpoints.chart.metric", language, metric=metric), metric, steps))
    return fig


# -- words -----------------------------------------------------------------------------------------
def verdict_text(verdict: Verdict, language: str) -> str:
    if verdict.outcome == "too_few":
        return t("checkpoints.verdict.too_few", language)
    head = t("checkpoints.verdict.head", language, metric=metric_label(verdict.metric, language),
             start=numbers.number(verdict.start, language, 3), end=numbers.number(verdict.end, language, 3),
             start_step=numbers.integer(verdict.start_step, language),
             end_step=numbers.integer(verdict.end_step, language),
             diff=numbers.number(verdict.diff, language, 3, sign=True), p=numbers.number(verdict.p, language, 3),
             n=numbers.integer(verdict.n, language))
    return f"{head}: {t(f'checkpoints.verdict.{verdict.outcome}', language)}"


def _run_label(run: dict[str, Any], language: str) -> str:
    return f"{run['id']} · {run['backend']} · {run_status(run['status'], language)}"


def _choose_run(store: Store, language: str) -> str | None:
    runs = [r for r in list_runs(store) if r["status"] in TERMINAL]
    if not runs:
        st.info(t("checkpoints.no_runs", language))
        return None
    ids = [r["id"] for r in runs]
    labels = {r["id"]: _run_label(r, language) for r in runs}
    if st.session_state.get("ck_run") not in ids:
        current = get_current(store, "run")
        st.session_state["ck_run"] = current if current in ids else ids[0]
    return st.selectbox(t("checkpoints.run", language), ids, key="ck_run", format_func=labels.get,
                        help=t("checkpoints.run_help", language))


# -- scoring: the form, the progress -----------------------------------------------------------------
def _score_form(store: Store, run_id: str, language: str, again: bool) -> None:
    left, right = st.columns(2)
    limit = left.number_input(t("checkpoints.limit", language), 1, 1000, 10, key="ck_limit",
                              help=t("checkpoints.limit_help", language))
    tokens = right.number_input(t("checkpoints.max_new_tokens", language), 1, 1024, 64, key="ck_tokens",
                                help=t("checkpoints.max_new_tokens_help", language))
    try:
        config, points, _ = checkpoint_config(store, run_id, limit=int(limit), max_new_tokens=int(tokens))
    except UserFacingError as exc:
        show_error(exc)
        return
    from core.store.compare import get_model

    kinds = [str((get_model(store, p.model_id) or {}).get("kind")) for p in points]
    api_key, ready = openai_key_for(kinds, "ck_api_key", "checkpoints")
    st.caption(t("checkpoints.plan", language, models=numbers.integer(len(points), language),
                 checkpoints=numbers.integer(sum(p.role == "checkpoint" for p in points), language),
                 examples=numbers.integer(config.limit, language), data=config.data,
                 answers=numbers.integer(len(points) * int(config.limit or 0), language)))
    label = t("checkpoints.rescore" if again else "checkpoints.score", language)
    if st.button(label, key="ck_score", type="secondary" if again else "primary", disabled=not ready):
        try:
            start_checkpoints(store, run_id, limit=int(limit), max_new_tokens=int(tokens), api_key=api_key)
        except UserFacingError as exc:
            show_error(exc)
        else:
            st.rerun()


def _state(store: Store, eval_id: str, language: str) -> None:
    state = evaluation_state(store, eval_id)
    if state["state"] in ACTIVE:
        running_panel(store, eval_id, cancel_key="ck_cancel")
        return
    if state["state"] in ("cancelled", "interrupted", "failed"):
        values = {"done": state["done"] or 0, "total": state["total"] or 0, "message": state["status_message"] or ""}
        (st.error if state["state"] == "failed" else st.warning)(tr(f"resultados.state.{state['state']}", **values))
        if st.button(t("resultados.resume", language), key="ck_resume", type="primary"):
            resume(store, eval_id, "ck_api_key")


# -- the tab -----------------------------------------------------------------------------------------
def _results(store: Store, run_id: str, eval_id: str, language: str) -> None:
    curve = checkpoint_curve(store, run_id)
    losses = loss_curves(store, [run_id])
    steps = x_range(curve, losses)
    left, right = st.columns(2)
    left.plotly_chart(loss_figure(losses, language, steps), key="ck_fig_loss")
    right.plotly_chart(metric_figure(curve, language, steps), key="ck_fig_metric")
    if curve.empty or not (curve["n"] > 0).any():
        return
    verdict = learned(curve)
    show = {"learned": st.success, "worse": st.warning}.get(verdict.outcome, st.info)
    show(verdict_text(verdict, language))
    roles = curve.attrs.get("roles") or {}
    metric = metric_label(str(curve.attrs.get("metric")), language)
    table = pd.DataFrame({"step": curve["step"], "value": curve["value"], "low": curve["low"], "high": curve["high"],
                          "n": curve["n"].astype(int),
                          "role": [t(f"checkpoints.role.{roles.get(m, 'checkpoint')}", language) for m in curve["model_id"]],
                          "model_id": curve["model_id"]})
    # subset: a second format() without one would reset the other columns to pandas' own text
    formatted = styled(table, language).format(lambda v: numbers.integer(v, language), subset=["step", "n"])
    labels = {c: t(f"checkpoints.col.{c}", language) for c in table.columns}
    labels["value"] = metric
    # numeric columns stay NumberColumns so the Styler's language-aware text is what is shown
    st.dataframe(formatted, hide_index=True, key="ck_table", column_config={
        c: (st.column_config.NumberColumn(label) if pd.api.types.is_numeric_dtype(table[c])
            else st.column_config.Column(label)) for c, label in labels.items()})
    st.caption(t("checkpoints.eval_note", language, eval_id=eval_id))


def checkpoints_tab(store: Store, language: str) -> None:
    """Choose a run; its checkpoint curve beside its loss, or the button that scores it."""
    st.caption(t("checkpoints.intro", language))
    run_id = _choose_run(store, language)
    if run_id is None:
        return
    record = checkpoint_record(store, run_id)
    if record is None:
        st.info(t("checkpoints.not_scored", language))
        _score_form(store, run_id, language, again=False)
        return
    eval_id = str(record["eval_id"])
    _state(store, eval_id, language)
    _results(store, run_id, eval_id, language)
    if evaluation_state(store, eval_id)["state"] not in ACTIVE:
        with st.expander(t("checkpoints.settings", language)):
            _score_form(store, run_id, language, again=True)
