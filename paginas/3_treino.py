"""Page 3 "Treino": launch a fine-tune (local LoRA or a hosted job), watch it live, cancel or resume
it, see its estimate beside what happened, and overlay the loss curves of several runs.

    streamlit run app.py        # then open /treino

Read top-down as the user sees it: the backend, then its panel (model, data, preset and
hyperparameters: ui/treino_local.py, ui/openai_treino.py, ui/treino_hosted.py for Together and
Fireworks), the estimate (ui/treino_estimate.py), Launch, then the runs (live progress, curves,
estimated vs actual, Cancel / Resume, Fireworks' Deploy: ui/treino_live.py, ui/treino_curves.py,
ui/treino_runs.py).

Thin page: widgets -> one TrainConfig (core/training/config.py; its field help is the widget help)
-> core.training.jobs.launch, which starts ``python -m core.training.trainer RUN_DIR`` in its own
process group; the training never runs in the script thread. Everything shown comes from the
database, which the supervisor (core.training.jobs.poll, on the runs' fragment timer and in a
background thread) fills from the run folders, so the page survives a reload, a second tab and an
app restart. The CLI twin: ``python -m core train | runs | cancel | resume``.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import UserFacingError
from core.selection import remember_launch
from core.store import runs as db
from core.training import jobs
from core.training.config import TrainConfig
from locales import t
from ui import selection
from ui.common import get_store, help_for, lang, show_error, tr
from ui.openai_treino import openai_panel
from ui.treino_curves import compare_section
from ui.treino_estimate import estimate_box
from ui.treino_hosted import hosted_panel
from ui.treino_live import live_runs, run_labeller
from ui.treino_local import local_panel

K = "treino."
store = get_store()
LANG = lang()  # format_funcs use it: Streamlit and AppTest may call them outside the script run
jobs.start_supervisor(store)
st.title(tr("treino.title"))
st.caption(tr("treino.intro"))

RUNS: dict[str, dict[str, Any]] = {r["id"]: r for r in db.list_runs(store, limit=200)}
ACTIVE = any(r["status"] not in db.TERMINAL for r in RUNS.values())

# Each backend draws its panel and builds its part of the config: (the run's config or None while it
# is invalid, extra environment for the training subprocess, e.g. a key typed in this session).
PANELS = {"local": local_panel, "openai": openai_panel, "together": lambda store: hosted_panel(store, "together"),
          "fireworks": lambda store: hosted_panel(store, "fireworks")}

# -- a new run: backend, model and data, preset and hyperparameters, estimate, launch -----------------
# While a run trains the form folds away, so its progress is the first thing on the page.
with st.expander(tr("treino.new_run"), expanded=not ACTIVE, icon=":material/add_circle:"):
    backend = st.radio(tr("treino.field.backend"), list(PANELS), key=K + "backend", horizontal=True,
                       format_func=lambda value: t(f"treino.backend_{value}", LANG),
                       help=help_for(TrainConfig, "backend"))
    if backend != "openai":   # OpenAI's panel opens with its wind-down dates instead
        st.caption(tr(f"treino.backend_note_{backend}"))
    config, env = PANELS[backend](store)
    if config is not None:
        estimate = estimate_box(store, config, RUNS)
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

# -- the runs: live progress, estimate vs actual, cancel / resume, curves -----------------------------
st.subheader(tr("treino.runs"))
live_runs(store, RUNS, ACTIVE)
compare_section(store, RUNS, run_labeller(RUNS))
