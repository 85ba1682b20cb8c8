"""Numbers in page text in the session's language (locales/numbers.py bound to ``ui.common.lang``),
and model names as the registry stores them, with their English markers translated.

    from ui.numbers import num, integer, usd
    st.caption(tr("dados.loaded", rows=integer(report.rows), ...))   # 20,000 / 20.000
"""
from __future__ import annotations

import re
from typing import Any

from locales import numbers, t
from ui.common import lang


def num(value: float | int | None, digits: int = 0, sign: bool = False) -> str:
    return numbers.number(value, lang(), digits, sign)


def general(value: float | int | None) -> str:
    return numbers.general(value, lang())


def integer(value: float | int | None) -> str:
    return numbers.integer(value, lang())


def usd(value: float | None, digits: int | None = None) -> str:
    return numbers.usd(value, lang(), digits)


def percent(value: float | None, digits: int = 0) -> str:
    return numbers.percent(value, lang(), digits)


def seconds(value: float | None, digits: int = 2) -> str:
    return numbers.seconds(value, lang(), digits)


def duration(value: float | None) -> str:
    return numbers.duration(value, lang())


def na() -> str:
    return t("common.na", lang())


def chart(figure: Any) -> Any:
    """A plotly figure with this language's decimal and thousands separators (axes, hover, text)."""
    figure.update_layout(separators=numbers.plotly_separators(lang()))
    return figure


_BUNDLED = " (bundled)"
_STEP = re.compile(r"^(?P<name>.*) \(step (?P<step>\d+)\)$")


def model_name(display_name: str | None, language: str | None = None) -> str:
    """A registry display name in the UI language: core/models/registry.py writes "(bundled)" and
    "(step N)" in English into the stored names; pages and charts show them translated."""
    language = language or lang()
    name = str(display_name or "")
    if name.endswith(_BUNDLED):
        return f"{name[: -len(_BUNDLED)]} ({t('common.bundled', language)})"
    match = _STEP.match(name)
    if match:
        return t("common.model_step", language, name=match["name"], step=match["step"])
    return name
