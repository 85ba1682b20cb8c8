"""Page 1's sample rows: the first rows kept for train and the first rows each stage dropped, with
the numbers that say why (lengths, tokens, the keywords missing) in the session's language.

    from ui.dados_samples import draw_samples
    draw_samples(features, result)      # streamlit run app.py, page 1 (below the charts)
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.data.curation import CurationConfig, CurationResult, Features
from core.data.curation_views import samples
from ui.common import tr
from ui.numbers import integer


def _span(low: int, high: int | None) -> str:
    return f"{integer(low)}–{integer(high) if high else '∞'}"


def reason(row: dict[str, Any], c: CurationConfig) -> str:
    """Why a row is where it is: the stage that dropped it and its numbers against the limits."""
    if row["stage"] == "chars":
        span = f"{_span(c.min_title_chars, c.max_title_chars)} / {_span(c.min_content_chars, c.max_content_chars)}"
        return tr("dados.reason.chars", title=integer(row["title_chars"]), content=integer(row["content_chars"]),
                  limits=span)
    if row["stage"] == "tokens":
        return tr("dados.reason.tokens", tokens=integer(row["tokens"]) if row["tokens"] is not None else "?",
                  limits=_span(c.min_tokens, c.max_tokens))
    if row["stage"] == "keywords":
        return tr(f"dados.reason.keywords_{c.keyword_mode}", words=", ".join(c.keywords))
    return tr(f"dados.reason.{row['stage']}")


def draw_samples(features: Features, result: CurationResult) -> None:
    st.subheader(tr("dados.samples"))
    rows = samples(features, result)
    if not rows:
        st.info(tr("dados.no_samples"))
        return
    st.dataframe([{
        tr("dados.col.row"): r["row"],
        tr("dados.col.status"): tr("dados.kept") if r["kept"] else tr("dados.dropped"),
        tr("dados.col.reason"): reason(r, result.config),
        tr("dados.col.title"): r["title"],
        tr("dados.col.content"): r["content"],
        tr("dados.col.tokens"): r["tokens"],
    } for r in rows], key="dados_samples", hide_index=True, width="stretch")
