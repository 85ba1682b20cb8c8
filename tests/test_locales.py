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
    """Pages show config fields' help (ui.common.help_for): English from core, pt-BR from
    locales/ajuda.py; both exist for every helped field, with the same {placeholders}, none stale."""
    homes = {"CurationConfig": "core.curation", "FormatView": "core.format_stats", "TemplateConfig": "core.formats",
             "TrainConfig": "core.train_config", "GenerationSettings": "core.generate", "EvalConfig": "core.evaluate"}
    shown = set()
    for page in sorted((Path(__file__).resolve().parent.parent / "paginas").glob("*.py")):
        for node in ast.walk(ast.parse(page.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "help_for" and node.args:
                shown.add(getattr(node.args[0], "id", ""))
    assert shown and shown <= set(homes), shown  # a page helps a class this test does not know: add it
    expected = {}
    for name, module in homes.items():
        for field in dataclasses.fields(getattr(importlib.import_module(module), name)):
            if field.metadata.get("help"):
                expected[f"{name}.{field.name}"] = field.metadata["help"]
    assert sorted(PT_HELP) == sorted(expected)
    for key, english in expected.items():
        assert _fields(english) == _fields(PT_HELP[key]), key
