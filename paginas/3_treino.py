"""Page 3 "Treino": launch a fine-tune (local LoRA or OpenAI), watch it live, cancel or resume it,
and overlay the loss curves of several runs.

    streamlit run app.py        # then open /treino

Thin page: widgets -> one TrainConfig (core/training/config.py; its field help is the widget help)
-> core.training.jobs.launch, which starts ``python -m core.training.trainer RUN_DIR`` in its own process group; the
training never runs in the script thread. Everything shown comes from the database, which the
supervisor (core.training.jobs.poll, here on a 2-second fragment timer and in a background thread) fills
from the run folders, so the page survives a reload, a second tab and an app restart.

The OpenAI widgets live in ui/openai_treino.py (``openai_form``, ``openai_run_controls``);
``backend_panel`` below is where each backend builds its part of the config. The CLI twin:
``python -m core train | runs | cancel | resume``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core.config import ConfigError
from core.errors import UserFacingError
from core.formats.export import read_export_manifest
from core.formats.render import FORMATS, get_preset
from core.formats.render import PRESETS as TEMPLATE_PRESETS
from core.paths import data_dir
from core.selection import DEFAULT_DATASET, available_datasets, get_current, remember_launch
from core.store import runs as db
from core.training import jobs
from core.training.config import (
    ALL_PROJECTIONS,
    DEVICES,
    LOCAL_PRESETS,
    LOSS_ON,
    PRECISIONS,
    SCHEDULES,
    TrainConfig,
)
from core.training.run_data import estimate_run
from locales import t
from ui import selection
from ui.common import get_store, help_for, lang, show_error, tr
from ui.numbers import integer, num
from ui.treino_runs import duration_text as _duration
from ui.treino_runs import estimate_check, runs_table, source_text
from ui.treino_runs import usd_text as _usd

K = "treino."
store = get_store()
LANG = lang()  # format_funcs use it: Streamlit and AppTest may call them outside the script run
jobs.start_supervisor(store)
st.title(tr("treino.title"))
st.caption(tr("treino.intro"))


def labels(prefix: str) -> Any:
    language = lang()
    return lambda value: t(f"{prefix}{value}", language)


def helped(name: str) -> dict[str, str]:
    """Label, help (the TrainConfig field's) and key of a hyperparameter widget."""
    return {"label": tr(f"treino.field.{name}"), "help": help_for(TrainConfig, name), "key": K + name}


# -- the hyperparameters follow the chosen preset --------------------------------------------------
HYPER = ("lora_r", "lora_alpha", "lora_dropout", "target_modules", "max_steps", "epochs", "learning_rate",
         "lr_scheduler", "warmup_steps", "weight_decay", "batch_size", "grad_accum", "max_seq_len", "loss_on",
         "eval_every", "eval_examples", "save_every", "max_train_examples", "seed")


def apply_preset() -> None:
    preset = st.session_state.get(K + "preset", "cpu-demo")
    values = TrainConfig.from_preset(preset).to_dict()
    for name in HYPER:
        st.session_state[K + name] = values[name]


if K + "preset" not in st.session_state:
    st.session_state[K + "preset"] = "cpu-demo"
    apply_preset()


# -- data ------------------------------------------------------------------------------------------
def data_choices() -> list[str]:
    curated = available_datasets(store)
    folder = data_dir() / "export"
    files = sorted(str(p) for p in folder.glob("*.jsonl")) if folder.is_dir() else []
    seed_file = data_dir() / "seed" / "trn_gpt4_formatted.jsonl"
    return curated + files + ([str(seed_file)] if seed_file.exists() else [])


def data_label(value: str) -> str:
    path = Path(value)
    return f"{path.name} · {t('treino.data_file', LANG)}" if path.suffix == ".jsonl" else value


def data_section(openai: bool) -> tuple[str, str]:
    """(data, format): a curated dataset or an exported file, and its training format."""
    choices = [c for c in data_choices() if not openai or c.endswith(".jsonl")]
    key = K + "data" + (".openai" if openai else "")
    if openai:  # an exported file of the current dataset when there is one
        current = get_current(store, "dataset")
        selection.prefer(key, choices, next((c for c in choices if current and
                                             read_export_manifest(c).get("source") == current), None))
    else:
        selection.start(key, "dataset", choices, default=DEFAULT_DATASET)
    left, right = st.columns([3, 2])
    data = left.selectbox(tr("treino.data"), choices, key=key, format_func=data_label,
                          help=help_for(TrainConfig, "data"), on_change=selection.chosen, args=(key, "dataset"))
    manifest_format = read_export_manifest(data).get("format") if data and data.endswith(".jsonl") else None
    if openai:
        return data, manifest_format or "openai-chat"
    if manifest_format:
        right.text_input(tr("treino.field.format"), value=manifest_format, disabled=True, key=K + "format_file",
                         help=tr("treino.format_from_file"))
        return data, manifest_format
    fmt = right.selectbox(tr("treino.field.format"), FORMATS, index=FORMATS.index("chat-template"), key=K + "format",
                          help=help_for(TrainConfig, "format"))
    return data, fmt


# -- local -----------------------------------------------------------------------------------------
def local_panel() -> tuple[TrainConfig | None, dict[str, str]]:
    left, right = st.columns([3, 2])
    choice = left.selectbox(tr("treino.model"), ["smollm2", "other"], key=K + "model_choice",
                            format_func=labels("treino.model_"), help=help_for(TrainConfig, "base_model"))
    model = "smollm2"
    if choice == "other":
        model = right.text_input(tr("treino.model_path"), key=K + "model_text",
                                 placeholder="HuggingFaceTB/SmolLM2-360M-Instruct").strip()
    data, fmt = data_section(openai=False)
    template_name = st.selectbox(tr("treino.template"), list(TEMPLATE_PRESETS), key=K + "template",
                                 format_func=labels("formatos.preset_"), help=help_for(TrainConfig, "template"),
                                 disabled=data.endswith(".jsonl"))
    st.radio(tr("treino.preset"), list(LOCAL_PRESETS) + ["custom"], key=K + "preset", horizontal=True,
             format_func=labels("treino.preset_"), on_change=apply_preset, help=tr("treino.preset_help"))
    cols = st.columns(4)
    cols[0].number_input(min_value=1, max_value=512, step=1, **helped("lora_r"))
    cols[1].number_input(min_value=1, max_value=1024, step=1, **helped("lora_alpha"))
    cols[2].number_input(min_value=0.0, max_value=0.9, step=0.05, **helped("lora_dropout"))
    cols[3].number_input(min_value=1e-6, max_value=0.5, step=1e-4, format="%.5f", **helped("learning_rate"))
    st.multiselect(options=ALL_PROJECTIONS, accept_new_options=True, **helped("target_modules"))
    cols = st.columns(4)
    cols[0].number_input(min_value=0, step=10, **helped("max_steps"))
    cols[1].number_input(min_value=0.1, step=0.5, disabled=st.session_state[K + "max_steps"] > 0, **helped("epochs"))
    cols[2].number_input(min_value=1, max_value=1024, step=1, **helped("batch_size"))
    cols[3].number_input(min_value=1, max_value=1024, step=1, **helped("grad_accum"))
    cols = st.columns(4)
    cols[0].number_input(min_value=16, max_value=131072, step=64, **helped("max_seq_len"))
    cols[1].selectbox(options=LOSS_ON, format_func=labels("treino.loss_on_"), **helped("loss_on"))
    cols[2].number_input(min_value=0, step=5, **helped("eval_every"))
    cols[3].number_input(min_value=0, step=5, **helped("save_every"))
    with st.expander(tr("treino.advanced")):
        cols = st.columns(4)
        cols[0].selectbox(options=SCHEDULES, **helped("lr_scheduler"))
        cols[1].number_input(min_value=0, step=1, **helped("warmup_steps"))
        cols[2].number_input(min_value=0.0, step=0.01, **helped("weight_decay"))
        cols[3].number_input(min_value=0, step=1, **helped("seed"))
        cols = st.columns(4)
        cols[0].number_input(min_value=0, step=50, **helped("eval_examples"))
        cols[1].number_input(min_value=0, step=100, **helped("max_train_examples"))
        device = cols[2].selectbox(options=DEVICES, **helped("device"))
        precision = cols[3].selectbox(options=PRECISIONS, **helped("precision"))
        cols = st.columns(3)
        four_bit = cols[0].checkbox(disabled=not _has_cuda_and_bnb(), **helped("load_in_4bit"))
        merge = cols[1].checkbox(**helped("merge_adapter"))
        price = cols[2].number_input(min_value=0.0, value=None, step=0.05, placeholder=tr("treino.price_default"),
                                     **helped("price_per_hour"))
    values = {name: st.session_state[K + name] for name in HYPER}
    try:
        template = {} if data.endswith(".jsonl") else get_preset(template_name).to_dict()
        config = TrainConfig(backend="local", base_model=model or "smollm2", data=data, format=fmt, template=template,
                             preset=st.session_state[K + "preset"], device=device, precision=precision,
                             load_in_4bit=four_bit, merge_adapter=merge, price_per_hour=price,
                             **{**values, "target_modules": list(values["target_modules"])})
    except (ConfigError, UserFacingError) as exc:
        show_error(exc)
        return None, {}
    return config, {}


@st.cache_resource(show_spinner=False)
def _has_cuda_and_bnb() -> bool:
    try:
        import bitsandbytes  # noqa: F401
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


# -- openai (the teammate's widgets) -----------------------------------------------------------------
def openai_panel() -> tuple[TrainConfig | None, dict[str, str]]:
    from core.hosted.openai_finetune import launch_env
    from ui.openai_treino import openai_form

    data, fmt = data_section(openai=True)
    form = openai_form(store, training_file=data or None, validation_file=None)
    if form.config is None or not form.ready:
        return None, {}
    config = TrainConfig(backend="openai", base_model=form.config.model, data=data, format=fmt,
                         openai=form.config.to_dict())
    return config, launch_env(form.api_key)   # the key travels in the subprocess's environment only


def backend_panel(backend: str) -> tuple[TrainConfig | None, dict[str, str]]:
    """The backend-specific widgets: (the run's config or None while invalid, extra environment for
    the training subprocess, e.g. a key typed in this session)."""
    return {"local": local_panel, "openai": openai_panel}[backend]()


# -- estimate and launch ---------------------------------------------------------------------------
ESTIMATE_FIELDS = ("backend", "base_model", "data", "format", "template", "max_steps", "epochs", "batch_size",
                   "grad_accum", "max_seq_len", "max_train_examples", "hardware", "price_per_hour", "openai")


@st.cache_data(show_spinner=False, max_entries=32, ttl=600)
def _estimate(key: str) -> Any:
    values = json.loads(key)
    values.pop("_finished_runs", None)
    config = TrainConfig.from_dict(values)
    return estimate_run(store, config.for_launch(store))


def estimate_box(config: TrainConfig) -> Any:
    fields = {name: getattr(config, name) for name in ESTIMATE_FIELDS}
    # a run that succeeded since changes the estimate (its measured speed is used): not a cached one
    fields["_finished_runs"] = sum(1 for r in RUNS.values() if r["status"] == "succeeded")
    key = json.dumps(fields, sort_keys=True, default=str)
    with st.spinner(tr("treino.estimating")):
        estimate = _estimate(key)
    cols = st.columns(4)
    if estimate is None:
        st.caption(tr("treino.no_estimate"))
        return None
    cols[0].metric(tr("treino.est_time"), _duration(estimate.time_s))
    cols[1].metric(tr("treino.est_cost"), _usd(estimate.total_cost_usd))
    cols[2].metric(tr("treino.est_tokens"), integer(estimate.billable_tokens))
    cols[3].metric(tr("treino.est_rate"), integer(estimate.tokens_per_s) if estimate.tokens_per_s else "-")
    st.caption(source_text(estimate.throughput_kind, estimate.throughput_source or estimate.price_source))
    return estimate


RUNS: dict[str, dict[str, Any]] = {r["id"]: r for r in db.list_runs(store, limit=200)}
ACTIVE = any(r["status"] not in db.TERMINAL for r in RUNS.values())

# While a run trains the form folds away, so its progress is the first thing on the page.
with st.expander(tr("treino.new_run"), expanded=not ACTIVE, icon=":material/add_circle:"):
    backend = st.radio(tr("treino.field.backend"), ["local", "openai"], key=K + "backend", horizontal=True,
                       format_func=labels("treino.backend_"), help=help_for(TrainConfig, "backend"))
    config, env = backend_panel(backend)
    if config is not None:
        estimate = estimate_box(config)
        if st.button(tr("treino.launch"), key=K + "launch", type="primary", icon=":material/rocket_launch:"):
            try:
                run_id = jobs.launch(store, config, env=env, estimate=estimate)
            except UserFacingError as exc:
                show_error(exc)
            else:
                st.session_state[K + "run"] = run_id
                remember_launch(store, run_id, config.backend, config.base_model)  # pages 4-5 open with it
                selection.made("run", run_id)
                # said on the next run, which folds the form: a toast sent before st.rerun() can be
                # gone before a busy browser draws the rerun (the journey test missed it under load)
                st.session_state[K + "launched"] = run_id
                st.rerun()  # fold the form and start the live timer
# "launched", not "started": the process may still fail at start (an OpenAI key refused), and a run
# that already did says so in its own view below, with the reason, and nothing else
launched = st.session_state.pop(K + "launched", None)
if launched and (db.get_run(store, launched) or {}).get("status") not in ("failed", "lost", "cancelled"):
    st.success(tr("treino.launched", run=launched), icon=":material/rocket_launch:")


# -- runs --------------------------------------------------------------------------------------------
def run_label(run_id: str) -> str:
    """Stable parts only (id, backend, model): a label that changed with the status would make
    Streamlit see a new widget every poll."""
    run = RUNS.get(run_id)
    return f"{run_id} · {run['backend']}" if run else run_id


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


COLOURS = {"train_loss": "#1f77b4", "eval_loss": "#ff7f0e"}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]


