"""The UI language: which one a visit opens in, that a switch keeps every widget's value on every
page (and that the browser is sent the label of the new language, so it never shows an empty radio
or sends back an old label), and that a page in one language shows no words of the other.

    .venv/bin/python -m pytest -q tests/test_language.py

AppTest re-derives every label from the latest run, so it cannot see the browser's stale label by
itself; ``_browser_labels`` plays the browser: it keeps the label it showed unless the server sent
a new one (``set_value``), which is exactly what the browser does.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGES = {name: str(ROOT / "paginas" / f"{name}.py")
         for name in ("1_dados", "2_formatos", "3_treino", "4_playground", "5_resultados")}
CHOICES = ("radio", "selectbox", "multiselect")
WIDGETS = CHOICES + ("number_input", "text_input", "text_area", "toggle", "checkbox", "slider")


def _fresh(script: str, lang: str = "en") -> AppTest:
    import streamlit as st

    st.cache_resource.clear()  # the Store is cached per process: open this test's database
    st.cache_data.clear()
    at = AppTest.from_file(script, default_timeout=240)
    at.session_state["lang"] = lang
    return at.run()


def _values(at: AppTest) -> dict[str, Any]:
    return {w.key: w.value for kind in WIDGETS for w in getattr(at, kind) if w.key}


def _shown(at: AppTest) -> dict[str, Any]:
    """The label(s) each choice widget shows now."""
    out: dict[str, Any] = {}
    for kind in CHOICES:
        for w in getattr(at, kind):
            if kind == "multiselect":
                out[w.id] = [w.options[i] for i in w.indices]
            else:
                out[w.id] = w.options[w.index] if w.index is not None else None
    return out


def _browser_labels(at: AppTest, before: dict[str, Any]) -> dict[str, Any]:
    """What the browser shows after this run: the label the server sent (set_value), else the one
    it showed before the run."""
    out: dict[str, Any] = {}
    for kind in CHOICES:
        for w in getattr(at, kind):
            if w.proto.set_value:
                out[w.id] = list(w.proto.raw_values) if kind == "multiselect" else w.proto.raw_value
            else:
                out[w.id] = before.get(w.id)
    return out


def _switch(at: AppTest, lang: str) -> AppTest:
    values, shown = _values(at), _shown(at)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    after = _values(at)
    changed = {k: (v, after[k]) for k, v in values.items() if k in after and after[k] != v}
    assert not changed, f"a language switch changed widget values: {changed}"
    browser, now = _browser_labels(at, shown), _shown(at)
    stale = {k: (browser[k], now[k]) for k in now if k in shown and browser[k] != now[k]}
    assert not stale, f"the browser would show an old label (or none): {stale}"
    return at


def _round_trip(at: AppTest, set_values: dict[tuple[str, str], Any]) -> None:
    for (kind, key), value in set_values.items():
        getattr(at, kind)(key=key).set_value(value).run()
        assert not at.exception, (key, [e.value for e in at.exception])
    wanted = _values(at)
    for (_kind, key), value in set_values.items():
        assert wanted[key] == value, key
    _switch(at, "pt")
    _switch(at, "en")
    _switch(at, "pt")
    # after the switches the widgets still hold their keys, never a label (page 1's radios carry the
    # language in their widget key: their values are checked through the key they keep)
    now = _values(at)
    assert {k: v for k, v in now.items() if k in wanted} == {k: v for k, v in wanted.items() if k in now}


def test_page_1_keeps_every_value_across_switches() -> None:
    at = _fresh(PAGES["1_dados"])
    _round_trip(at, {("radio", "dados_keyword_mode__en"): "any", ("toggle", "dados_dedup"): False,
                     ("text_input", "dados_keywords"): "author", ("toggle", "dados_log"): True})
    at.toggle(key="dados_log").set_value(False).run()
    assert not at.exception and at.session_state["dados_keyword_mode"] == "any"


def test_page_2_keeps_every_value_across_switches() -> None:
    at = _fresh(PAGES["2_formatos"])
    _round_trip(at, {("radio", "formatos_split"): "test", ("selectbox", "formatos_preset"): "describe",
                     ("radio", "formatos_format"): "alpaca", ("radio", "formatos_tp_source"): "manual"})
    at.number_input(key="formatos_tps").set_value(250.0).run()
    assert not at.exception and at.radio(key="formatos_format").value == "alpaca"


def test_page_3_keeps_every_value_across_switches() -> None:
    """The reported bug: on pt-BR with the form filled, a switch left every radio empty and the next
    click handed the preset's label to apply_preset (ConfigError: Unknown preset 'Demo em CPU')."""
    at = _fresh(PAGES["3_treino"])
    _round_trip(at, {("radio", "treino.preset"): "seed-study", ("selectbox", "treino.loss_on"): "all",
                     ("selectbox", "treino.model_choice"): "other", ("selectbox", "treino.template"): "describe",
                     ("selectbox", "treino.lr_scheduler"): "cosine"})
    at.number_input(key="treino.seed").set_value(3).run()
    assert not at.exception and at.radio(key="treino.preset").value == "seed-study"
    assert at.number_input(key="treino.lora_r").value == 16  # the preset's values were not reapplied


