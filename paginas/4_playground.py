"""Page 4 "Playground": 2 to 4 models side by side on one prompt (or a test example with its
reference answer), answers streamed with latency, tokens and cost; and the blind arena, where two
models drawn at random answer with their names hidden until the user votes, rated by Bradley–Terry.

    streamlit run app.py        # then open /playground

Thin page, read top-down as the user sees it: the mode, the prompt or test example
(ui.playground_prompt), then side by side — the models, their settings (ui.playground_settings),
widgets → GenerationSettings → core.models.live_answers.start_batch (the answers are made in background
threads of the app, so reruns and reloads never stop them; the batch id rides in the URL) → answer
columns that grow (ui.playground_answers) — or the arena and its leaderboard (ui.playground_arena);
then the recent generations and the endpoint form (ui.playground_history). Every answer is stored
as it completes; votes with their prompt and dataset version. The CLI twin: ``python -m core generate``.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import UserFacingError
from core.models.answers import GenerationSettings, settings_for_model
from core.models.live_answers import get_batch, start_batch
from core.models.registry import BUNDLED_ID
from ui import selection
from ui.common import get_store, openai_key_for, show_error, tr
from ui.model_choice import display_name, model_label, price_text, registered_models
from ui.playground_answers import answer_columns, follow, followed, restore_from_url
from ui.playground_arena import arena, leaderboard_section
from ui.playground_history import endpoint_form, recent_generations
from ui.playground_prompt import option_labels, prompt_section
from ui.playground_settings import settings_form

store = get_store()
st.title(tr("playground.title"))
st.caption(tr("playground.intro"))
MODELS = registered_models(store)


def side_by_side(prompt: str, meta: dict[str, Any]) -> None:
    """2 to 4 models, shared settings or one form per column, Generate, and the answers below."""
    # the URL's models, else the current ones (a launched run's base and, once made, its fine-tune)
    selection.start_models("pg_models", list(MODELS), [BUNDLED_ID], max_count=4)
    chosen = st.multiselect(tr("playground.models"), list(MODELS), max_selections=4, format_func=model_label(MODELS),
                            key="pg_models", help=tr("playground.models_help"), on_change=selection.chosen,
                            args=("pg_models", "models"))
    per_column = st.toggle(tr("playground.per_column"), key="pg_per_column", help=tr("playground.per_column_help"))
    shared: GenerationSettings | None = GenerationSettings()
    if not per_column:
        with st.expander(tr("playground.settings_shared"), icon=":material/tune:"):
            shared = settings_form("pg_shared", GenerationSettings())
    api_key, key_ready = openai_key_for([MODELS[m]["kind"] for m in chosen if m in MODELS], "pg_api_key", "playground")
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
    names = ["" if ids == chosen else display_name(MODELS, m) for m in ids]
    answer_columns(batch, [(name, None) for name in names], show_metrics=True,
                   done_caption=tr("playground.stored", count=len(batch.columns)))


# -- the page ---------------------------------------------------------------------------------------
restore_from_url(MODELS)
mode = st.radio(tr("playground.mode"), ["side", "arena"], horizontal=True, key="pg_mode",
                format_func=option_labels("playground.mode_"))
with st.container(border=True):
    prompt, meta = prompt_section(store)
if mode == "side":
    side_by_side(prompt, meta)
else:
    arena(store, MODELS, prompt, meta)
    leaderboard_section(store, MODELS)
recent_generations(store)
endpoint_form(store)
