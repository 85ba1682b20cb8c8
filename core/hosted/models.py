"""App side of the hosted fine-tunes: the key into the training subprocess, the fine-tuned model into
the registry, and a chat client for it (Together's and Fireworks' chat APIs are OpenAI-compatible).

    env = launch_env("together", typed_key)              # {"TOGETHER_API_KEY": ...}, or {} for the env's own
    model_id = register_model_from_event(store, event)   # "together:<output model>" / "fireworks:accounts/..."
    client = chat_client(model_row)                       # an openai.OpenAI on the provider's chat base URL
    cancel_job("together", job_id, run_config["together"])  # a job whose watching process is gone

A registry row of kind ``together-finetune`` / ``fireworks-finetune`` keeps the provider's chat base
URL in ``endpoint_url`` and never a key: the key comes from TOGETHER_API_KEY / FIREWORKS_API_KEY
(or the field on the page) each time, and only ever goes to that provider.
"""
from __future__ import annotations

import json
import os
from typing import Any

from core.hosted.common import PROVIDERS, MissingKeyError, missing_key_sentence

KINDS = {"together-finetune": "together", "fireworks-finetune": "fireworks"}


def launch_env(provider: str, api_key: str | None) -> dict[str, str]:
    """Extra environment for the training subprocess: the only way a typed key reaches it."""
    return {PROVIDERS[provider].key_env: api_key} if api_key else {}


def model_id_for(provider: str, remote_model: str) -> str:
    return f"{provider}:{remote_model}"


def register_model_from_event(store: Any, event: dict[str, Any]) -> str | None:
    """Register the model a result event of a Together or Fireworks run carries in ``register_model``;
    returns its registry id (None for events without one, or of another kind)."""
    from core.store.compare import get_model, upsert_model

    entry = event.get("register_model")
    if not isinstance(entry, dict) or entry.get("kind") not in KINDS or not entry.get("remote_model"):
        return None
    provider, remote = KINDS[entry["kind"]], str(entry["remote_model"])
    model_id = model_id_for(provider, remote)
    old = get_model(store, model_id) or {}
    prices = {c: old.get(c) if old.get(c) is not None else entry.get(c)   # a price a user edited wins
              for c in ("price_input_per_m", "price_output_per_m")}
    template = entry.get("prompt_template")
    upsert_model(store, id=model_id, kind=entry["kind"], display_name=old.get("display_name") or remote,
                 base_model=entry.get("base_model"), remote_model=remote, endpoint_url=entry.get("chat_base_url"),
                 run_id=entry.get("run_id"), prompt_template_json=json.dumps(template) if template else None,
                 retired=bool(old.get("retired", False)), **prices)
    return model_id


def chat_client(model: dict[str, Any], api_key: str | None = None, max_retries: int = 2) -> Any:
    """An OpenAI client for a registered Together/Fireworks fine-tune: its provider's chat base URL
    and its provider's key (argument, else the environment). Never another provider's key."""
    from core.hosted.openai_client import make_client

    provider = PROVIDERS[KINDS[model["kind"]]]
    key = api_key or os.environ.get(provider.key_env)
    if not key:
        raise MissingKeyError(missing_key_sentence(provider))
    return make_client(api_key=key, base_url=model["endpoint_url"], max_retries=max_retries)


def cancel_job(provider: str, job_id: str, section: dict[str, Any] | None = None) -> None:
    """Cancel a Together / Fireworks job directly (the run's watching process is gone); the key from
    the environment, the base URL and account id from the run's config section."""
    section = section or {}
    if provider == "together":
        from core.hosted import together

        together.cancel(together.make_client(None, section.get("base_url")), job_id)
    elif provider == "fireworks":
        from core.hosted import fireworks

        fireworks.cancel(fireworks.make_client(None, section.get("account_id"), section.get("base_url")), job_id)
    else:
        raise ValueError(f"{provider!r} is not a Together/Fireworks backend")


def explain_chat(model: dict[str, Any], exc: BaseException) -> str:
    """One sentence for a failed chat request to a Together / Fireworks fine-tune, naming its
    provider; a Fireworks LoRA that is not deployed yet says how to deploy it (and that it costs)."""
    from core.hosted.common import explain, status_of

    provider = PROVIDERS[KINDS[model["kind"]]]
    remote = str(model.get("remote_model") or model.get("id"))
    if model["kind"] == "fireworks-finetune" and status_of(exc) == 404:
        return (f"Fireworks does not serve {remote} yet: deploy it first (`python -m core models deploy "
                f"{model['id']}`, or the Deploy button on page 3), which costs money while it is deployed.")
    return str(explain(provider, exc, "chat", remote))
