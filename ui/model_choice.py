"""The registered models as pages 4 and 5 offer them: display names in the page's language
("(bundled)", "(step N)" translated), labels "name · kind" for selectors, and a model's price in
words. The registry itself is core/models/registry.py.

    from ui.model_choice import model_label, registered_models
    models = registered_models(store)      # {id: row}; a broken registry stops the page with one sentence
    st.multiselect("Models", list(models), format_func=model_label(models))
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.errors import UserFacingError
from core.models.registry import LOCAL_KINDS, available_models
from core.store import Store
from ui.common import show_error, tr
from ui.numbers import general, model_name

Models = dict[str, dict[str, Any]]


def registered_models(store: Store) -> Models:
    """Every usable model by id, with its display name in the page's language."""
    try:
        return {m["id"]: {**m, "display_name": model_name(m["display_name"])} for m in available_models(store)}
    except UserFacingError as exc:
        show_error(exc)
        st.stop()
        raise  # unreachable: st.stop() raises


def model_label(models: Models) -> Callable[[str], str]:
    """A format_func for model ids: "display name · kind" (an id no longer registered as itself)."""
    def label(model_id: str) -> str:
        model = models.get(model_id)
        return f"{model['display_name']} · {model['kind']}" if model else model_id
    return label


def display_name(models: Models, model_id: str) -> str:
    return models[model_id]["display_name"] if model_id in models else model_id


def price_text(model: dict[str, Any]) -> str:
    """Per hour for local models, per million tokens in / out for hosted ones; "no price" when unknown."""
    if model["kind"] in LOCAL_KINDS:
        if model["price_per_hour"] is None:
            return tr("playground.no_price")
        return tr("playground.price_hour", price=general(model["price_per_hour"]))
    if model["price_input_per_m"] is None and model["price_output_per_m"] is None:
        return tr("playground.no_price")
    return tr("playground.price_tokens", pin=general(model["price_input_per_m"] or 0),
              pout=general(model["price_output_per_m"] or 0))
