"""Page 3's local LoRA panel: the base model, the data and its prompt template, the preset and the
hyperparameters it fills (LoRA, steps, batch, schedule, evaluation, hardware), as one TrainConfig.

Every widget's help is its TrainConfig field's help; a preset writes its values into the widgets'
session state, so any value can be changed afterwards and survives a language switch.

    config, env = local_panel(store)      # config None while the settings are invalid (said once)
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.config import ConfigError
from core.errors import UserFacingError
from core.formats.render import PRESETS as TEMPLATE_PRESETS
from core.formats.render import get_preset
from core.training.config import ALL_PROJECTIONS, DEVICES, LOCAL_PRESETS, LOSS_ON, PRECISIONS, SCHEDULES, TrainConfig
from locales import t
from ui.common import help_for, lang, show_error, tr
from ui.treino_data import data_section

K = "treino."
HYPER = ("lora_r", "lora_alpha", "lora_dropout", "target_modules", "max_steps", "epochs", "learning_rate",
         "lr_scheduler", "warmup_steps", "weight_decay", "batch_size", "grad_accum", "max_seq_len", "loss_on",
         "eval_every", "eval_examples", "save_every", "max_train_examples", "seed")


def labels(prefix: str) -> Any:
    language = lang()  # a pure format_func: Streamlit and AppTest may call it outside the script run
    return lambda value: t(f"{prefix}{value}", language)


def helped(name: str) -> dict[str, str]:
    """Label, help (the TrainConfig field's) and key of a hyperparameter widget."""
    return {"label": tr(f"treino.field.{name}"), "help": help_for(TrainConfig, name), "key": K + name}


def apply_preset() -> None:
    """The hyperparameters follow the chosen preset."""
    preset = st.session_state.get(K + "preset", "cpu-demo")
    values = TrainConfig.from_preset(preset).to_dict()
    for name in HYPER:
        st.session_state[K + name] = values[name]


@st.cache_resource(show_spinner=False)
def has_cuda_and_bnb() -> bool:
    try:
        import bitsandbytes  # noqa: F401
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def _model() -> str:
    left, right = st.columns([3, 2])
    choice = left.selectbox(tr("treino.model"), ["smollm2", "other"], key=K + "model_choice",
                            format_func=labels("treino.model_"), help=help_for(TrainConfig, "base_model"))
    if choice == "other":
        return right.text_input(tr("treino.model_path"), key=K + "model_text",
                                placeholder="HuggingFaceTB/SmolLM2-360M-Instruct").strip() or "smollm2"
    return "smollm2"


def _hyperparameters() -> None:
    cols = st.columns(4)
    cols[0].number_input(min_value=1, max_value=512, step=1, **helped("lora_r"))
    cols[1].number_input(min_value=1, max_value=1024, step=1, **helped("lora_alpha"))
    cols[2].number_input(min_value=0.0, max_value=0.9, step=0.05, **helped("lora_dropout"))
    cols[3].number_input(min_value=1e-6, max_value=0.5, step=1e-4, format="%.5f", **helped("learning_rate"))
    st.multiselect(options=ALL_PROJECTIONS, accept_new_options=True, **helped("target_modules"))
    cols = st.columns(4)
    cols[0].number_input(min_value=0, step=10, **helped("max_steps"))
    cols[1].number_input(min_value=0.1, step=0.5, disabled=st.session_state[K + "max_steps"] > 0, **helped("epochs"))
    cols[2].number_input(min_value=1, max_value=1024, step=1, **helped("batch_size"))
    cols[3].number_input(min_value=1, max_value=1024, step=1, **helped("grad_accum"))
    cols = st.columns(4)
    cols[0].number_input(min_value=16, max_value=131072, step=64, **helped("max_seq_len"))
    cols[1].selectbox(options=LOSS_ON, format_func=labels("treino.loss_on_"), **helped("loss_on"))
    cols[2].number_input(min_value=0, step=5, **helped("eval_every"))
    cols[3].number_input(min_value=0, step=5, **helped("save_every"))


def _advanced() -> dict[str, Any]:
    """Schedule, evaluation and hardware, folded away: (device, precision, 4-bit, merge, price)."""
    with st.expander(tr("treino.advanced")):
        cols = st.columns(4)
        cols[0].selectbox(options=SCHEDULES, **helped("lr_scheduler"))
        cols[1].number_input(min_value=0, step=1, **helped("warmup_steps"))
        cols[2].number_input(min_value=0.0, step=0.01, **helped("weight_decay"))
        cols[3].number_input(min_value=0, step=1, **helped("seed"))
        cols = st.columns(4)
        cols[0].number_input(min_value=0, step=50, **helped("eval_examples"))
        cols[1].number_input(min_value=0, step=100, **helped("max_train_examples"))
        device = cols[2].selectbox(options=DEVICES, **helped("device"))
        precision = cols[3].selectbox(options=PRECISIONS, **helped("precision"))
        cols = st.columns(3)
        four_bit = cols[0].checkbox(disabled=not has_cuda_and_bnb(), **helped("load_in_4bit"))
        merge = cols[1].checkbox(**helped("merge_adapter"))
        price = cols[2].number_input(min_value=0.0, value=None, step=0.05, placeholder=tr("treino.price_default"),
                                     **helped("price_per_hour"))
    return {"device": device, "precision": precision, "load_in_4bit": four_bit, "merge_adapter": merge,
            "price_per_hour": price}


def local_panel(store: Any) -> tuple[TrainConfig | None, dict[str, str]]:
    """Model, data, template, preset and hyperparameters: (the run's config or None, no extra env)."""
    if K + "preset" not in st.session_state:
        st.session_state[K + "preset"] = "cpu-demo"
        apply_preset()
    model = _model()
    data, fmt = data_section(store)
    template_name = st.selectbox(tr("treino.template"), list(TEMPLATE_PRESETS), key=K + "template",
                                 format_func=labels("formatos.preset_"), help=help_for(TrainConfig, "template"),
                                 disabled=data.endswith(".jsonl"))
    st.radio(tr("treino.preset"), list(LOCAL_PRESETS) + ["custom"], key=K + "preset", horizontal=True,
             format_func=labels("treino.preset_"), on_change=apply_preset, help=tr("treino.preset_help"))
    _hyperparameters()
    hardware = _advanced()
    values = {name: st.session_state[K + name] for name in HYPER}
    try:
        template = {} if data.endswith(".jsonl") else get_preset(template_name).to_dict()
        config = TrainConfig(backend="local", base_model=model, data=data, format=fmt, template=template,
                             preset=st.session_state[K + "preset"], **hardware,
                             **{**values, "target_modules": list(values["target_modules"])})
    except (ConfigError, UserFacingError) as exc:
        show_error(exc)
        return None, {}
    return config, {}
