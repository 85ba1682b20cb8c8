"""Page 4's prompt: typed, or a test example of a curated dataset (1-based, as on page 2, with a
"Random" button) shown with its reference answer. Returns the prompt and where it came from
(source, version, example index, reference), which every stored answer and vote keeps.

    from ui.playground_prompt import prompt_section
    prompt, meta = prompt_section(store)
"""
from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import streamlit as st

from core.compare.arena import dataset_version
from core.data.curated import read_test_split, resolve_source
from core.errors import UserFacingError
from core.selection import DEFAULT_DATASET, available_datasets
from core.store import Store
from locales import t
from ui import selection
from ui.common import lang, show_error, tr


def option_labels(prefix: str) -> Callable[[str], str]:
    """A format_func for option values: the language is fixed now, so the function is pure (AppTest
    and Streamlit call it outside the script run)."""
    language = lang()
    return lambda value: t(f"{prefix}{value}", language)


@st.cache_data(show_spinner=False, max_entries=8)
def _test_rows(folder: str, source: str) -> list[dict[str, str]]:
    return read_test_split(resolve_source(folder), source)  # none: one sentence saying where to fix it


def pick_random_example(count: int) -> None:
    st.session_state["pg_example"] = random.randrange(count) + 1  # 1-based, as people count (and page 2)


def prompt_section(store: Store) -> tuple[str, dict[str, Any]]:
    """The prompt, and where it came from (curated source, version, example index, reference)."""
    source = st.radio(tr("playground.prompt_source"), ["free", "example"], horizontal=True, key="pg_source",
                      format_func=option_labels("playground.source_"))
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
