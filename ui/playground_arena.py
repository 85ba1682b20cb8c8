"""Page 4's blind arena and its leaderboard: two models drawn at random from the pool answer the
same prompt with their names (and timings, which would give them away) hidden until the vote; votes
are stored with their prompt and dataset version (core.compare.arena.record_vote) and rated by
Bradley–Terry with bootstrap intervals, shown as a table and a chart.

    from ui.playground_arena import arena, leaderboard_section
    arena(store, models, prompt, meta)
    leaderboard_section(store, models)
"""
from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core.compare.arena import arena_leaderboard, default_pool, draw_pair, pool_options, record_vote
from core.errors import UserFacingError
from core.models.answers import GenerationSettings
from core.models.live_answers import get_batch, start_batch
from core.store import Store
from core.store.compare import list_votes
from ui.common import get_store, openai_key_for, show_error, tr
from ui.model_choice import Models, display_name, model_label
from ui.numbers import chart, integer
from ui.playground_answers import answer_columns, follow, followed
from ui.playground_settings import settings_form

MIN_GAMES_FOR_CI = 5
VOTE_LABELS = {"a": "vote_left", "b": "vote_right", "tie": "vote_tie", "both_bad": "vote_both_bad"}
VOTE_ICONS = {"a": ":material/arrow_back:", "b": ":material/arrow_forward:", "tie": ":material/drag_handle:",
              "both_bad": ":material/thumb_down:"}


def arena(store: Store, models: Models, prompt: str, meta: dict[str, Any]) -> None:
    st.caption(tr("playground.arena_intro"))
    # checkpoints only when asked for: a run registers many, and pairs of one run's steps say little
    include = st.toggle(tr("playground.arena_checkpoints"), key="pg_arena_checkpoints",
                        help=tr("playground.arena_checkpoints_help"))
    options = pool_options(list(models.values()), include_checkpoints=include)
    if "pg_arena_pool" in st.session_state:
        st.session_state["pg_arena_pool"] = [m for m in st.session_state["pg_arena_pool"] if m in options]
    else:
        st.session_state["pg_arena_pool"] = default_pool(list(models.values()))
    pool = st.multiselect(tr("playground.arena_pool"), options, format_func=model_label(models), key="pg_arena_pool",
                          help=tr("playground.models_help"))
    with st.expander(tr("playground.settings_shared"), icon=":material/tune:"):
        settings = settings_form("pg_arena", GenerationSettings())
    api_key, key_ready = openai_key_for([models[m]["kind"] for m in pool if m in models], "pg_api_key", "playground")
    ready = len(pool) >= 2 and bool(prompt) and key_ready and settings is not None
    clicked = st.button(tr("playground.arena_new"), key="pg_arena_new", type="primary", disabled=not ready,
                        icon=":material/shuffle:")
    if len(pool) < 2:
        st.info(tr("playground.need_two"))
    elif not prompt:
        st.info(tr("playground.need_prompt"))
    batch = followed("pg_arena")
    if clicked and ready and settings is not None:
        left, right = draw_pair(pool)
        try:
            batch = get_batch(start_batch(store, [(left, settings), (right, settings)], prompt, source="arena",
                                          meta=meta, api_key=api_key))
        except UserFacingError as exc:
            show_error(exc)
            return
        batch.set_extra(settings_json=settings.to_json())
        follow("pg_arena", batch.batch_id)
    if batch is None:
        st.caption(tr("playground.arena_start"))
        return
    voted = batch.snapshot()["extra"].get("vote")
    headers = [(tr("playground.arena_" + side),
                f"{display_name(models, column.model_id)} · `{column.model_id}`" if voted else None)
               for side, column in zip(("left", "right"), batch.columns)]
    # timings and cost would give the names away: shown only after the vote
    answer_columns(batch, headers, show_metrics=bool(voted))
    if voted:
        left, right = (c.model_id for c in batch.columns)
        st.success(tr("playground.voted", vote=tr(f"playground.{VOTE_LABELS[voted]}"), left=left, right=right))
    elif batch.done:
        for column, winner in zip(st.columns(4), VOTE_LABELS):
            column.button(tr(f"playground.{VOTE_LABELS[winner]}"), key=f"pg_vote_{winner}", icon=VOTE_ICONS[winner],
                          on_click=vote, args=(batch.batch_id, winner), width="stretch")


