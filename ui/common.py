"""Session state, language, the shared Store and error display for the pages.

State is initialised only when missing (pages can be reloaded at any time); the Store is one
per app process (``st.cache_resource``) because DuckDB allows one writer per file.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any

import streamlit as st

from core.background import Task
from core.config import field_help
from core.errors import UserFacingError
from core.store import Store
from locales import LANGUAGES, choose_language, t
from locales.ajuda import PT_HELP

LANGUAGE_SETTING = "ui.language"   # the settings-table key of the sidebar's choice (survives new tabs)
_DRAWN = "_lang_drawn"             # the language the widgets were last drawn in


def lang() -> str:
    """The session's language: chosen once per session (``locales.choose_language``: ?lang=, the
    stored choice, the browser's locale, English), then the sidebar's ``lang`` widget. The first
    call of a run after a switch keeps every choice widget's value (see ``_keep_choices``)."""
    state = st.session_state
    if state.get("lang") not in LANGUAGES:
        state["lang"] = choose_language(st.query_params.get("lang"), _stored_language(), _browser_locale())
    current = str(state["lang"])
    drawn = state.get(_DRAWN)
    if drawn != current:
        if drawn is not None:
            _keep_choices()
        state[_DRAWN] = current
    return current


def _stored_language() -> str | None:
    from core.store.base import get_setting

    try:
        return get_setting(_store(), LANGUAGE_SETTING)
    except Exception:  # no database yet (or locked): the next source decides
        return None


def _browser_locale() -> str | None:
    try:
        return st.context.locale
    except Exception:  # outside a browser session (bare script run)
        return None


def remember_language(language: str) -> None:
    """The sidebar's choice, kept for reloads (the URL's ?lang=) and new tabs (the database)."""
    from core.store.base import set_setting

    st.query_params["lang"] = language
    with contextlib.suppress(Exception):  # a locked database loses only new tabs' default, never the page
        set_setting(_store(), LANGUAGE_SETTING, language)


def _keep_choices() -> None:
    """Widgets store keys and show labels through format_func; the browser, though, sends back the
    label it showed. After a language switch that label (old language) matches no option of the
    widget drawn in the new one: Streamlit would reset it (a radio drawn empty, an on_change callback
    handed the label). Reading each value before the widgets are drawn again decodes it with the
    previous run's labels; writing it back makes Streamlit send the browser the new label. Only
    str and list-of-str values: buttons, uploads and data editors refuse writes and hold other types."""
    state = st.session_state
    for key in list(state.keys()):
        name = str(key)
        if name == "lang" or name.startswith(("_", "$$")):
            continue
        try:
            value = state[key]
        except Exception:  # a widget whose value cannot be read back: leave it alone
            continue
        if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
            state[key] = value


def tr(key: str, **values: Any) -> str:
    """UI text in the session's language."""
    return t(key, lang(), **values)


def _let_go(store: Store) -> None:
    from core.store.remote import stop_serving

    stop_serving(store)  # a cleared cache opens a new Store, which serves the CLI in its place


@st.cache_resource(show_spinner=False, on_release=_let_go)
def _store() -> Store:
    from core.store.remote import serve

    store = Store()
    serve(store)  # CLI commands run beside the app send their SQL here (DuckDB: one process per file)
    return store


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
