"""Page 4's answers: columns that grow as the models write (made in background threads of the app by
core.models.live_answers, so reruns and reloads never stop them), each with its latency, tokens and
cost; the batch a session follows, kept in the URL so a reload finds it again.

    from ui.playground_answers import answer_columns, follow, followed
    batch = followed("pg_batch")                     # this session's batch, or the URL's after a reload
    answer_columns(batch, [("", None)] * 2, show_metrics=True)

Model answers are drawn with st.text (never Markdown or HTML).
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.models.live_answers import LiveBatch, get_batch
from ui.common import tr
from ui.model_choice import Models
from ui.numbers import integer, seconds, usd

POLL_S = 0.5  # how often a running batch is redrawn


def metrics_line(answer: dict[str, Any]) -> str:
    first = answer["latency_first_token_s"]
    cost = answer["cost_usd"]
    return tr("playground.metrics_line", first="-" if first is None else seconds(first),
              total=seconds(answer["total_s"]), tin=integer(answer["tokens_in"]), tout=integer(answer["tokens_out"]),
              cost=tr("playground.no_price") if cost is None else usd(cost, 6))


def draw_answer(answer: dict[str, Any], show_metrics: bool = True) -> None:
    if answer["error"]:
        st.error(tr("playground.answer_error", error=answer["error"]))
    # st.text: model output is never parsed as Markdown or HTML.
    st.text(answer["text"] or tr("playground.empty_answer"), wrap=True, width="stretch")
    if show_metrics:
        st.caption(metrics_line(answer))


def followed(name: str) -> LiveBatch | None:
    """The batch this session follows under ``name``: from the session, or from the URL after a
    reload; forgotten when the app no longer has it (a restart: its answers are in the history)."""
    batch = get_batch(st.session_state.get(name) or st.query_params.get(name))
    if batch is None and name in st.query_params:
        del st.query_params[name]
    st.session_state[name] = batch.batch_id if batch else None
    return batch


def follow(name: str, batch_id: str) -> None:
    st.session_state[name] = batch_id
    st.query_params[name] = batch_id


def restore_from_url(models: Models) -> None:
    """A reload is a new session: put back the prompt, models and mode of the batch the URL names,
    so its answers show again (and keep coming if they are still being made)."""
    if st.session_state.get("pg_restored"):
        return
    st.session_state["pg_restored"] = True
    for name, mode in (("pg_arena", "arena"), ("pg_batch", "side")):  # side by side wins when both
        batch = get_batch(st.query_params.get(name))
        if batch is None:
            continue
        st.session_state["pg_mode"] = mode
        if batch.meta.get("curated_source"):
            st.session_state.update(pg_source="example", pg_dataset=batch.meta["curated_source"],
                                    pg_example=(batch.meta.get("example_index") or 0) + 1)
        else:
            st.session_state.update(pg_source="free", pg_prompt=batch.prompt)
        if mode == "side":
            st.session_state["pg_models"] = [c.model_id for c in batch.columns if c.model_id in models]


def answer_columns(batch: LiveBatch, headers: list[tuple[str, str | None]], show_metrics: bool,
                   done_caption: str | None = None) -> None:
    """One bordered column per answer under its header (bold title, caption); redrawn every POLL_S
    while the batch runs, then the whole page once (the arena's vote buttons appear). The fragment
    draws ``done_caption`` itself when the batch ends, so the page says so even when Streamlit's
    frontend drops the rerun a busy app asks for (seen under the 10-session load test)."""
    running = not batch.done

    @st.fragment(run_every=POLL_S if running else None)
    def draw() -> None:
        snap = batch.snapshot()
        for column, (title, caption), answer in zip(st.columns(len(snap["columns"]), border=True), headers,
                                                    snap["columns"]):
            with column:
                if title:
                    st.markdown(f"**{title}**")
                if caption:
                    st.caption(caption)
                if answer["answer"] is not None:
                    draw_answer(answer["answer"], show_metrics)
                elif answer["text"]:
                    st.text(answer["text"] + " ▌", wrap=True, width="stretch")
                else:
                    st.caption(tr("playground.waiting"))
        if snap["done"] and done_caption:
            st.caption(done_caption)
        if running and snap["done"]:
            st.rerun()

    draw()
