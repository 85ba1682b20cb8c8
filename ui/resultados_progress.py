"""Page 5's evaluation picker and its progress: own evaluations first, then imported sheets; a
running one shows a bar redrawn from the database every 2 s (so it survives a reload) with Cancel;
a finished one says how it ended, with Resume (cancelled, interrupted or failed runs) and Delete.

    from ui.resultados_progress import choose_evaluation, progress_panel
    eval_id = choose_evaluation(store)
    if eval_id:
        progress_panel(store, eval_id)
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.compare.evaluate import cancel_evaluation, evaluation_state, load_config, start_evaluation
from core.errors import UserFacingError
from core.store import Store
from core.store.compare import delete_evaluation, list_evaluations
from ui.common import show_error, tr
from ui.numbers import integer

ACTIVE = ("queued", "running", "cancelling")
ENDED = ("succeeded", "imported", "cancelled", "interrupted", "failed")


def choose_evaluation(store: Store) -> str | None:
    """The evaluation the page shows: the one just started or imported (``rs_eval``), else the
    choice kept in the selectbox, else the newest."""
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


def progress_panel(store: Store, eval_id: str) -> None:
    try:
        state = evaluation_state(store, eval_id)
    except UserFacingError:
        return
    if state["state"] in ACTIVE:
        running_panel(store, eval_id)
    else:
        finished_panel(store, state)


@st.fragment(run_every=2.0)
def running_panel(store: Store, eval_id: str, cancel_key: str = "rs_cancel") -> None:
    """Re-drawn every 2 s from the DB (so it survives a reload); when the run ends the whole page
    reruns to show the results. Also the checkpoints tab's bar (its own ``cancel_key``)."""
    state = evaluation_state(store, eval_id)
    if state["state"] not in ACTIVE:
        st.rerun(scope="app")
    phase = tr(f"resultados.phase.{state['phase'] or 'queued'}")
    st.progress(min(1.0, state["fraction"]), text=tr("resultados.progress", phase=phase, done=state["done"] or 0,
                                                       total=state["total"] or 0))
    if st.button(tr("resultados.cancel"), key=cancel_key):
        cancel_evaluation(store, eval_id)


def finished_panel(store: Store, state: dict[str, Any]) -> None:
    eval_id = state["id"]
    values = {"done": state["done"] or 0, "total": state["total"] or 0, "message": state["status_message"] or ""}
    message = tr(f"resultados.state.{state['state']}", **values) if state["state"] in ENDED else str(state["state"])
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
        resume(store, eval_id, "rs_api_key")
    with next(buttons).popover(tr("resultados.delete"), icon=":material/delete:"):
        if st.button(tr("resultados.delete_confirm", eval_id=eval_id), key="rs_delete", type="primary"):
            delete_evaluation(store, eval_id)
            st.session_state.pop("rs_eval", None)
            st.rerun()


def resume(store: Store, eval_id: str, key_field: str) -> None:
    """Go on with a stopped evaluation in the background (its own settings; the OpenAI key typed in
    ``key_field``, if any), then redraw; a failure to start is one sentence."""
    try:
        start_evaluation(store, load_config(store, eval_id), eval_id, api_key=st.session_state.get(key_field) or None)
    except UserFacingError as exc:
        show_error(exc)
    else:
        st.rerun()
