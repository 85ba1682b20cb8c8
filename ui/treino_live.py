"""Page 3's runs, live: the run picker, then the chosen run's status, progress, elapsed time, time
left, speed, cost and loss, the estimate beside what happened once it ended, Cancel / Resume (and a
hosted backend's own controls), its loss curve and the tail of its log.

Everything shown comes from the database, which the supervisor (core.training.jobs.poll) fills from
the run folders: here on a 2-second fragment timer while a run is active, so the section refreshes
alone and the page survives a reload, a second tab and an app restart.

    live_runs(store, runs, active)    # runs: {id: row} (filled in place), active: a run not ended
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import streamlit as st

from core.errors import UserFacingError
from core.store import runs as db
from core.training import jobs
from ui import selection
from ui.common import show_error, tr
from ui.numbers import integer, num
from ui.treino_curves import loss_figure
from ui.treino_runs import duration_text, estimate_check, usd_text

K = "treino."
HOSTED = ("openai", "together", "fireworks")


def run_labeller(runs: dict[str, dict[str, Any]]) -> Any:
    """A run's label: stable parts only (id, backend), since a label that changed with the status
    would make Streamlit see a new widget every poll."""
    def label(run_id: str) -> str:
        run = runs.get(run_id)
        return f"{run_id} · {run['backend']}" if run else run_id
    return label


def live_figures(run: dict[str, Any]) -> dict[str, Any]:
    """Elapsed, ETA and cost of a run as of now (a running run's figures move between events)."""
    now = time.time()
    started = run.get("started_at") or run.get("created_at")
    active = run["status"] not in db.TERMINAL
    elapsed = (now - started.timestamp()) if (active and started) else (run.get("wall_s") or run.get("elapsed_s"))
    eta = run.get("eta_s")
    if active and eta is not None and run.get("progress_at"):
        # counts down between progress events; a step slower than the mean does not make it 0 while
        # steps remain: the steps after the current one still take the mean step time
        step, total = run.get("step") or 0, run.get("total_steps") or 0
        mean_step = (run.get("elapsed_s") or 0) / step if step else 0.0
        eta = max(0.0, eta - (now - run["progress_at"].timestamp()), (total - step - 1) * mean_step)
    price = db.config_of(run).get("price_per_hour")
    running_cost = elapsed / 3600 * price if (active and elapsed and price is not None) else None
    return {"elapsed": elapsed, "eta": eta if active else None, "running_cost": running_cost}


def _resume_env(backend: str) -> dict[str, str] | None:
    """A hosted run re-attaches (or continues) with the key typed in this session, if any."""
    typed = st.session_state.get(f"treino.{backend}.api_key") or None
    if backend == "openai":
        from core.hosted.openai_finetune import launch_env

        return launch_env(typed)
    if backend in HOSTED:
        from core.hosted.models import launch_env as hosted_env

        return hosted_env(backend, typed)
    return None


def run_controls(store: Any, run: dict[str, Any]) -> None:
    active = run["status"] not in db.TERMINAL
    cols = st.columns([1, 1, 4])
    if active and cols[0].button(tr("treino.cancel"), key=f"{K}cancel.{run['id']}", icon=":material/stop:"):
        try:
            jobs.cancel_run(store, run["id"], wait=False)
            st.toast(tr("treino.cancel_requested"))
        except UserFacingError as exc:
            show_error(exc)
    # offered only where it can work (core.training.jobs.resume_blocker): a local run with a checkpoint, an
    # OpenAI run whose job went on after its watcher was lost; never a job OpenAI ended
    resumable = run["status"] in db.TERMINAL and jobs.resume_blocker(run) is None
    if resumable and cols[1].button(tr("treino.resume"), key=f"{K}resume.{run['id']}", icon=":material/replay:"):
        try:
            jobs.resume_run(store, run["id"], env=_resume_env(run["backend"]))
            st.toast(tr({"local": "treino.resumed", "openai": "treino.reattached"}.get(run["backend"],
                                                                                    "treino.hosted_resumed")))
        except UserFacingError as exc:
            show_error(exc)
    if run["backend"] == "openai":
        from ui.openai_treino import openai_run_controls

        openai_run_controls(run)
    elif run["backend"] in HOSTED:
        from ui.treino_hosted import hosted_run_controls

        hosted_run_controls(store, run)


def _progress(run: dict[str, Any]) -> None:
    step, total = run.get("step") or 0, run.get("total_steps")
    epoch = run.get("epoch") or 0.0
    if total and (run.get("step_unit") == "percent" or run.get("backend") == "fireworks"):   # Fireworks: % and epoch
        st.progress(min(1.0, step / total), text=tr("treino.progress_percent", percent=integer(step),
                                                      epoch=num(epoch, 2 if epoch >= 1 else 3)))
    elif total:
        st.progress(min(1.0, step / total), text=tr("treino.progress", step=integer(step), total=integer(total),
                                                      epoch=num(epoch, 2 if epoch >= 1 else 3)))


def _figures(store: Any, run: dict[str, Any]) -> None:
    figures = live_figures(run)
    last_loss = run.get("final_loss")
    if last_loss is None:
        last_loss = db.last_metric(store, run["id"], "train_loss")
    cost = run.get("actual_cost_usd")
    cost_text = usd_text(cost) if cost is not None else (
        "≈ " + usd_text(figures["running_cost"]) if figures["running_cost"] is not None else "-")
    cols = st.columns(6)
    cols[0].metric(tr("treino.elapsed"), duration_text(figures["elapsed"]))
    cols[1].metric(tr("treino.eta"), duration_text(figures["eta"]))
    cols[2].metric(tr("treino.tokens_per_s"), integer(run["tokens_per_s"]) if run.get("tokens_per_s") else "-")
    cols[3].metric(tr("treino.trained_tokens"), integer(run["trained_tokens"]) if run.get("trained_tokens") else "-")
    cols[4].metric(tr("treino.cost"), cost_text,
                   help=tr("treino.cost_help", estimate=usd_text(run.get("estimated_cost_usd"))))
    cols[5].metric(tr("treino.final_loss"), num(last_loss, 4) if last_loss is not None else "-",
                   help=tr("treino.best_loss", best=num(run["best_loss"], 4) if run.get("best_loss") else "-"))
    details = [tr("treino.estimated", cost=usd_text(run.get("estimated_cost_usd")),
                  time=duration_text(run.get("estimated_wall_s")))]
    if run.get("device"):
        details.append(run["device"])
    if run.get("peak_rss_mb"):
        details.append(tr("treino.peak_rss", rss=integer(run["peak_rss_mb"])))
    if run.get("peak_gpu_mb"):
        details.append(tr("treino.peak_gpu", gpu=integer(run["peak_gpu_mb"])))
    if run.get("provider_quote_usd") is not None:   # Together's quote / Fireworks' estimate, beside ours
        details.append(tr("treino.provider_quote", cost=usd_text(run["provider_quote_usd"])))
    if run.get("output_model") and run["backend"] not in HOSTED:   # a hosted run's controls name its model
        details.append(tr("treino.output", path=run["output_model"]))
    st.caption(" · ".join(details))


def run_view(store: Any, run: dict[str, Any]) -> None:
    """One run: status line, progress, figures, estimate check, controls, loss curve, log."""
    status = run["status"]
    message = run.get("status_message")
    icon = {"succeeded": ":material/check_circle:", "failed": ":material/error:", "lost": ":material/help:",
            "cancelled": ":material/cancel:"}.get(status, ":material/progress_activity:")
    st.markdown(f"{icon} **{tr('treino.status_' + status)}** · {run['backend']} · `{run['base_model']}` · "
                f"{run.get('curated_name') or Path(run.get('data_path') or '').name} · {run.get('format') or ''}")
    if message and "403 training_not_available" in message:   # OpenAI's wind-down, with who still takes jobs
        from core.hosted.openai_client import WIND_DOWN

        st.error(tr("treino.wind_down_403", never=WIND_DOWN["never_fine_tuned_blocked_from"],
                    inactive=WIND_DOWN["inactive_blocked_from"], last=WIND_DOWN["no_new_jobs_after"]))
    elif message and status in ("failed", "lost"):
        st.error(message)
    elif message:
        st.caption(message)
    _progress(run)
    _figures(store, run)
    estimate_check(store, run)
    run_controls(store, run)
    figure = loss_figure(store, [run["id"]], "step")
    if figure is not None:
        st.plotly_chart(figure, key=f"{K}curve.{run['id']}", config={"displayModeBar": False})
    with st.expander(tr("treino.log")):
        st.code(jobs.run_log_tail(run) or tr("treino.log_empty"), language=None)


def live_runs(store: Any, runs: dict[str, dict[str, Any]], active: bool) -> None:
    """The run picker and the chosen run, refreshed every 2 s while a run is active (and the whole
    page once when that changes, so the timer starts or stops with it)."""
    @st.fragment(run_every=2.0 if active else None)
    def live_section() -> None:
        try:
            jobs.poll(store)
        except UserFacingError as exc:
            show_error(exc)
        fresh = {r["id"]: r for r in db.list_runs(store, limit=200)}
        if not fresh:
            st.info(tr("treino.no_runs"))
            return
        runs.update(fresh)
        ids = list(fresh)
        selection.start(K + "run", "run", ids, default=ids[0])  # the URL's, else the current run, else the newest
        selected = st.selectbox(tr("treino.run"), ids, key=K + "run", format_func=run_labeller(runs),
                                on_change=selection.chosen, args=(K + "run", "run"))
        run_view(store, fresh[selected])
        if any(r["status"] not in db.TERMINAL for r in fresh.values()) != active:
            st.rerun()  # start or stop the timer with the rest of the page

    live_section()
