"""All UI text, in English and Portuguese (pt-BR), in one place.

Each module of this package holds one page's strings as ``TEXT = {"key": ("English", "Português")}``
with keys prefixed by the page (``dados.title``); ``common`` holds what the sidebar and several
pages share. ``t("dados.title", "pt")`` looks a key up; ``{name}`` placeholders are filled from
keyword arguments. tests/test_locales.py checks that every key has both languages, that no key
is defined twice and that placeholders agree between the two.
"""
from __future__ import annotations

import functools
import importlib

LANGUAGES = {"pt": "Português (Brasil)", "en": "English"}
DEFAULT_LANGUAGE = "pt"
MODULES = ("common", "dados", "formatos", "treino", "playground", "resultados")


@functools.cache
def text_table() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for name in MODULES:
        for key, value in importlib.import_module(f"locales.{name}").TEXT.items():
            if key in table:
                raise KeyError(f"UI text key {key!r} is defined twice (locales/{name}.py)")
            table[key] = value
    return table


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text for ``key`` in ``lang`` ('en' or 'pt'); unknown keys come back as the key itself."""
    pair = text_table().get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "pt" else pair[0]
    return text.format(**values) if values else text
