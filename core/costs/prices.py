"""The price table (USD per 1M tokens per hosted model: OpenAI, Together, Fireworks; dated and
sourced) and the hardware table (tokens/s and $/hour for local estimates): data in DuckDB, editable
on page 2, checked here.

    price = get_price(store, "ft:gpt-4o-mini-2024-07-18:org::abc")   # resolves to its base model
    price = get_price(store, "accounts/fireworks/models/llama-v3p1-8b-instruct", provider="fireworks")
    price.training, price.input, price.cached_input, price.output, price.as_of, price.retired
    save_prices(store, edited_rows)      # all rows checked first; nothing written on error
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import UserFacingError
from core.store import Store
from core.store import formats as db

# OpenAI's per-example training limits (tokens); longer examples are truncated. Checked by prefix.
OPENAI_EXAMPLE_LIMITS = (("gpt-3.5-turbo", 16_385), ("gpt-4o-mini", 65_536), ("gpt-4o", 65_536),
                         ("gpt-4.1", 65_536))
DEFAULT_EXAMPLE_LIMIT = 65_536

class UnknownPriceError(UserFacingError):
    """No row of the price table matches the model."""


class PriceTableError(UserFacingError):
    """An edited price or hardware table has a value it cannot take."""


# -- names and limits --------------------------------------------------------------------------
def base_model_name(model: str) -> str:
    """``ft:gpt-4o-mini-2024-07-18:org:suffix:id`` -> ``gpt-4o-mini-2024-07-18``."""
    return model.split(":")[1] if model.startswith("ft:") and model.count(":") >= 1 else model


def openai_example_limit(model: str) -> int:
    base = base_model_name(model)
    for prefix, limit in OPENAI_EXAMPLE_LIMITS:
        if base.startswith(prefix):
            return limit
    return DEFAULT_EXAMPLE_LIMIT


def is_openai_model(model: str, store: Store | None = None) -> bool:
    from core.tokens import UnknownTokenizerError, encoding_name_for_model

    if store is not None and _price_model(store, model) is not None:
        return True
    try:
        encoding_name_for_model(base_model_name(model))
        return True
    except UnknownTokenizerError:
        return False


# -- prices ------------------------------------------------------------------------------------
@dataclass
class Price:
    """USD per 1M tokens of one hosted model (fine-tuned inference for input/output); None: unknown."""

    model: str
    training: float | None
    input: float | None
    cached_input: float | None
    output: float | None
    as_of: dt.date | None = None
    source: str = ""
    retired: bool = False
    shutdown_date: dt.date | None = None
    provider: str = "openai"


def _price_model(store: Store, model: str, provider: str | None = None) -> str | None:
    """The price-table row for a name: exact, ft: stripped, an undated alias, or a dated snapshot
    (only the rows of ``provider`` when it is given)."""
    base = base_model_name(model) if provider in (None, "openai") else model
    names = [r["model"] for r in db.list_prices(store) if provider is None or (r.get("provider") or "openai") == provider]
    if base in names:
        return base
    dated = sorted(n for n in names if n.startswith(base + "-"))
    if dated:
        return dated[-1]
    prefixes = sorted((n for n in names if base.startswith(n + "-")), key=len, reverse=True)
    if prefixes:
        return prefixes[0]
    # "gpt-4o-mini-2025-01-01" vs a table row "gpt-4o-mini-2024-07-18": same family, another snapshot.
    dated_name = re.fullmatch(r"(.+)-\d{4}-\d{2}-\d{2}", base)
    if dated_name:
        same = sorted(n for n in names if n.startswith(dated_name.group(1) + "-"))
        return same[-1] if same else None
    return None


def get_price(store: Store, model: str, provider: str | None = None) -> Price:
    """The price of ``model`` (``ft:`` names resolve to their base model); ``provider``: only that
    provider's rows (openai, together, fireworks)."""
    name = _price_model(store, model, provider)
    row = db.get_price_row(store, name) if name else None
    if row is None:
        raise UnknownPriceError(
            f"The price table has no row for {model!r}: add it on page 2 (Formats → prices).")
    values = {k: row[k] for k in ("model", "training", "input", "cached_input", "output", "as_of", "source",
                                  "retired", "shutdown_date")}
    return Price(**values, provider=str(row.get("provider") or "openai"))