def loss_figure(run_ids: list[str], x: str) -> go.Figure | None:
    """Train loss (raw, faint, and its running mean over 5 steps) and eval loss (dashed, markers);
    several runs share one chart, one colour each."""
    frame = db.metrics_df(store, run_ids, ("train_loss", "eval_loss"))
    if frame.empty:
        return None
    figure = go.Figure()
    single = len(run_ids) == 1
    for index, run_id in enumerate(run_ids):
        for name in ("train_loss", "eval_loss"):
            part = frame[(frame["run_id"] == run_id) & (frame["name"] == name)].dropna(subset=[x])
            if part.empty:
                continue
            colour = COLOURS[name] if single else PALETTE[index % len(PALETTE)]
            label = tr("treino.curve_" + name) if single else f"{run_id} · {tr('treino.curve_' + name)}"
            if name == "eval_loss":
                figure.add_trace(go.Scatter(x=part[x], y=part["value"], name=label, mode="lines+markers",
                                            line={"dash": "dash", "color": colour}))
                continue
            figure.add_trace(go.Scatter(x=part[x], y=part["value"], name=label, mode="lines", opacity=0.35,
                                        line={"color": colour, "width": 1}, showlegend=single))
            figure.add_trace(go.Scatter(x=part[x], y=part["value"].rolling(5, min_periods=1).mean(),
                                        name=label + " " + tr("treino.smoothed"), mode="lines",
                                        line={"color": colour, "width": 2.5}))
    figure.update_layout(height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h"},
                         xaxis_title=tr("treino.x_" + x), yaxis_title=tr("treino.loss"))
    return figure


