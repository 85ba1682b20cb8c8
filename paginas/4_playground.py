"""Page 4 "Playground": 2 to 4 models side by side on one prompt (or a test example with its
reference answer), answers streamed with latency, tokens and cost; and the blind arena, where two
models drawn at random answer with their names hidden until the user votes, rated by Bradley–Terry.

    streamlit run app.py        # then open /playground

Thin page: widgets → GenerationSettings → core.models.live_answers.start_batch (the answers are made in
background threads of the app, so reruns and reloads never stop them; the batch id rides in the URL)
→ a fragment redraws them as they grow. Every answer is stored as it completes; votes with their
prompt and dataset version (core.compare.arena.record_vote).
Model answers are drawn with st.text (never Markdown or HTML). The CLI twin: ``python -m core generate``.
"""
from __future__ import annotations

import random
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core.compare.arena import arena_leaderboard, dataset_version, default_pool, draw_pair, pool_options, record_vote
from core.config import ConfigError
from core.data.curated import read_test_split, resolve_source
from core.errors import UserFacingError
from core.models.answers import GenerationSettings, settings_for_model
from core.models.live_answers import LiveBatch, get_batch, start_batch
from core.models.registry import BUNDLED_ID, LOCAL_KINDS, Prices, add_endpoint, available_models
from core.selection import DEFAULT_DATASET, available_datasets
from core.store.compare import list_generations, list_votes
from locales import t
from ui import selection
from ui.common import get_store, help_for, lang, openai_key_for, show_error, tr
from ui.numbers import chart, general, integer, model_name, seconds, usd

store = get_store()
st.title(tr("playground.title"))
st.caption(tr("playground.intro"))

try:
    # display names as the registry stores them, "(bundled)" and "(step N)" in the page's language
    MODELS: dict[str, dict[str, Any]] = {m["id"]: {**m, "display_name": model_name(m["display_name"])}
                                         for m in available_models(store)}
except UserFacingError as exc:
    show_error(exc)
    st.stop()


def labels(prefix: str) -> Any:
    """A format_func for option values: the language is fixed now, so the function is pure (AppTest
    and Streamlit call it outside the script run)."""
    language = lang()
    return lambda value: t(f"{prefix}{value}", language)


def model_label(model_id: str) -> str:
    model = MODELS.get(model_id)
    return f"{model['display_name']} · {model['kind']}" if model else model_id


def price_text(model: dict[str, Any]) -> str:
    if model["kind"] in LOCAL_KINDS:
        if model["price_per_hour"] is None:
            return tr("playground.no_price")
        return tr("playground.price_hour", price=general(model["price_per_hour"]))
    if model["price_input_per_m"] is None and model["price_output_per_m"] is None:
        return tr("playground.no_price")
    return tr("playground.price_tokens", pin=general(model["price_input_per_m"] or 0),
              pout=general(model["price_output_per_m"] or 0))


# -- the prompt: typed, or a test example with its reference --------------------------------------
@st.cache_data(show_spinner=False, max_entries=8)
def _test_rows(folder: str, source: str) -> list[dict[str, str]]:
    return read_test_split(resolve_source(folder), source)  # none: one sentence saying where to fix it


def pick_random_example(count: int) -> None:
    st.session_state["pg_example"] = random.randrange(count) + 1  # 1-based, as people count (and page 2)


def prompt_section() -> tuple[str, dict[str, Any]]:
    """The prompt, and where it came from (curated source, version, example index, reference)."""
    source = st.radio(tr("playground.prompt_source"), ["free", "example"], horizontal=True, key="pg_source",
                      format_func=labels("playground.source_"))
    if source == "free":
        prompt = st.text_area(tr("playground.prompt"), key="pg_prompt", height=80,
                              placeholder=tr("playground.prompt_placeholder"))
        return prompt.strip(), {}
    datasets = available_datasets(store)
    selection.start("pg_dataset", "dataset", datasets, default=DEFAULT_DATASET)
    left, middle, right = st.columns([4, 3, 1], vertical_alignment="bottom")
    dataset = left.selectbox(tr("playground.dataset"), datasets, key="pg_dataset", help=tr("playground.dataset_help"),
                             on_change=selection.chosen, args=("pg_dataset", "dataset"))
    try:
        folder = resolve_source(dataset, store)
        rows = _test_rows(str(folder), dataset)
    except UserFacingError as exc:
        show_error(exc)
        return "", {}
    if not rows:
        return "", {}
    if not 1 <= st.session_state.get("pg_example", 1) <= len(rows):
        st.session_state["pg_example"] = 1
    index = int(middle.number_input(tr("playground.example"), 1, len(rows), key="pg_example",
                                    help=tr("playground.example_help", total=len(rows)))) - 1
    right.button(tr("playground.random_example"), key="pg_example_random", icon=":material/casino:",
                 on_click=pick_random_example, args=(len(rows),))
    row = rows[index]
    with st.container(border=True):
        st.caption(tr("playground.example_title"))
        st.text(row["title"], wrap=True, width="stretch")
        with st.expander(tr("playground.reference")):
            st.text(row["content"], wrap=True, width="stretch")
    meta = {"curated_source": dataset, "curated_version": dataset_version(dataset, store), "example_index": index,
            "reference": row["content"]}
    return row["title"], meta


