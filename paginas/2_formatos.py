"""Page 2 "Formatos": one curated example in every training format side by side (the exact text each
model sees), tokens per format with overhead and context overflow, the validation report, the
price and hardware tables, the cost/time estimate, and export with a download.

    streamlit run app.py        # then open /formatos

Thin page: widgets → FormatView (+ TemplateConfig) → core.formats.render / core.formats.stats /
core.formats.validate / core.costs.estimates → draw. CLI twins: ``python -m core export | validate | estimate``.
Model text is drawn with st.code (never Markdown or HTML).
"""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.background import Task, Tasks
from core.bundled import bundled_model_dir, is_bundled
from core.costs.calibrate import CalibrationConfig, calibration_job, list_calibrations, start_calibration
from core.costs.estimates import Estimate, estimate_local, estimate_openai, save_estimate
from core.costs.prices import list_hardware, list_prices, save_hardware, save_prices
from core.data.curated import read_manifest, read_split, resolve_source
from core.errors import UserFacingError
from core.formats.export import default_export_path, export_training_file
from core.formats.render import FORMATS, PRESETS, TemplateConfig, render_text, to_records
from core.formats.stats import (
    FormatStats,
    FormatView,
    all_format_stats,
    context_report,
    context_targets,
    default_system_tokens,
    tokenizer_for_format,
)
from core.formats.validate import validate_records
from core.selection import DEFAULT_DATASET, available_datasets
from core.tokens import get_counter
from locales import t, text_table
from ui import selection
from ui.common import get_store, help_for, lang, show_error, tr
from ui.core_text import estimate_summary
from ui.numbers import chart as localized
from ui.numbers import duration, integer, num, usd

store = get_store()
st.title(tr("formatos.title"))
st.caption(tr("formatos.intro"))
LANG = lang()
TEXT_KEYS = set(text_table())


def labels(prefix: str) -> Any:
    """A pure format_func (the language is fixed for this run)."""
    return lambda value: t(f"{prefix}{value}", LANG)


def init(key: str, value: Any) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def apply_preset() -> None:
    preset = PRESETS[st.session_state["formatos_preset"]]
    st.session_state["formatos_system"] = preset.system_prompt
    st.session_state["formatos_user"] = preset.user_template
    st.session_state["formatos_assistant"] = preset.assistant_template


def step_example(delta: int, total: int) -> None:
    st.session_state["formatos_example"] = min(max(1, st.session_state["formatos_example"] + delta), total)


@st.cache_data(show_spinner=False, max_entries=8)
def load_rows(folder: str, split: str, mtime: float) -> list[dict[str, str]]:
    return read_split(Path(folder), split)


@st.cache_resource(show_spinner=False)
def _stats_tasks() -> Tasks:
    return Tasks(keep=16, name="format-stats")


def stats_task(rows: list[dict[str, str]], key: tuple[Any, ...], template: TemplateConfig, local: str,
               encoding: str) -> Task:
    """Every format's token statistics, counted in a background thread of the app: a first visit
    loads the local tokenizer (the bundled model's is converted from GGUF once, ~20-60 s), and the
    page shows the progress meanwhile instead of nothing; a reload follows the same count."""
    def work(report: Any) -> dict[str, FormatStats]:
        report(0.0, t("formatos.loading_tokenizer", LANG, model=local))
        get_counter(tokenizer_for_format("alpaca", local, encoding))  # the slow part of a first visit
        def progress(fraction: float, fmt: str) -> None:
            report(fraction, t("formatos.counting", LANG, fmt=t(f"formatos.fmt_{fmt}", LANG),
                               done=FORMATS.index(fmt) + 1, total=len(FORMATS)))
        return all_format_stats(rows, template, local, encoding, progress=progress)

    return _stats_tasks().start(key, work)


def follow_stats(task: Task, local: str) -> dict[str, FormatStats]:
    if not task.done:
        if is_bundled(local) and not (bundled_model_dir(convert=False) / "model.safetensors").exists():
            note = st.info(tr("formatos.first_tokenizer", model=local), icon=":material/hourglass_top:")
        else:
            note = st.empty()
        bar = st.empty()
        while not task.wait(0.25):
            bar.progress(max(task.fraction, 0.02), text=tr("formatos.counting_elapsed", message=task.message or "…",
                                                           seconds=f"{time.time() - task.started_at:.0f}"))
        bar.empty()
        note.empty()
    return task.outcome()


