"""Every UI string exists in English and Portuguese, once, with the same placeholders."""
from __future__ import annotations

import string

from locales import t, text_table


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_both_languages_and_same_placeholders() -> None:
    for key, (en, pt) in text_table().items():
        assert en.strip() and pt.strip(), key
        assert _fields(en) == _fields(pt), key


def test_lookup_and_fallback() -> None:
    assert t("nav.dados", "pt") == "1 Dados"
    assert t("nav.dados", "en") == "1 Data"
    assert t("no.such.key", "en") == "no.such.key"