# -- generation settings (shared, or one form per column) ------------------------------------------
def settings_form(prefix: str, defaults: GenerationSettings, compact: bool = False) -> GenerationSettings | None:
    def helped(name: str) -> dict[str, str]:
        return {"label": tr(f"playground.{name}"), "help": help_for(GenerationSettings, name),
                "key": f"{prefix}_{name}"}

    spots = [st.container() for _ in range(4)] if compact else st.columns(4)
    temperature = spots[0].slider(min_value=0.0, max_value=2.0, value=float(defaults.temperature), step=0.05,
                                  **helped("temperature"))
    max_new = spots[1].number_input(min_value=1, max_value=4096, value=defaults.max_new_tokens, step=16,
                                    **helped("max_new_tokens"))
    top_p = spots[2].slider(min_value=0.05, max_value=1.0, value=float(defaults.top_p), step=0.05, **helped("top_p"))
    seed = spots[3].number_input(min_value=0, value=defaults.seed, step=1, **helped("seed"))
    system = st.text_area(value=defaults.system_prompt or "", height=68, **helped("system_prompt"))
    template = st.text_input(value=defaults.user_template, **helped("user_template"))
    try:
        return GenerationSettings(temperature=temperature, max_new_tokens=int(max_new), top_p=top_p,
                                  system_prompt=system or None, user_template=template, seed=int(seed))
    except ConfigError as exc:
        show_error(exc)
        return None


def api_key_for(model_ids: list[str]) -> tuple[str | None, bool]:
    return openai_key_for([MODELS[m]["kind"] for m in model_ids if m in MODELS], "pg_api_key", "playground")


# -- answers: made in the background (core.models.live_answers), drawn as they grow -----------------------
POLL_S = 0.5  # how often a running batch is redrawn


def draw_answer(answer: dict[str, Any], show_metrics: bool = True) -> None:
    if answer["error"]:
        st.error(tr("playground.answer_error", error=answer["error"]))
    # st.text: model output is never parsed as Markdown or HTML.
    st.text(answer["text"] or tr("playground.empty_answer"), wrap=True, width="stretch")
    if show_metrics:
        st.caption(metrics_line(answer))


def metrics_line(answer: dict[str, Any]) -> str:
    first = answer["latency_first_token_s"]
    cost = answer["cost_usd"]
    return tr("playground.metrics_line", first="-" if first is None else seconds(first),
              total=seconds(answer["total_s"]), tin=integer(answer["tokens_in"]), tout=integer(answer["tokens_out"]),
              cost=tr("playground.no_price") if cost is None else usd(cost, 6))


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


