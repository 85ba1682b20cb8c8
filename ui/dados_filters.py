"""Page 1's left column: the column mapping, the preset, every filter of a CurationConfig and the
split sizes, and the conversion between those widgets and one CurationConfig.

    from ui.dados_filters import draw_filters, read_config
    title_column, content_column = draw_filters(store, columns)    # streamlit run app.py, page 1
    config = read_config(title_column, content_column)              # ConfigError: filters that clash

Every widget keeps its value under a ``dados_*`` key in st.session_state (a preset writes them all);
the two radios keep theirs under the plain name and are drawn under ``<name>__<lang>`` (see radio).
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.data.curation import BUILTIN_PRESETS, CurationConfig, preset
from core.errors import UserFacingError
from core.store import Store
from core.store.curation import list_presets
from locales import t
from ui.common import help_for, lang, tr

TITLE_MAX, CONTENT_MAX, TOKENS_MAX = 300, 6000, 2048  # slider ends: the right end means "no limit"
TOKENIZERS = ["o200k_base", "cl100k_base", "smollm2", "hf"]


def radio(text: str, options: list[str], name: str, **kwargs: Any) -> str:
    """A radio whose value lives in ``st.session_state[name]``; the widget's key carries the
    language because a radio whose option labels change (language switch) is drawn with no
    selection by the browser. The widget is re-created per language from the stored value."""
    language = lang()  # format_func is also called outside the script run (AppTest): bind it now
    key = f"{name}__{language}"
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(name, options[0])

    def keep() -> None:
        st.session_state[name] = st.session_state[key]

    st.radio(text, options, key=key, on_change=keep, horizontal=True,
             format_func=lambda option: t(f"{name.replace('_', '.', 1)}.{option}", language), **kwargs)
    st.session_state[name] = st.session_state[key]
    return str(st.session_state[name])


def put_config(config: CurationConfig) -> None:
    """Set every filter widget from a config (presets)."""
    s = st.session_state
    for name in ("dados_cleaning", "dados_keyword_mode"):  # radios: re-created from the stored value
        for key in [k for k in s if str(k).startswith(f"{name}__")]:
            del s[key]
    s["dados_cleaning"] = config.cleaning
    s["dados_drop_empty"], s["dados_dedup"] = config.drop_empty, config.dedup
    s["dados_title_chars"] = (min(config.min_title_chars, TITLE_MAX), min(config.max_title_chars or TITLE_MAX, TITLE_MAX))
    s["dados_content_chars"] = (min(config.min_content_chars, CONTENT_MAX),
                                min(config.max_content_chars or CONTENT_MAX, CONTENT_MAX))
    s["dados_tokens"] = (min(config.min_tokens, TOKENS_MAX), min(config.max_tokens or TOKENS_MAX, TOKENS_MAX))
    hf = config.tokenizer.startswith("hf:")
    s["dados_tokenizer"] = "hf" if hf else config.tokenizer
    s["dados_hf"] = config.tokenizer[3:] if hf else s.get("dados_hf", "")
    s["dados_keywords"] = ", ".join(config.keywords)
    s["dados_keyword_mode"] = config.keyword_mode
    s["dados_train"], s["dados_test"] = config.train_size, config.test_size
    s["dados_shuffle"] = config.shuffle_seed is not None
    s["dados_seed"] = config.shuffle_seed if config.shuffle_seed is not None else s.get("dados_seed", 0)


def start_with_the_notebook() -> None:
    """A new session opens with the seed notebook's filters."""
    if "dados_cleaning" not in st.session_state:
        put_config(preset("seed-notebook"))


def _on_preset(store: Store) -> None:
    try:
        put_config(preset(st.session_state["dados_preset"], store))
    except UserFacingError as exc:
        st.session_state["dados_preset_error"] = str(exc)


