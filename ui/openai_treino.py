"""The OpenAI widgets of the training page (paginas/3_treino.py calls these when the backend is
"openai"): the wind-down notice, the model from the price table, hyperparameters (auto, the seed
study's, or set), suffix and seed, and the API key.

The key is a password field whose value lives only in ``st.session_state`` (widget state); the
page hands it to the launcher, which passes it to the training subprocess through its environment
only (``core.hosted.openai_finetune.launch_env``). It is never part of the config.

    form = openai_form(store, training_file="dados/train_openai.jsonl")
    if form.ready:
        launch(..., config=form.config, env=launch_env(form.api_key))
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from core.errors import UserFacingError
from core.hosted.openai_client import WIND_DOWN, resolve_base_url
from core.hosted.openai_finetune import OpenAITrainConfig, request_pause, request_resume
from locales import t
from locales.numbers import usd
from ui.common import help_for, lang, tr

K = "treino.openai."                       # widget keys and UI text keys share this prefix
SEED_PRESET = {"n_epochs": 3, "batch_size": 3, "learning_rate_multiplier": 1.8}   # the seed study's job
HYPER_MODES = ("auto", "seed", "custom")


@dataclass
class OpenAIForm:
    config: OpenAITrainConfig | None      # None while the inputs cannot make a valid config
    api_key: str | None                   # typed in this session; None: the environment's (or none)
    ready: bool                           # a key is available and the config is valid


def _help(name: str) -> str:
    return help_for(OpenAITrainConfig, name)   # in the page's language (pt-BR twins in locales/ajuda.py)


def wind_down_notice() -> None:
    st.info(tr(K + "wind_down", never=WIND_DOWN["never_fine_tuned_blocked_from"],
               inactive=WIND_DOWN["inactive_blocked_from"], last=WIND_DOWN["no_new_jobs_after"]),
            icon=":material/event_busy:")


def _model_choice(store: Any) -> str:
    from core.costs.prices import list_prices

    rows = list_prices(store)
    if not rows:
        st.warning(tr(K + "no_prices"))
        return st.text_input(tr(K + "model"), value="gpt-4o-mini-2024-07-18", key=K + "model_text",
                             help=_help("model"))
    by_name = {r["model"]: r for r in rows}
    language = lang()  # a pure format_func: Streamlit and AppTest may call it outside the script run

    def label(name: str) -> str:
        row = by_name[name]
        price = usd(row["training"], language, 2) if row.get("training") is not None else "?"
        text = t(K + "model_label", language, model=name, price=price)
        return text + (t(K + "retired", language) if row.get("retired") else "")

    names = list(by_name)
    default = OpenAITrainConfig.__dataclass_fields__["model"].default   # the seed study's gpt-4o-mini
    model = st.selectbox(tr(K + "model"), names, index=names.index(default) if default in names else 0,
                         format_func=label, key=K + "model", help=_help("model"))
    if by_name[model].get("retired"):
        st.warning(tr(K + "retired_warning", model=model))
    return str(model)


def _hyperparameters() -> dict[str, Any]:
    language = lang()
    mode = st.radio(tr(K + "hyper_mode"), HYPER_MODES, format_func=lambda m: t(K + "hyper_" + m, language),
                    horizontal=True, key=K + "hyper_mode")
    if mode == "auto":
        return {"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"}
    if mode == "seed":
        st.caption(tr(K + "hyper_seed_caption", **SEED_PRESET))
        return dict(SEED_PRESET)
    cols = st.columns(3)
    return {
        "n_epochs": int(cols[0].number_input(tr(K + "n_epochs"), 1, 50, 3, key=K + "n_epochs",
                                             help=_help("n_epochs"))),
        "batch_size": int(cols[1].number_input(tr(K + "batch_size"), 1, 256, 3, key=K + "batch_size",
                                               help=_help("batch_size"))),
        "learning_rate_multiplier": float(cols[2].number_input(
            tr(K + "lr_multiplier"), 0.01, 10.0, 1.8, step=0.1, key=K + "lr_multiplier",
            help=_help("learning_rate_multiplier"))),
    }


def _api_key() -> str | None:
    typed = st.text_input(tr(K + "api_key"), type="password", key=K + "api_key", help=tr(K + "api_key_help"),
                          autocomplete="off")
    if typed:
        return typed.strip()
    if os.environ.get("OPENAI_API_KEY"):
        st.caption(tr(K + "api_key_env"))
    return None


def openai_form(store: Any, training_file: str | None = None, validation_file: str | None = None) -> OpenAIForm:
    """Draw the OpenAI settings; the files come from the page's data choice (or are typed here)."""
    wind_down_notice()
    model = _model_choice(store)
    if training_file is None:
        training_file = st.text_input(tr(K + "training_file"), key=K + "training_file",
                                      help=_help("training_file")) or ""
    if validation_file is None:
        validation_file = st.text_input(tr(K + "validation_file"), key=K + "validation_file",
                                        help=_help("validation_file")) or None
    hyper = _hyperparameters()
    cols = st.columns(2)
    suffix = cols[0].text_input(tr(K + "suffix"), max_chars=64, key=K + "suffix", help=_help("suffix")) or None
    seed_text = cols[1].text_input(tr(K + "seed"), key=K + "seed", help=_help("seed")).strip()
    if os.environ.get("OPENAI_BASE_URL"):
        st.caption(tr(K + "base_url", url=resolve_base_url()))
    api_key = _api_key()
    try:
        if seed_text and not seed_text.lstrip("-").isdigit():
            raise UserFacingError(tr(K + "seed_invalid", value=seed_text))
        config = OpenAITrainConfig(model=model, training_file=training_file, validation_file=validation_file,
                                   suffix=suffix, seed=int(seed_text) if seed_text else None, **hyper)
    except UserFacingError as exc:
        st.error(str(exc))
        return OpenAIForm(None, api_key, False)
    has_key = bool(api_key or os.environ.get("OPENAI_API_KEY"))
    if not has_key:
        st.info(tr(K + "api_key_missing"), icon=":material/key:")
    if training_file and not Path(training_file).is_file():
        st.warning(tr(K + "training_file_missing", path=training_file))
    return OpenAIForm(config, api_key, has_key and bool(training_file) and Path(training_file).is_file())


