"""Page 2's cost and time estimate of the chosen format: an OpenAI fine-tune (billable tokens, the
training and inference cost, with the wind-down warning) for openai-chat, a local LoRA fine-tune
(tokens processed, throughput from a calibration, the hardware table or a typed figure, time and
cost) for the others; the summary in the UI language, a button that keeps the estimate, and the
calibration button with its progress (a background job that survives a page reload).

    estimate_panel(store, view, folder, records)       # core.costs.estimates does the counting
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from core.costs.calibrate import CalibrationConfig, calibration_job, start_calibration
from core.costs.estimates import Estimate, estimate_local, estimate_openai, save_estimate
from core.costs.prices import list_hardware
from core.errors import UserFacingError
from core.formats.stats import FormatView
from core.store import Store
from locales import t
from ui.common import lang, tr
from ui.core_text import estimate_summary
from ui.numbers import duration, integer, num, usd

THROUGHPUT_SOURCES = ["calibration", "hardware", "manual"]


def _show(store: Store, est: Estimate) -> None:
    """The estimate's headline figures, its summary, and a button that keeps it."""
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


def _calibration(store: Store, config: CalibrationConfig) -> None:
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


def _openai(store: Store, view: FormatView, folder: Path, records: list[dict[str, Any]]) -> Estimate:
    st.markdown(f"**{tr('formatos.openai_estimate', model=view.openai_model)}**")
    st.warning(tr("formatos.wind_down"))
    epochs = st.columns(4)[0].number_input(tr("formatos.epochs"), min_value=0, max_value=50, value=0,
                                           key="formatos_epochs")
    return estimate_openai(store, view.openai_model, records, view.held_out_rows(folder), epochs=int(epochs) or None,
                           template=view.template)


def _local(store: Store, view: FormatView, records: list[dict[str, Any]]) -> Estimate:
    if view.fmt == "completion":
        st.info(tr("formatos.completion_no_estimate"))
    st.markdown(f"**{tr('formatos.local_estimate', model=view.local_model)}**")
    cols = st.columns(4)
    epochs = cols[0].number_input(tr("formatos.epochs_local"), 1, 50, 1, key="formatos_local_epochs")
    batch = cols[1].number_input(tr("formatos.batch_size"), 1, 256, 4, key="formatos_batch")
    language = lang()
    source_kind = cols[2].radio(tr("formatos.throughput"), THROUGHPUT_SOURCES, key="formatos_tp_source",
                                format_func=lambda kind: t(f"formatos.tp_{kind}", language))
    hourly = cols[3].number_input(tr("formatos.usd_per_hour"), 0.0, 1000.0, 0.0, step=0.1, key="formatos_hourly")
    hardware = tps = None
    if source_kind == "hardware":
        hardware = st.selectbox(tr("formatos.hardware"), [h["name"] for h in list_hardware(store)],
                                key="formatos_hardware")
    elif source_kind == "manual":
        tps = st.number_input(tr("formatos.tokens_per_s"), 1.0, 1e7, 100.0, key="formatos_tps")
    else:
        cal_seq = st.columns(4)[0].number_input(tr("formatos.cal_seq_len"), 16, 4096, 128, step=16,
                                                key="formatos_cal_seq", help=tr("formatos.cal_seq_len_help"))
        _calibration(store, CalibrationConfig(model=view.local_model, seq_len=int(cal_seq), batch_size=int(batch)))
    # a hardware row's own price per hour applies unless one is typed
    return estimate_local(store, view.local_model, records, view.fmt, epochs=int(epochs), seq_len=view.seq_len,
                          batch_size=int(batch), hardware=hardware, tokens_per_s=tps,
                          usd_per_hour=float(hourly) if hourly or source_kind != "hardware" else None)


def estimate_panel(store: Store, view: FormatView, folder: Path, records: list[dict[str, Any]]) -> None:
    """The estimate of ``view.fmt``'s ``records``; what is missing for one (no throughput yet, no
    price) is said in one sentence."""
    try:
        est = _openai(store, view, folder, records) if view.fmt == "openai-chat" else _local(store, view, records)
    except UserFacingError as exc:
        st.info(str(exc))
        return
    _show(store, est)