# -- side by side -----------------------------------------------------------------------------------
def side_by_side(prompt: str, meta: dict[str, Any]) -> None:
    # the URL's models, else the current ones (a launched run's base and, once made, its fine-tune)
    selection.start_models("pg_models", list(MODELS), [BUNDLED_ID], max_count=4)
    chosen = st.multiselect(tr("playground.models"), list(MODELS), max_selections=4, format_func=model_label,
                            key="pg_models", help=tr("playground.models_help"), on_change=selection.chosen,
                            args=("pg_models", "models"))
    per_column = st.toggle(tr("playground.per_column"), key="pg_per_column", help=tr("playground.per_column_help"))
    shared: GenerationSettings | None = GenerationSettings()
    if not per_column:
        with st.expander(tr("playground.settings_shared"), icon=":material/tune:"):
            shared = settings_form("pg_shared", GenerationSettings())
    api_key, key_ready = api_key_for(chosen)
    ready = 2 <= len(chosen) <= 4 and bool(prompt) and key_ready
    clicked = st.button(tr("playground.generate"), key="pg_generate", type="primary", disabled=not ready,
                        icon=":material/play_arrow:")
    if len(chosen) < 2:
        st.info(tr("playground.need_two"))
    elif not prompt:
        st.info(tr("playground.need_prompt"))
    jobs: list[tuple[str, GenerationSettings]] = []
    if chosen:
        for model_id, column in zip(chosen, st.columns(len(chosen), border=True)):
            with column:
                st.markdown(f"**{MODELS[model_id]['display_name']}**")
                st.caption(f"`{model_id}` · {price_text(MODELS[model_id])}")
                settings = shared
                if per_column:
                    with st.expander(tr("playground.settings"), icon=":material/tune:"):
                        settings = settings_form(f"pg_col_{model_id}", settings_for_model(MODELS[model_id]),
                                                 compact=True)
                jobs.append((model_id, settings or GenerationSettings()))
                if settings is None:
                    ready = False
    batch = followed("pg_batch")
    if clicked and ready:
        try:
            batch = get_batch(start_batch(store, jobs, prompt, source="playground", meta=meta, api_key=api_key))
        except UserFacingError as exc:
            show_error(exc)
            return
        follow("pg_batch", batch.batch_id)
    # the last answers stay while the prompt is theirs (or while they are still coming)
    if batch is None or (batch.done and batch.prompt != prompt):
        return
    # right under the columns of the same models, the answers need no names again
    ids = [c.model_id for c in batch.columns]
    names = ["" if ids == chosen else MODELS[m]["display_name"] if m in MODELS else m for m in ids]
    answer_columns(batch, [(name, None) for name in names], show_metrics=True,
                   done_caption=tr("playground.stored", count=len(batch.columns)))


# -- blind arena ------------------------------------------------------------------------------------
MIN_GAMES_FOR_CI = 5
VOTE_LABELS = {"a": "vote_left", "b": "vote_right", "tie": "vote_tie", "both_bad": "vote_both_bad"}
VOTE_ICONS = {"a": ":material/arrow_back:", "b": ":material/arrow_forward:", "tie": ":material/drag_handle:",
              "both_bad": ":material/thumb_down:"}


def vote(batch_id: str, winner: str) -> None:
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


def leaderboard_section() -> None:
    st.subheader(tr("playground.leaderboard"))
    votes = list_votes(store)
    if not votes:
        st.caption(tr("playground.leaderboard_empty"))
        return
    board = _leaderboard(len(votes), int(votes[-1]["id"]))
    st.caption(tr("playground.votes_total", count=len(votes), min_games=MIN_GAMES_FOR_CI))
    names = [MODELS[r["model_id"]]["display_name"] if r["model_id"] in MODELS else r["model_id"] for r in board]
    table = [{tr("playground.col_rank"): r["rank"], tr("playground.col_model"): name,
              tr("playground.col_rating"): round(r["rating"]),
              # A bootstrap of a handful of votes gives a falsely narrow interval: show none.
              tr("playground.col_ci"): f"{integer(r['ci_low'])} – {integer(r['ci_high'])}" if r["games"] >= MIN_GAMES_FOR_CI else "—",
              tr("playground.col_games"): r["games"],
              tr("playground.col_wtl"): f"{r['wins']} / {r['ties']} / {r['losses']}"}
             for r, name in zip(board, names)]
    # full width, the model column wide: fine-tune names (run id, step) were cut in a narrow column
    st.dataframe(table, hide_index=True, width="stretch", key="pg_leaderboard_table",
                 column_config={tr("playground.col_model"): st.column_config.TextColumn(width="large")})
    shown = [r["games"] >= MIN_GAMES_FOR_CI for r in board]
    figure = go.Figure(go.Scatter(
        x=[r["rating"] for r in board], y=names, mode="markers", marker={"size": 11},
        error_x={"type": "data", "symmetric": False,
                 "array": [r["ci_high"] - r["rating"] if ok else 0 for r, ok in zip(board, shown)],
                 "arrayminus": [r["rating"] - r["ci_low"] if ok else 0 for r, ok in zip(board, shown)]}))
    figure.update_layout(height=80 + 40 * len(board), margin={"l": 10, "r": 10, "t": 10, "b": 30},
                         yaxis={"autorange": "reversed", "automargin": True}, xaxis_title=tr("playground.col_rating"))
    st.plotly_chart(chart(figure), key="pg_leaderboard_chart", width="stretch")