def list_prices(store: Store) -> list[dict[str, Any]]:
    return db.list_prices(store)


def _number(value: Any, what: str, row: int, allow_none: bool = True) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        if allow_none:
            return None
        raise PriceTableError(f"Row {row}: {what} is required.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PriceTableError(f"Row {row}: {what} must be a number, not {value!r}.") from None
    if number < 0 or math.isinf(number):
        raise PriceTableError(f"Row {row}: {what} must be zero or positive, not {value!r}.")
    return number


def _date(value: Any, what: str, row: int) -> dt.date | None:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date") and callable(value.date):  # pandas Timestamp
        return value.date()
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise PriceTableError(f"Row {row}: {what} must be a date like 2026-07-01, not {value!r}.") from None


def _provider(value: Any, row: int) -> str:
    if _is_blank(value):
        return "openai"  # the table's rows before providers were added were all OpenAI's
    provider = str(value).strip().lower()
    if provider not in db.PROVIDERS:
        raise PriceTableError(f"Row {row}: the provider must be one of {', '.join(db.PROVIDERS)}, not {value!r}.")
    return provider


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def save_prices(store: Store, rows: Sequence[dict[str, Any]]) -> int:
    """Replace the price table with edited rows (checked first; nothing is written on error)."""
    clean, seen = [], set()
    for number, row in enumerate(rows, start=1):
        if all(_is_blank(row.get(c)) for c in db.PRICE_COLUMNS if c not in ("retired", "provider")):
            continue  # an empty row the editor added
        model = str(row.get("model") or "").strip()
        if not model:
            raise PriceTableError(f"Row {number}: the model name is empty.")
        if model in seen:
            raise PriceTableError(f"Row {number}: the model {model!r} appears twice.")
        seen.add(model)
        clean.append({
            "model": model,
            "training": _number(row.get("training"), "training", number),
            "input": _number(row.get("input"), "input", number),
            "cached_input": _number(row.get("cached_input"), "cached_input", number),
            "output": _number(row.get("output"), "output", number),
            "as_of": _date(row.get("as_of"), "as_of", number),
            "source": str(row.get("source") or ""),
            "retired": bool(row.get("retired")) if not _is_blank(row.get("retired")) else False,
            "shutdown_date": _date(row.get("shutdown_date"), "shutdown_date", number),
            "provider": _provider(row.get("provider"), number),
        })
    db.replace_prices(store, clean)
    return len(clean)


def list_hardware(store: Store) -> list[dict[str, Any]]:
    return db.list_hardware(store)


def save_hardware(store: Store, rows: Sequence[dict[str, Any]]) -> int:
    """Replace the hardware table with edited rows (checked first)."""
    clean, seen = [], set()
    for number, row in enumerate(rows, start=1):
        if all(_is_blank(row.get(c)) for c in db.HARDWARE_COLUMNS):
            continue
        name = str(row.get("name") or "").strip()
        if not name:
            raise PriceTableError(f"Row {number}: the hardware name is empty.")
        if name in seen:
            raise PriceTableError(f"Row {number}: the hardware {name!r} appears twice.")
        seen.add(name)
        tps = _number(row.get("tokens_per_s"), "tokens_per_s", number, allow_none=False)
        if not tps:
            raise PriceTableError(f"Row {number}: tokens_per_s must be above zero.")
        clean.append({"name": name, "model_size_b": _number(row.get("model_size_b"), "model_size_b", number),
                      "tokens_per_s": tps, "usd_per_hour": _number(row.get("usd_per_hour"), "usd_per_hour", number),
                      "source": str(row.get("source") or "")})
    db.replace_hardware(store, clean)
    return len(clean)
