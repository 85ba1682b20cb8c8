"""AppTest of page 3: presets fill the settings, bad settings are one sentence, the OpenAI widgets
plug in, and a tiny run launched from the page trains in its own process and is seen finishing."""
from __future__ import annotations

import time
from pathlib import Path

from conftest import run_page
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "paginas" / "3_treino.py")


def _app() -> AppTest:
    return run_page("3_treino.py", "en")


def _captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.get("caption"))


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_presets_fill_the_settings(isolated_results) -> None:
    at = _app()
    assert not at.exception
    assert at.title[0].value == "Training"
    assert at.radio(key="treino.preset").value == "cpu-demo"
    assert at.number_input(key="treino.lora_r").value == 8
    assert at.number_input(key="treino.max_steps").value == 16
    at.radio(key="treino.preset").set_value("seed-study").run()
    assert at.number_input(key="treino.lora_r").value == 16
    assert at.number_input(key="treino.max_steps").value == 60
    assert at.number_input(key="treino.grad_accum").value == 4
    assert at.multiselect(key="treino.target_modules").value == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                                  "up_proj", "down_proj"]
    assert "LoRA rank" in at.number_input(key="treino.lora_r").help
    assert any("No runs yet" in i.value for i in at.info)
    at.session_state["lang"] = "pt"
    at.run()
    assert at.title[0].value == "Treino" and not at.exception


def test_bad_settings_are_one_sentence_and_block_the_launch(isolated_results) -> None:
    at = _app()
    at.multiselect(key="treino.target_modules").set_value([]).run()
    assert at.error and "target_modules" in at.error[0].value
    assert not [b for b in at.button if b.key == "treino.launch"]


