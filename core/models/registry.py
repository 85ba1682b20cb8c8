"""The model registry: every model the product can ask for an answer, with its prices.

Rows live in the ``models`` table (core/store/compare.py). Ids and kinds:

| id                              | kind             | answers through                          |
| ------------------------------- | ---------------- | ---------------------------------------- |
| ``local:smollm2``               | local-base       | transformers (the bundled SmolLM2)       |
| ``local:<spec>``                | local-base       | transformers (any folder or HF id)       |
| ``local-ft:<run_id>[@<step>]``  | local-finetune   | base + peft adapter (``adapter_path``)   |
| ``openai:<model>``              | openai           | the OpenAI API                           |
| ``openai:ft:...``               | openai-finetune  | the OpenAI API                           |
| ``endpoint:<name>``             | endpoint         | any OpenAI-compatible server (base URL)  |
| ``together:<output model>``     | together-finetune| Together's chat API (TOGETHER_API_KEY)   |
| ``fireworks:accounts/<a>/models/<id>`` | fireworks-finetune | Fireworks' chat API, once deployed (FIREWORKS_API_KEY) |

Every model knows its prices: per 1M input/output tokens (remote) or per hour of the hardware
(local), so every answer gets a cost (``answer_cost``). Fine-tunes are registered by the teams
that make them (core/training/jobs.py for local runs, the OpenAI backend for ``ft:`` models,
core/hosted/models.py for Together and Fireworks) with ``add_local_finetune`` /
``add_openai_finetune`` / ``core.hosted.models.register_model_from_event`` or ``upsert_model``. A
Together / Fireworks row keeps its provider's chat base URL in ``endpoint_url`` and never a key.

    ensure_default_models(store)
    add_endpoint(store, "ollama-llama3", "http://localhost:11434/v1", "llama3", Prices(0, 0))
    model = get_registered(store, "local:smollm2")
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from core.bundled import is_bundled
from core.errors import UserFacingError
from core.store.compare import get_model, list_models, upsert_model

if TYPE_CHECKING:
    from core.store import Store

LOCAL_KINDS = ("local-base", "local-finetune")
REMOTE_KINDS = ("openai", "openai-finetune", "endpoint", "together-finetune", "fireworks-finetune")
FINETUNE_KINDS = ("local-finetune", "openai-finetune", "together-finetune", "fireworks-finetune")
KINDS = LOCAL_KINDS + REMOTE_KINDS
BUNDLED_ID = "local:smollm2"
# What an hour of local hardware costs when nobody said otherwise: a small 2-4 vCPU cloud VM
# (the CPU machine the measurements in DESIGN.md come from); override with FTDASH_LOCAL_PRICE_PER_HOUR
# or edit the model's price (``set_prices``). With a GPU the training page's hardware price applies.
DEFAULT_LOCAL_PRICE_PER_HOUR = 0.10
# Used only until the price table (core/costs/estimates.py) is available: DESIGN.md, Standard tier, mid-2026.
_FALLBACK_OPENAI_PRICES = {
    "gpt-4o-mini-2024-07-18": (0.30, 1.20),
    "gpt-4.1-mini-2025-04-14": (0.80, 3.20),
    "gpt-4.1-nano-2025-04-14": (0.20, 0.80),
}


class UnknownModelError(UserFacingError):
    """The model id is not in the registry."""


class InvalidModelError(UserFacingError):
    """A registry entry cannot be made from what was given (bad URL, name, price)."""


@dataclass
class Prices:
    """USD per 1M input and output tokens (remote models) or per hour of hardware (local models)."""

    input_per_m: float | None = None
    output_per_m: float | None = None
    per_hour: float | None = None

    def __post_init__(self) -> None:
        for name in ("input_per_m", "output_per_m", "per_hour"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, float)) or value < 0):
                raise InvalidModelError(f"The price {name} must be a number of dollars ≥ 0, not {value!r}.")

    def columns(self) -> dict[str, float | None]:
        return {"price_input_per_m": self.input_per_m, "price_output_per_m": self.output_per_m,
                "price_per_hour": self.per_hour}


def local_price_per_hour() -> float:
    value = os.environ.get("FTDASH_LOCAL_PRICE_PER_HOUR")
    try:
        return float(value) if value else DEFAULT_LOCAL_PRICE_PER_HOUR
    except ValueError:
        return DEFAULT_LOCAL_PRICE_PER_HOUR


def openai_price_table(store: Store) -> dict[str, dict[str, Any]]:
    """OpenAI base model → {input, output (USD per 1M tokens), retired}, from the price table
    (core/costs/prices.py, editable on page 2), or DESIGN.md's figures while that table is not there."""
    try:
        from core.costs import prices as costs
    except ImportError:
        return {m: {"input": pin, "output": pout, "retired": False} for m, (pin, pout) in _FALLBACK_OPENAI_PRICES.items()}
    # the table also prices Together's and Fireworks' base models: those are not OpenAI models
    return {str(row["model"]): {"input": row.get("input"), "output": row.get("output"),
                                "retired": bool(row.get("retired"))} for row in costs.list_prices(store)
            if (row.get("provider") or "openai") == "openai"}


