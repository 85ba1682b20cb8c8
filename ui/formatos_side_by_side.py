"""Page 2's centre: one curated example in every training format side by side, the exact text each
model is trained on (drawn with st.code, never Markdown or HTML), with its tokens, the overhead of
the format, a note on where the framing comes from and the JSONL record; and the buttons that step
through the examples.

    index = example_stepper(rows)                       # 0-based; the widget shows 1-based numbers
    side_by_side(rows[index], index, stats, view)
"""
from __future__ import annotations

import json

import streamlit as st

from core.errors import UserFacingError
from core.formats.render import FORMATS, render_text, to_records
from core.formats.stats import FormatStats, FormatView, default_system_tokens
from ui.common import show_error, tr
from ui.numbers import integer


def _step(delta: int, total: int) -> None:
    st.session_state["formatos_example"] = min(max(1, st.session_state["formatos_example"] + delta), total)


def example_stepper(rows: list[dict[str, str]]) -> int:
    """◀ Previous, the example number, Next ▶ and the example's title; returns the 0-based index."""
    st.session_state.setdefault("formatos_example", 1)
    st.session_state["formatos_example"] = min(st.session_state["formatos_example"], len(rows))
    cols = st.columns([1, 1.2, 1, 8], vertical_alignment="bottom")
    cols[0].button(tr("formatos.prev"), key="formatos_prev", on_click=_step, args=(-1, len(rows)), width="stretch")
    index = int(cols[1].number_input(tr("formatos.example"), min_value=1, max_value=len(rows),
                                     key="formatos_example")) - 1
    cols[2].button(tr("formatos.next"), key="formatos_next", on_click=_step, args=(1, len(rows)), width="stretch")
    cols[3].caption(tr("formatos.example_of", n=integer(index + 1), total=integer(len(rows)),
                       title=rows[index]["title"]))
    return index


def side_by_side(row: dict[str, str], index: int, stats: dict[str, FormatStats], view: FormatView) -> None:
    """One column per format: its tokens, the text (line breaks marked on request), a note, the record."""
    head = st.columns([6, 2], vertical_alignment="bottom")
    head[0].subheader(tr("formatos.side_by_side"))
    marks = head[1].toggle(tr("formatos.show_breaks"), key="formatos_breaks", help=tr("formatos.show_breaks_help"))
    try:
        records = {fmt: to_records([row], fmt, view.template, view.local_model)[0] for fmt in FORMATS}
        texts = {fmt: render_text(records[fmt], fmt, view.template, view.local_model) for fmt in FORMATS}
    except UserFacingError as exc:
        show_error(exc)
        st.stop()
    for fmt, column in zip(FORMATS, st.columns(len(FORMATS))):
        with column:
            s = stats[fmt]
            st.markdown(f"**{tr('formatos.fmt_' + fmt)}**")
            st.caption(tr("formatos.tokens_caption", tokens=integer(s.counts[index]), tokenizer=s.tokenizer,
                          raw=integer(s.raw_counts[index]), overhead=integer(s.counts[index] - s.raw_counts[index])))
            shown = texts[fmt].replace("\n", "↵\n") if marks else texts[fmt]
            st.code(shown, language=None, wrap_lines=True, height=360)
            st.caption(tr("formatos.note_" + fmt))
            with st.expander(tr("formatos.record")):
                st.code(json.dumps(records[fmt], ensure_ascii=False, indent=1), language="json", wrap_lines=True)
    if not view.template.system_prompt:
        added = default_system_tokens(view.local_model)
        if added:
            st.info(tr("formatos.default_system", tokens=integer(added)))
