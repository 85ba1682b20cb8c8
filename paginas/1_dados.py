"""Page 1 "Dados": curate a raw dataset with live feedback and save a versioned train/test split.

    streamlit run app.py        # the first page; opens the bundled raw sample

Thin page: widgets -> one CurationConfig -> core.data.curation (Features read once per file, columns
and cleaning mode, read and tokenized in background threads that outlive the script run
(core.background); token counts cached in DuckDB; a slider change is
core.data.curation.evaluate over numpy arrays) -> draw with core.data.curation_views. The CLI twin is
``python -m core curate`` (the page shows the exact command for the current filters).
"""
from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Any

import streamlit as st

from core.background import Tasks
from core.commands.curate import command_line
from core.config import ConfigError
from core.data.curation import (
    BUILTIN_PRESETS,
    CurationConfig,
    Features,
    TokenCache,
    evaluate,
    preset,
    save_preset,
    split_of,
    stage_masks,
)
from core.data.curation_io import save_curated
from core.data.curation_split import split_shortfall
from core.data.curation_views import HistogramScale, funnel_figure, histogram_figure, histograms, samples
from core.data.datasets import ReadPlan, read_rows, save_upload, seed_split_file
from core.data.rawfiles import check_text_columns, fingerprint, list_columns
from core.errors import UserFacingError
from core.paths import sample_raw_path
from core.selection import set_current
from core.store.curation import list_curated, list_presets, list_raw_datasets, record_raw_dataset
from locales import t
from ui.common import follow_task, get_store, help_for, lang, show_error, tr
from ui.numbers import general, integer

TITLE_MAX, CONTENT_MAX, TOKENS_MAX = 300, 6000, 2048  # slider ends: the right end means "no limit"
TOKENIZERS = ["o200k_base", "cl100k_base", "smollm2", "hf"]

store = get_store()
LANG = lang()
st.title(tr("dados.title"))


def label(key: str) -> str:
    """UI text for format_func callbacks, which AppTest also calls outside the script run."""
    return t(key, LANG)

st.caption(tr("dados.intro", command="`python -m core curate`"))


# -- cached work (shared by sessions, keyed by the file's fingerprint) ---------------------------------
@st.cache_data(show_spinner=False, max_entries=20)
def columns_of(path: str, stamp: str) -> list[str]:
    return list_columns(path)


@st.cache_data(show_spinner=False, max_entries=20)
def text_columns_checked(path: str, stamp: str, title: str, content: str) -> bool:
    """NotTextColumnError when the mapped columns hold numbers (a CSV of prices): raised, never cached."""
    check_text_columns(path, ReadPlan(title, content))
    return True


@st.cache_resource(show_spinner=False)
def _work() -> dict[str, Any]:
    """Reads and token counts in background threads, shared by every session of this app process
    (core.background): a reload or a slider moved mid-read never restarts a read of the full file.
    Counting tasks live as long as the Features they fill (a weak key: a dropped read takes them)."""
    return {"reads": Tasks(keep=3, name="read"), "counts": weakref.WeakKeyDictionary(), "lock": threading.Lock()}


def features_of(path: str, stamp: str, title: str, content: str, cleaning: str, bar: Any) -> Features:
    task = _work()["reads"].start(
        (path, stamp, title, content, cleaning),
        lambda progress: Features(read_rows(path, ReadPlan(title, content, cleaning), progress=progress)))
    return follow_task(task, bar)


def count_tokens(features: Features, tokenizer: str, needed: Any, bar: Any) -> None:
    """Counts for the rows the filters need, in the background; the key names how many were missing,
    so a wider filter later counts the rest (Features counts one tokenizer at a time, under its lock)."""
    missing = int((needed & (features.tokens[tokenizer] < 0)).sum()) if tokenizer in features.tokens else -1
    work = _work()
    with work["lock"]:
        tasks = work["counts"].setdefault(features, Tasks(keep=8, name="count"))
    task = tasks.start(
        (tokenizer, missing),
        lambda progress: features.ensure_tokens(tokenizer, needed, cache=TokenCache(store), progress=progress))
    follow_task(task, bar)


@st.cache_resource(show_spinner=False, max_entries=3)
def scale_of(stamp: str, title: str, content: str, cleaning: str, _features: Features) -> HistogramScale:
    return HistogramScale(_features)


# -- widgets <-> config ---------------------------------------------------------------------------------
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


def use_split(train: int, test: int) -> None:
    """The shortfall's fix: train and test sizes in the asked ratio over the rows kept."""
    st.session_state["dados_train"], st.session_state["dados_test"] = train, test


