"""Page 2's token statistics: tokens per example in every format (mean, p50, p95, max, the raw title +
content and the overhead each format adds), a stacked bar chart of raw text and overhead, and the
examples that do not fit each target model's limit. Headers, labels and numbers in the UI language;
core hands over numbers and keys (core.formats.stats).

    token_tables(stats, view, [openai_model])
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.formats.stats import FormatStats, FormatView, context_report, context_targets
from ui.common import tr
from ui.numbers import chart as localized
from ui.numbers import integer, num

_STATS_COLUMNS = {"format": "col_format", "tokenizer": "col_tokenizer", "mean": "col_mean", "p50": "col_p50",
                  "p95": "col_p95", "max": "col_max", "total": "col_total", "raw_mean": "col_raw_mean",
                  "overhead_mean": "col_overhead", "overhead_pct": "col_overhead_pct"}
_CONTEXT_COLUMNS = {"target": "col_target", "format": "col_format", "limit": "col_limit", "exceeding": "col_exceeding",
                    "tokens_cut": "col_cut", "examples": "col_examples", "note": "col_note"}


def _headers(names: dict[str, str]) -> dict[str, str]:
    return {column: tr("formatos." + key) for column, key in names.items()}


def _fmt(name: str) -> str:
    return tr("formatos.fmt_" + name)


def token_tables(stats: dict[str, FormatStats], view: FormatView, openai_models: Sequence[str]) -> None:
    st.markdown(f"**{tr('formatos.stats_title')}**")
    table = pd.DataFrame([s.as_row() for s in stats.values()])
    table["format"] = [_fmt(f) for f in table["format"]]
    st.dataframe(table.drop(columns=["examples"]).rename(columns=_headers(_STATS_COLUMNS)), hide_index=True,
                 width="stretch")
    names = [_fmt(f) for f in stats]
    chart = go.Figure([
        go.Bar(name=tr("formatos.chart_raw"), x=names, y=[s.raw_mean for s in stats.values()], marker_color="#9db4d0"),
        go.Bar(name=tr("formatos.chart_overhead"), x=names, y=[max(s.overhead_mean, 0) for s in stats.values()],
               marker_color="#e07b39", text=[num(s.overhead_mean, 0, sign=True) for s in stats.values()],
               textposition="outside"),
    ])
    chart.update_layout(barmode="stack", height=300, margin={"t": 10, "b": 10}, yaxis_title=tr("formatos.chart_y"),
                        legend={"orientation": "h", "y": 1.1})
    st.plotly_chart(localized(chart), width="stretch", key="formatos_chart")

    st.markdown(f"**{tr('formatos.context_title')}**")
    report = pd.DataFrame(context_report(stats, context_targets(view, openai_models)))
    if not report.empty:
        # core names the model; the kind of limit (note) says what the target is
        report["target"] = [tr("formatos.target_" + n, model=m, limit=integer(limit))
                            for m, n, limit in zip(report["target"], report["note"], report["limit"])]
        report["format"] = [_fmt(f) for f in report["format"]]
        report["note"] = [tr("formatos.limit_" + n) for n in report["note"]]
    st.dataframe(report.rename(columns=_headers(_CONTEXT_COLUMNS)), hide_index=True, width="stretch")