def vote(batch_id: str, winner: str) -> None:
    """The vote buttons' callback: one vote per finished round, with both answers' ids."""
    batch = get_batch(batch_id)
    if batch is None or not batch.done:
        return
    snap = batch.snapshot()
    if snap["extra"].get("vote"):
        return
    left, right = snap["columns"]
    meta = snap["meta"]
    record_vote(get_store(), left["model_id"], right["model_id"], winner, snap["prompt"],
                generation_a=left["generation_id"], generation_b=right["generation_id"],
                curated_source=meta.get("curated_source"), curated_version=meta.get("curated_version"),
                example_index=meta.get("example_index"), settings_json=snap["extra"].get("settings_json"))
    batch.set_extra(vote=winner)


@st.cache_data(show_spinner=False, max_entries=4)
def _leaderboard(vote_count: int, last_vote: int) -> list[dict[str, Any]]:
    return [r.to_dict() for r in arena_leaderboard(get_store(), n_bootstrap=200)]


def leaderboard_section(store: Store, models: Models) -> None:
    st.subheader(tr("playground.leaderboard"))
    votes = list_votes(store)
    if not votes:
        st.caption(tr("playground.leaderboard_empty"))
        return
    board = _leaderboard(len(votes), int(votes[-1]["id"]))
    st.caption(tr("playground.votes_total", count=len(votes), min_games=MIN_GAMES_FOR_CI))
    names = [display_name(models, r["model_id"]) for r in board]
    # A bootstrap of a handful of votes gives a falsely narrow interval: show none.
    shown = [r["games"] >= MIN_GAMES_FOR_CI for r in board]
    intervals = [f"{integer(r['ci_low'])} – {integer(r['ci_high'])}" if ok else "—" for r, ok in zip(board, shown)]
    table = [{tr("playground.col_rank"): r["rank"], tr("playground.col_model"): name,
              tr("playground.col_rating"): round(r["rating"]), tr("playground.col_ci"): ci,
              tr("playground.col_games"): r["games"], tr("playground.col_wtl"): f"{r['wins']} / {r['ties']} / {r['losses']}"}
             for r, name, ci in zip(board, names, intervals)]
    # full width, the model column wide: fine-tune names (run id, step) were cut in a narrow column
    st.dataframe(table, hide_index=True, width="stretch", key="pg_leaderboard_table",
                 column_config={tr("playground.col_model"): st.column_config.TextColumn(width="large")})
    figure = go.Figure(go.Scatter(
        x=[r["rating"] for r in board], y=names, mode="markers", marker={"size": 11},
        hovertext=[f"{name}: {integer(r['rating'])}" + (f" ({ci})" if ok else "")
                   for r, name, ci, ok in zip(board, names, intervals, shown)], hovertemplate="%{hovertext}<extra></extra>",
        error_x={"type": "data", "symmetric": False,
                 "array": [r["ci_high"] - r["rating"] if ok else 0 for r, ok in zip(board, shown)],
                 "arrayminus": [r["rating"] - r["ci_low"] if ok else 0 for r, ok in zip(board, shown)]}))
    figure.update_layout(height=80 + 40 * len(board), margin={"l": 10, "r": 10, "t": 10, "b": 30},
                         yaxis={"autorange": "reversed", "automargin": True}, xaxis_title=tr("playground.col_rating"))
    st.plotly_chart(chart(figure), key="pg_leaderboard_chart", width="stretch")
