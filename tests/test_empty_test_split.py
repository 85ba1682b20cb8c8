"""A curated dataset saved with no test rows (an explicit choice on page 1, or ``curate --name
--allow-no-test``): everything that evaluates on the test split refuses it with one sentence saying
where to fix it (page 1, Dados), instead of an empty evaluation or a silent empty picker:
core's evaluation (page 5 and ``eval``), the playground's test examples and ``generate --example``.

    .venv/bin/python -m pytest -q tests/test_empty_test_split.py
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = ("The curated dataset {source} has no test rows to evaluate on: go back to page 1 (Dados) and save it "
            "again with Test rows above 0 (or run `python -m core curate ... --test N --name NAME`).")


@pytest.fixture
def no_test(isolated_results: Path) -> str:
    """'curto' v1: 40 train rows of the seed split, no test rows, saved on purpose."""
    from core.data.curation import preset
    from core.data.curation_io import NoTestSplitError, save_curated
    from core.data.curation_stream import curate
    from core.store import Store

    config = dataclasses.replace(preset("seed-notebook"), train_size=40, test_size=0)
    split = curate(ROOT / "dados" / "seed" / "train.jsonl", config)
    with Store() as store:
        with pytest.raises(NoTestSplitError, match="ask for some test rows"):
            save_curated(store, "curto", split)  # not without saying so
        save_curated(store, "curto", split, allow_no_test=True)
    return "curto@v1"


def _release() -> None:
    import streamlit as st

    st.cache_resource.clear()  # the pages' Store is cached per process
    st.cache_data.clear()


def test_read_test_split_is_the_one_sentence(no_test: str) -> None:
    from core.data.curated import EmptyTestSplitError, read_split, read_test_split, resolve_source
    from core.store import Store

    with Store() as store:
        folder = resolve_source(no_test, store)
    assert len(read_split(folder, "train")) == 40 and read_split(folder, "test") == []
    with pytest.raises(EmptyTestSplitError) as caught:
        read_test_split(folder, no_test)
    assert str(caught.value) == SENTENCE.format(source=no_test)
    (folder / "test.jsonl").unlink()  # a hand-made folder with no test file at all: the same sentence
    with pytest.raises(EmptyTestSplitError):
        read_test_split(folder, str(folder))
    assert read_test_split(ROOT / "dados" / "seed", "seed-study")  # the seed split has its 500


def test_eval_and_generate_commands_refuse_it(no_test: str, capsys) -> None:
    from core.cli import main

    for args in (["eval", "--models", "local:smollm2", "--data", no_test],
                 ["generate", "--model", "local:smollm2", "--data", no_test, "--example", "0"]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err == f"error: {SENTENCE.format(source=no_test)}\n", err


def test_page5_refuses_to_start_an_evaluation_on_it(no_test: str) -> None:
    _release()
    at = AppTest.from_file(str(ROOT / "paginas" / "5_resultados.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.selectbox(key="rs_data").set_value(no_test).run()
    at.button(key="rs_start").click().run()
    assert not at.exception
    assert SENTENCE.format(source=no_test) in [e.value for e in at.error]
    _release()
    from core.store import Store

    with Store() as store:
        assert store.fetchone("SELECT count(*) FROM evaluations")[0] == 0  # nothing half made


def test_playground_test_examples_refuse_it(no_test: str) -> None:
    _release()
    at = AppTest.from_file(str(ROOT / "paginas" / "4_playground.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.radio(key="pg_source").set_value("example").run()
    at.selectbox(key="pg_dataset").set_value(no_test).run()
    assert not at.exception
    assert [e.value for e in at.error] == [SENTENCE.format(source=no_test)]
    _release()
