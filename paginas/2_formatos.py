"""Page 2 "Formatos": one curated example in every training format side by side (the exact text each
model sees), tokens per format with overhead and context overflow, the validation report, the
price and hardware tables, the cost/time estimate, and export with a download.

    streamlit run app.py        # then open /formatos

Thin page, read top-down as the user sees it: the dataset and models, the template → one
FormatView → the example in every format → (tabs) tokens, validation, prices and hardware, the
estimate, export. Widget groups live in ui/formatos_*.py; the work in core.formats and core.costs.
CLI twins: ``python -m core export | validate | estimate``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import streamlit as st

from core.costs.prices import list_prices
from core.data.curated import resolve_source
from core.errors import UserFacingError
from core.formats.export import default_export_path, export_training_file
from core.formats.render import FORMATS, PRESETS, TemplateConfig, to_records
from core.formats.stats import FormatView
from core.selection import DEFAULT_DATASET, available_datasets
from locales import t
from ui import selection
from ui.common import get_store, help_for, lang, show_error, tr
from ui.formatos_counting import split_rows, token_stats
from ui.formatos_estimate import estimate_panel
from ui.formatos_prices import price_tables
from ui.formatos_side_by_side import example_stepper, side_by_side
from ui.formatos_tokens import token_tables
from ui.formatos_validation import validation_report
from ui.numbers import integer

store = get_store()
st.title(tr("formatos.title"))
st.caption(tr("formatos.intro"))
LANG = lang()


def labels(prefix: str) -> Any:
    """A pure format_func (the language is fixed for this run)."""
    return lambda value: t(f"{prefix}{value}", LANG)


def apply_preset() -> None:
    preset = PRESETS[st.session_state["formatos_preset"]]
    st.session_state["formatos_system"] = preset.system_prompt
    st.session_state["formatos_user"] = preset.user_template
    st.session_state["formatos_assistant"] = preset.assistant_template


# -- the dataset and the target models ------------------------------------------------------------
prices = list_prices(store)
openai_models = [p["model"] for p in prices if p.get("provider", "openai") == "openai"]
st.session_state.setdefault("formatos_preset", "seed-openai")
if "formatos_user" not in st.session_state:
    apply_preset()

cols = st.columns([3, 2, 1.4, 2, 2, 1.4])
sources = available_datasets(store)
selection.start("formatos_source", "dataset", sources, default=DEFAULT_DATASET)
source = cols[0].selectbox(tr("formatos.source"), sources, key="formatos_source", help=help_for(FormatView, "source"),
                           on_change=selection.chosen, args=("formatos_source", "dataset"))
folder_text = cols[1].text_input(tr("formatos.folder"), key="formatos_folder", placeholder="dados/curated/…/v1")
split = cols[2].radio(tr("formatos.split"), ["train", "test"], key="formatos_split", horizontal=True,
                      format_func=labels("formatos.split_"), help=help_for(FormatView, "split"))
local_model = cols[3].text_input(tr("formatos.local_model"), value="smollm2", key="formatos_local_model",
                                 help=help_for(FormatView, "local_model"))
if openai_models and st.session_state.get("formatos_openai_model") not in openai_models:
    st.session_state["formatos_openai_model"] = next(  # the seed study's model, else the first active one
        (m for m in openai_models if m == FormatView.openai_model), openai_models[0])
openai_model = cols[4].selectbox(tr("formatos.openai_model"), openai_models, key="formatos_openai_model",
                                 help=help_for(FormatView, "openai_model"))
seq_len = cols[5].number_input(tr("formatos.seq_len"), min_value=16, max_value=131072, value=512, step=64,
                               key="formatos_seq_len", help=help_for(FormatView, "seq_len"))

# -- the template ---------------------------------------------------------------------------------
with st.expander(tr("formatos.template"), expanded=True):
    tcols = st.columns([2, 3, 3, 2])
    tcols[0].selectbox(tr("formatos.preset"), list(PRESETS), key="formatos_preset", on_change=apply_preset,
                       format_func=labels("formatos.preset_"))
    system = tcols[1].text_area(tr("formatos.system"), key="formatos_system", height=68,
                                help=help_for(TemplateConfig, "system_prompt"))
    user = tcols[2].text_input(tr("formatos.user"), key="formatos_user", help=help_for(TemplateConfig, "user_template"))
    assistant = tcols[3].text_input(tr("formatos.assistant"), key="formatos_assistant",
                                    help=help_for(TemplateConfig, "assistant_template"))

try:
    template = TemplateConfig(system_prompt=system, user_template=user, assistant_template=assistant)
    view = FormatView(source=folder_text.strip() or source, split=split, local_model=local_model.strip(),
                      openai_model=openai_model or "gpt-4o-mini-2024-07-18", seq_len=int(seq_len), template=template,
                      fmt=st.session_state.get("formatos_format", "openai-chat"))
    folder = resolve_source(view.source, store)
    rows = split_rows(folder, view.split)
    if not rows:
        st.info(tr("formatos.no_rows"))
        st.stop()
    stats = token_stats(rows, folder, view)
except UserFacingError as exc:
    show_error(exc)
    st.stop()

# -- one example, every format --------------------------------------------------------------------
index = example_stepper(rows)
side_by_side(rows[index], index, stats, view)

st.radio(tr("formatos.format"), FORMATS, key="formatos_format", horizontal=True, format_func=labels("formatos.fmt_"),
         help=help_for(FormatView, "fmt"))
view = dataclasses.replace(view, fmt=st.session_state["formatos_format"])
records = to_records(rows, view.fmt, template, view.local_model)
tab_tokens, tab_valid, tab_prices, tab_estimate, tab_export = st.tabs(
    [tr("formatos.tab_tokens"), tr("formatos.tab_validation"), tr("formatos.tab_prices"), tr("formatos.tab_estimate"),
     tr("formatos.tab_export")])

with tab_tokens:
    token_tables(stats, view, [openai_model] if openai_model else [])
with tab_valid:
    validation_report(records, view)
with tab_prices:  # before the estimate: prices saved here count in this run's estimate
    price_tables(store, prices)
with tab_estimate:
    estimate_panel(store, view, folder, records)

# -- export ---------------------------------------------------------------------------------------
with tab_export:
    source_name = view.source_name(folder)
    target = default_export_path(source_name, view.fmt, view.split)
    st.caption(tr("formatos.export_to", path=f"`{target}`"))  # as code: Markdown made "name@v1_..." a mailto link
    if st.button(tr("formatos.export"), key="formatos_export", type="primary"):
        try:
            done = export_training_file(rows, view.fmt, template, target, tokenizer_spec=view.local_model,
                                        source=source_name, split=view.split)
            st.session_state["formatos_exported"] = str(done.path)
            st.success(tr("formatos.exported", path=f"`{done.path}`", n=integer(done.manifest["examples"]),
                          tokens=integer(done.manifest["tokens"]["total"])))
        except UserFacingError as exc:
            show_error(exc)
    exported = st.session_state.get("formatos_exported")
    if exported and Path(exported).is_file():
        st.download_button(tr("formatos.download", name=Path(exported).name), Path(exported).read_bytes(),
                           file_name=Path(exported).name, mime="application/jsonl", key="formatos_download")
    st.caption(tr("formatos.export_cli"))
    st.code(f"python -m core export {view.source} --format {view.fmt} --split {view.split} --out {target}",
            language="bash")