# -- inputs: dataset, models, template -----------------------------------------------------------
prices = list_prices(store)
openai_models = [p["model"] for p in prices]
init("formatos_preset", "seed-openai")
if "formatos_user" not in st.session_state:
    apply_preset()

cols = st.columns([3, 2, 1.4, 2, 2, 1.4])
sources = available_datasets(store)
selection.start("formatos_source", "dataset", sources, default=DEFAULT_DATASET)
source = cols[0].selectbox(tr("formatos.source"), sources, key="formatos_source", help=help_for(FormatView, "source"),
                           on_change=selection.chosen, args=("formatos_source", "dataset"))
folder_text = cols[1].text_input(tr("formatos.folder"), key="formatos_folder", placeholder="dados/curated/…/v1")
split = cols[2].radio(tr("formatos.split"), ["train", "test"], key="formatos_split", horizontal=True,
                      format_func=labels("formatos.split_"), help=help_for(FormatView, "split"))
local_model = cols[3].text_input(tr("formatos.local_model"), value="smollm2", key="formatos_local_model",
                                 help=help_for(FormatView, "local_model"))
if openai_models and st.session_state.get("formatos_openai_model") not in openai_models:
    st.session_state["formatos_openai_model"] = next(  # the seed study's model, else the first active one
        (m for m in openai_models if m == FormatView.openai_model), openai_models[0])
openai_model = cols[4].selectbox(tr("formatos.openai_model"), openai_models, key="formatos_openai_model",
                                 help=help_for(FormatView, "openai_model"))
seq_len = cols[5].number_input(tr("formatos.seq_len"), min_value=16, max_value=131072, value=512, step=64,
                               key="formatos_seq_len", help=help_for(FormatView, "seq_len"))

with st.expander(tr("formatos.template"), expanded=True):
    tcols = st.columns([2, 3, 3, 2])
    tcols[0].selectbox(tr("formatos.preset"), list(PRESETS), key="formatos_preset", on_change=apply_preset,
                       format_func=labels("formatos.preset_"))
    system = tcols[1].text_area(tr("formatos.system"), key="formatos_system", height=68,
                                help=help_for(TemplateConfig, "system_prompt"))
    user = tcols[2].text_input(tr("formatos.user"), key="formatos_user", help=help_for(TemplateConfig, "user_template"))
    assistant = tcols[3].text_input(tr("formatos.assistant"), key="formatos_assistant",
                                    help=help_for(TemplateConfig, "assistant_template"))

try:
    template = TemplateConfig(system_prompt=system, user_template=user, assistant_template=assistant)
    view = FormatView(source=folder_text.strip() or source, split=split, local_model=local_model.strip(),
                      openai_model=openai_model or "gpt-4o-mini-2024-07-18", seq_len=int(seq_len), template=template,
                      fmt=st.session_state.get("formatos_format", "openai-chat"))
    folder = resolve_source(view.source, store)
    mtime = (folder / f"{view.split}.jsonl").stat().st_mtime if (folder / f"{view.split}.jsonl").exists() else 0.0
    rows = load_rows(str(folder), view.split, mtime)
    if not rows:
        st.info(tr("formatos.no_rows"))
        st.stop()
    stats = follow_stats(stats_task(rows, (str(folder), view.split, mtime, template.to_json(), view.local_model,
                                           view.openai_encoding), template, view.local_model, view.openai_encoding),
                         view.local_model)
except UserFacingError as exc:
    show_error(exc)
    st.stop()

# -- one example, every format --------------------------------------------------------------------
init("formatos_example", 1)
st.session_state["formatos_example"] = min(st.session_state["formatos_example"], len(rows))
ecols = st.columns([1, 1.2, 1, 8], vertical_alignment="bottom")
ecols[0].button(tr("formatos.prev"), key="formatos_prev", on_click=step_example, args=(-1, len(rows)),
                width="stretch")
index = int(ecols[1].number_input(tr("formatos.example"), min_value=1, max_value=len(rows), key="formatos_example")) - 1
ecols[2].button(tr("formatos.next"), key="formatos_next", on_click=step_example, args=(1, len(rows)),
                width="stretch")
ecols[3].caption(tr("formatos.example_of", n=integer(index + 1), total=integer(len(rows)), title=rows[index]["title"]))

hcols = st.columns([6, 2], vertical_alignment="bottom")
hcols[0].subheader(tr("formatos.side_by_side"))
marks = hcols[1].toggle(tr("formatos.show_breaks"), key="formatos_breaks", help=tr("formatos.show_breaks_help"))
row = rows[index]
try:
    records = {fmt: to_records([row], fmt, template, view.local_model)[0] for fmt in FORMATS}
    texts = {fmt: render_text(records[fmt], fmt, template, view.local_model) for fmt in FORMATS}
