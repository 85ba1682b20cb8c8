"""Page 3's data picker: which data a run trains on (a curated dataset or an exported JSONL file)
and in which training format.

A local run takes either; a hosted run (OpenAI, Together, Fireworks) takes an exported file, and
opens with the export of the study's current dataset when there is one. An exported file carries
its format in its manifest (page 2 wrote it), so the format is shown, not chosen, for a file.

    data, fmt = data_section(store)                      # local: curated datasets and files
    data, fmt = data_section(store, hosted="together")   # hosted: exported files only
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from core.formats.export import read_export_manifest
from core.formats.render import FORMATS
from core.paths import data_dir
from core.selection import DEFAULT_DATASET, available_datasets, get_current
from core.training.config import TrainConfig
from locales import t
from ui import selection
from ui.common import help_for, lang, tr

K = "treino."


def data_choices(store: Any) -> list[str]:
    """Curated datasets, then the exported files, then the seed study's file."""
    curated = available_datasets(store)
    folder = data_dir() / "export"
    files = sorted(str(p) for p in folder.glob("*.jsonl")) if folder.is_dir() else []
    seed_file = data_dir() / "seed" / "trn_gpt4_formatted.jsonl"
    return curated + files + ([str(seed_file)] if seed_file.exists() else [])


def data_section(store: Any, hosted: str | None = None) -> tuple[str, str]:
    """(data, format): a curated dataset or an exported file, and its training format. ``hosted``
    names the hosted backend (its own widget key, exported files only)."""
    language = lang()  # a pure format_func: Streamlit and AppTest may call it outside the script run

    def label(value: str) -> str:
        path = Path(value)
        return f"{path.name} · {t('treino.data_file', language)}" if path.suffix == ".jsonl" else value

    choices = [c for c in data_choices(store) if not hosted or c.endswith(".jsonl")]
    key = K + "data" + (f".{hosted}" if hosted else "")
    if hosted:  # an exported file of the current dataset when there is one
        current = get_current(store, "dataset")
        selection.prefer(key, choices, next((c for c in choices if current and
                                             read_export_manifest(c).get("source") == current), None))
    else:
        selection.start(key, "dataset", choices, default=DEFAULT_DATASET)
    left, right = st.columns([3, 2])
    data = left.selectbox(tr("treino.data"), choices, key=key, format_func=label,
                          help=help_for(TrainConfig, "data"), on_change=selection.chosen, args=(key, "dataset"))
    manifest_format = read_export_manifest(data).get("format") if data and data.endswith(".jsonl") else None
    if hosted:
        return data, manifest_format or "openai-chat"
    if manifest_format:
        right.text_input(tr("treino.field.format"), value=manifest_format, disabled=True, key=K + "format_file",
                         help=tr("treino.format_from_file"))
        return data, manifest_format
    fmt = right.selectbox(tr("treino.field.format"), FORMATS, index=FORMATS.index("chat-template"), key=K + "format",
                          help=help_for(TrainConfig, "format"))
    return data, fmt