def read_config(title_column: str, content_column: str) -> CurationConfig:
    """The CurationConfig the widgets describe (the slider's right end is "no limit")."""
    s = st.session_state
    (min_t, max_t), (min_c, max_c), (min_k, max_k) = s["dados_title_chars"], s["dados_content_chars"], s["dados_tokens"]
    tokenizer = f"hf:{s['dados_hf'].strip()}" if s["dados_tokenizer"] == "hf" else s["dados_tokenizer"]
    return CurationConfig(
        title_column=title_column, content_column=content_column, cleaning=s["dados_cleaning"],
        min_title_chars=min_t, max_title_chars=None if max_t >= TITLE_MAX else max_t,
        min_content_chars=min_c, max_content_chars=None if max_c >= CONTENT_MAX else max_c,
        drop_empty=s["dados_drop_empty"], dedup=s["dados_dedup"], tokenizer=tokenizer,
        min_tokens=min_k, max_tokens=None if max_k >= TOKENS_MAX else max_k,
        keywords=[k for k in s["dados_keywords"].split(",") if k.strip()], keyword_mode=s["dados_keyword_mode"],
        train_size=int(s["dados_train"]), test_size=int(s["dados_test"]),
        shuffle_seed=int(s["dados_seed"]) if s["dados_shuffle"] else None,
    )


def _help(name: str) -> str:
    return help_for(CurationConfig, name)


def _no_limit(name: str) -> str:
    return f"{_help(name)} ({tr('dados.no_limit')})"


def draw_filters(store: Store, columns: list[str]) -> tuple[str, str]:
    """The Filters column, top to bottom; returns the mapped (title, content) columns."""
    st.subheader(tr("dados.filters"))
    c1, c2 = st.columns(2)
    title_column = c1.selectbox(tr("dados.title_column"), columns, key="dados_title_col", help=_help("title_column"),
                                index=columns.index("title") if "title" in columns else 0)
    content_column = c2.selectbox(tr("dados.content_column"), columns, key="dados_content_col",
                                  help=_help("content_column"),
                                  index=columns.index("content") if "content" in columns else min(1, len(columns) - 1))
    presets = list(BUILTIN_PRESETS) + [p["name"] for p in list_presets(store)]
    st.selectbox(tr("dados.preset"), presets, key="dados_preset", on_change=_on_preset, args=(store,),
                 help=tr("dados.preset_help"))
    if "dados_preset_error" in st.session_state:
        st.error(st.session_state.pop("dados_preset_error"))
    radio(tr("dados.cleaning"), ["seed", "html", "none"], "dados_cleaning", help=_help("cleaning"))
    st.toggle(tr("dados.drop_empty"), key="dados_drop_empty", help=_help("drop_empty"))
    st.toggle(tr("dados.dedup"), key="dados_dedup", help=_help("dedup"))
    st.slider(tr("dados.title_chars"), 0, TITLE_MAX, key="dados_title_chars", help=_no_limit("min_title_chars"))
    st.slider(tr("dados.content_chars"), 0, CONTENT_MAX, key="dados_content_chars", step=10,
              help=_no_limit("min_content_chars"))
    st.slider(tr("dados.tokens"), 0, TOKENS_MAX, key="dados_tokens", help=_no_limit("max_tokens"))
    k1, k2 = st.columns([1, 1])
    language = lang()
    k1.selectbox(tr("dados.tokenizer"), TOKENIZERS, key="dados_tokenizer", help=_help("tokenizer"),
                 format_func=lambda k: t("dados.hf_option", language) if k == "hf" else k)
    if st.session_state["dados_tokenizer"] == "hf":
        k2.text_input(tr("dados.hf_tokenizer"), key="dados_hf", placeholder="HuggingFaceTB/SmolLM2-135M-Instruct")
    st.text_input(tr("dados.keywords"), key="dados_keywords", help=_help("keywords"))
    radio(tr("dados.keyword_mode"), ["all", "any"], "dados_keyword_mode", help=_help("keyword_mode"))
    n1, n2 = st.columns(2)
    n1.number_input(tr("dados.train_size"), min_value=0, step=100, key="dados_train", help=_help("train_size"))
    n2.number_input(tr("dados.test_size"), min_value=0, step=100, key="dados_test", help=_help("test_size"))
    st.toggle(tr("dados.shuffle"), key="dados_shuffle", help=_help("shuffle_seed"))
    if st.session_state["dados_shuffle"]:
        st.number_input(tr("dados.shuffle_seed"), min_value=0, step=1, key="dados_seed")
    return title_column, content_column
