"""Pages 2-5 open with the study's current dataset, run and models (core/selection.py).

A selector's starting value, when this session has none yet, is (1) the URL's query parameter
(``?dataset=``, ``?run=``, ``?models=``: a reload keeps what the tab showed), (2) the choice stored
in the database (what the user chose or made last, on any page, in any tab), (3) a default. A
wanted value that no longer exists (a removed folder, a deleted run) is said in a note next to the
selector, never dropped silently. The user's change goes back to both the URL and the database.

    datasets = available_datasets(store)
    selection.start("formatos_source", "dataset", datasets, default="seed-study")
    st.selectbox(label, datasets, key="formatos_source", on_change=selection.chosen,
                 args=("formatos_source", "dataset"))

Widget keys never change; the widgets get no ``index``/``default`` (the value is in session state).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from core.selection import (
    get_current,
    get_current_models,
    pick,
    resolve_models,
    set_current,
    set_current_models,
)
from ui.common import get_store, tr

NOTE = "__selection_note"  # session key suffix: the note shown while the fallback is on screen


def start(key: str, kind: str, options: Sequence[str], default: str | None) -> None:
    """Before the widget ``key`` is drawn: its starting value (URL, database, default), and the note
    about a wanted value that is gone, shown until the user picks something else."""
    current = st.session_state.get(key)
    if current is not None and current in options:
        _show_note(key)
        return
    store = get_store()
    url = st.query_params.get(kind)
    stored = get_current(store, kind)
    if current is not None:  # this session's own choice vanished (a folder removed meanwhile)
        url, stored = None, current
    chosen_now = pick(options, url=url, stored=stored, default=default)
    st.session_state[key] = chosen_now.value
    st.session_state.pop(key + NOTE, None)
    if chosen_now.missing:
        st.session_state[key + NOTE] = (tr(f"selection.gone_{chosen_now.missing_origin}_{kind}",
                                           name=f"`{chosen_now.missing}`", shown=f"`{chosen_now.value or '—'}`"),
                                        chosen_now.value)
    if chosen_now.origin == "url" and chosen_now.value != stored and (kind != "dataset"
                                                                     or _is_dataset_name(chosen_now.value)):
        set_current(store, kind, chosen_now.value)  # a link opened is a choice made
    _set_param(kind, chosen_now.value)
    _show_note(key)


def start_models(key: str, options: Sequence[str], default: Sequence[str], max_count: int | None = None) -> None:
    """``start`` for a multiselect of models: the URL's ``?models=``, else the current models (a run's
    future fine-tune resolved once it is registered), else ``default``."""
    if key in st.session_state:
        st.session_state[key] = [m for m in st.session_state[key] if m in options]
        _show_note(key)
        return
    store = get_store()
    found = None
    for wanted in (st.query_params.get_all("models"), get_current_models(store)):
        if wanted:
            found = resolve_models(store, wanted, options)
            if found.ids:
                break
    ids = found.ids if found and found.ids else [m for m in default if m in options]
    st.session_state[key] = ids[:max_count] if max_count else ids
    st.session_state.pop(key + NOTE, None)
    if found and found.notes:
        text = " ".join(tr(f"selection.model_{n.reason}", name=f"`{n.model}`") for n in found.notes)
        st.session_state[key + NOTE] = (text, st.session_state[key])
    _show_note(key)


def prefer(key: str, options: Sequence[str], preferred: str | None) -> None:
    """A quiet starting value for a selector that follows the current choice only when it can (e.g.
    the exported file of the current dataset): nothing to say when it cannot."""
    if st.session_state.get(key) in options:
        return
    if preferred in options:
        st.session_state[key] = preferred
    elif options:
        st.session_state[key] = options[0]


def chosen(key: str, kind: str) -> None:
    """on_change of a selector: the user's choice becomes the study's (database) and the tab's (URL)."""
    value = st.session_state.get(key)
    st.session_state.pop(key + NOTE, None)
    store = get_store()
    if kind == "models":
        set_current_models(store, list(value or []))
    elif kind != "dataset" or _is_dataset_name(value):
        set_current(store, kind, value)
    _set_param(kind, value)


def made(kind: str, value: str) -> None:
    """Something the user just made (a run launched) is shown in this tab's URL too."""
    _set_param(kind, value)


def _is_dataset_name(value: Any) -> bool:
    """Curated datasets are remembered across pages; an exported file (page 3) only in its tab's URL."""
    return isinstance(value, str) and bool(value) and not value.endswith(".jsonl")


def _set_param(kind: str, value: Any) -> None:
    if isinstance(value, list | tuple):
        if list(value) != st.query_params.get_all(kind):
            if value:
                st.query_params[kind] = list(value)
            elif kind in st.query_params:
                del st.query_params[kind]
    elif value and st.query_params.get(kind) != value:
        st.query_params[kind] = value


def _show_note(key: str) -> None:
    note = st.session_state.get(key + NOTE)
    if not note:
        return
    text, shown = note
    if st.session_state.get(key) != shown:  # the user moved on
        st.session_state.pop(key + NOTE, None)
        return
    st.info(text, icon=":material/history:")
