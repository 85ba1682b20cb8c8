"""Page 6's run of a recipe: the Run button, then the progress of each step redrawn from the study's
progress file every 1.5 s (so a reload, a second tab or an app restart shows the same run), Stop,
and when it ends a summary (steps run / reused / skipped, wall time) with links to pages 3 and 5.

    run_section(recipe_path, recipe)      # the Recipe the page read (core.study.recipe.load_recipe)

The run is core.study.launch's: ``python -m core study run RECIPE --progress FILE`` in a detached
process; this module only starts, reads and stops it.
"""
from __future__ import annotations

import contextlib
import time
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from core.errors import UserFacingError
from core.study import launch
from ui.common import show_error, tr
from ui.numbers import duration, integer

K = "estudo_"
POLL_S = 1.5


def run_section(recipe_path: str, recipe: Any) -> None:
    study = recipe.name
    for other in launch.running_studies():
        if other.get("study") != study:
            st.info(tr("estudo.run.other", study=other.get("study"), recipe=other.get("recipe")))
    state = launch.study_state(study)
    if state["alive"]:
        live_panel(study)
        return
    accept = False
    if state["status"] == "failed" and "--accept-changed-data" in state["message"]:   # the raw file changed
        accept = st.checkbox(tr("estudo.run.accept_changed"), key=f"{K}accept_changed",
                             help=tr("estudo.run.accept_changed_help"))
    keys = key_fields(recipe)
    if st.button(tr("estudo.run.start"), key=f"{K}run", type="primary", icon=":material/play_arrow:",
                 help=tr("estudo.run.start_help")):
        try:
            launch.start_study(recipe_path, accept_changed_data=accept, keys=keys)
        except UserFacingError as exc:
            show_error(exc)
        else:
            st.rerun()
    if state["status"] != "none":
        st.markdown(f"**{tr('estudo.end.last_run')}**")
        summary(state)


def key_fields(recipe: Any) -> dict[str, str]:
    """The API keys the recipe's hosted steps need and the environment lacks: from st.secrets, or a
    password field (this session's memory only). Given to the study's process alone; a step whose key
    stays empty is skipped with its one line, as from the terminal."""
    from core.study.steps import needed_keys

    keys: dict[str, str] = {}
    typed = []
    for name in needed_keys(recipe):
        try:
            secret = st.secrets.get(name)
        except Exception:  # no secrets.toml at all
            secret = None
        if secret:
            keys[name] = str(secret)
        else:
            typed.append(name)
    if typed:
        with st.expander(tr("estudo.run.keys", n=len(typed))):
            st.caption(tr("estudo.run.keys_help"))
            for name in typed:
                value = st.text_input(name, type="password", key=f"{K}key_{name}")
                if value.strip():
                    keys[name] = value.strip()
    return keys


@st.fragment(run_every=POLL_S)
def live_panel(study: str) -> None:
    """Re-drawn from the progress file while the study runs; when it ends the whole page reruns."""
    state = launch.study_state(study)
    if not state["alive"]:
        st.rerun(scope="app")
    progress_bars(state)
    if st.button(tr("estudo.run.stop"), key=f"{K}stop", icon=":material/stop:", help=tr("estudo.run.stop_help")):
        with contextlib.suppress(UserFacingError):   # it ended meanwhile: the next redraw says how
            launch.stop_study(study)
        st.toast(tr("estudo.run.stopping"))
    steps_table(state)


def progress_bars(state: dict[str, Any]) -> None:
    """One bar for the study (finished steps of all), one for the current step when it counts."""
    total, finished = state["steps_total"], state["steps_done"]
    if not total:
        st.progress(0.0, text=tr("estudo.run.starting"))
    else:
        index = min(total, finished + 1)
        st.progress(min(1.0, finished / total),
                    text=tr("estudo.run.overall", index=index, total=total, step=state["current"] or "…"))
    if state["current"] and state["of"]:
        done, of = int(state["done"] or 0), int(state["of"])
        st.progress(min(1.0, done / of if of else 0.0),
                    text=tr("estudo.run.step_progress", step=state["current"], done=integer(done), of=integer(of)))
    if state["started_at"]:
        st.caption(tr("estudo.run.elapsed", elapsed=duration(time.time() - float(state["started_at"]))))


def steps_table(state: dict[str, Any]) -> None:
    if not state["steps"]:
        return
    rows = state["steps"]
    st.table(pd.DataFrame({
        tr("estudo.run.col_step"): [r["step"] for r in rows],
        tr("estudo.run.col_status"): [tr(f"estudo.status.{r['status']}") for r in rows],
        tr("estudo.run.col_progress"): [_progress_cell(r) for r in rows],
        tr("estudo.run.col_message"): [r["message"] for r in rows],
    }).style.hide(axis="index"))


def summary(state: dict[str, Any]) -> None:
    """How the last run of this study ended, its steps, and where to look at what it made."""
    counts, wall = state["counts"], duration(state["wall_s"])
    status = state["status"]
    if status == "succeeded":
        st.success(tr("estudo.end.succeeded", wall=wall, done=counts.get("done", 0),
                      reused=counts.get("reused", 0), skipped=counts.get("skipped", 0)))
    elif status == "failed":
        st.error(tr("estudo.end.failed", wall=wall, message=state["message"]))
    elif status == "stopped":
        st.warning(tr("estudo.end.stopped", wall=wall))
    else:
        st.warning(tr("estudo.end.lost"))
    steps_table(state)
    if state["log_tail"]:
        with st.expander(tr("estudo.end.log")):
            st.code(state["log_tail"], language=None)
    links = st.columns([2, 2, 6], vertical_alignment="center")
    links[0].caption(tr("estudo.end.see"))
    for column, (page, key, icon) in zip(links[1:], (("paginas/3_treino.py", "treino", ":material/model_training:"),
                                                     ("paginas/5_resultados.py", "resultados", ":material/leaderboard:"))):
        try:
            column.page_link(page, label=tr(f"estudo.end.{key}"), icon=icon)
        except StreamlitPageNotFoundError:  # a page run outside the app's navigation (AppTest): a plain link
            column.markdown(f"[{tr(f'estudo.end.{key}')}](/{key})")


def _progress_cell(row: dict[str, Any]) -> str:
    """done / of while a step counts; a finished step shows its whole count (a curation's last report
    can be at 69 of 100 blocks when it ends), other states nothing."""
    if not row["of"]:
        return ""
    done = row["of"] if row["status"] == "done" else (row["done"] or 0)
    return f"{integer(done)} / {integer(row['of'])}"
