"""All UI text, in English and Portuguese (pt-BR), in one place.

Each module of this package holds one page's strings as ``TEXT = {"key": ("English", "Português")}``
with keys prefixed by the page (``dados.title``); ``common`` holds what the sidebar and several
pages share. ``t("dados.title", "pt")`` looks a key up; ``{name}`` placeholders are filled from
keyword arguments. tests/test_locales.py checks that every key has both languages, that no key
is defined twice and that placeholders agree between the two.

Which language a visit gets is ``choose_language`` (the app's ?lang=, then the stored choice, then the
browser's locale, then English); numbers in text follow it through ``locales.numbers``.
"""
from __future__ import annotations

import functools
import importlib

LANGUAGES = {"en": "English", "pt": "Português (Brasil)"}
DEFAULT_LANGUAGE = "en"  # the README's language: a visit with no choice and no browser hint
MODULES = ("common", "dados", "formatos", "treino", "playground", "resultados", "core_text", "selection",
           "estudo", "linhagem", "checkpoints", "confianca")


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


def browser_language(locale: str | None) -> str | None:
    """'pt' for any Portuguese browser (pt-BR, pt-PT, pt), 'en' for any other tag, None without one."""
    if not locale or not str(locale).strip():
        return None
    return "pt" if str(locale).strip().lower().replace("_", "-").split("-")[0] == "pt" else "en"


def choose_language(query: object = None, stored: object = None, locale: str | None = None) -> str:
    """The language of a new visit: the ``?lang=`` of its URL, else the choice stored by the app's
    selector, else the browser's locale (pt* -> pt, any other -> en), else English. Unknown codes
    are skipped, so a bad ``?lang=xx`` falls through to the next source."""
    for choice in (query, stored):
        if isinstance(choice, str) and choice.strip().lower() in LANGUAGES:
            return choice.strip().lower()
    return browser_language(locale) or DEFAULT_LANGUAGE
