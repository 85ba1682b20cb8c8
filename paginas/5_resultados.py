"""Page 5 "Resultados": batch evaluation on the held-out split, leaderboard, cost/time charts with
the Pareto front, the seed study's four criteria, flexibility across prompt variants, per-example
comparison, xlsx export and import of old comparison sheets.

    streamlit run app.py        # then open /resultados

Thin page, read top-down as the user sees it: the new-evaluation form (ui.resultados_eval_form:
widgets → EvalConfig → core.compare.evaluate.start_evaluation, a background thread of the app
process; progress lives in the evaluations table, so the bar survives a page reload) → the
evaluation and its progress (ui.resultados_progress) → the leaderboard → the charts (accuracy vs
cost with the Pareto front, the four criteria; ui.results_charts) → the per-example table
(ui.resultados_examples) → xlsx and import (ui.resultados_files). Numbers are the DataFrames of
core.compare.results; tables are drawn by ui.resultados_tables. The CLI twins: ``python -m core eval``,
``python -m core report --xlsx FILE``, ``python -m core import FILE``.
"""
from __future__ import annotations

from functools import partial

import streamlit as st

from core.compare import results
from ui import results_charts as charts
from ui.common import get_store, lang, tr
from ui.model_choice import registered_models
from ui.resultados_checkpoints import checkpoints_tab
from ui.resultados_confianca import trust_tab
from ui.resultados_eval_form import eval_form, variant_label
from ui.resultados_examples import examples_tab
from ui.resultados_files import import_section, xlsx_section
from ui.resultados_linhagem import lineage_tab
from ui.resultados_progress import choose_evaluation, progress_panel
from ui.resultados_tables import criteria_table, leaderboard_table, named, overview_table, pair_test, runs_table

store = get_store()
st.title(tr("resultados.title"))
st.caption(tr("resultados.intro"))
LANG = lang()

MODELS = registered_models(store)  # display names in the page's language


# -- the leaderboard, then the charts: accuracy vs cost (Pareto front), time, the four criteria ------
def leaderboard_tab(eval_id: str, variant: str) -> None:
    board = named(results.leaderboard(store, eval_id, variant=variant))
    if board.empty:
        st.info(tr("resultados.chart.no_data"))
        return
    st.plotly_chart(charts.leaderboard_figure(board, LANG), key="rs_fig_board")
    leaderboard_table(board)
    pair_test(store, eval_id, board, variant)


def costs_tab(eval_id: str) -> None:
    left, right = st.columns(2)
    left.plotly_chart(charts.cost_accuracy_figure(named(results.cost_accuracy(store, eval_id)), LANG), key="rs_fig_cost")
    right.plotly_chart(charts.cost_breakdown_figure(named(results.cost_breakdown(store, eval_id)), LANG),
                       key="rs_fig_parts")
    runs = results.runs_summary(store)
    st.markdown(f"**{tr('resultados.runs')}**")
    if runs.empty:
        st.info(tr("resultados.no_runs"))
        return
    left, right = st.columns(2)
    left.plotly_chart(charts.training_figure(runs, LANG), key="rs_fig_training")
    right.plotly_chart(charts.loss_figure(results.loss_curves(store), LANG), key="rs_fig_loss")
    runs_table(runs)


def criteria_tab(eval_id: str) -> None:
    crit = named(results.criteria(store, eval_id))
    st.caption(tr("resultados.criteria_help"))
    st.plotly_chart(charts.criteria_figure(crit, LANG), key="rs_fig_criteria")
    if not crit.empty:
        criteria_table(crit)
    flex = named(results.flexibility(store, eval_id))
    st.plotly_chart(charts.flexibility_figure(flex, LANG, partial(variant_label, language=LANG)), key="rs_fig_flex")


# -- the page ------------------------------------------------------------------------------------------
eval_form(store, MODELS)
EVAL_ID = choose_evaluation(store)
if EVAL_ID:
    progress_panel(store, EVAL_ID)
    variants = results.variants_of(store, EVAL_ID)
    VARIANT = st.radio(tr("resultados.variant"), variants, horizontal=True, key="rs_variant",
                       format_func=partial(variant_label, language=LANG)) if len(variants) > 1 else \
        (variants[0] if variants else "default")
    with st.expander(tr("resultados.overview")):
        overview_table(store, EVAL_ID)
# The study-wide tabs (checkpoints, trust, lineage) need no evaluation chosen: they come last.
tabs = st.tabs([tr("resultados.tab.leaderboard"), tr("resultados.tab.costs"), tr("resultados.tab.criteria"),
                tr("resultados.tab.examples"), tr("resultados.tab.files"), tr("resultados.tab.checkpoints"),
                tr("resultados.tab.trust"), tr("resultados.tab.lineage")])
if EVAL_ID:
    with tabs[0]:
        leaderboard_tab(EVAL_ID, VARIANT)
    with tabs[1]:
        costs_tab(EVAL_ID)
    with tabs[2]:
        criteria_tab(EVAL_ID)
    with tabs[3]:
        examples_tab(store, EVAL_ID, VARIANT)
    with tabs[4]:
        xlsx_section(store, EVAL_ID)
        import_section(store)
else:
    for tab in tabs[:4]:
        tab.info(tr("resultados.no_evaluation"))
    with tabs[4]:
        import_section(store)
with tabs[5]:
    checkpoints_tab(store, LANG)
with tabs[6]:
    trust_tab(store, LANG)
with tabs[7]:
    lineage_tab(store, LANG)
