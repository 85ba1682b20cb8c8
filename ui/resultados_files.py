"""Page 5's files: the xlsx workbook of an evaluation (built on request, then offered for
download; no API key is ever written) and the import of old comparison sheets in the seed study's
layout (the bundled seed sheet in one click, or an uploaded .xlsx/.ods/.csv).

    from ui.resultados_files import import_section, xlsx_section
    xlsx_section(store, eval_id)     # the CLI twins: python -m core report --xlsx FILE, python -m core import FILE
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import streamlit as st

from core.compare.xlsx import import_sheet, write_report
from core.data.datasets import safe_upload_name
from core.errors import UserFacingError
from core.paths import results_dir, seed_dir
from core.store import Store
from ui.common import show_error, tr


def xlsx_section(store: Store, eval_id: str) -> None:
    st.caption(tr("resultados.xlsx_help"))
    if st.button(tr("resultados.build_xlsx"), key="rs_build_xlsx"):
        try:
            path = write_report(store, results_dir() / f"comparacao-{eval_id}.xlsx", eval_id)
            st.session_state["rs_xlsx"] = (path.name, path.read_bytes())
        except UserFacingError as exc:
            show_error(exc)
    if st.session_state.get("rs_xlsx"):
        name, data = st.session_state["rs_xlsx"]
        st.download_button(tr("resultados.download_xlsx", name=name), data, file_name=name, key="rs_download",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def import_section(store: Store) -> None:
    """An imported sheet becomes an evaluation of its own, shown at once."""
    st.markdown(f"**{tr('resultados.import')}**")
    seed_sheet = seed_dir() / "fine_tuning_llama_gpt.ods"
    path: Path | None = None
    if seed_sheet.exists() and st.button(tr("resultados.import_seed"), key="rs_import_seed",
                                         icon=":material/history_edu:"):
        path = seed_sheet
    upload = st.file_uploader(tr("resultados.import_file"), type=["xlsx", "ods", "csv"], key="rs_upload")
    folder: Path | None = None
    if upload is not None and st.button(tr("resultados.import_button"), key="rs_import"):
        folder = Path(tempfile.mkdtemp(prefix="ftdash-import-"))
        path = folder / safe_upload_name(upload.name)  # the browser's name cannot leave the folder
        path.write_bytes(upload.getvalue())
    if path is not None:
        try:
            ids = import_sheet(store, path)
        except UserFacingError as exc:
            show_error(exc)
        else:
            st.session_state["rs_eval"] = ids[0]
            st.session_state["rs_imported"] = tr("resultados.imported", n=len(ids), names=", ".join(ids))
            st.rerun()
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    if st.session_state.get("rs_imported"):
        st.success(st.session_state["rs_imported"])
