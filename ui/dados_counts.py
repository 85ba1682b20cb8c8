"""Page 1's counts above the charts: what was read (rows, lines skipped), the rows loaded / kept /
train / test, the tokens of each split, and a split the kept rows cannot fill, with a button that
asks for the same train:test ratio over the rows kept.

    from ui.dados_counts import draw_counts
    draw_counts(result)                 # streamlit run app.py, page 1 (right column, first)
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.data.curation import CurationResult
from core.data.curation_split import split_shortfall
from ui.common import tr
from ui.numbers import general, integer


def _use_split(train: int, test: int) -> None:
    """The shortfall's fix: train and test sizes in the asked ratio over the rows kept."""
    st.session_state["dados_train"], st.session_state["dados_test"] = train, test


def draw_counts(result: CurationResult) -> None:
    report, funnel, config = result.report, result.funnel, result.config
    lines = tr("dados.lines", lines=integer(report.lines)) if report.lines is not None else ""
    st.caption(tr("dados.loaded", name=Path(report.path).name, format=report.format, rows=integer(report.rows),
                  lines=lines, seconds=general(report.seconds)))
    if report.bad_lines:
        st.warning(tr("dados.bad_lines", count=integer(report.bad_lines),
                      first=", ".join(map(str, report.bad_line_numbers[:10]))))
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(tr("dados.metric.loaded"), integer(funnel["loaded"]))
    m2.metric(tr("dados.metric.kept"), integer(funnel["keywords"]))
    m3.metric(tr("dados.metric.train"), integer(funnel["train"]))
    m4.metric(tr("dados.metric.test"), integer(funnel["test"]))
    st.caption(tr("dados.token_totals", train=integer(result.train_tokens), test=integer(result.test_tokens),
                  tokenizer=config.tokenizer))
    if funnel["train"] == 0:
        st.warning(tr("dados.nothing_kept"))
    short = split_shortfall(funnel["keywords"], config.train_size, config.test_size)
    if short is not None:
        w1, w2 = st.columns([3, 1], vertical_alignment="center")
        w1.warning(tr("dados.short_split", kept=integer(short.kept), train_size=integer(short.train_size),
                      test_size=integer(short.test_size), train=integer(short.train), test=integer(short.test))
                   + (" " + tr("dados.short_no_test") if short.no_test else ""))
        w2.button(tr("dados.short_fix", train=integer(short.fix_train), test=integer(short.fix_test), ratio=short.ratio),
                  key="dados_fix_split", on_click=_use_split, args=(short.fix_train, short.fix_test),
                  help=tr("dados.short_fix_help"))
