"""Page 5 "Resultados": batch evaluation on the held-out split, leaderboard, cost/time charts with
the Pareto front, the seed study's four criteria, flexibility across prompt variants, per-example
comparison, xlsx export and import of old comparison sheets.

    streamlit run app.py        # then open /resultados

Thin page: widgets → EvalConfig → core.compare.evaluate.start_evaluation (a background thread of the app
process; progress lives in the evaluations table, so the bar survives a page reload) → draw the
DataFrames of core.compare.results with ui.results_charts. The CLI twins: ``python -m core eval``,
``python -m core report --xlsx FILE``, ``python -m core import FILE``.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.compare import results
from core.compare.evaluate import EvalConfig, cancel_evaluation, evaluation_state, load_config, start_evaluation
from core.compare.metrics import DEFAULT_METRICS, DEFAULT_RUBRIC
from core.compare.prompt_variants import VARIANTS
from core.compare.xlsx import import_sheet, write_report
from core.data.datasets import safe_upload_name
from core.errors import UserFacingError
from core.models.registry import BUNDLED_ID, REMOTE_KINDS, available_models
from core.paths import results_dir, seed_dir
from core.selection import DEFAULT_DATASET, available_datasets
from core.store.compare import delete_evaluation, eval_models, list_evaluations
from locales import t, text_table
from ui import results_charts as charts
from ui import selection
from ui.common import get_store, help_for, lang, openai_key_for, show_error, tr
from ui.core_text import metric_label
from ui.numbers import chart, integer, model_name, num

store = get_store()
st.title(tr("resultados.title"))
st.caption(tr("resultados.intro"))
LANG = lang()
TEXT_KEYS = set(text_table())


def text(key: str) -> str:
    """UI text for charts (a plain function: charts call it outside the script's widgets)."""
    return t(key, LANG)


try:
    # display names as the registry stores them, "(bundled)" and "(step N)" in the page's language
    MODELS: dict[str, dict[str, Any]] = {m["id"]: {**m, "display_name": model_name(m["display_name"])}
                                         for m in available_models(store)}
except UserFacingError as exc:
    show_error(exc)
    st.stop()


def variant_label(name: str) -> str:
    v = VARIANTS[name]
    return v.label_pt if LANG == "pt" else v.label_en


def variant_label_any(name: str) -> str:
    return variant_label(name) if name in VARIANTS else name


def metric_name(name: str) -> str:
    """A pure format_func (the language is fixed for this run)."""
    return metric_label(name, LANG)


def named(frame: Any) -> Any:
    """A results table with its model names in the page's language (see MODELS)."""
    if "display_name" in getattr(frame, "columns", ()):
        frame = frame.assign(display_name=frame["display_name"].map(model_name))
    return frame


def model_column(column: str) -> str:
    """per_example's columns: '<display name>' and '<display name> · <metric>'."""
    name, dot, metric = str(column).partition(" · ")
    return f"{model_name(name)}{dot}{metric}"


# -- launching an evaluation ------------------------------------------------------------------------
def launch_form() -> None:
    with st.expander(tr("resultados.launch"), expanded=not list_evaluations(store)):
        if not MODELS:
            st.info(tr("resultados.no_models"))
            return
        ids = list(MODELS)
        # the URL's models, else the current ones (a launched run's base and, once made, its fine-tune)
        selection.start_models("rs_models", ids, [BUNDLED_ID] if BUNDLED_ID in MODELS else ids[:1])
        models = st.multiselect(tr("resultados.models"), ids, key="rs_models",
                                format_func=lambda m: f"{MODELS[m]['display_name']} · {MODELS[m]['kind']}",
                                help=help_for(EvalConfig, "models"), on_change=selection.chosen,
                                args=("rs_models", "models"))
        left, middle, right = st.columns(3)
        sources = available_datasets(store)
        selection.start("rs_data", "dataset", sources, default=DEFAULT_DATASET)
        data = left.selectbox(tr("resultados.data"), sources, key="rs_data", help=help_for(EvalConfig, "data"),
                              on_change=selection.chosen, args=("rs_data", "dataset"))
        split = middle.selectbox(tr("resultados.split"), ["test", "train"], key="rs_split",
                                 format_func=lambda s: t(f"formatos.split_{s}", LANG), help=help_for(EvalConfig, "split"))
        limit = right.number_input(tr("resultados.limit"), min_value=0, value=20, step=10, key="rs_limit",
                                   help=help_for(EvalConfig, "limit"))
        variants = st.multiselect(tr("resultados.variants"), list(VARIANTS), default=["default"], key="rs_variants",
                                  format_func=variant_label, help=help_for(EvalConfig, "variants"))
        with st.popover(tr("resultados.variant_notes")):
            for v in VARIANTS.values():
                template = v.user_template or tr("variant.as_trained")
                st.markdown(f"**{variant_label(v.name)}** — `{template}`  \n"
                            f"{v.note_pt if LANG == 'pt' else v.note_en}")
        c1, c2, c3, c4 = st.columns(4)
        metrics = c1.multiselect(tr("resultados.metrics"), list(DEFAULT_METRICS), default=list(DEFAULT_METRICS),
                                 key="rs_metrics", format_func=metric_name, help=help_for(EvalConfig, "metrics"))
        main = c2.selectbox(tr("resultados.main_metric"), ["semantic", "rougeL", "chrf", "bleu", "judge"],
                            key="rs_main", format_func=metric_name, help=help_for(EvalConfig, "main_metric"))
        max_new = c3.number_input(tr("resultados.max_new_tokens"), 8, 1024, 96, step=16, key="rs_max_new",
                                  help=help_for(EvalConfig, "max_new_tokens"))
        seed = c4.number_input(tr("resultados.seed"), 0, 2**31 - 1, 0, key="rs_seed", help=help_for(EvalConfig, "seed"))
        batch = c4.number_input(tr("resultados.batch_size"), 1, 256, 16, key="rs_batch",
                                help=help_for(EvalConfig, "batch_size"))
        judge_model, rubric = judge_section()
        api_key, key_ready = api_key_for(models + ([judge_model] if judge_model else []))
        if st.button(tr("resultados.start"), type="primary", key="rs_start", disabled=not models or not key_ready):
            try:
                config = EvalConfig(models=models, data=data, split=split, limit=int(limit) or None, seed=int(seed),
                                    variants=variants or ["default"], metrics=metrics or list(DEFAULT_METRICS),
                                    main_metric=main, max_new_tokens=int(max_new), batch_size=int(batch),
                                    judge_model=judge_model, judge_rubric=rubric)
                eval_id = start_evaluation(store, config, api_key=api_key)
            except UserFacingError as exc:
                show_error(exc)
            else:
                st.session_state["rs_eval"] = eval_id
                st.toast(tr("resultados.started", eval_id=eval_id))


def judge_section() -> tuple[str | None, str]:
    st.markdown(f"**{tr('resultados.judge')}**")
    on = st.toggle(tr("resultados.judge_on"), key="rs_judge_on", help=help_for(EvalConfig, "judge_model"))
    if not on:
        return None, DEFAULT_RUBRIC
    judges = [m for m, row in MODELS.items() if row["kind"] in REMOTE_KINDS]
    if not judges:
        st.info(tr("resultados.judge_none"))
        return None, DEFAULT_RUBRIC
    judge = st.selectbox(tr("resultados.judge_model"), judges, key="rs_judge_model")
    rubric = st.text_area(tr("resultados.rubric"), DEFAULT_RUBRIC, height=260, key="rs_rubric",
                          help=help_for(EvalConfig, "judge_rubric"))
    return judge, rubric


def api_key_for(model_ids: list[str]) -> tuple[str | None, bool]:
    return openai_key_for([MODELS[m]["kind"] for m in model_ids if m in MODELS], "rs_api_key", "resultados")


# -- choosing an evaluation and following its progress -----------------------------------------------
def choose_evaluation() -> str | None:
    rows = list_evaluations(store, "eval") + list_evaluations(store, "import")  # own runs first, then old sheets
    if not rows:
        st.info(tr("resultados.none_yet"))
        return None
    ids = [r["id"] for r in rows]
    titles = {r["id"]: f"{r['title']} · {r['id']}" for r in rows}
    wanted = st.session_state.get("rs_eval")
    if wanted in ids and st.session_state.get("rs_eval_select") != wanted:
        st.session_state["rs_eval_select"] = wanted
    if st.session_state.get("rs_eval_select") not in ids:
        st.session_state["rs_eval_select"] = ids[0]
    eval_id = st.selectbox(tr("resultados.evaluation"), ids, key="rs_eval_select", format_func=titles.get)
    st.session_state["rs_eval"] = eval_id
    return eval_id


def progress_panel(eval_id: str) -> None:
    try:
        state = evaluation_state(store, eval_id)
    except UserFacingError:
        return
    if state["state"] in ("queued", "running", "cancelling"):
        running_panel(eval_id)
    else:
        finished_panel(state)


@st.fragment(run_every=2.0)
def running_panel(eval_id: str) -> None:
    """Re-drawn every 2 s from the DB (so it survives a reload); when the run ends the whole page
    reruns to show the results."""
    state = evaluation_state(store, eval_id)
    if state["state"] not in ("queued", "running", "cancelling"):
        st.rerun(scope="app")
    phase = tr(f"resultados.phase.{state['phase'] or 'queued'}")
    st.progress(min(1.0, state["fraction"]), text=tr("resultados.progress", phase=phase, done=state["done"] or 0,
                                                       total=state["total"] or 0))
    if st.button(tr("resultados.cancel"), key="rs_cancel"):
        cancel_evaluation(store, eval_id)


def finished_panel(state: dict[str, Any]) -> None:
    eval_id = state["id"]
    values = {"done": state["done"] or 0, "total": state["total"] or 0, "message": state["status_message"] or ""}
    key = f"resultados.state.{state['state']}"
    message = tr(key, **values) if state["state"] in ("succeeded", "imported", "cancelled", "interrupted", "failed") \
        else str(state["state"])
    if state["state"] == "failed":
        st.error(message)
    elif state["state"] in ("cancelled", "interrupted"):
        st.warning(message)
    else:
        extra = f" {values['message']}" if values["message"] and state["state"] == "succeeded" else ""
        wall = f" · {integer(state['wall_s'])} s" if state.get("wall_s") else ""
        st.caption(message + wall + extra)
    resumable = state["source"] == "eval" and state["state"] in ("cancelled", "interrupted", "failed")
    buttons = iter(st.columns([1, 1, 5] if resumable else [1, 6]))
    if resumable and next(buttons).button(tr("resultados.resume"), key="rs_resume", type="primary"):
        try:
            start_evaluation(store, load_config(store, eval_id), eval_id,
                             api_key=st.session_state.get("rs_api_key") or None)
        except UserFacingError as exc:
            show_error(exc)
        else:
            st.rerun()
    with next(buttons).popover(tr("resultados.delete"), icon=":material/delete:"):
        if st.button(tr("resultados.delete_confirm", eval_id=eval_id), key="rs_delete", type="primary"):
            delete_evaluation(store, eval_id)
            st.session_state.pop("rs_eval", None)
            st.rerun()


# -- the results -------------------------------------------------------------------------------------
def column_labels(frame: Any) -> dict[str, Any]:
    """Readable, translated headers and number formats (metric names stay as papers write them)."""
    config: dict[str, Any] = {}
    for c in frame.columns:
        label = tr(f"resultados.col.{c}") if f"resultados.col.{c}" in TEXT_KEYS else metric_label(str(c))
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]):
            config[c] = st.column_config.Column(label)
        elif c in ("rank", "n", "errors", "trained_tokens"):
            config[c] = st.column_config.NumberColumn(label, format="%d")
        elif "cost" in str(c) or str(c).endswith("_usd"):
            config[c] = st.column_config.NumberColumn(label, format="$%.4f")
        else:
            config[c] = st.column_config.NumberColumn(label, format="%.3f")
    return config