except UserFacingError as exc:
    show_error(exc)
    st.stop()
for fmt, column in zip(FORMATS, st.columns(len(FORMATS))):
    with column:
        s = stats[fmt]
        st.markdown(f"**{tr('formatos.fmt_' + fmt)}**")
        st.caption(tr("formatos.tokens_caption", tokens=integer(s.counts[index]), tokenizer=s.tokenizer,
                      raw=integer(s.raw_counts[index]), overhead=integer(s.counts[index] - s.raw_counts[index])))
        shown = texts[fmt].replace("\n", "↵\n") if marks else texts[fmt]
        st.code(shown, language=None, wrap_lines=True, height=360)
        st.caption(tr("formatos.note_" + fmt))
        with st.expander(tr("formatos.record")):
            st.code(json.dumps(records[fmt], ensure_ascii=False, indent=1), language="json", wrap_lines=True)
if not template.system_prompt:
    added = default_system_tokens(view.local_model)
    if added:
        st.info(tr("formatos.default_system", tokens=integer(added)))

st.radio(tr("formatos.format"), FORMATS, key="formatos_format", horizontal=True, format_func=labels("formatos.fmt_"),
         help=help_for(FormatView, "fmt"))
view = dataclasses.replace(view, fmt=st.session_state["formatos_format"])
tab_tokens, tab_valid, tab_estimate, tab_prices, tab_export = st.tabs(
    [tr("formatos.tab_tokens"), tr("formatos.tab_validation"), tr("formatos.tab_estimate"), tr("formatos.tab_prices"),
     tr("formatos.tab_export")])

# -- tokens ---------------------------------------------------------------------------------------
with tab_tokens:
    st.markdown(f"**{tr('formatos.stats_title')}**")
    table = pd.DataFrame([s.as_row() for s in stats.values()])
    table["format"] = [tr("formatos.fmt_" + f) for f in table["format"]]
    names = {"format": "formatos.col_format", "tokenizer": "formatos.col_tokenizer", "mean": "formatos.col_mean",
             "raw_mean": "formatos.col_raw_mean", "overhead_mean": "formatos.col_overhead",
             "overhead_pct": "formatos.col_overhead_pct", "total": "formatos.col_total"}
    st.dataframe(table.drop(columns=["examples"]).rename(columns={k: tr(v) for k, v in names.items()}),
                 hide_index=True, width="stretch")
    chart = go.Figure([
        go.Bar(name=tr("formatos.chart_raw"), x=[tr("formatos.fmt_" + f) for f in stats],
               y=[s.raw_mean for s in stats.values()], marker_color="#9db4d0"),
        go.Bar(name=tr("formatos.chart_overhead"), x=[tr("formatos.fmt_" + f) for f in stats],
               y=[max(s.overhead_mean, 0) for s in stats.values()], marker_color="#e07b39",
               text=[f"+{s.overhead_mean:.0f}" for s in stats.values()], textposition="outside"),
    ])
    chart.update_layout(barmode="stack", height=300, margin={"t": 10, "b": 10}, yaxis_title=tr("formatos.chart_y"),
                        legend={"orientation": "h", "y": 1.1})
    st.plotly_chart(localized(chart), width="stretch", key="formatos_chart")
    st.markdown(f"**{tr('formatos.context_title')}**")
    report = pd.DataFrame(context_report(stats, context_targets(view, [openai_model] if openai_model else [])))
    report["format"] = [tr("formatos.fmt_" + f) for f in report["format"]]
    report["note"] = [tr("formatos.limit_" + n) for n in report["note"]]
    cnames = {"target": "formatos.col_target", "format": "formatos.col_format", "limit": "formatos.col_limit",
              "exceeding": "formatos.col_exceeding", "tokens_cut": "formatos.col_cut",
              "examples": "formatos.col_examples", "note": "formatos.col_note"}
    st.dataframe(report.rename(columns={k: tr(v) for k, v in cnames.items()}), hide_index=True,
                 width="stretch")

all_records = to_records(rows, view.fmt, template, view.local_model)

