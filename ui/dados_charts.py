"""Page 1's charts: the funnel of rows left at each stage, tokens per row before and after the token
filter, and title / content characters per row, with the filter limits marked. Titles, legends and
hover text are in the session's language, and numbers use its separators (20,000 / 20.000).

    from ui.dados_charts import draw_funnel, draw_histograms
    draw_funnel(result.funnel)                        # streamlit run app.py, page 1
    draw_histograms(features, result, stamp)

The bins come from core.data.curation_views (fixed per dataset, so bars do not jump while sliders move).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from core.data.curation import STAGES, CurationResult, Features
from core.data.curation_views import Histogram, HistogramScale, histograms
from ui.common import tr
from ui.numbers import chart, integer

LIMIT_COLOR = "#E45756"


def funnel_figure(funnel: dict[str, int]) -> Any:
    import plotly.graph_objects as go

    stages = [s for s in (*STAGES, "train", "test") if s in funnel]
    fig = go.Figure(go.Funnel(
        y=[tr(f"dados.stage.{s}") for s in stages], x=[funnel[s] for s in stages],
        texttemplate="%{value:,} (%{percentInitial:.1%})", marker={"color": "#4C78A8"},
        hovertemplate=(f"<b>%{{y}}</b><br>{tr('dados.axis_rows')}: %{{x:,}}<br>"
                       f"%{{percentInitial:.1%}} {tr('dados.hover_of_loaded')}<br>"
                       f"%{{percentPrevious:.1%}} {tr('dados.hover_of_previous')}<extra></extra>")))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=330)
    return chart(fig)


def histogram_figure(series: list[tuple[str, Histogram, str]], x_title: str, lines: list[tuple[float, str]],
                     log_y: bool = False, title: str | None = None) -> Any:
    """Bars for one or more histograms over the same edges; ``lines`` marks the filter limits."""
    import plotly.graph_objects as go

    rows = tr("dados.axis_rows")
    fig = go.Figure()
    for name, hist, color in series:
        centers = (hist.edges[:-1] + hist.edges[1:]) / 2
        bins = np.stack([hist.edges[:-1], hist.edges[1:]], axis=1)
        fig.add_trace(go.Bar(
            x=centers, y=hist.counts, width=np.diff(hist.edges), name=name, marker={"color": color}, opacity=0.75,
            customdata=bins, hovertemplate=(f"{x_title}: %{{customdata[0]:,}}–%{{customdata[1]:,}}<br>"
                                            f"{rows}: %{{y:,}}<extra>{name}</extra>")))
    for x, text in lines:
        fig.add_vline(x=x, line_dash="dash", line_color=LIMIT_COLOR, annotation_text=f"{text} {integer(x)}",
                      annotation_position="top right", annotation_font_color=LIMIT_COLOR)
    fig.update_layout(barmode="overlay", height=300, margin={"l": 10, "r": 10, "t": 40 if title else 20, "b": 10},
                      xaxis_title=x_title, yaxis_title=rows, showlegend=len(series) > 1,
                      legend={"orientation": "h", "y": -0.25, "x": 0},
                      title={"text": title, "font": {"size": 14}} if title else None)
    if log_y:
        fig.update_yaxes(type="log")
    return chart(fig)


def _limits(low: int, high: int | None, zero: bool = False) -> list[tuple[float, str]]:
    """The dashed lines of a filter: its minimum (when above zero, unless ``zero``), its maximum if any."""
    marks = [(float(low), tr("dados.limit_min"))] if low or zero else []
    return marks + ([(float(high), tr("dados.limit_max"))] if high is not None else [])


@st.cache_resource(show_spinner=False, max_entries=3)
def _scale_of(stamp: str, title: str, content: str, cleaning: str, _features: Features) -> HistogramScale:
    return HistogramScale(_features)


def draw_funnel(funnel: dict[str, int]) -> None:
    st.subheader(tr("dados.funnel"))
    st.plotly_chart(funnel_figure(funnel), key="dados_funnel_chart", width="stretch")


def draw_histograms(features: Features, result: CurationResult, stamp: str) -> None:
    """The log-scale toggle, then the token histogram and the two character histograms side by side."""
    c = result.config
    hists = histograms(features, result, _scale_of(stamp, c.title_column, c.content_column, c.cleaning, features))
    log_y = st.toggle(tr("dados.log_scale"), key="dados_log")
    st.subheader(tr("dados.hist_tokens"))
    st.plotly_chart(histogram_figure(
        [(tr("dados.before"), hists["tokens_before"], "#9ecae9"), (tr("dados.after"), hists["tokens_after"], "#4C78A8")],
        tr("dados.axis_tokens"), _limits(c.min_tokens, c.max_tokens), log_y), key="dados_tokens_chart", width="stretch")
    st.subheader(tr("dados.hist_chars"))
    h1, h2 = st.columns(2)
    for column, name, low, high in ((h1, "title", c.min_title_chars, c.max_title_chars),
                                    (h2, "content", c.min_content_chars, c.max_content_chars)):
        column.plotly_chart(histogram_figure(
            [(tr(f"dados.{name}_series"), hists[f"{name}_chars"], "#72B7B2")], tr("dados.axis_chars"),
            _limits(low, high, zero=True), log_y, title=tr(f"dados.{name}_series")), key=f"dados_{name}_chart", width="stretch")