def leaderboard_tab(eval_id: str, variant: str) -> None:
    board = named(results.leaderboard(store, eval_id, variant=variant))
    if board.empty:
        st.info(tr("resultados.chart.no_data"))
        return
    figure = charts.leaderboard_figure(board, text)
    if not board["main"].isna().all():  # the chart names its metric in English (core.compare.results.METRIC_LABELS)
        metric = metric_label(str(board["main_metric"].iloc[0]))
        figure.update_layout(title=text("resultados.chart.leaderboard").format(metric=metric), xaxis_title=metric)
    st.plotly_chart(chart(figure), key="rs_fig_board")
    shown = [c for c in ("rank", "display_name", "n", "errors", "main", "main_low", "main_high", "rougeL", "chrf",
                         "bleu", "semantic", "judge", "corpus_bleu", "corpus_chrf", "length_ratio", "repetition",
                         "latency_s", "tokens_out", "inference_cost_per_1k") if c in board.columns]
    st.dataframe(board[shown], hide_index=True, key="rs_board_table", column_config=column_labels(board[shown]))
    if len(board) >= 2:
        st.markdown(f"**{tr('resultados.pair')}**")
        names = dict(zip(board["model_id"], board["display_name"]))
        left, right = st.columns(2)
        a = left.selectbox(tr("resultados.pair_a"), list(names), index=0, key="rs_pair_a", format_func=names.get)
        b = right.selectbox(tr("resultados.pair_b"), list(names), index=1, key="rs_pair_b", format_func=names.get)
        if a != b:
            r = results.compare_pair(store, eval_id, a, b, variant)
            if r.n:
                st.write(tr("resultados.pair_result", diff=num(r.mean_diff, 4, sign=True), low=num(r.low, 4, sign=True),
                            high=num(r.high, 4, sign=True), n=integer(r.n), wins_a=integer(r.wins_a),
                            wins_b=integer(r.wins_b), p_boot=num(r.p_bootstrap, 3), p_wil=num(r.p_wilcoxon, 3)))
                (st.success if r.significant else st.info)(
                    tr("resultados.significant" if r.significant else "resultados.not_significant"))


