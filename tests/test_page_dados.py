"""AppTest of page 1 "Dados": the bundled sample opens with the seed notebook's funnel, moving
sliders and toggles changes the funnel, presets set the widgets, saving makes a curated dataset
the other pages can read, both languages, and a bad path is one sentence."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_page
from streamlit.testing.v1 import AppTest

from core.data.curation import preset
from core.data.curation_stream import curate
from core.paths import sample_raw_path


@pytest.fixture(autouse=True)
def isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "dados"
    monkeypatch.setenv("FTDASH_DATA", str(folder))
    return folder


def _app(lang: str = "en") -> AppTest:
    return run_page("1_dados.py", lang)


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
    # the bundled sample fills the notebook's whole split (issue 10: it used to show Train 126 / Test 0)
    assert (shown["Train"], shown["Test"]) == ("1,500", "500") and not at.warning
    assert len(at.get("plotly_chart")) == 4  # funnel, tokens before/after, title and content lengths
    assert at.slider(key="dados_tokens").value == (0, 256)
    assert "python -m core curate" in at.code[0].value


def test_moving_sliders_changes_the_funnel(sample_funnel) -> None:
    at = _app()
    kept = metrics(at)["Rows kept"]
    at.slider(key="dados_tokens").set_value((0, 128)).run()
    assert int(metrics(at)["Rows kept"].replace(",", "")) < int(kept.replace(",", ""))
    # the sample's descriptions are the seed's own, all within 256 tokens: a higher limit adds nothing
    at.slider(key="dados_tokens").set_value((0, 1024)).run()
    assert metrics(at)["Rows kept"] == kept
    at.slider(key="dados_content_chars").set_value((100, 6000)).run()
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
    from core.data.curated import read_split, resolve_source
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
        from core.selection import get_current

        assert get_current(store, "dataset") == "amostra-livros@v1"  # pages 2-5 open with it


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
        page.goto(url + "/?lang=pt")  # the texts below are Portuguese, whatever the browser's locale
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


# -- issue 10: a short split, saving, columns that are not text, the user's file name ---------------------------
def _raw_file(tmp_path: Path, kept: int) -> Path:
    """``kept`` rows that pass the seed notebook's filters, and a few that do not."""
    import json

    words = ("river", "garden", "winter", "letters", "harbour", "orchard", "lantern", "meadow")
    lines = []
    for i in range(kept):
        body = " ".join(words[(i + k) % len(words)] for k in range(60))
        lines.append({"title": f"The collected letters of a river town, volume {i:03d} of the series",
                      "content": f"The author of volume {i} wrote about {body}. Copyright 1994 by the author."})
    lines += [{"title": "short", "content": ""}, {"title": "Girls Ballet Tutu Neon Pink", "content": "Imported."}]
    path = tmp_path / "raw.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in lines), encoding="utf-8")
    return path


def _open_path(at: AppTest, path: Path) -> AppTest:
    at.radio(key="dados_source__en").set_value("path").run()
    return at.text_input(key="dados_path").set_value(str(path)).run()


def test_a_short_split_says_so_and_offers_the_ratio_fix(tmp_path: Path) -> None:
    at = _open_path(_app(), _raw_file(tmp_path, 40))
    assert not at.exception and not at.error
    assert (metrics(at)["Rows kept"], metrics(at)["Train"], metrics(at)["Test"]) == ("40", "40", "0")
    warning = next(w.value for w in at.warning if "fewer than" in w.value)
    assert warning == ("The filters keep 40 rows, fewer than the 1,500 train + 500 test asked: train gets 40, "
                       "test 0. With no test rows, pages 3–5 have nothing to evaluate on.")
    fix = at.button(key="dados_fix_split")
    assert fix.label == "Use 30 train / 10 test (3:1)"
    fix.click().run()
    assert (metrics(at)["Train"], metrics(at)["Test"]) == ("30", "10")
    assert at.number_input(key="dados_train").value == 30 and at.number_input(key="dados_test").value == 10
    assert not any("fewer than" in w.value for w in at.warning)  # 30 + 10 = the 40 kept: nothing short


def test_saving_says_why_it_cannot_and_no_test_rows_is_an_explicit_choice(tmp_path: Path) -> None:
    at = _open_path(_app(), _raw_file(tmp_path, 40))
    at.button(key="dados_save").click().run()  # no name
    assert [w.value for w in at.warning if "name" in w.value] == ["Type a name for the curated dataset first."]
    at.button(key="dados_preset_save").click().run()
    assert "Type a name for the preset first." in [w.value for w in at.warning]
    at.text_input(key="dados_save_name").set_value("curto").run()
    at.button(key="dados_save").click().run()  # train 40, test 0, no explicit choice: refused
    assert any(w.value.startswith("This split has no test rows") for w in at.warning) and not at.success
    assert not (tmp_path / "dados" / "curated").exists()
    at.checkbox(key="dados_allow_no_test").check().run()
    at.button(key="dados_save").click().run()
    assert [s.value for s in at.success if s.value.startswith("Saved")][0].startswith(
        "Saved curto v1: 40 train and 0 test rows")
    at.text_input(key="dados_keywords").set_value("zzzz-nowhere").run()  # nothing kept
    assert metrics(at)["Train"] == "0"
    at.button(key="dados_save").click().run()
    assert ("No row passes every filter, so there is nothing to save: loosen a filter first."
            in [w.value for w in at.warning])
    assert not (tmp_path / "dados" / "curated" / "curto" / "v2").exists()


def _upload(name: str, data: bytes, mime: str = "application/json") -> AppTest:
    at = _app()
    at.radio(key="dados_source__en").set_value("upload").run()
    return at.file_uploader(key="dados_upload").set_value((name, data, mime)).run()


def test_a_csv_of_prices_says_its_columns_are_not_text() -> None:
    at = _upload("items.csv", b"name,price,qty\nlamp,10.50,3\nchair,25,1\ntable,99.90,2\n", "text/csv")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The content column 'price' of items.csv does not look like text (its values are numbers: '10.50', '25', "
        "'99.90'): choose the columns that hold titles and their descriptions, or another file."]
    assert not at.metric  # not blamed on the filters: no funnel for a mapping that cannot work
    at.selectbox(key="dados_content_col").set_value("qty").run()
    assert "'qty'" in at.error[0].value


def test_a_binary_upload_names_the_users_file() -> None:
    at = _upload("bad.jsonl", bytes(range(256)) * 64)
    assert not at.exception
    assert [e.value for e in at.error] == [
        "bad.jsonl is a binary file, not text: give JSON lines, a JSON array, CSV or Parquet."]
