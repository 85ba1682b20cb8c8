"""AppTest of page 1 "Dados": the bundled sample opens with the seed notebook's funnel, moving
sliders and toggles changes the funnel, presets set the widgets, saving makes a curated dataset
the other pages can read, both languages, and a bad path is one sentence."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.curation import preset
from core.curation_stream import curate
from core.paths import sample_raw_path

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "paginas" / "1_dados.py")


@pytest.fixture(autouse=True)
def isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "dados"
    monkeypatch.setenv("FTDASH_DATA", str(folder))
    return folder


def _app(lang: str = "en") -> AppTest:
    import streamlit as st

    st.cache_resource.clear()  # the page's Store and Features are cached per process
    st.cache_data.clear()
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["lang"] = lang
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(scope="module")
def sample_funnel() -> dict[str, int]:
    return curate(sample_raw_path(), preset("seed-notebook")).funnel


def test_the_sample_opens_with_the_notebooks_funnel(sample_funnel) -> None:
    at = _app()
    assert not at.exception and not at.error
    assert at.title[0].value == "Data curation"
    shown = metrics(at)
    assert shown["Rows loaded"] == f"{sample_funnel['loaded']:,}"
    assert shown["Rows kept"] == f"{sample_funnel['keywords']:,}"
    assert shown["Train"] == f"{sample_funnel['train']:,}"
    assert len(at.get("plotly_chart")) == 4  # funnel, tokens before/after, title and content lengths
    assert at.slider(key="dados_tokens").value == (0, 256)
    assert "python -m core curate" in at.code[0].value


def test_moving_sliders_changes_the_funnel(sample_funnel) -> None:
    at = _app()
    kept = metrics(at)["Rows kept"]
    at.slider(key="dados_tokens").set_value((0, 1024)).run()
    looser = metrics(at)["Rows kept"]
    assert int(looser.replace(",", "")) > int(kept.replace(",", ""))
    at.slider(key="dados_title_chars").set_value((60, 300)).run()
    tighter = metrics(at)["Rows kept"]
    assert int(tighter.replace(",", "")) < int(looser.replace(",", ""))
    at.radio(key="dados_keyword_mode__en").set_value("any").run()
    assert int(metrics(at)["Rows kept"].replace(",", "")) > int(tighter.replace(",", ""))
    at.toggle(key="dados_dedup").set_value(False).run()
    at.text_input(key="dados_keywords").set_value("").run()
    assert not at.exception
    assert metrics(at)["Rows kept"] != tighter


def test_presets_set_the_widgets() -> None:
    at = _app()
    at.selectbox(key="dados_preset").set_value("seed-readme").run()
    assert at.slider(key="dados_tokens").value == (257, 2048)  # no upper limit
    assert at.radio(key="dados_keyword_mode__en").value == "any"
    assert not at.exception


def test_saving_a_curated_dataset_and_a_preset(isolated_data: Path) -> None:
    at = _app()
    at.text_input(key="dados_save_name").set_value("amostra-livros").run()
    at.button(key="dados_save").click().run()
    assert any("Saved amostra-livros v1" in s.value for s in at.success)
    from core.curated import read_split, resolve_source
    from core.store import Store

    at.text_input(key="dados_preset_name").set_value("meu-filtro").run()
    at.button(key="dados_preset_save").click().run()
    assert any("meu-filtro" in s.value for s in at.success)
    assert "meu-filtro" in at.selectbox(key="dados_preset").options
    import streamlit as st

    st.cache_resource.clear()  # let go of the page's database before opening it here
    with Store() as store:
        folder = resolve_source("amostra-livros", store)
        assert read_split(folder, "train") and folder.is_relative_to(isolated_data)


def test_portuguese_and_a_bad_path_is_one_sentence(tmp_path: Path) -> None:
    at = _app("pt")
    assert at.title[0].value == "Curadoria dos dados" and not at.exception
    assert at.toggle(key="dados_dedup").help.startswith("Descarta as linhas")  # field help in pt-BR too
    at.radio(key="dados_source__pt").set_value("path").run()
    at.text_input(key="dados_path").set_value(str(tmp_path / "nada.json")).run()
    assert [e.value for e in at.error] == [f"The file {tmp_path / 'nada.json'} does not exist."]
    bad = tmp_path / "texto.json"
    bad.write_text("isto não é json\n")
    at.text_input(key="dados_path").set_value(str(bad)).run()
    assert len(at.error) == 1 and "is not JSON lines" in at.error[0].value and not at.exception


def test_the_seed_split_source() -> None:
    at = _app()
    at.radio(key="dados_source__en").set_value("seed").run()
    assert not at.exception
    assert metrics(at)["Rows loaded"] == "2,000"


@pytest.mark.browser
@pytest.mark.slow
def test_in_a_real_browser_charts_draw_and_an_upload_is_read(tmp_path: Path) -> None:
    """What AppTest cannot see: plotly charts drawn by JavaScript, the file uploader, no traceback."""
    from tests.browser.harness import browser_page, page_errors, running_app, wait_idle

    raw = tmp_path / "mine.jsonl"
    raw.write_text('{"title": "a", "content": "b"}\nnot json\n', encoding="utf-8")
    with running_app(tmp_path / "resultados") as url, browser_page(1400, 1600) as page:
        page.goto(url + "/")
        wait_idle(page, 120)
        # plotly draws after the script run ends: wait for the four charts' SVGs
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4",
                               timeout=60_000)
        assert page_errors(page) == []
        page.get_by_text("Enviar um arquivo").click()
        wait_idle(page)
        page.locator("input[type=file]").set_input_files(str(raw))
        page.wait_for_selector("text=linhas malformadas", timeout=60_000)
        wait_idle(page)
        assert page_errors(page) == []
        assert page.locator("text=mine.jsonl: jsonl, 1 linhas de 2 linhas").count() == 1
