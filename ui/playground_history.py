"""Page 4's two expanders below the answers: the recent generations (every answer stored, from
the playground, the arena or ``python -m core generate``) and the form that registers an
OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp server) as a model.

    from ui.playground_history import endpoint_form, recent_generations
    recent_generations(store)
    endpoint_form(store)             # the CLI twin: python -m core models add-endpoint
"""
from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from core.errors import UserFacingError
from core.models.registry import Prices, add_endpoint
from core.store import Store
from core.store.compare import list_generations
from locales import numbers, t, text_table
from ui.common import lang, show_error, tr

HISTORY_COLUMNS = {"created_at": "col_when", "source": "col_source", "model_id": "col_model", "prompt": "col_prompt",
                   "answer": "col_answer", "latency_first_token_s": "col_first", "total_s": "col_total",
                   "tokens_in": "col_tokens_in", "tokens_out": "col_tokens_out", "cost_usd": "col_cost"}


def _where(source: str) -> str:
    key = f"playground.where_{source}"
    return tr(key) if key in text_table() else source


def recent_generations(store: Store) -> None:
    with st.expander(tr("playground.history"), icon=":material/history:"):
        rows = list_generations(store, limit=30)
        if not rows:
            st.caption(tr("playground.history_empty"))
            return
        table = pd.DataFrame([{c: _where(r[c]) if c == "source" else r[c] for c in HISTORY_COLUMNS} for r in rows])
        language = lang()
        shown = table.style.format({"latency_first_token_s": partial(numbers.number, lang=language, digits=2),
                                    "total_s": partial(numbers.number, lang=language, digits=2),
                                    "tokens_in": partial(numbers.integer, lang=language),
                                    "tokens_out": partial(numbers.integer, lang=language),
                                    "cost_usd": partial(numbers.usd, lang=language, digits=6)},
                                   na_rep=t("common.na", language))
        st.dataframe(shown, hide_index=True, width="stretch", key="pg_history_table",
                     column_config={c: tr(f"playground.{label}") for c, label in HISTORY_COLUMNS.items()})


def endpoint_form(store: Store) -> None:
    with st.expander(tr("playground.add_endpoint"), icon=":material/add_link:"):
        st.caption(tr("playground.endpoint_hint"))
        with st.form("pg_endpoint_form", border=False):
            a, b, c = st.columns(3)
            name = a.text_input(tr("playground.endpoint_name"), key="pg_ep_name", placeholder="ollama")
            url = b.text_input(tr("playground.endpoint_url"), key="pg_ep_url", placeholder="http://localhost:11434/v1")
            served = c.text_input(tr("playground.endpoint_model"), key="pg_ep_model", placeholder="llama3")
            d, e = st.columns(2)
            price_in = d.number_input(tr("playground.endpoint_price_in"), min_value=0.0, value=0.0, key="pg_ep_price_in")
            price_out = e.number_input(tr("playground.endpoint_price_out"), min_value=0.0, value=0.0,
                                       key="pg_ep_price_out")
            if st.form_submit_button(tr("playground.endpoint_add"), key="pg_ep_add"):
                try:
                    model_id = add_endpoint(store, name, url, served, Prices(price_in, price_out))
                    st.success(tr("playground.endpoint_added", model_id=model_id))
                except UserFacingError as exc:
                    show_error(exc)