def costs_tab(eval_id: str) -> None:
    points = named(results.cost_accuracy(store, eval_id))
    left, right = st.columns(2)
    figure = charts.cost_accuracy_figure(points, text)
    if "main_metric" in points.columns and len(points):
        figure.update_layout(yaxis_title=metric_label(str(points["main_metric"].iloc[0])))
    left.plotly_chart(chart(figure), key="rs_fig_cost")
    right.plotly_chart(chart(charts.cost_breakdown_figure(named(results.cost_breakdown(store, eval_id)), text)),
                       key="rs_fig_parts")
    runs = results.runs_summary(store)
    st.markdown(f"**{tr('resultados.runs')}**")
    if runs.empty:
        st.info(tr("resultados.no_runs"))
        return
    left, right = st.columns(2)
    left.plotly_chart(chart(charts.training_figure(runs, text)), key="rs_fig_training")
    right.plotly_chart(chart(charts.loss_figure(results.loss_curves(store), text)), key="rs_fig_loss")
    st.dataframe(runs, hide_index=True, key="rs_runs_table", column_config=column_labels(runs))


def criteria_tab(eval_id: str) -> None:
    crit = named(results.criteria(store, eval_id))
    st.caption(tr("resultados.criteria_help"))
    st.plotly_chart(chart(charts.criteria_figure(crit, text)), key="rs_fig_criteria")
    if not crit.empty:
        st.markdown(f"**{tr('resultados.criteria_table')}**")
        raw = ["display_name", "main", "main_low", "main_high", "training_time_s", "tokens_per_s", "training_cost_usd",
               "inference_cost_per_1k", "flex_spread", "flex_mean"]
        st.dataframe(crit[raw], hide_index=True, key="rs_criteria_table", column_config=column_labels(crit[raw]))
    flex = named(results.flexibility(store, eval_id))
    st.plotly_chart(chart(charts.flexibility_figure(flex, text, variant_label_any)), key="rs_fig_flex")