# -- validation -----------------------------------------------------------------------------------
with tab_valid:
    result = validate_records(all_records, view.fmt, view.openai_model if view.fmt == "openai-chat" else None,
                              name=f"{view.source}:{view.split}")
    fmt_label = tr("formatos.fmt_" + view.fmt)
    if result.ok:
        st.success(tr("formatos.validation_ok", fmt=fmt_label, n=integer(result.n_examples),
                      warnings=integer(len(result.warnings))))
    else:
        st.error(tr("formatos.validation_failed", fmt=fmt_label, errors=integer(len(result.errors)),
                    warnings=integer(len(result.warnings)), n=integer(result.n_examples)))
    if result.stats:
        st.caption(" · ".join(f"{tr('formatos.stat.' + key) if 'formatos.stat.' + key in TEXT_KEYS else key}: "
                              + (integer(value) if isinstance(value, int) and not isinstance(value, bool)
                                 else num(value, 1) if isinstance(value, float) else str(value))
                              for key, value in result.stats.items()))
    if result.problems:
        st.dataframe(pd.DataFrame(result.as_rows()[:1000]), hide_index=True, width="stretch")
    st.caption(tr("formatos.validation_cli"))
    st.code(f"python -m core validate FILE --format {view.fmt}"
            + (f" --model {view.openai_model}" if view.fmt == "openai-chat" else ""), language="bash")


# -- cost and time --------------------------------------------------------------------------------
def show_estimate(est: Estimate) -> None:
    if est.kind == "openai":
        m = st.columns(5)
        m[0].metric(tr("formatos.m_billable"), integer(est.billable_tokens))
        m[1].metric(tr("formatos.m_epochs"), est.epochs)
        m[2].metric(tr("formatos.m_training"), usd(est.train_cost_usd))
        m[3].metric(tr("formatos.m_inference"), usd(est.inference_cost_usd))
        m[4].metric(tr("formatos.m_total"), usd(est.total_cost_usd))
    else:
        m = st.columns(4)
        m[0].metric(tr("formatos.m_tokens"), integer(est.billable_tokens))
        m[1].metric(tr("formatos.m_tps"), integer(est.tokens_per_s) if est.tokens_per_s else "—")
        m[2].metric(tr("formatos.m_time"), duration(est.time_s) if est.time_s is not None else "—")
        m[3].metric(tr("formatos.m_cost"), usd(est.total_cost_usd))
    st.code(estimate_summary(est), language=None, wrap_lines=True)
    if st.button(tr("formatos.save_estimate"), key=f"formatos_save_estimate_{est.kind}"):
        st.success(tr("formatos.estimate_saved", id=save_estimate(store, est)))


def calibration_panel(config: CalibrationConfig) -> None:
    """The button, and the progress of a background calibration (it survives a page reload)."""
    if st.button(tr("formatos.calibrate"), key="formatos_calibrate", help=tr("formatos.calibrate_help")):
        start_calibration(store, config)

    @st.fragment(run_every=1.0)
    def progress() -> None:
        job = calibration_job(config)
        if job is None:
            return
        if job.status == "running":
            st.progress(job.done_steps / max(job.total_steps, 1),
                        text=tr("formatos.calibrating", model=config.model, done=integer(job.done_steps),
                                total=integer(job.total_steps)))
        elif job.status == "failed":
            st.error(tr("formatos.calibration_failed", error=job.error))
        elif job.result is not None:
            st.success(tr("formatos.calibration_done", tps=num(job.result.tokens_per_s, 1), device=job.result.device,
                          step=num(job.result.step_s, 2)))
            if not st.session_state.get(f"formatos_seen_{id(job)}"):
                st.session_state[f"formatos_seen_{id(job)}"] = True
                st.rerun(scope="app")  # the estimate above now has a throughput

    progress()


