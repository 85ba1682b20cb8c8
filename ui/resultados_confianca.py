"""Page 5's tab: which metric to trust: each metric's and the judge's agreement with the human votes.

The numbers are core.compare.agreement's (``python -m core agreement`` prints the same table): the
agreement of each automatic metric with the arena's votes and imported ratings, as bars with their
95% interval and as a table, the sentence naming the metric that agrees best on this task, and what
it rests on. A judge chosen here is asked in a background thread of the app (core/background.py
Tasks, one per app process): the page follows its progress in a fragment, a reload finds it again,
and its verdicts are cached in the database, so the table shows them without asking again.

    trust_tab(store, "en")      # inside page 5's "Which metric to trust" tab
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.background import Task, Tasks
from core.compare.agreement import AgreementReport, Note, cached_judge, metric_agreement
from core.errors import UserFacingError
from core.store import Store
from core.store.ratings import fingerprint
from locales import numbers, t
from ui.common import openai_key_for, show_error
from ui.core_text import metric_label
from ui.model_choice import model_label, registered_models
from ui.results_charts import LAYOUT

BAR, JUDGE_BAR = "#1f77b4", "#d62728"


@st.cache_resource(show_spinner=False)
def _judge_tasks() -> Tasks:
    return Tasks(keep=4, name="judge")


@st.cache_data(show_spinner=False, max_entries=8)
def _report(_store: Store, db: str, stamp: tuple[Any, ...], judge: str) -> AgreementReport:
    """The table from stored votes, ratings and cached verdicts (never calls a model); recomputed
    only when one of them changed (``stamp``)."""
    return metric_agreement(_store, judge_model=judge or None, cached_only=True)


def _pct(value: Any, language: str) -> str:
    return numbers.percent(None if value is None or (isinstance(value, float) and math.isnan(value))
                           else float(value) * 100, language)


def _label(metric: str, report: AgreementReport, language: str) -> str:
    if metric == "judge":
        return t("confianca.judge_label", language, model=report.judge_model or "")
    return metric_label(metric, language)


def _note(note: Note, report: AgreementReport, language: str) -> str:
    values = dict(note.values)
    for key in ("metric", "other"):
        if key in values:
            values[key] = _label(str(values[key]), report, language)
    if "agreement" in values:
        values["agreement"] = _pct(values["agreement"], language)
    return t(f"confianca.{'verdict' if note.key in ('best', 'best_overlap', 'too_few') else 'note'}.{note.key}",
             language, **values)


def agreement_figure(report: AgreementReport, language: str) -> go.Figure:
    """Agreement % per metric with its bootstrap interval as error bars; a dotted line at 50%."""
    data = report.table[report.table["n"] > 0].iloc[::-1]
    labels = [_label(m, report, language) for m in data["metric"]]
    hover = [t("confianca.chart.hover", language, metric=label, agreement=_pct(r.agreement, language),
               low=_pct(r.low, language), high=_pct(r.high, language), n=numbers.integer(r.n, language))
             for label, r in zip(labels, data.itertuples(index=False))]
    fig = go.Figure(go.Bar(
        x=data["agreement"] * 100, y=labels, orientation="h", hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        marker_color=[JUDGE_BAR if m == "judge" else BAR for m in data["metric"]],
        error_x={"type": "data", "symmetric": False, "array": (data["high"] - data["agreement"]) * 100,
                 "arrayminus": (data["agreement"] - data["low"]) * 100}))
    fig.add_vline(x=50, line_dash="dot", line_color="#888", annotation_text=t("confianca.chart.chance", language),
                  annotation_position="top")
    fig.update_layout(**{**LAYOUT, "separators": numbers.plotly_separators(language), "height": 160 + 40 * len(data),
                         "title": t("confianca.chart.title", language)},
                      xaxis={"title": t("confianca.chart.x", language), "range": [0, 105]})
    return fig


def _table(report: AgreementReport, language: str) -> None:
    """The table with numbers written the language's way and "—" where a number does not apply (τ with
    two models, position bias of a metric): Streamlit would print a missing number as "None"."""
    def fmt(value: Any, digits: int, scale: float = 1.0, sign: bool = False) -> str:
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        return "—" if missing else numbers.number(float(value) * scale, language, digits, sign=sign)

    table = report.table
    frame = {"metric": [_label(m, report, language) for m in table["metric"]],
             "n": [numbers.integer(v, language) for v in table["n"]],
             **{c: [fmt(v, 1, 100) for v in table[c]] for c in ("agreement", "low", "high")},
             "kendall_tau": [fmt(v, 2, sign=True) for v in table["kendall_tau"]],
             "n_models": [numbers.integer(v, language) for v in table["n_models"]],
             **{c: [fmt(v, 1, 100) for v in table[c]] for c in ("position_bias", "first_wins")}}
    st.dataframe(pd.DataFrame(frame), hide_index=True, key="cf_table",
                 column_config={c: st.column_config.TextColumn(t(f"confianca.col.{c}", language)) for c in frame})


def _start_judge(store: Store, judge: str, api_key: str | None, language: str) -> Task:
    def work(report: Any) -> AgreementReport:
        def progress(phase: str, done: int, total: int) -> None:
            report(done / total if total else 0.0, t(f"confianca.phase.{phase}", language, done=done, total=total))
        return metric_agreement(store, judge_model=judge, on_progress=progress, api_key=api_key)

    return _judge_tasks().start(("judge", store.path, judge, fingerprint(store)[:4]), work)


def _follow(task: Task, language: str) -> None:
    """The judge's progress, redrawn every second; the whole page reruns when it ends."""
    @st.fragment(run_every=1.0)
    def draw() -> None:
        if task.done:
            st.rerun(scope="app")
        st.progress(task.fraction, text=task.message or t("confianca.judge_running", language, model=task.key[2]))
    draw()