def openai_prices_for(store: Store, model: str) -> Prices:
    """Prices of an OpenAI model; a fine-tune (``ft:<base>:...``) costs what the table says for its base."""
    try:
        from core.costs import prices as costs
    except ImportError:
        base = model.split(":")[1] if model.startswith("ft:") else model
        pin, pout = next((v for k, v in _FALLBACK_OPENAI_PRICES.items() if k.startswith(base) or base.startswith(k)),
                         (None, None))
        return Prices(pin, pout)
    try:
        price = costs.get_price(store, model, provider="openai")
    except UserFacingError:  # not in the table: no cost shown until someone adds a row on page 2
        return Prices()
    return Prices(price.input, price.output)


def _missing_defaults(store: Store) -> list[dict[str, Any]]:
    """Registry rows of the default models that are not registered yet."""
    have = {m["id"] for m in list_models(store, include_retired=True)}
    wanted = [dict(id=BUNDLED_ID, kind="local-base", display_name="SmolLM2-135M-Instruct (bundled)",
                   base_model="smollm2", **Prices(per_hour=local_price_per_hour()).columns())]
    for model, price in sorted(openai_price_table(store).items()):  # retired models are kept, hidden from pickers
        wanted.append(dict(id=f"openai:{model}", kind="openai", display_name=model, remote_model=model,
                           retired=price["retired"], **Prices(price["input"], price["output"]).columns()))
    return [row for row in wanted if row["id"] not in have]


def ensure_default_models(store: Store) -> list[str]:
    """Register the bundled model and the OpenAI base models of the price table (idempotent:
    existing rows, with any price a user edited, are kept). Returns the ids added now.

    Every page run calls this, so the usual case (nothing missing) is two reads and no write lock.
    Adding happens in one transaction, looking again under the store's write lock: several sessions
    opening a page at once each found a model missing and inserted it, and all but one failed on
    the duplicate key."""
    if not _missing_defaults(store):
        return []
    with store.transaction():
        missing = _missing_defaults(store)
        for row in missing:
            upsert_model(store, **row)
    return [row["id"] for row in missing]


def add_local_model(store: Store, spec: str, display_name: str | None = None,
                    price_per_hour: float | None = None) -> str:
    """Register a local base model: ``smollm2``, a transformers folder or a Hugging Face id."""
    spec = spec.strip()
    if not spec:
        raise InvalidModelError("Give a local model: 'smollm2', a model folder or a Hugging Face id.")
    if is_bundled(spec):
        ensure_default_models(store)
        return BUNDLED_ID
    path = Path(spec).expanduser()
    if path.exists() and not (path / "config.json").exists():
        raise InvalidModelError(f"The folder {spec} has no config.json: it is not a transformers model folder.")
    if path.exists():
        spec = str(path.resolve())
    model_id = f"local:{spec}"
    upsert_model(store, id=model_id, kind="local-base", display_name=display_name or Path(spec).name or spec,
                 base_model=spec, **Prices(per_hour=local_price_per_hour() if price_per_hour is None
                                           else price_per_hour).columns())
    return model_id


