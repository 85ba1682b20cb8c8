"""Page 3's Together and Fireworks panels (the OpenAI one is ui/openai_treino.py): the data (an
exported file), the base model from the price table or typed, epochs, learning rate, LoRA rank,
suffix, the provider's own settings (Together: batch size, continue from a checkpoint; Fireworks:
account id, warm start), and the API key; then, for a run, its job and model, and for a finished
Fireworks fine-tune a Deploy button that first says what deploying costs.

The key comes from the environment (TOGETHER_API_KEY / FIREWORKS_API_KEY), ``st.secrets`` or a
password field whose value lives only in this session's widget state; it reaches the training
subprocess through its environment only (``core.hosted.models.launch_env``), never the config.

    config, env = hosted_panel(store, "together")     # config None while it cannot launch
    hosted_run_controls(store, run)                   # job id, fine-tuned model, Fireworks deploy
"""
from __future__ import annotations

import os
from typing import Any

import streamlit as st

from core.config import ConfigError
from core.errors import UserFacingError
from core.hosted.common import PROVIDERS
from core.training.backends.fireworks_backend import FireworksTrainConfig
from core.training.backends.together_backend import TogetherTrainConfig
from core.training.config import TrainConfig
from locales import t
from locales.numbers import usd
from ui.common import help_for, lang, show_error, tr
from ui.treino_data import data_section

K = "treino."
CLASSES: dict[str, type] = {"together": TogetherTrainConfig, "fireworks": FireworksTrainConfig}
NAMES = {"together": "Together", "fireworks": "Fireworks"}
OTHER = "__other__"   # the model picker's "type another model" choice


def _secret(name: str) -> str | None:
    try:
        value = st.secrets.get(name)
    except Exception:  # no secrets.toml at all
        return None
    return str(value) if value else None


def api_key(provider: str) -> tuple[str | None, bool]:
    """(the key to hand the subprocess, whether any key is available): a typed key wins, then
    st.secrets, then the environment's (which the subprocess inherits, so it is not passed)."""
    variable = PROVIDERS[provider].key_env
    typed = st.text_input(tr("treino.hosted.api_key", provider=NAMES[provider]), type="password",
                          key=f"{K}{provider}.api_key", help=tr("treino.hosted.api_key_help"), autocomplete="off")
    if typed.strip():
        return typed.strip(), True
    if secret := _secret(variable):
        st.caption(tr("treino.hosted.api_key_secret", variable=variable))
        return secret, True
    if os.environ.get(variable):
        st.caption(tr("treino.hosted.api_key_env", variable=variable))
        return None, True
    st.info(tr("treino.hosted.api_key_missing", provider=NAMES[provider], variable=variable), icon=":material/key:")
    return None, False


def _model(store: Any, provider: str) -> str:
    """The provider's models of the price table (training price shown), or one typed."""
    from core.costs.prices import list_prices

    rows = {r["model"]: r for r in list_prices(store) if (r.get("provider") or "openai") == provider}
    default = CLASSES[provider].__dataclass_fields__["model"].default
    names = list(dict.fromkeys([default, *rows])) + [OTHER]
    language = lang()  # a pure format_func: Streamlit and AppTest may call it outside the script run

    def label(name: str) -> str:
        if name == OTHER:
            return t("treino.hosted.model_other", language)
        price = (rows.get(name) or {}).get("training")
        if price is None:
            return t("treino.hosted.model_unpriced", language, model=name)
        return t("treino.hosted.model_label", language, model=name, price=usd(price, language, 2))

    left, right = st.columns([3, 2])
    model = left.selectbox(tr("treino.hosted.model", provider=NAMES[provider]), names, key=f"{K}{provider}.model",
                           format_func=label, help=help_for(CLASSES[provider], "model"))
    if model == OTHER:
        return right.text_input(tr("treino.hosted.model_text"), key=f"{K}{provider}.model_text").strip()
    return str(model)


def _settings(provider: str) -> dict[str, Any]:
    """Epochs, learning rate, LoRA rank, suffix, the provider's own fields and the poll interval."""
    cls, p = CLASSES[provider], f"{K}{provider}."
    defaults = cls()
    cols = st.columns(4)
    section: dict[str, Any] = {
        "n_epochs": int(cols[0].number_input(tr("treino.hosted.n_epochs"), 1, 100, defaults.n_epochs, key=p + "n_epochs",
                                             help=help_for(cls, "n_epochs"))),
        "learning_rate": cols[1].number_input(tr("treino.hosted.learning_rate"), 0.0, 1.0, defaults.learning_rate,
                                              step=1e-5, format="%.6f", key=p + "learning_rate",
                                              help=help_for(cls, "learning_rate")) or None,
        "lora_rank": cols[2].number_input(tr("treino.hosted.lora_rank"), 1, 512, defaults.lora_rank, step=1,
                                          key=p + "lora_rank", help=help_for(cls, "lora_rank")),
        "suffix": cols[3].text_input(tr("treino.hosted.suffix"), max_chars=cls.SUFFIX_MAX, key=p + "suffix",
                                     help=help_for(cls, "suffix")).strip() or None,
    }
    left, right = st.columns(2)
    if provider == "together":
        batch = left.text_input(tr("treino.hosted.batch_size"), value="max", key=p + "batch_size",
                                help=help_for(cls, "batch_size")).strip() or "max"
        if batch != "max" and not batch.isdigit():
            raise ConfigError(tr("treino.hosted.batch_invalid", value=batch))
        section["batch_size"] = batch if batch == "max" else int(batch)
        section["from_checkpoint"] = right.text_input(tr("treino.hosted.from_checkpoint"), key=p + "from_checkpoint",
                                                      help=help_for(cls, "from_checkpoint")).strip() or None
    else:
        section["account_id"] = left.text_input(tr("treino.hosted.account_id"), key=p + "account_id",
                                                 help=help_for(cls, "account_id")).strip() or None
        section["warm_start_from"] = right.text_input(tr("treino.hosted.warm_start_from"), key=p + "warm_start_from",
                                                      help=help_for(cls, "warm_start_from")).strip() or None
    with st.expander(tr("treino.hosted.advanced")):
        section["poll_interval_s"] = float(st.number_input(
            tr("treino.hosted.poll_interval_s"), 0.05, 600.0, defaults.poll_interval_s, key=p + "poll_interval_s",
            help=help_for(cls, "poll_interval_s")))
    return {name: value for name, value in section.items() if value is not None}


