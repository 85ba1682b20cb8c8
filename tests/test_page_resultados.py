"""AppTest of page 5: an empty database (base models alone), launching an evaluation of the tiny
model in the background thread and seeing its leaderboard, importing the seed sheet, building the
xlsx, both languages, and bad input shown as one sentence."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import run_page
from fake_openai import FAKE_KEY, fake_openai_fixture  # noqa: F401 - the fixture
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "paginas" / "5_resultados.py")


def _app(lang: str = "en") -> AppTest:
    return run_page("5_resultados.py", lang)


@pytest.fixture
def tiny_registered(tiny_model_dir) -> str:
    from core.models.registry import add_local_model, ensure_default_models
    from core.store import Store

    with Store() as store:
        ensure_default_models(store)
        return add_local_model(store, str(tiny_model_dir), display_name="tiny", price_per_hour=1.0)


def _frame(at: AppTest, column: str, nth: int = 0):
    """The nth table on the page that has ``column`` (AppTest finds dataframes by position only)."""
    frames = [d.value for d in at.dataframe if column in d.value.columns]
    return frames[nth]


def _wait_for_evaluation(at: AppTest, timeout_s: float = 120) -> None:
    from core.compare import evaluate
    deadline = time.time() + timeout_s
    while any(t.is_alive() for t, _ in evaluate._threads.values()) and time.time() < deadline:
        time.sleep(0.2)


def test_empty_database_shows_the_launcher_with_the_bundled_model() -> None:
    at = _app()
    assert not at.exception
    assert at.title[0].value == "Results"
    models = at.multiselect(key="rs_models")
    assert "SmolLM2-135M-Instruct (bundled) · local-base" in models.options and models.value == ["local:smollm2"]
    assert any("No evaluation yet" in i.value for i in at.info)
    assert at.button(key="rs_import_seed")  # the seed sheet can be imported right away
    pt = _app("pt")
    assert pt.title[0].value == "Resultados" and not pt.exception


def test_launch_in_background_then_results(tiny_registered) -> None:
    at = _app()
    at.multiselect(key="rs_models").set_value([tiny_registered])
    at.number_input(key="rs_limit").set_value(3)
    at.number_input(key="rs_max_new").set_value(8)
    at.multiselect(key="rs_variants").set_value(["default", "summary"])
    at.multiselect(key="rs_metrics").set_value(["rougeL", "chrf", "repetition"])
    at.selectbox(key="rs_main").set_value("rougeL")
    at.button(key="rs_start").click().run()
    assert not at.exception and not at.error
    _wait_for_evaluation(at)
    at.run()
    assert not at.exception
    assert at.selectbox(key="rs_eval_select").value.startswith("ev-")
    assert any("Finished: 6 of 6 answers" in c.value for c in at.caption)
    board = _frame(at, "rank")
    assert list(board["display_name"]) == ["tiny"] and board["n"].iloc[0] == 3
    assert at.radio(key="rs_variant").options == ["As trained (the title)", "One-line summary"]
    examples = _frame(at, "reference")
    assert len(examples) == 3 and "tiny" in examples.columns
    at.text_input(key="rs_search").set_value("zzzz-no-such-text").run()
    assert len(_frame(at, "reference")) == 0
    # the workbook is built on request and offered for download
    at.button(key="rs_build_xlsx").click().run()
    assert not at.exception
    name, data = at.session_state["rs_xlsx"]
    assert name.endswith(".xlsx") and data[:2] == b"PK"
    # a reload (new session) finds the same evaluation and state in the database
    again = _app()
    assert again.selectbox(key="rs_eval_select").value.startswith("ev-")
    assert any("Finished" in c.value for c in again.caption)


def test_import_the_seed_sheet_and_pair_test() -> None:
    at = _app()
    at.button(key="rs_import_seed").click().run()
    assert not at.exception
    assert any("Imported 2 sheet(s)" in s.value for s in at.success)
    board = _frame(at, "rank")
    assert len(board) == 2 and board["display_name"].iloc[0].startswith("Finetuned")
    assert at.selectbox(key="rs_pair_a").value != at.selectbox(key="rs_pair_b").value
    assert any("paired bootstrap p" in m.value for m in at.markdown)


def test_bad_input_is_one_sentence(tiny_registered, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used-0000")  # the config fails before any request
    at = _app()
    at.multiselect(key="rs_models").set_value([tiny_registered])
    at.multiselect(key="rs_metrics").set_value(["rougeL"])
    at.selectbox(key="rs_data").set_value("seed-study")
    at.selectbox(key="rs_split").set_value("train")
    at.number_input(key="rs_max_new").set_value(8)
    at.toggle(key="rs_judge_on").set_value(True).run()
    assert not at.exception
    # no remote model is registered besides the defaults (OpenAI bases): a judge can be picked,
    # and a rubric without its placeholders is refused in one sentence
    at.text_area(key="rs_rubric").set_value("grade it")
    at.button(key="rs_start").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "judge_rubric" in at.error[0].value


def test_openai_model_needs_a_key_typed_for_the_session_only(fake_openai, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")  # the fake server stays the base URL; the key comes from the field
    at = _app()
    at.multiselect(key="rs_models").set_value(["openai:gpt-4o-mini-2024-07-18"]).run()
    assert at.button(key="rs_start").disabled
    assert any("type the API key" in i.value for i in at.info)
    at.number_input(key="rs_limit").set_value(2)
    at.multiselect(key="rs_metrics").set_value(["rougeL"])
    at.text_input(key="rs_api_key").input(FAKE_KEY).run()
    assert not at.button(key="rs_start").disabled
    at.button(key="rs_start").click().run()
    assert not at.exception
    _wait_for_evaluation(at)
    import streamlit as st

    from core.store import Store

    st.cache_resource.clear()
    with Store() as store:
        rows = store.fetchall("SELECT answer, error FROM eval_answers")
        configs = " ".join(r[0] for r in store.fetchall("SELECT config_json FROM evaluations"))
    assert len(rows) == 2 and all(e is None and a.startswith("gpt-4o-mini") for a, e in rows)
    assert FAKE_KEY not in configs  # the key is never stored


def test_a_new_evaluation_opens_with_the_current_dataset_and_models(tiny_registered) -> None:
    from test_selection import save_dataset

    from core.selection import set_current, set_current_models
    from core.store import Store

    with Store() as store:
        dataset = save_dataset(store, "books")
        set_current(store, "dataset", dataset)
        set_current_models(store, [tiny_registered, "endpoint:gone"])
    at = _app()
    assert not at.exception
    assert at.selectbox(key="rs_data").value == dataset
    assert at.multiselect(key="rs_models").value == [tiny_registered]
    assert any("endpoint:gone" in i.value and "no longer available" in i.value for i in at.info)
    # choosing here is remembered for the other pages and tabs
    at.selectbox(key="rs_data").set_value("seed-study").run()
    again = AppTest.from_file(PAGE, default_timeout=120)
    again.session_state["lang"] = "en"
    assert again.run().selectbox(key="rs_data").value == "seed-study"