def on_preset() -> None:
    try:
        put_config(preset(st.session_state["dados_preset"], store))
    except UserFacingError as exc:
        st.session_state["dados_preset_error"] = str(exc)


def read_config(title_column: str, content_column: str) -> CurationConfig:
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


if "dados_cleaning" not in st.session_state:
    put_config(preset("seed-notebook"))


def help_of(name: str) -> str:
    return help_for(CurationConfig, name)


def radio(text: str, options: list[str], name: str, **kwargs: Any) -> str:
    """A radio whose value lives in ``st.session_state[name]``; the widget's key carries the
    language because a radio whose option labels change (language switch) is drawn with no
    selection by the browser. The widget is re-created per language from the stored value."""
    key = f"{name}__{LANG}"
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(name, options[0])

    def keep() -> None:
        st.session_state[name] = st.session_state[key]

    st.radio(text, options, key=key, on_change=keep, horizontal=True,
             format_func=lambda option: label(f"{name.replace('_', '.', 1)}.{option}"), **kwargs)
    st.session_state[name] = st.session_state[key]
    return str(st.session_state[name])


# -- source ------------------------------------------------------------------------------------------------
def choose_source() -> str | None:
    kinds = ["sample", "seed", "path", "upload", "recent"]
    with st.expander(tr("dados.source"), expanded=True):
        kind = radio(tr("dados.source_kind"), kinds, "dados_source")
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


path = choose_source()
problem: UserFacingError | None = None
stamp, columns = "", ["title", "content"]
if path:
    try:
        stamp = fingerprint(path) if Path(path).is_file() else ""
        columns = columns_of(path, stamp)
    except (UserFacingError, OSError) as exc:
        problem = exc if isinstance(exc, UserFacingError) else UserFacingError(f"{path}: {exc}")

left, right = st.columns([1, 2.2], gap="large")

# -- filters -------------------------------------------------------------------------------------------------
with left:
    st.subheader(tr("dados.filters"))
    c1, c2 = st.columns(2)
    title_column = c1.selectbox(tr("dados.title_column"), columns, key="dados_title_col", help=help_of("title_column"),
                                index=columns.index("title") if "title" in columns else 0)
    content_column = c2.selectbox(tr("dados.content_column"), columns, key="dados_content_col",
                                  help=help_of("content_column"),
                                  index=columns.index("content") if "content" in columns else min(1, len(columns) - 1))
    presets = list(BUILTIN_PRESETS) + [p["name"] for p in list_presets(store)]
    st.selectbox(tr("dados.preset"), presets, key="dados_preset", on_change=on_preset, help=tr("dados.preset_help"))
    if "dados_preset_error" in st.session_state:
        st.error(st.session_state.pop("dados_preset_error"))
    radio(tr("dados.cleaning"), ["seed", "html", "none"], "dados_cleaning", help=help_of("cleaning"))
    st.toggle(tr("dados.drop_empty"), key="dados_drop_empty", help=help_of("drop_empty"))
    st.toggle(tr("dados.dedup"), key="dados_dedup", help=help_of("dedup"))
    st.slider(tr("dados.title_chars"), 0, TITLE_MAX, key="dados_title_chars",
              help=f"{help_of('min_title_chars')} ({tr('dados.no_limit')})")
    st.slider(tr("dados.content_chars"), 0, CONTENT_MAX, key="dados_content_chars", step=10,
              help=f"{help_of('min_content_chars')} ({tr('dados.no_limit')})")
    st.slider(tr("dados.tokens"), 0, TOKENS_MAX, key="dados_tokens",
              help=f"{help_of('max_tokens')} ({tr('dados.no_limit')})")
    k1, k2 = st.columns([1, 1])
    k1.selectbox(tr("dados.tokenizer"), TOKENIZERS, key="dados_tokenizer", help=help_of("tokenizer"),
                 format_func=lambda k: label("dados.hf_option") if k == "hf" else k)
    if st.session_state["dados_tokenizer"] == "hf":
        k2.text_input(tr("dados.hf_tokenizer"), key="dados_hf", placeholder="HuggingFaceTB/SmolLM2-135M-Instruct")
    st.text_input(tr("dados.keywords"), key="dados_keywords", help=help_of("keywords"))
    radio(tr("dados.keyword_mode"), ["all", "any"], "dados_keyword_mode", help=help_of("keyword_mode"))
    n1, n2 = st.columns(2)
    n1.number_input(tr("dados.train_size"), min_value=0, step=100, key="dados_train", help=help_of("train_size"))
    n2.number_input(tr("dados.test_size"), min_value=0, step=100, key="dados_test", help=help_of("test_size"))
    st.toggle(tr("dados.shuffle"), key="dados_shuffle", help=help_of("shuffle_seed"))
    if st.session_state["dados_shuffle"]:
        st.number_input(tr("dados.shuffle_seed"), min_value=0, step=1, key="dados_seed")

