"""Bad input through the UI's upload paths, with the real pages in AppTest: page 1's curation upload
(and its path field, with 2 GB files: ``slow``) and page 5's sheet import. Each bad file is one
sentence on the page (``st.error``, never an exception box), nothing is stored half-way, and what
was saved before (a curated dataset, an imported comparison) is still there, unchanged.

The same bad files as tests/test_bad_inputs.py (which covers the CLI).

    .venv/bin/python -m pytest -q tests/test_bad_uploads.py
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_bad_inputs import BAD, NAMES, State, bad_files, db_snapshot, huge_files, tree_snapshot  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "dados" / "seed"
MIME = {".jsonl": "application/json", ".json": "application/json", ".csv": "text/csv", ".xlsx":
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".ods":
        "application/vnd.oasis.opendocument.spreadsheet"}


@pytest.fixture(autouse=True)
def isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "dados"
    monkeypatch.setenv("FTDASH_DATA", str(folder))
    return folder


def _release_page_store() -> None:
    import streamlit as st

    st.cache_resource.clear()  # the pages' Store (and page 1's Features) are cached per process
    st.cache_data.clear()


def page_state(results: Path, *folders: Path) -> State:
    """Database and files; resultados/uploads/ is left out (the page keeps what was uploaded)."""
    _release_page_store()
    files = {k: v for k, v in tree_snapshot(results, *folders).items() if "/uploads" not in k}
    return State((db_snapshot(), files))


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# -- page 1: the curation upload ------------------------------------------------------------------------
# read on purpose (see test_bad_inputs.CURATE_OK); a CSV with other columns (name, price, stock) is one sentence:
# its columns do not look like text (issue 10: it was mapped to title/content and blamed on the filters)
PAGE1_OK = {"json_array", "truncated_jsonl", "line_50mb"}


@pytest.fixture
def saved_curation(isolated_results: Path, isolated_data: Path) -> Path:
    from core.data.curation import preset
    from core.data.curation_io import save_curated
    from core.data.curation_stream import curate
    from core.store import Store

    config = dataclasses.replace(preset("seed-notebook"), train_size=40, test_size=10)
    with Store() as store:
        saved = save_curated(store, "antes", curate(SEED / "train.jsonl", config))
    return Path(saved["folder"])


def page1(source: str) -> AppTest:
    _release_page_store()
    at = AppTest.from_file(str(ROOT / "paginas" / "1_dados.py"), default_timeout=180)
    at.session_state["lang"] = "en"
    at.session_state["dados_source__en"] = source  # straight to the source under test, no sample read
    return at.run()


@pytest.mark.parametrize("name", NAMES)
def test_page1_upload(name: str, bad_files, saved_curation: Path, isolated_results: Path,  # noqa: F811
                      isolated_data: Path) -> None:
    before = page_state(isolated_results, isolated_data)
    at = page1("upload")
    assert not at.exception
    path = bad_files[name]
    at.file_uploader(key="dados_upload").set_value((path.name, path.read_bytes(), MIME[path.suffix])).run()
    assert not at.exception, at.exception
    if name in PAGE1_OK:
        assert not _errors(at)
        assert at.metric, "the funnel is drawn"
        if name == "truncated_jsonl":
            assert any("malformed" in w.value or "line" in w.value for w in at.warning)
    else:
        errors = _errors(at)
        assert len(errors) == 1 and path.name in errors[0] and "\n" not in errors[0].strip(), errors
        # the user's file, never the stored copy ("695ffea59163-bad.jsonl" or a path under uploads/)
        assert not re.search(r"[0-9a-f]{12}-", errors[0]) and "uploads" not in errors[0], errors
        if name == "csv_other_columns":
            assert "does not look like text" in errors[0] and "'price'" in errors[0], errors
    del at
    after = page_state(isolated_results, isolated_data)
    if name in PAGE1_OK:  # a file read well is remembered among the recent raw files, nothing else
        after = State(({k: v for k, v in after[0].items() if k not in ("raw_datasets", "token_counts")}, after[1]))
        before = State(({k: v for k, v in before[0].items() if k not in ("raw_datasets", "token_counts")}, before[1]))
    assert after == before


# -- page 5: importing a comparison sheet ---------------------------------------------------------------
@pytest.fixture
def imported_seed(isolated_results: Path) -> list[str]:
    from core.compare.xlsx import import_sheet
    from core.store import Store

    with Store() as store:
        return import_sheet(store, SEED / "fine_tuning_llama_gpt.ods", score=False)


def page5() -> AppTest:
    _release_page_store()
    at = AppTest.from_file(str(ROOT / "paginas" / "5_resultados.py"), default_timeout=180)
    at.session_state["lang"] = "en"
    return at.run()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".ods"])
@pytest.mark.parametrize("name", NAMES)
def test_page5_sheet_import(name: str, suffix: str, bad_files, imported_seed,  # noqa: F811
                            isolated_results: Path) -> None:
    before = page_state(isolated_results)
    at = page5()
    assert not at.exception
    data = bad_files[name].read_bytes()
    filename = f"{name}{suffix}"
    at.file_uploader(key="rs_upload").set_value((filename, data, MIME[suffix])).run()
    at.button(key="rs_import").click().run()
    assert not at.exception, at.exception
    errors = _errors(at)
    assert len(errors) == 1 and filename in errors[0], errors
    assert not [s for s in at.success if "Imported" in s.value]
    del at
    assert page_state(isolated_results) == before


# -- page 1 given a 2 GB file by path ------------------------------------------------------------------------
class PeakRss:
    """This process's RSS sampled in a thread: the page runs in-process under AppTest."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process(os.getpid())
        self.start = self.process.memory_info().rss
        self.peak = self.start
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.is_set():
            with contextlib.suppress(Exception):
                self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["zeros", "unfinished"])
def test_page1_path_of_a_2gb_file(kind: str, huge_files, saved_curation: Path, isolated_results: Path,  # noqa: F811
                                  isolated_data: Path) -> None:
    before = page_state(isolated_results, isolated_data)
    at = page1("path")
    with PeakRss() as rss:
        at.text_input(key="dados_path").set_value(str(huge_files[kind])).run()
    assert not at.exception
    errors = _errors(at)
    assert len(errors) == 1 and huge_files[kind].name in errors[0], errors
    assert rss.peak - rss.start < 1 << 30, f"the page grew by {(rss.peak - rss.start) >> 20} MB"
    del at
    assert page_state(isolated_results, isolated_data) == before
