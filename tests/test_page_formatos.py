"""AppTest of page 2: the seed split in every format side by side, switching formats, editing a
template, stepping through examples, validation, estimates, price edits and export. The local
model is the tiny test model (its tokenizer and ChatML template)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "paginas" / "2_formatos.py")
TITLE_0 = "France: The Beautiful Cookbook- Authentic Recipes from the Regions of France"


@pytest.fixture
def app(tiny_model_dir, monkeypatch, tmp_path) -> AppTest:
    import streamlit as st

    monkeypatch.setenv("FTDASH_DATA", str(tmp_path / "dados"))  # exports land here, not in the repo
    st.cache_resource.clear()  # the page's Store is cached per process: open this test's database
    st.cache_data.clear()
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["lang"] = "en"
    at.session_state["formatos_local_model"] = str(tiny_model_dir)
    return at.run()


def codes(at: AppTest) -> list[str]:
    """The five rendered texts, in FORMATS order (JSONL records and commands are other code blocks)."""
    return [c.value for c in at.code if c.language in (None, "", "plaintext")][:5]


def test_every_format_side_by_side(app) -> None:
    assert not app.exception
    assert app.title[0].value == "Training formats side by side"
    texts = codes(app)
    row = json.loads((ROOT / "dados" / "seed" / "train.jsonl").open(encoding="utf-8").readline())
    assert row["title"] == TITLE_0
    assert texts[0] == f"<|im_start|>user<|im_sep|>{TITLE_0}<|im_end|><|im_start|>assistant<|im_sep|>{row['content']}<|im_end|>"
    assert texts[1].startswith("Below is an instruction that describes a task.") and texts[1].endswith(row["content"])
    chatml = f"<|im_start|>user\n{TITLE_0}<|im_end|>\n<|im_start|>assistant\n{row['content']}<|im_end|>\n"
    assert texts[2] == texts[3] == chatml.rstrip("\n")  # st.code trims the last newline...
    app.toggle(key="formatos_breaks").set_value(True).run()
    # ...and the local template's file ends at its EOS token (no newline after it), every inner break marked
    assert codes(app)[3] == chatml.rstrip("\n").replace("\n", "↵\n")
    # completion: OpenAI's legacy separator ends the prompt, the answer starts with one space
    assert texts[4] == TITLE_0 + "\n\n###\n\n " + row["content"].lstrip()
    assert any("tokens (o200k_base)" in c.value for c in app.caption)


def test_switching_formats_updates_validation_and_estimate(app) -> None:
    assert any("OpenAI chat: 1,500 examples, no errors" in s.value for s in app.success)
    assert any(m.label == "Billable tokens" for m in app.metric)
    app.radio(key="formatos_format").set_value("alpaca").run()
    assert not app.exception
    assert any("Alpaca: 1,500 examples, no errors" in s.value for s in app.success)
    assert not any(m.label == "Billable tokens" for m in app.metric)
    # No calibration yet: the estimate says what to do, in one sentence.
    assert any("run a calibration" in i.value for i in app.info)
    app.radio(key="formatos_tp_source").set_value("manual").run()
    assert any(m.label == "Time" for m in app.metric)


def test_editing_the_template_changes_every_format(app) -> None:
    app.text_input(key="formatos_user").set_value("Describe the product: {title}").run()
    app.text_area(key="formatos_system").set_value("You write book blurbs.").run()
    assert not app.exception
    texts = codes(app)
    assert f"<|im_start|>user<|im_sep|>Describe the product: {TITLE_0}" in texts[0]
    assert "### Instruction:\nYou write book blurbs.\n\n### Input:\nDescribe the product:" in texts[1]
    assert texts[3].startswith("<|im_start|>system\nYou write book blurbs.<|im_end|>")
    # A bad template is one sentence, not a traceback.
    app.text_input(key="formatos_user").set_value("Describe {author}").run()
    assert not app.exception and "{author}" in app.error[0].value


def test_presets_and_stepping_through_examples(app, seed_rows) -> None:
    app.selectbox(key="formatos_preset").set_value("seed-completion").run()
    assert app.text_input(key="formatos_user").value == "{title} ->"
    assert codes(app)[4].endswith(" STOPSTOP")
    app.button(key="formatos_next").click().run()
    assert app.number_input(key="formatos_example").value == 2
    assert codes(app)[4].startswith(seed_rows["train"][1]["title"] + " ->")
    app.button(key="formatos_prev").click().run()
    app.button(key="formatos_prev").click().run()
    assert app.number_input(key="formatos_example").value == 1


def test_validation_against_the_chosen_provider(app) -> None:
    app.radio(key="formatos_format").set_value("alpaca").run()
    app.radio(key="formatos_provider").set_value("fireworks").run()
    assert not app.exception
    # Fireworks takes OpenAI chat files only: one error, said, with the CLI twin
    assert any("Alpaca: 1 errors and 0 warnings in 1,500 examples" in e.value for e in app.error)
    problems = next(d.value for d in app.dataframe if "code" in d.value.columns)
    assert list(problems["code"]) == ["format_not_accepted"] and list(problems["severity"]) == ["error"]
    assert any("Fireworks fine-tuning takes: OpenAI chat." in c.value for c in app.caption)
    assert any(c.value.endswith("--format alpaca --provider fireworks") for c in app.code)
    app.radio(key="formatos_format").set_value("openai-chat").run()
    assert any("OpenAI chat: 1,500 examples, no errors" in s.value for s in app.success)


def test_export_writes_under_dados_export(app, tmp_path) -> None:
    app.radio(key="formatos_format").set_value("sharegpt").run()
    app.button(key="formatos_export").click().run()
    assert not app.exception
    exported = tmp_path / "dados" / "export" / "seed-study_sharegpt_train.jsonl"
    assert exported.is_file() and len(exported.read_text(encoding="utf-8").splitlines()) == 1500
    manifest = json.loads((tmp_path / "dados" / "export" / "seed-study_sharegpt_train.manifest.json").read_text())
    assert manifest["format"] == "sharegpt" and manifest["examples"] == 1500
    assert any("Wrote" in s.value for s in app.success)


def test_prices_are_saved_and_estimates_kept(app) -> None:
    from core.costs.prices import get_price

    app.button(key="formatos_save_prices").click().run()
    assert any("9 prices saved" in s.value for s in app.success)  # OpenAI 4, Fireworks 3, Together 2
    store = _store()
    assert get_price(store, "gpt-4o-mini").training == 3.0
    app.button(key="formatos_save_estimate_openai").click().run()
    assert any("Kept as estimate #1" in s.value for s in app.success)
    assert store.fetchone("SELECT count(*) FROM estimates")[0] == 1


def test_portuguese(app) -> None:
    app.session_state["lang"] = "pt"
    app.run()
    assert not app.exception and app.title[0].value == "Formatos de treinamento lado a lado"
    # tables: Portuguese headers (token stats, the examples that do not fit), the target worded on the page
    headers = {str(c) for frame in app.dataframe for c in frame.value.columns}
    assert {"formato", "mediana", "máx.", "alvo", "limite"} <= headers, headers
    assert not {"format", "p50", "max", "target", "limit", "raw_mean"} & headers
    targets = [str(v) for frame in app.dataframe if "alvo" in frame.value.columns for v in frame.value["alvo"]]
    assert any(v.endswith("· sequência de 512") for v in targets), targets
    # the estimate's notes come from core as codes and are worded here: no English sentence left
    summary = next(c.value for c in app.code if c.value.startswith("estimativa OpenAI"))
    assert "A OpenAI não aceita novos jobs de fine-tuning após 2027-01-06" in summary
    assert "OpenAI accepts" not in summary and "note:" not in summary


def _store():
    from ui.common import get_store

    return get_store()


# -- the current dataset follows the user (core/selection.py, ui/selection.py) ---------------------------
def _session(tiny_model_dir, url: dict[str, str] | None = None, fresh: bool = False) -> AppTest:
    """Another visit: a reload or a second tab is a new session; ``fresh`` opens this test's database
    (else the app's one Store is shared, as between the tabs of one app)."""
    import streamlit as st

    if fresh:
        st.cache_resource.clear()
        st.cache_data.clear()
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["lang"] = "en"
    at.session_state["formatos_local_model"] = str(tiny_model_dir)
    for key, value in (url or {}).items():
        at.query_params[key] = value
    return at.run()


def test_the_saved_dataset_is_what_every_later_visit_opens(tiny_model_dir, tmp_path) -> None:
    from test_selection import save_dataset

    from core.selection import set_current
    from core.store import Store

    with Store() as store:
        older, newer = save_dataset(store, "books"), save_dataset(store, "books")
        set_current(store, "dataset", newer)  # what page 1 does when it saves
    at = _session(tiny_model_dir, fresh=True)
    assert not at.exception
    assert at.selectbox(key="formatos_source").value == newer and at.query_params["dataset"] == newer
    assert not at.info or not any("no longer available" in i.value for i in at.info)
    at.selectbox(key="formatos_source").set_value(older).run()
    assert at.query_params["dataset"] == older  # this tab's reload keeps it...
    assert _session(tiny_model_dir).selectbox(key="formatos_source").value == older  # ...and so does a second tab
    # a link names its dataset: it wins over the remembered one
    linked = _session(tiny_model_dir, url={"dataset": newer})
    assert linked.selectbox(key="formatos_source").value == newer and not linked.exception


def test_a_removed_dataset_falls_back_with_a_note(tiny_model_dir) -> None:
    import shutil

    from test_selection import save_dataset

    from core.data.curated import resolve_source
    from core.selection import set_current
    from core.store import Store

    with Store() as store:
        name = save_dataset(store, "gone")
        set_current(store, "dataset", name)
        folder = resolve_source(name, store)
    shutil.rmtree(folder)
    at = _session(tiny_model_dir, fresh=True)
    assert not at.exception and at.selectbox(key="formatos_source").value == "seed-study"
    assert name not in at.selectbox(key="formatos_source").options
    notes = [i.value for i in at.info if name in i.value]
    assert notes and "no longer available" in notes[0] and "seed-study" in notes[0]
    # a link to a dataset that is not there: said too, and the page still works
    linked = _session(tiny_model_dir, url={"dataset": "nope@v9"})
    assert any("nope@v9" in i.value and "link" in i.value for i in linked.info) and not linked.exception
