"""Page 5's tables: the leaderboard with its paired test, every evaluation side by side, the
training runs and the four criteria's raw values. Headers come from locales/resultados.py
(``resultados.col.<column>``; metric columns by their names), model names and run states in the
page's language; numbers stay numeric columns, formatted by Streamlit.

    from ui.resultados_tables import leaderboard_table, named
    leaderboard_table(named(results.leaderboard(store, eval_id)))
"""
from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from core.compare import results
from core.store import Store
from locales import numbers, t, text_table
from ui.common import lang, tr
from ui.core_text import metric_label
from ui.numbers import integer, model_name, num
from ui.results_charts import run_status

BOARD_COLUMNS = ("rank", "display_name", "n", "errors", "main", "main_low", "main_high", "rougeL", "chrf", "bleu",
                 "semantic", "judge", "corpus_bleu", "corpus_chrf", "length_ratio", "repetition", "latency_s",
                 "tokens_out", "inference_cost_per_1k")
CRITERIA_COLUMNS = ["display_name", "main", "main_low", "main_high", "training_time_s", "tokens_per_s",
                    "training_cost_usd", "inference_cost_per_1k", "flex_spread", "flex_mean"]


def named(frame: Any) -> Any:
    """A results table with its model names in the page's language ("(bundled)", "(step N)")."""
    if "display_name" in getattr(frame, "columns", ()):
        frame = frame.assign(display_name=frame["display_name"].map(model_name))
    return frame


def column_labels(frame: pd.DataFrame) -> dict[str, Any]:
    """Readable, translated headers (metric names stay as papers write them)."""
    keys = text_table()
    config: dict[str, Any] = {}
    for c in frame.columns:
        label = tr(f"resultados.col.{c}") if f"resultados.col.{c}" in keys else metric_label(str(c))
        numeric = pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        config[c] = st.column_config.NumberColumn(label) if numeric else st.column_config.Column(label)
    return config


def styled(frame: pd.DataFrame, language: str) -> Any:
    """Numbers written the language's way (0.422 / 0,422, $0.0082 / US$ 0,0082, 3,810 / 3.810) and a
    missing value as n/a / n/d; the table's data stays numeric (sorting, tests), only what is shown changes."""
    formats: dict[str, Any] = {}
    for c in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]):
            continue
        if c in ("rank", "n", "errors", "trained_tokens"):
            formats[c] = partial(numbers.integer, lang=language)
        elif "cost" in str(c) or str(c).endswith("_usd"):
            formats[c] = partial(numbers.usd, lang=language, digits=4)
        else:
            formats[c] = partial(numbers.number, lang=language, digits=3)
    return frame.style.format(formats, na_rep=t("common.na", language))


def table(frame: pd.DataFrame, key: str) -> None:
    st.dataframe(styled(frame, lang()), hide_index=True, key=key, column_config=column_labels(frame))


def leaderboard_table(board: pd.DataFrame) -> None:
    table(board[[c for c in BOARD_COLUMNS if c in board.columns]], "rs_board_table")


def pair_test(store: Store, eval_id: str, board: pd.DataFrame, variant: str) -> None:
    """Two models of the leaderboard compared example by example: paired bootstrap and Wilcoxon."""
    if len(board) < 2:
        return
    st.markdown(f"**{tr('resultados.pair')}**")
    names = dict(zip(board["model_id"], board["display_name"]))
    left, right = st.columns(2)
    a = left.selectbox(tr("resultados.pair_a"), list(names), index=0, key="rs_pair_a", format_func=names.get)
    b = right.selectbox(tr("resultados.pair_b"), list(names), index=1, key="rs_pair_b", format_func=names.get)
    if a == b:
        return
    r = results.compare_pair(store, eval_id, a, b, variant)
    if r.n:
        st.write(tr("resultados.pair_result", diff=num(r.mean_diff, 4, sign=True), low=num(r.low, 4, sign=True),
                    high=num(r.high, 4, sign=True), n=integer(r.n), wins_a=integer(r.wins_a),
                    wins_b=integer(r.wins_b), p_boot=num(r.p_bootstrap, 3), p_wil=num(r.p_wilcoxon, 3)))
        (st.success if r.significant else st.info)(
            tr("resultados.significant" if r.significant else "resultados.not_significant"))


def overview_table(store: Store, eval_id: str) -> None:
    """Every evaluation's models with their mean main metric (new runs and imported sheets)."""
    st.caption(tr("resultados.overview_help"))
    frame = named(results.overview(store, results.main_metric(store, eval_id)))
    keys = text_table()
    frame = frame.assign(source=frame["source"].map(lambda s: tr(f"resultados.source.{s}")
                                                    if f"resultados.source.{s}" in keys else s))
    table(frame.drop(columns=["eval_id", "created_at"]), "rs_overview")


def runs_table(runs: pd.DataFrame) -> None:
    language = lang()
    table(runs.assign(status=runs["status"].map(lambda s: run_status(s, language))), "rs_runs_table")


def criteria_table(crit: pd.DataFrame) -> None:
    st.markdown(f"**{tr('resultados.criteria_table')}**")
    table(crit[CRITERIA_COLUMNS], "rs_criteria_table")