def test_page_3_openai_widgets_keep_their_values(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    at = _fresh(PAGES["3_treino"], "pt")
    at.radio(key="treino.backend").set_value("openai").run()
    _round_trip(at, {("radio", "treino.openai.hyper_mode"): "seed", ("text_input", "treino.openai.suffix"): "x"})


def test_page_4_keeps_every_value_across_switches() -> None:
    at = _fresh(PAGES["4_playground"])
    _round_trip(at, {("radio", "pg_source"): "example", ("toggle", "pg_per_column"): True})
    _round_trip(at, {("radio", "pg_mode"): "arena"})


def test_page_5_keeps_every_value_across_switches() -> None:
    at = _fresh(PAGES["5_resultados"])
    _round_trip(at, {("selectbox", "rs_split"): "train", ("selectbox", "rs_main"): "chrf",
                     ("multiselect", "rs_variants"): ["default", "question"],
                     ("multiselect", "rs_metrics"): ["rougeL", "semantic"]})


def test_page_5_with_results_keeps_values_and_writes_numbers_the_languages_way() -> None:
    at = _fresh(PAGES["5_resultados"])
    at.button(key="rs_import_seed").click().run()
    assert not at.exception
    _round_trip(at, {("selectbox", "rs_split"): "train", ("text_input", "rs_search"): "the"})
    at.session_state["lang"] = "pt"
    at.run()
    text = "\n".join(_strings(at))
    assert re.search(r"p = \d,\d{3}", text) and not re.search(r"p = \d\.\d{3}", text), "p-values with a decimal comma"
    at.session_state["lang"] = "en"
    at.run()
    text = "\n".join(_strings(at))
    assert re.search(r"p = \d\.\d{3}", text)


# -- the first language ------------------------------------------------------------------------------
def _first_visit(locale: str | None = None, query: str | None = None, stored: str | None = None) -> str:
    import streamlit as st

    st.cache_resource.clear()
    if stored:
        from core.store import Store
        from core.store.base import set_setting

        with Store() as store:
            set_setting(store, "ui.language", stored)
    at = AppTest.from_function(_show_language, default_timeout=60)
    if locale:
        at.context["locale"] = locale
    if query:
        at.query_params["lang"] = query
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at.session_state["lang"]


def _show_language() -> None:
    import streamlit as st

    from ui.common import lang, tr

    st.title(tr("app.title"))
    st.write(lang())


def test_first_visit_follows_the_browser_then_english() -> None:
    assert _first_visit("pt-BR") == "pt"
    assert _first_visit("pt") == "pt"
    assert _first_visit("en-US") == "en"
    assert _first_visit("de-DE") == "en"
    assert _first_visit(None) == "en"


def test_the_url_and_the_stored_choice_come_before_the_browser() -> None:
    assert _first_visit("en-US", stored="pt") == "pt"          # a new tab keeps the sidebar's choice
    assert _first_visit("pt-BR", query="en", stored="pt") == "en"  # ?lang= beats everything
    assert _first_visit("pt-BR", query="xx") == "pt"           # an unknown code is skipped


def test_the_sidebar_choice_survives_a_reload_and_a_new_tab() -> None:
    import streamlit as st

    from core.store import Store
    from core.store.base import get_setting

    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.context["locale"] = "en-US"
    at.run()
    assert not at.exception and at.selectbox(key="lang").value == "en"
    assert at.query_params.get("lang") in ("en", ["en"]) or at.query_params == {}
    at.selectbox(key="lang").set_value("pt").run()
    assert not at.exception
    assert at.title[0].value == "Curadoria dos dados"
    st.cache_resource.clear()  # the app's Store: read the file again
    with Store() as store:
        assert get_setting(store, "ui.language") == "pt"
    assert _first_visit("en-US") == "pt"  # a new tab, no ?lang=: the stored choice


# -- nothing of the other language on a page -----------------------------------------------------------
ENGLISH_ONLY = ["(bundled)", "n/a", "given", "the answer only", "hardware table", "estimate for", "tokens per epoch",
                "billable", "Semantic (MiniLM)", "Length ratio", "Repetition", "LLM judge", "(as trained)",
                "examples without", "Speed from", "No runs yet"]
PORTUGUESE_ONLY = ["Treino", "Salvar", "exemplos", "Modelo base", "Predefinição", "Velocidade", "embutido", "n/d",
                   "Configurações"]


def _strings(at: AppTest) -> list[str]:
    """Every string the page sends the browser (labels, options, help, captions, markdown, code),
    except chart JSON."""
    out: list[str] = []

    def visit(message: Message) -> None:
        for field, value in message.ListFields():
            items = list(value) if type(value).__name__.startswith("Repeated") else [value]
            for item in items:
                if isinstance(item, Message):
                    visit(item)
                elif isinstance(item, str) and field.name not in ("id", "form_id", "key", "icon", "spec", "figure"):
                    out.append(item)

    def walk(node: Any) -> None:
        if isinstance(getattr(node, "proto", None), Message):
            visit(node.proto)
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else []):
            walk(child)

    walk(at._tree)
    return [s for s in out if not s.lstrip().startswith("{")]


def _leaks(text: str, words: list[str]) -> list[str]:
    return [w for w in words if re.search(rf"(?<![\w/]){re.escape(w)}(?![\w/])", text)]


@pytest.mark.parametrize("page", list(PAGES))
def test_a_page_in_one_language_shows_no_words_of_the_other(page: str) -> None:
    at = _fresh(PAGES[page], "pt")
    assert not at.exception
    text = "\n".join(_strings(at))
    assert not _leaks(text, ENGLISH_ONLY), _leaks(text, ENGLISH_ONLY)
    metrics = [m.value for m in at.metric]
    assert not [m for m in metrics if re.search(r"\d,\d{3}\b|\d\.\d{1,2}$", str(m))], metrics  # 20.000, 0,12
    at.session_state["lang"] = "en"
    at.run()
    text = "\n".join(_strings(at))
    assert not _leaks(text, PORTUGUESE_ONLY), _leaks(text, PORTUGUESE_ONLY)
