"""Page 5's per-example comparison: every example with its reference and each model's answer and
score (filterable by text, models chosen), one example read in full side by side, and a model's
best and worst examples. Model text is drawn with st.text or in table cells, never as Markdown.

    from ui.resultados_examples import examples_tab
    examples_tab(store, eval_id, variant)
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.compare import results
from core.store import Store
from core.store.compare import eval_models
from ui.common import lang, tr
from ui.core_text import metric_label
from ui.numbers import integer, model_name, num
from ui.resultados_tables import styled

TEXT_COLUMNS = ("idx", "title", "reference")


def model_column(column: str) -> str:
    """per_example's columns '<display name>' and '<display name> · <metric>', in the page's language."""
    name, dot, metric = str(column).partition(" · ")
    return f"{model_name(name)}{dot}{metric_label(metric) if metric else ''}"


def examples_tab(store: Store, eval_id: str, variant: str) -> None:
    models = {m["model_id"]: model_name(m["display_name"]) for m in eval_models(store, eval_id)}
    left, right = st.columns([2, 3])
    search = left.text_input(tr("resultados.search"), key="rs_search")
    shown = right.multiselect(tr("resultados.show_models"), list(models), default=list(models), key="rs_shown",
                              format_func=models.get)
    table = results.per_example(store, eval_id, variant, search=search, models=shown or None)
    table = table.rename(columns={c: model_column(c) for c in table.columns if c not in TEXT_COLUMNS})
    st.caption(tr("resultados.rows", n=integer(len(table))))
    columns = {"title": st.column_config.TextColumn(tr("resultados.col.title"), width="medium"),
               "reference": st.column_config.TextColumn(tr("resultados.col.reference"), width="large")}
    for c in table.columns:
        if " · " in c:
            columns[c] = st.column_config.ProgressColumn(c, format="%.2f", min_value=0.0, max_value=_score_max(table[c]))
        elif c not in TEXT_COLUMNS:
            columns[c] = st.column_config.TextColumn(c, width="large")
    st.dataframe(table.drop(columns=["idx"], errors="ignore"), hide_index=True, key="rs_examples",
                 height=min(420, 38 * (len(table) + 1) + 2), column_config=columns)
    if len(table):
        example_detail(table, [models[m] for m in (shown or list(models))])
    best_and_worst(store, eval_id, variant, models)


def _score_max(values: pd.Series) -> float:
    top = values.max()
    return 1.0 if top != top or top <= 1.0 else 100.0  # chrF/BLEU are 0..100, the rest 0..1


def example_detail(table: pd.DataFrame, names: list[str]) -> None:
    """One example read in full: the title, the reference and every model's answer side by side."""
    titles = list(table["title"])
    pick = st.selectbox(tr("resultados.example"), range(len(titles)), key="rs_example_pick",
                        format_func=lambda i: titles[i])
    row = table.iloc[pick if pick is not None and pick < len(table) else 0]
    cols = st.columns(1 + len(names))
    cols[0].markdown(f"**{tr('resultados.col.reference')}**")
    cols[0].text(row["reference"])
    for col, name in zip(cols[1:], names):
        score: Any = row.get(next((c for c in table.columns if c.startswith(f"{name} · ")), ""), None)
        col.markdown(f"**{name}**" + (f" · {num(score, 3)}" if isinstance(score, float) and score == score else ""))
        col.text(row.get(name) or "")  # model text: never rendered as Markdown or HTML


def best_and_worst(store: Store, eval_id: str, variant: str, models: dict[str, str]) -> None:
    st.markdown(f"**{tr('resultados.extremes')}**")
    model = st.selectbox(tr("resultados.extremes_model"), list(models), key="rs_extreme_model", format_func=models.get)
    best, worst = results.extremes(store, eval_id, model, k=3, variant=variant)
    shown_columns = {"score": st.column_config.NumberColumn(tr("resultados.col.main"), width="small"),
                     "title": st.column_config.TextColumn(tr("resultados.col.title"), width="medium"),
                     "answer": st.column_config.TextColumn(tr("resultados.col.answer"), width="large")}
    left, right = st.columns(2)
    left.markdown(f"*{tr('resultados.best')}*")
    left.dataframe(styled(best[["score", "title", "answer"]], lang()), hide_index=True, key="rs_best",
                   column_config=shown_columns)
    right.markdown(f"*{tr('resultados.worst')}*")
    right.dataframe(styled(worst[["score", "title", "answer"]], lang()), hide_index=True, key="rs_worst",
                    column_config=shown_columns)
