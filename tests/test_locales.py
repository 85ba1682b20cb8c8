"""Every UI string exists in English and Portuguese, once, with the same placeholders."""
from __future__ import annotations

import ast
import dataclasses
import importlib
import string
from pathlib import Path

from locales import t, text_table
from locales.ajuda import PT_HELP


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


def test_every_field_help_a_page_shows_has_its_portuguese_twin() -> None:
    """Pages (and their ui/ widget groups) show config fields' help (ui.common.help_for): English from core, pt-BR from
    locales/ajuda.py; both exist for every helped field, with the same {placeholders}, none stale."""
    homes = {"CurationConfig": "core.data.curation", "FormatView": "core.formats.stats", "TemplateConfig": "core.formats.render",
             "TrainConfig": "core.training.config", "GenerationSettings": "core.models.answers", "EvalConfig": "core.compare.evaluate",
             "TogetherTrainConfig": "core.training.backends.together_backend",
             "FireworksTrainConfig": "core.training.backends.fireworks_backend",
             "OpenAITrainConfig": "core.hosted.openai_finetune"}
    shown = set()
    root = Path(__file__).resolve().parent.parent
    for page in sorted([*(root / "paginas").glob("*.py"), *(root / "ui").glob("*.py")]):  # pages and their widget groups
        for node in ast.walk(ast.parse(page.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "help_for" and node.args:
                name = getattr(node.args[0], "id", "")
                if name[:1].isupper() and not name.isupper():  # a class named in place (not a variable)
                    shown.add(name)
    assert shown and shown <= set(homes), shown  # a page helps a class this test does not know: add it
    expected = {}
    for name, module in homes.items():
        for field in dataclasses.fields(getattr(importlib.import_module(module), name)):
            if field.metadata.get("help"):
                expected[f"{name}.{field.name}"] = field.metadata["help"]
    assert sorted(PT_HELP) == sorted(expected)
    for key, english in expected.items():
        assert _fields(english) == _fields(PT_HELP[key]), key


def test_the_first_language_of_a_visit() -> None:
    from locales import choose_language

    assert choose_language(None, None, None) == "en"              # no hint at all: the README's language
    assert choose_language(None, None, "pt-BR") == "pt"
    assert choose_language(None, None, "pt_PT") == "pt"
    assert choose_language(None, None, "en-GB") == "en"
    assert choose_language(None, None, "fr") == "en"
    assert choose_language(None, "pt", "en-US") == "pt"          # the stored choice beats the browser
    assert choose_language("en", "pt", "pt-BR") == "en"          # ?lang= beats both
    assert choose_language("xx", None, "pt-BR") == "pt"          # an unknown code is skipped
    assert choose_language(" PT ", None, None) == "pt"


def test_numbers_are_written_the_languages_way() -> None:
    from locales.numbers import duration, general, integer, number, percent, usd

    assert integer(20000, "en") == "20,000" and integer(20000, "pt") == "20.000"
    assert number(0.6681, "en", 3) == "0.668" and number(0.6681, "pt", 3) == "0,668"
    assert number(1234567.891, "pt", 2) == "1.234.567,89"
    assert number(0.0123, "pt", 4, sign=True) == "+0,0123" and number(-0.5, "en", 1, sign=True) == "-0.5"
    assert usd(1234.5, "en") == "$1,234.50" and usd(1234.5, "pt") == "US$ 1.234,50"
    assert usd(0.0009, "en") == "$0.0009" and usd(-2, "pt") == "-US$ 2,00"
    assert percent(12.5, "pt", 1) == "12,5%" and general(0.15, "pt") == "0,15"
    assert duration(245, "en") == "4m05s" and duration(3720, "pt") == "1h02m"
    assert number(None, "en") == "n/a" and usd(float("nan"), "pt") == "n/d"


def test_model_names_and_core_text_are_translated() -> None:
    from ui.numbers import model_name

    assert model_name("SmolLM2-135M-Instruct (bundled)", "pt") == "SmolLM2-135M-Instruct (embutido)"
    assert model_name("SmolLM2-135M-Instruct (bundled)", "en") == "SmolLM2-135M-Instruct (bundled)"
    assert model_name("run-1 (step 40)", "pt") == "run-1 (passo 40)"
    assert model_name("gpt-4o-mini", "pt") == "gpt-4o-mini"
