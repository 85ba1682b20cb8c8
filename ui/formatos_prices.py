"""Page 2's price and hardware tables, which the estimates read: the hosted models' prices (USD per
1M tokens, dated and sourced, retired models flagged) and the hardware rows for local estimates,
both editable and saved as a whole (checked first, nothing written on a bad row); and the
calibrations measured on this machine. Stored column names stay; headers are shown translated.

    price_tables(store, prices)
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.costs.calibrate import list_calibrations
from core.costs.prices import list_hardware, save_hardware, save_prices
from core.errors import UserFacingError
from core.store import Store
from locales import text_table
from ui.common import show_error, tr
from ui.numbers import integer

_TYPED = {"as_of": st.column_config.DateColumn, "shutdown_date": st.column_config.DateColumn,
          "retired": st.column_config.CheckboxColumn}


def _header(column: str) -> str:
    key = f"formatos.col_{column}"
    return tr(key) if key in text_table() else column  # a column added later shows its stored name


def _columns(table: pd.DataFrame) -> dict[str, Any]:
    """Each column shown with its translated header (the edited rows keep the stored names)."""
    return {c: _TYPED.get(c, st.column_config.Column)(label=_header(c)) for c in table.columns}


def _editor(rows: list[dict[str, Any]], key: str) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    first = [c for c in ("provider", "model") if c in table.columns]  # whose price it is, before the figures
    return st.data_editor(table, key=key, num_rows="dynamic", hide_index=True, width="stretch",
                          column_config=_columns(table),
                          column_order=first + [c for c in table.columns if c not in first])


def _save(button: str, key: str, save: Any, store: Store, edited: pd.DataFrame, saved: str) -> None:
    if st.button(tr(button), key=key):
        try:
            st.success(tr(saved, n=integer(save(store, edited.to_dict("records")))))
        except UserFacingError as exc:
            show_error(exc)


def price_tables(store: Store, prices: list[dict[str, Any]]) -> None:
    st.markdown(f"**{tr('formatos.prices_title')}**")
    st.caption(tr("formatos.prices_caption"))
    edited = _editor(prices, "formatos_prices")
    _save("formatos.save_prices", "formatos_save_prices", save_prices, store, edited, "formatos.prices_saved")

    st.markdown(f"**{tr('formatos.hardware_title')}**")
    st.caption(tr("formatos.hardware_caption"))
    hardware = _editor(list_hardware(store), "formatos_hardware_table")
    _save("formatos.save_hardware", "formatos_save_hardware", save_hardware, store, hardware,
          "formatos.hardware_saved")

    calibrations = list_calibrations(store)
    if calibrations:
        st.markdown(f"**{tr('formatos.calibrations_title')}**")
        table = pd.DataFrame(calibrations).drop(columns=["key"])
        st.dataframe(table.rename(columns={c: _header(c) for c in table.columns}), hide_index=True, width="stretch")