def _judge_panel(store: Store, language: str) -> str:
    """The judge selector and its button; returns the judge whose cached verdicts the table shows."""
    models = registered_models(store)
    options = ["", *models]
    if "cf_judge" not in st.session_state:
        cached = cached_judge(store)
        st.session_state["cf_judge"] = cached if cached in models else ""
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    label = model_label(models)
    judge = left.selectbox(t("confianca.judge", language), options, key="cf_judge", help=t("confianca.judge_help", language),
                           format_func=lambda m: label(m) if m else t("confianca.no_judge", language))
    running = [k for k in _judge_tasks().running() if k[1] == store.path]
    api_key, ready = openai_key_for([models[judge]["kind"]] if judge else [], "cf_api_key", "confianca")
    if right.button(t("confianca.ask", language), key="cf_ask", disabled=not judge or not ready or bool(running),
                    type="primary"):
        st.session_state["cf_task"] = _start_judge(store, judge, api_key, language).key
        running = [k for k in _judge_tasks().running() if k[1] == store.path]
    for key in running:  # also after a reload, whichever judge is chosen now
        task = _judge_tasks().get(key)
        if task is not None:
            _follow(task, language)
    last = _judge_tasks().get(st.session_state.get("cf_task"))
    if last is not None and last.done and last.error is not None:  # shown once; the button tries again
        show_error(last.error)
        _judge_tasks().forget(last.key)
        st.session_state.pop("cf_task", None)
    return judge


def trust_tab(store: Store, language: str) -> None:
    """Draw the tab: the verdict, the chart and table, the notes, the judge, how ties count."""
    st.caption(t("confianca.intro", language))
    judge = _judge_panel(store, language)
    try:
        report = _report(store, store.path, fingerprint(store), judge)
    except UserFacingError as exc:
        show_error(exc)
        return
    if report.pairs == 0 and report.ties == 0:
        st.info(t("confianca.no_votes", language))
        st.caption(t("confianca.how", language))
        return
    show = {"best": st.success, "best_overlap": st.warning}.get(report.verdict.key, st.info)
    show(_note(report.verdict, report, language))
    st.caption(t("confianca.counts", language, pairs=numbers.integer(report.pairs, language),
                 votes=numbers.integer(report.votes, language), ratings=numbers.integer(report.rating_pairs, language),
                 ties=numbers.integer(report.ties, language)))
    if (report.table["n"] > 0).any():
        st.plotly_chart(agreement_figure(report, language), key="cf_figure")
    _table(report, language)
    for note in report.notes:
        st.caption("· " + _note(note, report, language))
    st.caption(t("confianca.how", language))

