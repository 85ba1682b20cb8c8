"""Numbers written the way each UI language writes them: 20,000 and 0.668 in English, 20.000 and
0,668 in Portuguese (pt-BR); money as $1,234.56 / US$ 1.234,56; a missing value as n/a / n/d.

    from locales.numbers import number
    number(0.6681, "pt", digits=3)      # '0,668'
    usd(1234.5, "pt")                   # 'US$ 1.234,50'

Pure functions of (value, language), so pages, charts and tests share them; ui/numbers.py binds
them to the session's language. Tables keep numeric columns (Streamlit formats those); these are
for numbers inside sentences, captions, metrics and chart labels.
"""
from __future__ import annotations

import math

from locales import t


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _localize(text: str, lang: str) -> str:
    """Python writes 1,234.5; pt-BR swaps the two separators (1.234,5)."""
    if lang != "pt":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def number(value: float | int | None, lang: str, digits: int = 0, sign: bool = False, group: bool = True) -> str:
    """``value`` with ``digits`` decimals, thousands grouped (unless ``group`` is False), a + on
    positive values when ``sign``; n/a (n/d) when missing."""
    if _missing(value):
        return t("common.na", lang)
    spec = ("+" if sign else "") + ("," if group else "") + f".{digits}f"
    return _localize(format(float(value), spec), lang)  # type: ignore[arg-type]


def general(value: float | int | None, lang: str) -> str:
    """As few digits as the value needs (Python's ``g``: 0.15, 2, 1e-06)."""
    return t("common.na", lang) if _missing(value) else _localize(format(float(value), "g"), lang)  # type: ignore[arg-type]


def integer(value: float | int | None, lang: str) -> str:
    return number(value, lang, 0)


def percent(value: float | None, lang: str, digits: int = 0) -> str:
    """``value`` already in percent (12.5 -> '12.5%', '12,5%')."""
    return t("common.na", lang) if _missing(value) else number(value, lang, digits) + "%"


def usd(value: float | None, lang: str, digits: int | None = None) -> str:
    """Dollars: 4 decimals below one cent (a single answer costs fractions of a cent), else 2."""
    if _missing(value):
        return t("common.na", lang)
    places = digits if digits is not None else (4 if 0 < abs(float(value)) < 0.01 else 2)  # type: ignore[arg-type]
    amount = number(value, lang, places)
    if amount.startswith("-"):
        return "-" + _money(amount[1:], lang)
    return _money(amount, lang)


def _money(amount: str, lang: str) -> str:
    return f"US$ {amount}" if lang == "pt" else f"${amount}"


def seconds(value: float | None, lang: str, digits: int = 2) -> str:
    """A short duration in seconds ('1.25 s', '1,25 s')."""
    return t("common.na", lang) if _missing(value) else f"{number(value, lang, digits)} s"


def duration(value: float | None, lang: str) -> str:
    """A longer duration: 4m05s, 1h02m (the same letters in both languages)."""
    if _missing(value):
        return t("common.na", lang)
    total = int(max(0, round(float(value))))  # type: ignore[arg-type]
    hours, rest = divmod(total, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def plotly_separators(lang: str) -> str:
    """Plotly's ``layout.separators`` (decimal, then thousands) for chart axes and hover numbers."""
    return ",." if lang == "pt" else ".,"