def add_endpoint(store: Store, name: str, base_url: str, model: str, prices: Prices | None = None) -> str:
    """Register any OpenAI-compatible server (Ollama, vLLM, llama.cpp server) as ``endpoint:<name>``.
    Its API key, if it needs one, comes from $FTDASH_ENDPOINT_API_KEY, never from the database."""
    name, base_url, model = name.strip(), base_url.strip(), model.strip()
    if not name or any(c.isspace() for c in name):
        raise InvalidModelError(f"The endpoint name must be one word without spaces, not {name!r}.")
    url = urlparse(base_url)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise InvalidModelError(f"The base URL must look like http://host:port/v1, not {base_url!r}.")
    if not model:
        raise InvalidModelError("Give the model name the endpoint serves (for example llama3).")
    prices = prices or Prices(0.0, 0.0)
    model_id = f"endpoint:{name}"
    upsert_model(store, id=model_id, kind="endpoint", display_name=f"{name} ({model})", remote_model=model,
                 endpoint_url=base_url.rstrip("/"), **prices.columns())
    return model_id


def add_local_finetune(store: Store, run_id: str, base_model: str, adapter_path: str | Path,
                       step: int | None = None, prompt_template: dict[str, Any] | None = None,
                       price_per_hour: float | None = None) -> str:
    """Register a local LoRA fine-tune (``step`` for a checkpoint): base model + adapter folder."""
    model_id = f"local-ft:{run_id}" + (f"@{step}" if step is not None else "")
    upsert_model(store, id=model_id, kind="local-finetune", base_model=base_model, adapter_path=str(adapter_path),
                 run_id=run_id, display_name=f"{run_id}" + (f" (step {step})" if step is not None else ""),
                 prompt_template_json=json.dumps(prompt_template) if prompt_template else None,
                 **Prices(per_hour=local_price_per_hour() if price_per_hour is None else price_per_hour).columns())
    return model_id


def add_openai_finetune(store: Store, remote_model: str, base_model: str, run_id: str | None = None,
                        prompt_template: dict[str, Any] | None = None) -> str:
    """Register an OpenAI fine-tuned model (``ft:...``, final or checkpoint) priced as its base."""
    model_id = f"openai:{remote_model}"
    upsert_model(store, id=model_id, kind="openai-finetune", display_name=remote_model, base_model=base_model,
                 remote_model=remote_model, run_id=run_id,
                 prompt_template_json=json.dumps(prompt_template) if prompt_template else None,
                 **openai_prices_for(store, base_model).columns())
    return model_id


def set_prices(store: Store, model_id: str, prices: Prices) -> None:
    model = get_registered(store, model_id)
    model.update(prices.columns())
    upsert_model(store, **{k: v for k, v in model.items() if k != "created_at"})


def retire_model(store: Store, model_id: str) -> None:
    """Hide a model from the pickers (its generations and votes stay)."""
    model = get_registered(store, model_id)
    model["retired"] = True
    upsert_model(store, **{k: v for k, v in model.items() if k != "created_at"})


def get_registered(store: Store, model_id: str) -> dict[str, Any]:
    """The registry row of ``model_id``; the bundled/default models are registered on first use."""
    model = get_model(store, model_id)
    if model is None and (model_id == BUNDLED_ID or model_id.startswith("openai:")):
        ensure_default_models(store)
        model = get_model(store, model_id)
    if model is None:
        raise UnknownModelError(
            f"The model {model_id!r} is not registered: see `python -m core models list`, or add it with "
            "`python -m core models add-endpoint` / `add-local`.")
    return model


def available_models(store: Store) -> list[dict[str, Any]]:
    """Every model that can answer now (defaults registered first), for pickers and the CLI."""
    ensure_default_models(store)
    return list_models(store)


def answer_cost(model: dict[str, Any], tokens_in: int, tokens_out: int, seconds: float) -> float | None:
    """USD for one answer: tokens × price per 1M (remote) or seconds × price per hour (local)."""
    if model["kind"] in LOCAL_KINDS:
        per_hour = model.get("price_per_hour")
        return None if per_hour is None else per_hour * seconds / 3600.0
    pin, pout = model.get("price_input_per_m"), model.get("price_output_per_m")
    if pin is None and pout is None:
        return None
    return (tokens_in * (pin or 0.0) + tokens_out * (pout or 0.0)) / 1e6


def training_template(model: dict[str, Any]) -> dict[str, Any]:
    """The prompt template a fine-tune was trained with ({} when unknown), tolerant of key names."""
    raw = model.get("prompt_template_json")
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
