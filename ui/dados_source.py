"""Page 1's raw file: the Data source expander (bundled sample, seed split, a path, an upload, a file
opened before), its columns, and reading and tokenizing it with progress shown on the page.

    from ui.dados_source import choose_source, open_columns, curation_of
    path = choose_source(store)                        # streamlit run app.py, page 1
    stamp, columns, problem = open_columns(path)
    features, result = curation_of(store, path, stamp, config, st.empty())

Reads and token counts run in background threads shared by every session of the app process
(core.background), so a reload or a slider moved mid-read never restarts a read of the full file;
a slider change afterwards is core.data.curation.evaluate over numpy arrays.
"""
from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from core.background import Tasks
from core.data.curation import CurationConfig, CurationResult, Features, TokenCache, evaluate, token_rows
from core.data.datasets import ReadPlan, read_rows, save_upload, seed_split_file
from core.data.rawfiles import check_text_columns, fingerprint, list_columns
from core.errors import UserFacingError
from core.paths import sample_raw_path
from core.store import Store
from core.store.curation import list_raw_datasets, record_raw_dataset
from ui.common import follow_task, tr
from ui.dados_filters import radio

SOURCES = ["sample", "seed", "path", "upload", "recent"]


def choose_source(store: Store) -> str | None:
    """The Data source expander; the raw file's path, or None until there is one."""
    with st.expander(tr("dados.source"), expanded=True):
        kind = radio(tr("dados.source_kind"), SOURCES, "dados_source")
        if kind == "sample":
            return str(sample_raw_path())
        if kind == "seed":
            return str(seed_split_file())
        if kind == "path":
            return st.text_input(tr("dados.path"), key="dados_path", help=tr("dados.path_help"),
                                 placeholder="/data/trn.json").strip() or None
        if kind == "recent":
            known = [d["path"] for d in list_raw_datasets(store)]
            if not known:
                st.info(tr("dados.no_recent"))
                return None
            return st.selectbox(tr("dados.recent"), known, key="dados_recent")
        cap = int(st.get_option("server.maxUploadSize"))
        st.caption(tr("dados.upload_cap", mb=cap))
        upload = st.file_uploader(tr("dados.upload"), key="dados_upload",
                                  type=["json", "jsonl", "ndjson", "gz", "csv", "tsv", "parquet"])
        if upload is None:
            st.info(tr("dados.upload_first"))
            return None
        return str(save_upload(upload.name, upload.getvalue()))


# -- cached work (shared by sessions, keyed by the file's fingerprint) ---------------------------------
@st.cache_data(show_spinner=False, max_entries=20)
def _columns_of(path: str, stamp: str) -> list[str]:
    return list_columns(path)


def open_columns(path: str | None) -> tuple[str, list[str], UserFacingError | None]:
    """(fingerprint, column names, the problem that stops the page) of the chosen file."""
    if not path:
        return "", ["title", "content"], None
    try:
        stamp = fingerprint(path) if Path(path).is_file() else ""
        return stamp, _columns_of(path, stamp), None
    except (UserFacingError, OSError) as exc:
        problem = exc if isinstance(exc, UserFacingError) else UserFacingError(f"{path}: {exc}")
        return "", ["title", "content"], problem


@st.cache_data(show_spinner=False, max_entries=20)
def _text_columns_checked(path: str, stamp: str, title: str, content: str) -> bool:
    """NotTextColumnError when the mapped columns hold numbers (a CSV of prices): raised, never cached."""
    check_text_columns(path, ReadPlan(title, content))
    return True


@st.cache_resource(show_spinner=False)
def _work() -> dict[str, Any]:
    """Reads and token counts in background threads, shared by every session of this app process.
    Counting tasks live as long as the Features they fill (a weak key: a dropped read takes them)."""
    return {"reads": Tasks(keep=3, name="read"), "counts": weakref.WeakKeyDictionary(), "lock": threading.Lock()}


def _features_of(path: str, stamp: str, config: CurationConfig, bar: Any) -> Features:
    plan = ReadPlan(config.title_column, config.content_column, config.cleaning)
    task = _work()["reads"].start((path, stamp, plan.title_column, plan.content_column, plan.cleaning),
                                  lambda progress: Features(read_rows(path, plan, progress=progress)))
    return follow_task(task, bar)


def _count_tokens(store: Store, features: Features, tokenizer: str, needed: np.ndarray, bar: Any) -> None:
    """Counts for the rows the filters need; the task's key names how many were missing, so a wider
    filter later counts the rest (Features counts one tokenizer at a time, under its lock)."""
    work = _work()
    with work["lock"]:
        tasks = work["counts"].setdefault(features, Tasks(keep=8, name="count"))
    task = tasks.start(
        (tokenizer, features.uncounted(tokenizer, needed)),
        lambda progress: features.ensure_tokens(tokenizer, needed, cache=TokenCache(store), progress=progress))
    follow_task(task, bar)


def curation_of(store: Store, path: str, stamp: str, config: CurationConfig, bar: Any) -> tuple[Features, CurationResult]:
    """Read the file (once per file, columns and cleaning), count the tokens the filters need, and
    evaluate the config; progress in ``bar`` (an st.empty). Raises UserFacingError."""
    _text_columns_checked(path, stamp, config.title_column, config.content_column)
    with st.spinner(tr("dados.reading", name=Path(path).name, mode=config.cleaning)):
        features = _features_of(path, stamp, config, bar)
    bar.empty()
    if st.session_state.get("dados_recorded") != stamp:
        record_raw_dataset(store, features.report)
        st.session_state["dados_recorded"] = stamp
    needed = token_rows(features, config)
    if features.uncounted(config.tokenizer, needed):
        with st.spinner(tr("dados.counting", tokenizer=config.tokenizer)):
            _count_tokens(store, features, config.tokenizer, needed, bar)
    hits = features.keyword_hits(config.keywords, config.keyword_mode)
    return features, evaluate(features, config, features.tokens[config.tokenizer], hits)