def run_controls(run: dict[str, Any]) -> None:
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
            env = None
            if run["backend"] == "openai":  # re-attaching needs the key typed in this session, if any
                from core.hosted.openai_finetune import launch_env

                env = launch_env(st.session_state.get("treino.openai.api_key") or None)
            jobs.resume_run(store, run["id"], env=env)
            st.toast(tr("treino.resumed" if run["backend"] == "local" else "treino.reattached"))
        except UserFacingError as exc:
            show_error(exc)
    if run["backend"] == "openai":
        from ui.openai_treino import openai_run_controls

        openai_run_controls(run)


def run_view(run: dict[str, Any]) -> None:
    status = run["status"]
    message = run.get("status_message")
    icon = {"succeeded": ":material/check_circle:", "failed": ":material/error:", "lost": ":material/help:",
            "cancelled": ":material/cancel:"}.get(status, ":material/progress_activity:")
    st.markdown(f"{icon} **{tr('treino.status_' + status)}** · {run['backend']} · `{run['base_model']}` · "
                f"{run.get('curated_name') or Path(run.get('data_path') or '').name} · {run.get('format') or ''}")
    if message and status in ("failed", "lost"):
        st.error(message)
    elif message:
        st.caption(message)
    step, total = run.get("step") or 0, run.get("total_steps")
    epoch = run.get("epoch") or 0.0
    if total:
        st.progress(min(1.0, step / total), text=tr("treino.progress", step=integer(step), total=integer(total),
                                                      epoch=num(epoch, 2 if epoch >= 1 else 3)))
    figures = live_figures(run)
    last_loss = run.get("final_loss")
    if last_loss is None:
        last_loss = db.last_metric(store, run["id"], "train_loss")
    cost = run.get("actual_cost_usd")
    cost_text = _usd(cost) if cost is not None else (
        "≈ " + _usd(figures["running_cost"]) if figures["running_cost"] is not None else "-")
    cols = st.columns(6)
    cols[0].metric(tr("treino.elapsed"), _duration(figures["elapsed"]))
    cols[1].metric(tr("treino.eta"), _duration(figures["eta"]))
    cols[2].metric(tr("treino.tokens_per_s"), integer(run["tokens_per_s"]) if run.get("tokens_per_s") else "-")
    cols[3].metric(tr("treino.trained_tokens"), integer(run["trained_tokens"]) if run.get("trained_tokens") else "-")
    cols[4].metric(tr("treino.cost"), cost_text,
                   help=tr("treino.cost_help", estimate=_usd(run.get("estimated_cost_usd"))))
    cols[5].metric(tr("treino.final_loss"), num(last_loss, 4) if last_loss is not None else "-",
                   help=tr("treino.best_loss", best=num(run["best_loss"], 4) if run.get("best_loss") else "-"))
    details = [tr("treino.estimated", cost=_usd(run.get("estimated_cost_usd")),
                  time=_duration(run.get("estimated_wall_s")))]
    if run.get("device"):
        details.append(run["device"])
    if run.get("peak_rss_mb"):
        details.append(tr("treino.peak_rss", rss=integer(run["peak_rss_mb"])))
    if run.get("peak_gpu_mb"):
        details.append(tr("treino.peak_gpu", gpu=integer(run["peak_gpu_mb"])))
    if run.get("output_model"):
        details.append(tr("treino.output", path=run["output_model"]))
    st.caption(" · ".join(details))
    estimate_check(store, run)
    run_controls(run)
    figure = loss_figure([run["id"]], "step")
    if figure is not None:
        st.plotly_chart(figure, key=f"{K}curve.{run['id']}", config={"displayModeBar": False})
    with st.expander(tr("treino.log")):
        st.code(jobs.run_log_tail(run) or tr("treino.log_empty"), language=None)