def arena(prompt: str, meta: dict[str, Any]) -> None:
    st.caption(tr("playground.arena_intro"))
    # checkpoints only when asked for: a run registers many, and pairs of one run's steps say little
    include = st.toggle(tr("playground.arena_checkpoints"), key="pg_arena_checkpoints",
                        help=tr("playground.arena_checkpoints_help"))
    options = pool_options(list(MODELS.values()), include_checkpoints=include)
    if "pg_arena_pool" in st.session_state:
        st.session_state["pg_arena_pool"] = [m for m in st.session_state["pg_arena_pool"] if m in options]
    else:
        st.session_state["pg_arena_pool"] = default_pool(list(MODELS.values()))
    pool = st.multiselect(tr("playground.arena_pool"), options, format_func=model_label, key="pg_arena_pool",
                          help=tr("playground.models_help"))
    with st.expander(tr("playground.settings_shared"), icon=":material/tune:"):
        settings = settings_form("pg_arena", GenerationSettings())
    api_key, key_ready = api_key_for(pool)
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
    headers = []
    for side, column in zip(("left", "right"), batch.columns):
        name = MODELS[column.model_id]["display_name"] if column.model_id in MODELS else column.model_id
        headers.append((tr("playground.arena_" + side), f"{name} · `{column.model_id}`" if voted else None))
    # timings and cost would give the names away: shown only after the vote
    answer_columns(batch, headers, show_metrics=bool(voted))
    if voted:
        left, right = (c.model_id for c in batch.columns)
        st.success(tr("playground.voted", vote=tr(f"playground.{VOTE_LABELS[voted]}"), left=left, right=right))
    elif batch.done:
        for column, winner in zip(st.columns(4), VOTE_LABELS):
            column.button(tr(f"playground.{VOTE_LABELS[winner]}"), key=f"pg_vote_{winner}", icon=VOTE_ICONS[winner],
                          on_click=vote, args=(batch.batch_id, winner), width="stretch")


# -- the page ---------------------------------------------------------------------------------------
def restore_from_url() -> None:
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
            st.session_state["pg_models"] = [c.model_id for c in batch.columns if c.model_id in MODELS]


restore_from_url()
mode = st.radio(tr("playground.mode"), ["side", "arena"], horizontal=True, key="pg_mode",
                format_func=labels("playground.mode_"))
with st.container(border=True):
    prompt, meta = prompt_section()
if mode == "side":
    side_by_side(prompt, meta)
else:
    arena(prompt, meta)
    leaderboard_section()

with st.expander(tr("playground.history"), icon=":material/history:"):
    rows = list_generations(store, limit=30)
    if rows:
        st.dataframe([{tr("playground.col_when"): r["created_at"], tr("playground.col_source"): r["source"],
                       tr("playground.col_model"): r["model_id"], tr("playground.col_prompt"): r["prompt"],
                       tr("playground.col_answer"): r["answer"], tr("playground.col_first"): r["latency_first_token_s"],
                       tr("playground.col_total"): r["total_s"], tr("playground.col_tokens_in"): r["tokens_in"],
                       tr("playground.col_tokens_out"): r["tokens_out"], tr("playground.col_cost"): r["cost_usd"]}
                      for r in rows], hide_index=True, width="stretch", key="pg_history_table")
    else:
        st.caption(tr("playground.history_empty"))

with st.expander(tr("playground.add_endpoint"), icon=":material/add_link:"):
    st.caption(tr("playground.endpoint_hint"))
    with st.form("pg_endpoint_form", border=False):
        a, b, c = st.columns(3)
        name = a.text_input(tr("playground.endpoint_name"), key="pg_ep_name", placeholder="ollama")
        url = b.text_input(tr("playground.endpoint_url"), key="pg_ep_url", placeholder="http://localhost:11434/v1")
        served = c.text_input(tr("playground.endpoint_model"), key="pg_ep_model", placeholder="llama3")
        d, e = st.columns(2)
        price_in = d.number_input(tr("playground.endpoint_price_in"), min_value=0.0, value=0.0, key="pg_ep_price_in")
        price_out = e.number_input(tr("playground.endpoint_price_out"), min_value=0.0, value=0.0, key="pg_ep_price_out")
        if st.form_submit_button(tr("playground.endpoint_add"), key="pg_ep_add"):
            try:
                model_id = add_endpoint(store, name, url, served, Prices(price_in, price_out))
                st.success(tr("playground.endpoint_added", model_id=model_id))
            except UserFacingError as exc:
                show_error(exc)