def examples_tab(eval_id: str, variant: str) -> None:
    models = {m["model_id"]: model_name(m["display_name"]) for m in eval_models(store, eval_id)}
    left, right = st.columns([2, 3])
    search = left.text_input(tr("resultados.search"), key="rs_search")
    shown = right.multiselect(tr("resultados.show_models"), list(models), default=list(models), key="rs_shown",
                              format_func=models.get)
    table = results.per_example(store, eval_id, variant, search=search, models=shown or None)
    table = table.rename(columns={c: model_column(c) for c in table.columns if c not in ("idx", "title", "reference")})
    st.caption(tr("resultados.rows", n=integer(len(table))))
    columns = {"title": st.column_config.TextColumn(tr("resultados.col.title"), width="medium"),
               "reference": st.column_config.TextColumn(tr("resultados.col.reference"), width="large")}
    for c in table.columns:
        if " · " in c:
            columns[c] = st.column_config.ProgressColumn(c, format="%.2f", min_value=0.0, max_value=_score_max(table[c]))
        elif c not in ("idx", "title", "reference"):
            columns[c] = st.column_config.TextColumn(c, width="large")
    st.dataframe(table.drop(columns=["idx"], errors="ignore"), hide_index=True, key="rs_examples",
                 height=min(420, 38 * (len(table) + 1) + 2), column_config=columns)
    if len(table):
        example_detail(table, [models[m] for m in (shown or list(models))])
    st.markdown(f"**{tr('resultados.extremes')}**")
    model = st.selectbox(tr("resultados.extremes_model"), list(models), key="rs_extreme_model", format_func=models.get)
    best, worst = results.extremes(store, eval_id, model, k=3, variant=variant)
    shown_columns = {"score": st.column_config.NumberColumn(tr("resultados.col.main"), format="%.3f", width="small"),
                     "title": st.column_config.TextColumn(tr("resultados.col.title"), width="medium"),
                     "answer": st.column_config.TextColumn(tr("resultados.col.answer"), width="large")}
    left, right = st.columns(2)
    left.markdown(f"*{tr('resultados.best')}*")
    left.dataframe(best[["score", "title", "answer"]], hide_index=True, key="rs_best", column_config=shown_columns)
    right.markdown(f"*{tr('resultados.worst')}*")
    right.dataframe(worst[["score", "title", "answer"]], hide_index=True, key="rs_worst", column_config=shown_columns)


