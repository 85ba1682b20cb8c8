"""Page 6 (the study recipe) in a real browser: a small recipe run from the page to its end.

    .venv/bin/python -m pytest -q tests/browser/test_estudo.py -s
    FTDASH_SCREENSHOTS=/tmp/shots .venv/bin/python -m pytest -q tests/browser/test_estudo.py   # keep the pictures

A fresh results and data folder; in the data folder's estudos/ a tiny recipe (the bundled sample's
first rows, a small curation, one training file, the bundled model on 2 test examples). The page
opens in English with the bundled seed study chosen and its steps listed, and in a second tab in
Portuguese; the tiny recipe is chosen and run; mid-run both tabs are reloaded (new sessions) and show
the same run; the progress reaches the end (every step done) in both, and
a summary says so. No exception or error box is ever drawn. Screenshots before, during and after.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from locales import t
from tests.browser.harness import Driver, browser_context, error_boxes, full_screenshot, running_app
from tests.test_study_launch import tiny_recipe

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]

RUN_LIMIT_S = 600      # loading the bundled model on a loaded 2-core machine is the slow part
STEPS = ["data", "curation", "format:openai-chat-train", "evaluation"]


def clean(app: Driver, name: str, screens: Path) -> None:
    assert app.errors() == [], f"{name}: exception on the page: {app.errors()}"
    assert error_boxes(app.page) == [], f"{name}: error shown: {error_boxes(app.page)}"
    full_screenshot(app.page, screens / f"estudo_{name}.png")


def selected(app: Driver, key: str) -> str:
    """What a selectbox shows (the value of its combobox input)."""
    return app.widget(key).first.locator("input[role=combobox]").input_value()


def wait_text(app: Driver, text: str, timeout_s: float) -> None:
    app.page.get_by_text(text, exact=False).first.wait_for(timeout=timeout_s * 1000)


def test_run_a_recipe_from_the_page_with_a_reload_mid_run(tmp_path: Path, screens: Path) -> None:
    results, data = tmp_path / "resultados", tmp_path / "dados"
    results.mkdir(exist_ok=True)   # tests/conftest.py made it
    recipe = tiny_recipe(data / "estudos", evaluation=True)
    label_en = t("estudo.open.uploaded", "en", name=recipe.name)
    label_pt = t("estudo.open.uploaded", "pt", name=recipe.name)
    with running_app(results, extra_env={"FTDASH_DATA": str(data)}) as url, browser_context("en-US") as context:
        app = Driver(context.new_page(), timeout_s=300)
        app.open(url + "/estudo", ready="estudo_recipe")
        wait_text(app, t("estudo.export.nothing", "en"), 60)
        wait_text(app, "seed-study.toml", 60)              # the bundled recipe, chosen, with its steps
        wait_text(app, "train:smollm2-lora", 60)
        clean(app, "en_before", screens)

        second = Driver(context.new_page(), timeout_s=300)   # a second tab, in Portuguese
        second.open(url + "/estudo?lang=pt", ready="estudo_recipe")
        wait_text(second, t("estudo.export.nothing", "pt"), 60)
        wait_text(second, "train:smollm2-lora", 60)
        assert second.page.get_by_text(t("estudo.state.run", "pt"), exact=True).count() >= 1
        clean(second, "pt_before", screens)

        app.choose("estudo_recipe", label_en)
        wait_text(app, "format:openai-chat-train", 60)
        assert app.page.get_by_text(t("estudo.state.run", "en"), exact=True).count() >= len(STEPS)
        clean(app, "en_chosen", screens)

        app.click("estudo_run")
        app.widget("estudo_stop").first.wait_for(timeout=120_000)   # the live panel
        clean(app, "en_running", screens)

        app.reload(ready="estudo_stop")                    # a new session mid-run: the same run
        assert selected(app, "estudo_recipe") == label_en, "the running recipe is shown"
        second.reload(ready="estudo_stop")                 # the second tab, reloaded: the same run, in Portuguese
        assert selected(second, "estudo_recipe") == label_pt
        wait_text(second, t("estudo.run.col_status", "pt"), 60)
        wait_text(second, t("estudo.plan.while_running", "pt"), 60)
        clean(second, "pt_running", screens)

        finished = t("estudo.end.succeeded", "en", wall="", done=len(STEPS), reused=0, skipped=0).split(": ", 1)[1]
        wait_text(app, finished, RUN_LIMIT_S)              # the fragment saw the end and the page redrew
        for step in STEPS:
            assert app.page.get_by_text(step, exact=True).count() >= 1
        assert app.page.get_by_text(t("estudo.status.done", "en"), exact=True).count() == len(STEPS)
        assert app.widget("estudo_stop").count() == 0 and app.widget("estudo_run").count() == 1
        clean(app, "en_after", screens)

        done_pt = t("estudo.end.succeeded", "pt", wall="", done=len(STEPS), reused=0, skipped=0).split(": ", 1)[1]
        deadline = time.time() + 60
        while second.page.get_by_text(done_pt).count() == 0 and time.time() < deadline:
            second.page.wait_for_timeout(500)
        assert second.page.get_by_text(done_pt).count() >= 1, "the second tab saw the end too"
        assert second.page.get_by_text(t("estudo.status.done", "pt"), exact=True).count() == len(STEPS)
        clean(second, "pt_after", screens)
