"""The OpenAI widgets of the training page (ui/openai_treino.py), driven with AppTest by their keys."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

SEED_FILE = Path(__file__).resolve().parent.parent / "dados" / "seed" / "trn_gpt4_formatted.jsonl"


def _form_app(training_file: str) -> AppTest:
    def app(training_file: str) -> None:
        import json as _json

        import streamlit as st

        from ui.common import get_store
        from ui.openai_treino import openai_form

        form = openai_form(get_store(), training_file=training_file, validation_file=None)
        st.session_state["result"] = {
            "config": _json.loads(form.config.to_json()) if form.config else None,
            "has_key": form.api_key is not None, "ready": form.ready,
        }

    return AppTest.from_function(app, kwargs={"training_file": training_file}, default_timeout=30)


@pytest.fixture
def train_file(tmp_path: Path) -> str:
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(SEED_FILE.read_text(encoding="utf-8").splitlines()[:12]) + "\n", encoding="utf-8")
    return str(path)


def test_defaults_show_the_wind_down_and_need_a_key(train_file: str, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    at = _form_app(train_file).run()
    assert not at.exception
    notice = at.info[0].value
    assert "2026-05-07" in notice and "2026-07-02" in notice and "2027-01-06" in notice
    assert at.selectbox(key="treino.openai.model").value == "gpt-4o-mini-2024-07-18"
    result = at.session_state["result"]
    assert result["config"]["n_epochs"] == "auto" and result["config"]["training_file"] == train_file
    assert not result["ready"] and not result["has_key"]


def test_key_typed_in_the_session_is_never_in_the_config(train_file: str, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    key = "sk-typed-in-the-page-0123456789"
    at = _form_app(train_file).run()
    at.text_input(key="treino.openai.api_key").input(key).run()
    at.radio(key="treino.openai.hyper_mode").set_value("seed").run()
    at.text_input(key="treino.openai.suffix").input("seed-study").run()
    result = at.session_state["result"]
    assert result["ready"] and result["has_key"]
    assert (result["config"]["n_epochs"], result["config"]["batch_size"],
            result["config"]["learning_rate_multiplier"]) == (3, 3, 1.8)
    assert result["config"]["suffix"] == "seed-study"
    assert key not in json.dumps(result["config"])


def test_custom_hyperparameters_and_a_bad_seed(train_file: str, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    at = _form_app(train_file).run()
    at.radio(key="treino.openai.hyper_mode").set_value("custom").run()
    at.number_input(key="treino.openai.n_epochs").set_value(5).run()
    at.number_input(key="treino.openai.lr_multiplier").set_value(0.5).run()
    result = at.session_state["result"]
    assert result["ready"] and not result["has_key"]  # the environment's key is used by the subprocess
    assert (result["config"]["n_epochs"], result["config"]["learning_rate_multiplier"]) == (5, 0.5)
    at.text_input(key="treino.openai.seed").input("abc").run()
    assert at.error and at.session_state["result"]["config"] is None and not at.session_state["result"]["ready"]