def openai_run_controls(run: dict[str, Any]) -> None:
    """For one OpenAI run: its job id and model, and pause / resume while it is alive."""
    run_id, run_dir, status = run["id"], Path(run["run_dir"]), run.get("status")
    if run.get("remote_job_id"):
        st.caption(tr(K + "job", job_id=run["remote_job_id"]))
    if run.get("output_model"):
        st.caption(tr(K + "ft_model", model=run["output_model"]))
    if status == "running" and not (run_dir / "pause").exists():
        if st.button(tr(K + "pause"), key=f"{K}pause.{run_id}", icon=":material/pause:"):
            request_pause(run_dir)
            st.toast(tr(K + "pause_requested"))
    elif status == "paused" or (status == "running" and (run_dir / "pause").exists()):
        if status == "running":
            st.caption(tr(K + "pause_requested"))
        if st.button(tr(K + "resume"), key=f"{K}resume.{run_id}", icon=":material/play_arrow:"):
            request_resume(run_dir)
            st.toast(tr(K + "resume_requested"))


def openai_panel(store: Any) -> tuple[Any, dict[str, str]]:
    """Page 3's OpenAI panel: the data (an exported file), then the settings above; (the run's
    TrainConfig or None while it cannot launch, the key for the subprocess's environment only)."""
    from core.hosted.openai_finetune import launch_env
    from core.training.config import TrainConfig
    from ui.treino_data import data_section

    data, fmt = data_section(store, hosted="openai")
    form = openai_form(store, training_file=data or None, validation_file=None)
    if form.config is None or not form.ready:
        return None, {}
    config = TrainConfig(backend="openai", base_model=form.config.model, data=data, format=fmt,
                         openai=form.config.to_dict())
    return config, launch_env(form.api_key)   # the key travels in the subprocess's environment only