# stop only now: filters not drawn in a run lose their values (Streamlit drops unrendered widgets)
if problem is not None:
    with right:
        show_error(problem)
    st.stop()
if not path:
    st.stop()
try:
    config = read_config(title_column, content_column)
except ConfigError as exc:
    right.error(tr("dados.config_error", error=str(exc)))
    st.stop()

# -- compute ---------------------------------------------------------------------------------------------------
with right:
    bar = st.empty()
    try:
        text_columns_checked(path, stamp, title_column, content_column)
        with st.spinner(tr("dados.reading", name=Path(path).name, mode=config.cleaning)):
            features = features_of(path, stamp, title_column, content_column, config.cleaning, bar)
        bar.empty()
        if st.session_state.get("dados_recorded") != stamp:
            record_raw_dataset(store, features.report)
            st.session_state["dados_recorded"] = stamp
        needed = stage_masks(features, config, None, None)["deduplicated"]
        counts = features.tokens.get(config.tokenizer)
        if counts is None or (needed & (counts < 0)).any():
            with st.spinner(tr("dados.counting", tokenizer=config.tokenizer)):
                count_tokens(features, config.tokenizer, needed, bar)
        tokens = features.tokens[config.tokenizer]
        hits = features.keyword_hits(config.keywords, config.keyword_mode)
        result = evaluate(features, config, tokens, hits)
    except UserFacingError as exc:
        show_error(exc)
        st.stop()

report = features.report
funnel = result.funnel

# -- draw ---------------------------------------------------------------------------------------------------------
with right:
    lines = tr("dados.lines", lines=integer(report.lines)) if report.lines is not None else ""
    st.caption(tr("dados.loaded", name=Path(report.path).name, format=report.format, rows=integer(report.rows),
                  lines=lines, seconds=general(report.seconds)))
    if report.bad_lines:
        st.warning(tr("dados.bad_lines", count=integer(report.bad_lines),
                      first=", ".join(map(str, report.bad_line_numbers[:10]))))
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(tr("dados.metric.loaded"), integer(funnel['loaded']))
    m2.metric(tr("dados.metric.kept"), integer(funnel['keywords']))
    m3.metric(tr("dados.metric.train"), integer(funnel['train']))
    m4.metric(tr("dados.metric.test"), integer(funnel['test']))
    st.caption(tr("dados.token_totals", train=integer(result.train_tokens), test=integer(result.test_tokens),
                  tokenizer=config.tokenizer))
    if funnel["train"] == 0:
        st.warning(tr("dados.nothing_kept"))
    short = split_shortfall(funnel["keywords"], config.train_size, config.test_size)
    if short is not None:
        w1, w2 = st.columns([3, 1], vertical_alignment="center")
        w1.warning(tr("dados.short_split", kept=integer(short.kept), train_size=integer(short.train_size),
                      test_size=integer(short.test_size), train=integer(short.train), test=integer(short.test))
                   + (" " + tr("dados.short_no_test") if short.no_test else ""))
        w2.button(tr("dados.short_fix", train=integer(short.fix_train), test=integer(short.fix_test), ratio=short.ratio),
                  key="dados_fix_split", on_click=use_split, args=(short.fix_train, short.fix_test),
                  help=tr("dados.short_fix_help"))

    st.subheader(tr("dados.funnel"))
    labels = {s: tr(f"dados.stage.{s}") for s in funnel}
    st.plotly_chart(funnel_figure(funnel, labels), key="dados_funnel_chart", width="stretch")

    hists = histograms(features, result, scale_of(stamp, title_column, content_column, config.cleaning, features))
    log_y = st.toggle(tr("dados.log_scale"), key="dados_log")
    st.subheader(tr("dados.hist_tokens"))
    limits = [(config.min_tokens, tr("dados.limit_min"))] if config.min_tokens else []
    if config.max_tokens is not None:
        limits.append((config.max_tokens, tr("dados.limit_max")))
    st.plotly_chart(histogram_figure(
        [(tr("dados.before"), hists["tokens_before"], "#9ecae9"), (tr("dados.after"), hists["tokens_after"], "#4C78A8")],
        tr("dados.axis_tokens"), tr("dados.axis_rows"), limits, log_y), key="dados_tokens_chart", width="stretch")
    st.subheader(tr("dados.hist_chars"))
    h1, h2 = st.columns(2)
    for column, name, low, high in ((h1, "title", config.min_title_chars, config.max_title_chars),
                                    (h2, "content", config.min_content_chars, config.max_content_chars)):
        marks = [(low, tr("dados.limit_min"))] + ([(high, tr("dados.limit_max"))] if high is not None else [])
        column.plotly_chart(histogram_figure(
            [(tr(f"dados.{name}_series"), hists[f"{name}_chars"], "#72B7B2")], tr("dados.axis_chars"),
            tr("dados.axis_rows"), marks, log_y, title=tr(f"dados.{name}_series")),
            key=f"dados_{name}_chart", width="stretch")