with tab_estimate:
    try:
        if view.fmt == "openai-chat":
            st.markdown(f"**{tr('formatos.openai_estimate', model=view.openai_model)}**")
            st.warning(tr("formatos.wind_down"))
            epochs = st.columns(4)[0].number_input(tr("formatos.epochs"), min_value=0, max_value=50, value=0,
                                                   key="formatos_epochs")
            test_rows = read_split(folder, "test") if view.split == "train" and (folder / "test.jsonl").exists() else None
            show_estimate(estimate_openai(store, view.openai_model, all_records, test_rows, epochs=int(epochs) or None,
                                          template=template))
        else:
            if view.fmt == "completion":
                st.info(tr("formatos.completion_no_estimate"))
            st.markdown(f"**{tr('formatos.local_estimate', model=view.local_model)}**")
            lcols = st.columns(4)
            local_epochs = lcols[0].number_input(tr("formatos.epochs_local"), 1, 50, 1, key="formatos_local_epochs")
            batch = lcols[1].number_input(tr("formatos.batch_size"), 1, 256, 4, key="formatos_batch")
            source_kind = lcols[2].radio(tr("formatos.throughput"), ["calibration", "hardware", "manual"],
                                         key="formatos_tp_source", format_func=labels("formatos.tp_"))
            hourly = lcols[3].number_input(tr("formatos.usd_per_hour"), 0.0, 1000.0, 0.0, step=0.1, key="formatos_hourly")
            hardware = tps = None
            if source_kind == "hardware":
                hardware = st.selectbox(tr("formatos.hardware"), [h["name"] for h in list_hardware(store)],
                                        key="formatos_hardware")
            elif source_kind == "manual":
                tps = st.number_input(tr("formatos.tokens_per_s"), 1.0, 1e7, 100.0, key="formatos_tps")
            else:
                cal_seq = st.columns(4)[0].number_input(tr("formatos.cal_seq_len"), 16, 4096, 128, step=16,
                                                        key="formatos_cal_seq", help=tr("formatos.cal_seq_len_help"))
                calibration_panel(CalibrationConfig(model=view.local_model, seq_len=int(cal_seq), batch_size=int(batch)))
            show_estimate(estimate_local(
                store, view.local_model, all_records, view.fmt, epochs=int(local_epochs), seq_len=view.seq_len,
                batch_size=int(batch), hardware=hardware, tokens_per_s=tps,
                usd_per_hour=float(hourly) if hourly or source_kind != "hardware" else None))
    except UserFacingError as exc:
        st.info(str(exc))

# -- prices and hardware --------------------------------------------------------------------------
with tab_prices:
    st.markdown(f"**{tr('formatos.prices_title')}**")
    st.caption(tr("formatos.prices_caption"))
    edited = st.data_editor(pd.DataFrame(prices), key="formatos_prices", num_rows="dynamic", hide_index=True,
                            width="stretch",
                            column_config={"as_of": st.column_config.DateColumn(), "shutdown_date": st.column_config.DateColumn(),
                                           "retired": st.column_config.CheckboxColumn()})
    if st.button(tr("formatos.save_prices"), key="formatos_save_prices"):
        try:
            st.success(tr("formatos.prices_saved", n=save_prices(store, edited.to_dict("records"))))
        except UserFacingError as exc:
            show_error(exc)
    st.markdown(f"**{tr('formatos.hardware_title')}**")
    st.caption(tr("formatos.hardware_caption"))
    hw = st.data_editor(pd.DataFrame(list_hardware(store)), key="formatos_hardware_table", num_rows="dynamic",
                        hide_index=True, width="stretch")
    if st.button(tr("formatos.save_hardware"), key="formatos_save_hardware"):
        try:
            st.success(tr("formatos.hardware_saved", n=save_hardware(store, hw.to_dict("records"))))
        except UserFacingError as exc:
            show_error(exc)
    calibrations = list_calibrations(store)
    if calibrations:
        st.markdown(f"**{tr('formatos.calibrations_title')}**")
        st.dataframe(pd.DataFrame(calibrations).drop(columns=["key"]), hide_index=True, width="stretch")

# -- export ---------------------------------------------------------------------------------------
with tab_export:
    name = read_manifest(folder).get("name") if folder_text.strip() else None
    source_name = str(name or Path(view.source).name if folder_text.strip() else view.source)
    target = default_export_path(source_name, view.fmt, view.split)
    st.caption(tr("formatos.export_to", path=f"`{target}`"))  # as code: Markdown made "name@v1_..." a mailto link
    if st.button(tr("formatos.export"), key="formatos_export", type="primary"):
        try:
            done = export_training_file(rows, view.fmt, template, target, tokenizer_spec=view.local_model,
                                        source=source_name, split=view.split)
            st.session_state["formatos_exported"] = str(done.path)
            st.success(tr("formatos.exported", path=f"`{done.path}`", n=integer(done.manifest["examples"]),
                          tokens=integer(done.manifest["tokens"]["total"])))
        except UserFacingError as exc:
            show_error(exc)
    exported = st.session_state.get("formatos_exported")
    if exported and Path(exported).is_file():
        st.download_button(tr("formatos.download", name=Path(exported).name), Path(exported).read_bytes(),
                           file_name=Path(exported).name, mime="application/jsonl", key="formatos_download")
    st.caption(tr("formatos.export_cli"))
    st.code(f"python -m core export {view.source} --format {view.fmt} --split {view.split} --out {target}",
            language="bash")