def _score_max(values: Any) -> float:
    top = values.max()
    return 1.0 if top != top or top <= 1.0 else 100.0  # chrF/BLEU are 0..100, the rest 0..1


def example_detail(table: Any, names: list[str]) -> None:
    """One example read in full: the title, the reference and every model's answer side by side."""
    titles = list(table["title"])
    pick = st.selectbox(tr("resultados.example"), range(len(titles)), key="rs_example_pick",
                        format_func=lambda i: titles[i])
    row = table.iloc[pick if pick is not None and pick < len(table) else 0]
    cols = st.columns(1 + len(names))
    cols[0].markdown(f"**{tr('resultados.col.reference')}**")
    cols[0].text(row["reference"])
    for col, name in zip(cols[1:], names):
        score = row.get(next((c for c in table.columns if c.startswith(f"{name} · ")), ""), None)
        col.markdown(f"**{name}**" + (f" · {num(score, 3)}" if isinstance(score, float) and score == score else ""))
        col.text(row.get(name) or "")  # model text: never rendered as Markdown or HTML


def files_tab(eval_id: str | None) -> None:
    st.caption(tr("resultados.xlsx_help"))
    if eval_id and st.button(tr("resultados.build_xlsx"), key="rs_build_xlsx"):
        try:
            path = write_report(store, results_dir() / f"comparacao-{eval_id}.xlsx", eval_id)
            st.session_state["rs_xlsx"] = (path.name, path.read_bytes())
        except UserFacingError as exc:
            show_error(exc)
    if st.session_state.get("rs_xlsx"):
        name, data = st.session_state["rs_xlsx"]
        st.download_button(tr("resultados.download_xlsx", name=name), data, file_name=name, key="rs_download",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    import_section()


def import_section() -> None:
    st.markdown(f"**{tr('resultados.import')}**")
    seed_sheet = seed_dir() / "fine_tuning_llama_gpt.ods"
    path: Path | None = None
    if seed_sheet.exists() and st.button(tr("resultados.import_seed"), key="rs_import_seed",
                                         icon=":material/history_edu:"):
        path = seed_sheet
    upload = st.file_uploader(tr("resultados.import_file"), type=["xlsx", "ods", "csv"], key="rs_upload")
    folder: Path | None = None
    if upload is not None and st.button(tr("resultados.import_button"), key="rs_import"):
        folder = Path(tempfile.mkdtemp(prefix="ftdash-import-"))
        path = folder / safe_upload_name(upload.name)  # the browser's name cannot leave the folder
        path.write_bytes(upload.getvalue())
    if path is not None:
        try:
            ids = import_sheet(store, path)
        except UserFacingError as exc:
            show_error(exc)
        else:
            st.session_state["rs_eval"] = ids[0]
            st.session_state["rs_imported"] = tr("resultados.imported", n=len(ids), names=", ".join(ids))
            st.rerun()
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    if st.session_state.get("rs_imported"):
        st.success(st.session_state["rs_imported"])


launch_form()
EVAL_ID = choose_evaluation()
if EVAL_ID:
    progress_panel(EVAL_ID)
    variants = results.variants_of(store, EVAL_ID)
    VARIANT = st.radio(tr("resultados.variant"), variants, horizontal=True, key="rs_variant",
                       format_func=lambda v: variant_label(v) if v in VARIANTS else v) if len(variants) > 1 else \
        (variants[0] if variants else "default")
    with st.expander(tr("resultados.overview")):
        st.caption(tr("resultados.overview_help"))
        table = results.overview(store, results.main_metric(store, EVAL_ID))
        st.dataframe(table.drop(columns=["eval_id", "created_at"]), hide_index=True, key="rs_overview",
                     column_config=column_labels(table.drop(columns=["eval_id", "created_at"])))
    tabs = st.tabs([tr("resultados.tab.leaderboard"), tr("resultados.tab.costs"), tr("resultados.tab.criteria"),
                    tr("resultados.tab.examples"), tr("resultados.tab.files")])
    with tabs[0]:
        leaderboard_tab(EVAL_ID, VARIANT)
    with tabs[1]:
        costs_tab(EVAL_ID)
    with tabs[2]:
        criteria_tab(EVAL_ID)
    with tabs[3]:
        examples_tab(EVAL_ID, VARIANT)
    with tabs[4]:
        files_tab(EVAL_ID)
else:
    import_section()
