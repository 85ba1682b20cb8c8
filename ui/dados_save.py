"""Page 1's Save section: save the curated split as the next version of a name (it becomes the study's
current dataset), save the filters as a preset, and the table of curated datasets saved so far.

    from ui.dados_save import draw_save
    draw_save(store, features, result)      # streamlit run app.py, page 1 (the end of the page)

Every refusal is one sentence: no name, no train rows, no test rows without the explicit checkbox
(core.data.curation_io.save_curated refuses the same in the CLI).
"""
from __future__ import annotations

import streamlit as st

from core.data.curation import CurationResult, Features, save_preset, split_of
from core.data.curation_io import save_curated
from core.errors import UserFacingError
from core.selection import set_current
from core.store import Store
from core.store.curation import list_curated
from ui.common import show_error, tr
from ui.numbers import integer

SAVED_COLUMNS = ("name", "version", "train_rows", "test_rows", "train_tokens", "test_tokens", "tokenizer",
                 "created_at", "folder")


def _save_dataset(store: Store, features: Features, result: CurationResult) -> None:
    funnel = result.funnel
    a1, a2 = st.columns([3, 1], vertical_alignment="bottom")
    name = a1.text_input(tr("dados.save_name"), key="dados_save_name", help=tr("dados.save_help"),
                         placeholder="livros-autor")
    no_test = funnel["train"] > 0 and funnel["test"] == 0
    allow_no_test = no_test and st.checkbox(tr("dados.allow_no_test"), key="dados_allow_no_test",
                                            help=tr("dados.allow_no_test_help"))
    # never disabled: a click with no name or nothing to save says why instead of doing nothing
    if not a2.button(tr("dados.save_button"), key="dados_save", type="primary"):
        return
    if not name.strip():
        st.warning(tr("dados.save_needs_name"))
    elif funnel["train"] == 0:
        st.warning(tr("dados.save_needs_rows"))
    elif no_test and not allow_no_test:
        st.warning(tr("dados.save_needs_test"))
    else:
        try:
            saved = save_curated(store, name.strip(), split_of(features, result), allow_no_test=allow_no_test)
            set_current(store, "dataset", f"{saved['name']}@v{saved['version']}")  # pages 2-5 open with it
            st.success(tr("dados.saved", name=saved["name"], version=saved["version"], train=integer(saved["train"]),
                          test=integer(saved["test"]), folder=saved["folder"]))
        except UserFacingError as exc:
            show_error(exc)


def _save_preset(store: Store, result: CurationResult) -> None:
    b1, b2 = st.columns([3, 1], vertical_alignment="bottom")
    preset_name = b1.text_input(tr("dados.preset_name"), key="dados_preset_name", placeholder="meu-filtro")
    if b2.button(tr("dados.preset_button"), key="dados_preset_save"):
        if not preset_name.strip():
            st.warning(tr("dados.preset_needs_name"))
        else:
            try:
                save_preset(store, preset_name.strip(), result.config)
                # rerun so the preset list above shows it; the message survives the rerun
                st.session_state["dados_flash"] = tr("dados.preset_saved", name=preset_name.strip())
                st.rerun()
            except UserFacingError as exc:
                show_error(exc)
    if "dados_flash" in st.session_state:
        st.success(st.session_state.pop("dados_flash"))


def _saved_table(store: Store) -> None:
    saved = list_curated(store)
    if saved:
        with st.expander(tr("dados.saved_list")):
            st.dataframe([{tr(f"dados.saved_col.{k}"): d[k] for k in SAVED_COLUMNS} for d in saved],
                         key="dados_saved_table", hide_index=True, width="stretch")


def draw_save(store: Store, features: Features, result: CurationResult) -> None:
    st.subheader(tr("dados.save"))
    _save_dataset(store, features, result)
    _save_preset(store, result)
    _saved_table(store)
