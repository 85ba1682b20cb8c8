"""Page 2's data: the chosen split's rows (cached while the file is unchanged) and every format's
token statistics, counted in a background thread of the app with a progress bar meanwhile. A
first visit loads the local tokenizer (the bundled model's is converted from GGUF once, ~20-60 s);
a reload follows the same count instead of starting another.

    rows = split_rows(folder, "train")
    stats = token_stats(rows, template, view)      # {format: FormatStats}
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import streamlit as st

from core.background import Task, Tasks
from core.bundled import bundled_model_dir, is_bundled
from core.data.curated import read_split
from core.formats.render import FORMATS, TemplateConfig
from core.formats.stats import FormatStats, FormatView, all_format_stats, tokenizer_for_format
from core.tokens import get_counter
from locales import t
from ui.common import lang, tr


def _mtime(folder: Path, split: str) -> float:
    path = folder / f"{split}.jsonl"
    return path.stat().st_mtime if path.exists() else 0.0


@st.cache_data(show_spinner=False, max_entries=8)
def _load_rows(folder: str, split: str, mtime: float) -> list[dict[str, str]]:
    return read_split(Path(folder), split)


def split_rows(folder: Path, split: str) -> list[dict[str, str]]:
    """The split's rows, read again only when its file changed."""
    return _load_rows(str(folder), split, _mtime(folder, split))


@st.cache_resource(show_spinner=False)
def _stats_tasks() -> Tasks:
    return Tasks(keep=16, name="format-stats")


def _start(rows: list[dict[str, str]], key: tuple[Any, ...], template: TemplateConfig, local: str, encoding: str,
           language: str) -> Task:
    def work(report: Any) -> dict[str, FormatStats]:
        report(0.0, t("formatos.loading_tokenizer", language, model=local))
        get_counter(tokenizer_for_format("alpaca", local, encoding))  # the slow part of a first visit

        def progress(fraction: float, fmt: str) -> None:
            report(fraction, t("formatos.counting", language, fmt=t(f"formatos.fmt_{fmt}", language),
                               done=FORMATS.index(fmt) + 1, total=len(FORMATS)))
        return all_format_stats(rows, template, local, encoding, progress=progress)

    return _stats_tasks().start(key, work)


def token_stats(rows: list[dict[str, str]], folder: Path, view: FormatView) -> dict[str, FormatStats]:
    """Every format's token statistics of ``rows``; while they are counted, a progress bar (and a
    note on the first use of the bundled model, whose tokenizer is prepared once)."""
    key = (str(folder), view.split, _mtime(folder, view.split), view.template.to_json(), view.local_model,
           view.openai_encoding)
    task = _start(rows, key, view.template, view.local_model, view.openai_encoding, lang())
    # Both placeholders on every run, counting or not: were they drawn only while counting, every
    # element below would move by two places on the next run, and the page's tabs, redrawn as new
    # ones, would jump back to their first tab (the Export tab's click showed the Tokens tab).
    note, bar = st.empty(), st.empty()
    if not task.done:
        if is_bundled(view.local_model) and not (bundled_model_dir(convert=False) / "model.safetensors").exists():
            note.info(tr("formatos.first_tokenizer", model=view.local_model), icon=":material/hourglass_top:")
        while not task.wait(0.25):
            bar.progress(max(task.fraction, 0.02), text=tr("formatos.counting_elapsed", message=task.message or "…",
                                                           seconds=f"{time.time() - task.started_at:.0f}"))
        bar.empty()
        note.empty()
    return task.outcome()