def test_the_openai_widgets_plug_in(isolated_results, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    at = _app()
    at.radio(key="treino.backend").set_value("openai").run()
    assert not at.exception
    assert any("2027-01-06" in i.value for i in at.info)  # the wind-down notice
    assert all(".jsonl" in option for option in at.selectbox(key="treino.data.openai").options)
    assert not [b for b in at.button if b.key == "treino.launch"]  # no key yet


def test_launch_a_tiny_run_from_the_page_and_see_it_finish(isolated_results, tiny_model_dir: Path) -> None:
    at = _app()
    at.selectbox(key="treino.model_choice").set_value("other").run()
    at.text_input(key="treino.model_text").input(str(tiny_model_dir)).run()
    for key, value in (("max_steps", 3), ("max_seq_len", 64), ("max_train_examples", 12), ("eval_examples", 4),
                       ("eval_every", 0), ("save_every", 0)):
        at.number_input(key=f"treino.{key}").set_value(value)
    at.run()
    assert not at.exception and not at.error
    started = time.time()
    at.button(key="treino.launch").click().run()
    assert time.time() - started < 60  # the page does not wait for the training
    assert not at.exception
    run_id = at.session_state["treino.run"]
    # the launched run is the study's current run; pages 4-5 open with its base and its coming fine-tune
    from core.selection import get_current, get_current_models
    from ui.common import get_store

    assert get_current(get_store(), "run") == run_id and at.query_params["run"] == run_id
    assert get_current_models(get_store()) == [f"local:{tiny_model_dir.resolve()}", f"run:{run_id}"]
    # once, on the run that folds the form; "launched", not "started": it may still fail at start
    assert [m.value for m in at.success] == [f"Run {run_id} launched: its status and progress show below."]
    at.run()
    assert not at.success
    deadline = time.time() + 180
    while time.time() < deadline and "succeeded" not in _markdown(at):
        time.sleep(1.0)
        at.run()
    text = _markdown(at)
    assert "succeeded" in text, text + "\n".join(e.value for e in at.error)
    assert at.selectbox(key="treino.run").value == run_id
    assert [m for m in at.metric if m.label == "Tokens/s" and m.value != "-"]
    assert len(at.get("plotly_chart")) >= 1
    # the estimate made at launch beside what happened, with its error; never "None" in a table
    check = next(d.value for d in at.dataframe if list(d.value.columns) == ["", "estimated", "actual", "error"])
    assert check.iloc[0]["error"].endswith("%") and check.iloc[0]["actual"] != "n/a"
    assert "vs what happened" in _captions(at) and "Speed from the hardware table" in _captions(at)
    # the next estimate of this model on this machine uses the speed the run measured
    assert "Speed from past runs on this hardware: runs of " in _captions(at)
    for frame in (d.value for d in at.dataframe):
        assert "None" not in frame.astype(str).to_string()
    # a fresh session (a reload, another tab) finds the run in the database
    again = _app()
    assert again.selectbox(key="treino.run").value == run_id and "succeeded" in _markdown(again)


def test_the_selectors_open_with_the_current_run_and_dataset(isolated_results) -> None:
    from test_selection import save_dataset

    from core.selection import set_current
    from core.store import Store
    from core.store.runs import insert_run

    with Store() as store:
        for run_id in ("r-old", "r-new"):  # listed newest first
            insert_run(store, {"id": run_id, "backend": "local", "base_model": "smollm2", "config_json": "{}",
                               "status": "succeeded", "run_dir": str(isolated_results / run_id)})
            time.sleep(0.01)
        dataset = save_dataset(store, "books")
        set_current(store, "run", "r-old")
        set_current(store, "dataset", dataset)
    at = _app()
    assert not at.exception
    assert at.selectbox(key="treino.run").value == "r-old" and at.query_params["run"] == "r-old"  # not the newest
    assert at.selectbox(key="treino.data").value == dataset
    # a link names its run; a run that is gone is said, and the newest is shown
    linked = AppTest.from_file(PAGE, default_timeout=120)
    linked.session_state["lang"] = "en"
    linked.query_params["run"] = "r-new"
    assert linked.run().selectbox(key="treino.run").value == "r-new"
    from ui.common import get_store

    set_current(get_store(), "run", "r-deleted")
    gone = AppTest.from_file(PAGE, default_timeout=120)
    gone.session_state["lang"] = "en"
    gone.run()
    assert gone.selectbox(key="treino.run").value == "r-new"
    assert any("r-deleted" in i.value and "no longer" in i.value for i in gone.info)


def test_an_openai_run_that_failed_at_start_is_said_failed_and_offers_no_resume(isolated_results, tmp_path) -> None:
    """The launch message never says a run started that already failed, the reason is shown, and
    Resume is not offered for a job OpenAI never created (nor for one that failed there)."""
    from core.store import Store
    from core.store import runs as db

    with Store() as store:
        for run_id, job in (("20260101-000000-gpt-4o-mini-aaaa", None), ("20260101-000001-gpt-4o-mini-bbbb", "ftjob-1")):
            db.insert_run(store, {"id": run_id, "backend": "openai", "base_model": "gpt-4o-mini-2024-07-18",
                                  "config_json": "{}", "status": "failed", "remote_job_id": job,
                                  "status_message": "OpenAI refused the API key (401).", "run_dir": str(tmp_path)})
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["lang"] = "en"
    at.session_state["treino.launched"] = "20260101-000000-gpt-4o-mini-aaaa"
    at.session_state["treino.run"] = "20260101-000000-gpt-4o-mini-aaaa"
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    at.run()
    assert not at.exception and not at.success
    assert any("refused the API key" in e.value for e in at.error)
    assert not [b for b in at.button if (b.key or "").startswith("treino.resume.")]
    at.selectbox(key="treino.run").set_value("20260101-000001-gpt-4o-mini-bbbb").run()
    assert not [b for b in at.button if (b.key or "").startswith("treino.resume.")]
    table = "\n".join(d.value.astype(str).to_string() for d in at.dataframe)
    assert "None" not in table and "n/a" in table


def test_the_backend_choice_says_who_can_still_use_which(isolated_results, monkeypatch) -> None:
    """Four backends; OpenAI's panel opens with the dates of its wind-down and what still works, the
    others with what they need; a 403 training_not_available names the backends that still take jobs."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    at = _app()
    radio = at.radio(key="treino.backend")
    assert radio.options == ["Local LoRA", "OpenAI", "Together", "Fireworks"]
    assert any("no key, nothing leaves the machine" in c.value for c in at.caption)
    radio.set_value("openai").run()
    notice = next(i.value for i in at.info if "2027-01-06" in i.value)
    assert "since 2026-05-07 to organisations that never fine-tuned" in notice
    assert "since 2026-07-02 to those without fine-tuned-model inference in the last 60 days" in notice
    assert "Inference on existing fine-tunes goes on" in notice and "Together and Fireworks" in notice
    at.radio(key="treino.backend").set_value("fireworks").run()
    assert not at.exception and any("deployed before it answers" in c.value for c in at.caption)

    from core.store import Store
    from core.store import runs as db

    with Store() as store:
        db.insert_run(store, {"id": "20260601-000000-gpt-4o-mini-cccc", "backend": "openai",
                              "base_model": "gpt-4o-mini-2024-07-18", "config_json": "{}", "status": "failed",
                              "status_message": "OpenAI refused to start the fine-tuning job (403 "
                                                "training_not_available). OpenAI is winding down ...",
                              "run_dir": str(isolated_results / "r")})
    for lang, words in (("en", "the Together and Fireworks backends (and the local one) still take new jobs"),
                        ("pt", "os backends Together e Fireworks (e o local) ainda aceitam jobs novos")):
        again = _app()
        again.session_state["lang"] = lang
        again.run()
        assert any(words in e.value and "2026-07-02" in e.value for e in again.error), [e.value for e in again.error]