def reason(row: dict[str, Any]) -> str:
    c = config
    if row["stage"] == "chars":
        span = f"{c.min_title_chars}–{c.max_title_chars or '∞'} / {c.min_content_chars}–{c.max_content_chars or '∞'}"
        return tr("dados.reason.chars", title=row["title_chars"], content=row["content_chars"], limits=span)
    if row["stage"] == "tokens":
        return tr("dados.reason.tokens", tokens=row["tokens"] if row["tokens"] is not None else "?",
                  limits=f"{c.min_tokens}–{c.max_tokens or '∞'}")
    if row["stage"] == "keywords":
        return tr(f"dados.reason.keywords_{c.keyword_mode}", words=", ".join(c.keywords))
    return tr(f"dados.reason.{row['stage']}")


with right:
    st.subheader(tr("dados.samples"))
    rows = samples(features, result)
    if rows:
        st.dataframe([{
            tr("dados.col.row"): r["row"],
            tr("dados.col.status"): tr("dados.kept") if r["kept"] else tr("dados.dropped"),
            tr("dados.col.reason"): reason(r),
            tr("dados.col.title"): r["title"],
            tr("dados.col.content"): r["content"],
            tr("dados.col.tokens"): r["tokens"],
        } for r in rows], key="dados_samples", hide_index=True, width="stretch")
    else:
        st.info(tr("dados.no_samples"))

    st.subheader(tr("dados.save"))
    a1, a2 = st.columns([3, 1], vertical_alignment="bottom")
    name = a1.text_input(tr("dados.save_name"), key="dados_save_name", help=tr("dados.save_help"),
                         placeholder="livros-autor")
    no_test = funnel["train"] > 0 and funnel["test"] == 0
    allow_no_test = no_test and st.checkbox(tr("dados.allow_no_test"), key="dados_allow_no_test",
                                            help=tr("dados.allow_no_test_help"))
    # never disabled: a click with no name or nothing to save says why instead of doing nothing
    if a2.button(tr("dados.save_button"), key="dados_save", type="primary"):
        if not name.strip():
            st.warning(tr("dados.save_needs_name"))
        elif funnel["train"] == 0:
            st.warning(tr("dados.save_needs_rows"))
        elif no_test and not allow_no_test:
            st.warning(tr("dados.save_needs_test"))
        else:
            try:
                saved = save_curated(store, name.strip(), split_of(features, result), allow_no_test=allow_no_test)
                set_current(store, "dataset", f"{saved['name']}@v{saved['version']}")  # pages 2-5 open with it
                st.success(tr("dados.saved", name=saved["name"], version=saved["version"], train=saved["train"],
                              test=saved["test"], folder=saved["folder"]))
            except UserFacingError as exc:
                show_error(exc)
    b1, b2 = st.columns([3, 1], vertical_alignment="bottom")
    preset_name = b1.text_input(tr("dados.preset_name"), key="dados_preset_name", placeholder="meu-filtro")
    if b2.button(tr("dados.preset_button"), key="dados_preset_save"):
        if not preset_name.strip():
            st.warning(tr("dados.preset_needs_name"))
        else:
            try:
                save_preset(store, preset_name.strip(), config)
                # rerun so the preset list above shows it; the message survives the rerun
                st.session_state["dados_flash"] = tr("dados.preset_saved", name=preset_name.strip())
                st.rerun()
            except UserFacingError as exc:
                show_error(exc)
    if "dados_flash" in st.session_state:
        st.success(st.session_state.pop("dados_flash"))
    saved_list = list_curated(store)
    if saved_list:
        with st.expander(tr("dados.saved_list")):
            st.dataframe([{k: d[k] for k in ("name", "version", "train_rows", "test_rows", "train_tokens",
                                             "test_tokens", "tokenizer", "created_at", "folder")}
                          for d in saved_list], key="dados_saved_table", hide_index=True, width="stretch")
    with st.expander(tr("dados.cli")):
        st.code(command_line(path, config), language="bash")