def _account_ready(section: dict[str, Any]) -> bool:
    from core.hosted.fireworks import ACCOUNT_ENV

    if section.get("account_id"):
        return True
    if account := os.environ.get(ACCOUNT_ENV):
        st.caption(tr("treino.hosted.account_env", account=account))
        return True
    st.info(tr("treino.hosted.account_missing"), icon=":material/badge:")
    return False


def hosted_panel(store: Any, provider: str) -> tuple[TrainConfig | None, dict[str, str]]:
    """Data, model, settings and key of a Together or Fireworks run: (its TrainConfig or None while
    it cannot launch, the typed key for the subprocess's environment only)."""
    from core.hosted.models import launch_env

    data, fmt = data_section(store, hosted=provider)
    model = _model(store, provider)
    try:
        section = {"model": model, **_settings(provider)}
        config = TrainConfig(backend=provider, base_model=model or "smollm2", data=data, format=fmt,
                             **{provider: section})
    except (ConfigError, UserFacingError) as exc:
        show_error(exc)
        return None, {}
    variable = PROVIDERS[provider].base_url_env
    if os.environ.get(variable):
        st.caption(tr("treino.hosted.base_url", url=os.environ[variable], variable=variable))
    key, has_key = api_key(provider)
    account = provider != "fireworks" or _account_ready(section)
    ready = has_key and account and bool(data)
    return (config if ready else None), launch_env(provider, key)


# -- a run of these backends ------------------------------------------------------------------------
def hosted_run_controls(store: Any, run: dict[str, Any]) -> None:
    """Its job id and fine-tuned model; a finished Fireworks fine-tune: Deploy, after its cost."""
    provider = run["backend"]
    if run.get("remote_job_id"):
        st.caption(tr("treino.hosted.job", provider=NAMES[provider], job_id=run["remote_job_id"]))
    if run.get("output_model"):
        st.caption(tr("treino.hosted.ft_model", model=run["output_model"]))
    if provider == "fireworks" and run["status"] == "succeeded" and run.get("output_model"):
        _deploy(store, run)


def _deploy_cost(store: Any, run: dict[str, Any]) -> str:
    """What deploying costs, from the base model's row of the price table (dated)."""
    from core.costs.prices import get_price

    model = run["output_model"]
    try:
        price = get_price(store, run.get("base_model") or "", provider="fireworks")
    except UserFacingError:
        price = None
    if price is None or (price.input is None and price.output is None):
        return tr("treino.hosted.deploy_cost_unpriced", model=model)
    language = lang()
    return tr("treino.hosted.deploy_cost", model=model, input=usd(price.input or 0, language, 2),
              output=usd(price.output or 0, language, 2), as_of=str(price.as_of or "?"))


def _deploy(store: Any, run: dict[str, Any]) -> None:
    model, run_id = run["output_model"], run["id"]
    asking, done = f"{K}fireworks.deploy_asking.{run_id}", f"{K}fireworks.deployed.{run_id}"
    if st.session_state.get(done):
        st.success(tr("treino.hosted.deployed", model=model), icon=":material/cloud_done:")
        return
    st.caption(tr("treino.hosted.deploy_needed"))
    if not st.session_state.get(asking):
        if st.button(tr("treino.hosted.deploy"), key=f"{K}fireworks.deploy.{run_id}", icon=":material/cloud_upload:"):
            st.session_state[asking] = True
        else:
            return
    st.warning(_deploy_cost(store, run), icon=":material/payments:")   # asked before anything is deployed
    cols = st.columns([1, 1, 4])
    if cols[1].button(tr("treino.hosted.deploy_no"), key=f"{K}fireworks.deploy_no.{run_id}"):
        st.session_state[asking] = False
    elif cols[0].button(tr("treino.hosted.deploy_yes"), key=f"{K}fireworks.deploy_yes.{run_id}", type="primary"):
        from core.hosted import fireworks

        typed = st.session_state.get(f"{K}fireworks.api_key") or _secret(PROVIDERS["fireworks"].key_env)
        try:
            account, _ = fireworks.split_model(model)   # the fine-tune's own account
            client = fireworks.make_client(typed or None, account)
            fireworks.deploy(client, model)
        except UserFacingError as exc:
            show_error(exc)
        else:
            st.session_state[asking], st.session_state[done] = False, True
            st.success(tr("treino.hosted.deployed", model=model), icon=":material/cloud_done:")
