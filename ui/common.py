"""Session state, language, the shared Store and error display for the pages.

State is initialised only when missing (pages can be reloaded at any time); the Store is one
per app process (``st.cache_resource``) because DuckDB allows one writer per file.
"""
from __future__ import annotations

import os
from typing import Any

import streamlit as st

from core.background import Task
from core.config import field_help
from core.errors import UserFacingError
from core.store import Store
from locales import DEFAULT_LANGUAGE, t
from locales.ajuda import PT_HELP


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


OPENAI_KINDS = ("openai", "openai-finetune")


def openai_key_for(kinds: list[str], key: str, prefix: str) -> tuple[str | None, bool]:
    """(key to pass, ready) when one of these model kinds is OpenAI's: OPENAI_API_KEY, st.secrets, or
    a password field (this session's memory only, never stored). ``prefix`` names the page's texts
    ``api_key``, ``api_key_help`` and ``need_key``."""
    if not any(kind in OPENAI_KINDS for kind in kinds) or os.environ.get("OPENAI_API_KEY"):
        return None, True
    try:
        secret = st.secrets.get("OPENAI_API_KEY")
    except Exception:  # no secrets.toml at all
        secret = None
    if secret:
        return str(secret), True
    typed = st.text_input(tr(f"{prefix}.api_key"), type="password", key=key, help=tr(f"{prefix}.api_key_help"),
                          autocomplete="off")
    if not typed:
        st.info(tr(f"{prefix}.need_key"))
    return typed.strip() or None, bool(typed.strip())


def follow_task(task: Task, bar: Any, poll_s: float = 0.2) -> Any:
    """Draw a background task's progress in ``bar`` (an ``st.empty``) until it ends; returns its
    result or raises its exception. This script run may be stopped meanwhile (a reload, a widget
    moved): the work goes on in its thread, and the next run follows the same task."""
    while not task.wait(poll_s):
        bar.progress(task.fraction, text=task.message or "…")
    bar.empty()
    return task.outcome()


def help_for(cls: type, name: str) -> str:
    """A config field's widget help in the page's language (English lives with the field in core;
    pt-BR in locales/ajuda.py)."""
    english = field_help(cls, name)
    return PT_HELP.get(f"{cls.__name__}.{name}", english) if lang() == "pt" else english
