"""Session state, language, the shared Store and error display for the pages.

State is initialised only when missing (pages can be reloaded at any time); the Store is one
per app process (``st.cache_resource``) because DuckDB allows one writer per file.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import UserFacingError
from core.store import Store
from locales import DEFAULT_LANGUAGE, t


def lang() -> str:
    if "lang" not in st.session_state:
        st.session_state["lang"] = DEFAULT_LANGUAGE
    return str(st.session_state["lang"])


def tr(key: str, **values: Any) -> str:
    """UI text in the session's language."""
    return t(key, lang(), **values)


@st.cache_resource(show_spinner=False)
def _store() -> Store:
    return Store()


def get_store() -> Store:
    """The app's single database connection; stops the page with one sentence if it cannot open."""
    try:
        return _store()
    except UserFacingError as exc:
        st.error(tr("app.db_locked", error=str(exc)))
        st.stop()
        raise  # unreachable: st.stop() raises


def show_error(exc: BaseException) -> None:
    """One sentence for a UserFacingError; anything else is a bug and is shown as such."""
    if isinstance(exc, UserFacingError):
        st.error(str(exc))
    else:
        st.exception(exc)