@st.fragment(run_every=2.0 if ACTIVE else None)
def live_section() -> None:
    try:
        jobs.poll(store)
    except UserFacingError as exc:
        show_error(exc)
    runs = {r["id"]: r for r in db.list_runs(store, limit=200)}
    if not runs:
        st.info(tr("treino.no_runs"))
        return
    RUNS.update(runs)
    ids = list(runs)
    selection.start(K + "run", "run", ids, default=ids[0])  # the URL's, else the current run, else the newest
    selected = st.selectbox(tr("treino.run"), ids, key=K + "run", format_func=run_label, on_change=selection.chosen,
                            args=(K + "run", "run"))
    run_view(runs[selected])
    still_active = any(r["status"] not in db.TERMINAL for r in runs.values())
    if still_active != ACTIVE:
        st.rerun()  # start or stop the timer with the rest of the page


st.subheader(tr("treino.runs"))
live_section()

if len(RUNS) > 1:
    st.subheader(tr("treino.compare"))
    cols = st.columns([4, 2])
    default = [r for r in RUNS if RUNS[r]["status"] == "succeeded"][:3]
    chosen = cols[0].multiselect(tr("treino.compare_runs"), list(RUNS), default=default, key=K + "compare",
                                 format_func=run_label)
    axis = cols[1].radio(tr("treino.x_axis"), ["step", "epoch", "tokens_seen"], key=K + "x_axis", horizontal=True,
                         format_func=labels("treino.x_"))
    figure = loss_figure(chosen, axis) if chosen else None
    if figure is not None:
        st.plotly_chart(figure, key=K + "compare_chart", config={"displayModeBar": False})
    st.dataframe(runs_table(db.list_runs(store, limit=200)), key=K + "table", hide_index=True)
