"""AppTest of page 6 (the study recipe): the bundled seed study listed with its steps, nothing to export
on an empty database, a bad upload told in one sentence (nothing saved), a good upload kept and
opened, run in the background with the real CLI to its end (progress read back, a summary), and then
the current study's recipe shown and downloadable; both languages.

    .venv/bin/python -m pytest -q tests/test_page_estudo.py
"""
from __future__ import annotations

import time
import tomllib
from pathlib import Path

from conftest import run_page
from streamlit.testing.v1 import AppTest
from test_study_launch import tiny_recipe

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "paginas" / "6_estudo.py")
SEED_RECIPE = ROOT / "dados" / "estudos" / "seed-study.toml"


def _app(lang: str = "en") -> AppTest:
    return run_page("6_estudo.py", lang)


def _frame(at: AppTest, column: str):
    return next(d.value for d in at.table if column in d.value.columns)


def test_empty_database_lists_the_bundled_recipe_and_its_steps(monkeypatch) -> None:
    for name in ("OPENAI_API_KEY", "TOGETHER_API_KEY", "FIREWORKS_API_KEY", "FIREWORKS_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    at = _app()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert at.title[0].value == "Study recipe"
    assert any("nothing to export yet" in i.value and "page 1" in i.value for i in at.info)
    assert not at.download_button
    choice = at.selectbox(key="estudo_recipe")
    assert "seed-study.toml · bundled" in choice.options and choice.value == str(SEED_RECIPE)
    plan = _frame(at, "Step")
    assert list(plan["Step"])[:2] == ["data", "curation"]
    assert set(plan["Next run"]) <= {"will run", "will reuse", "skipped"} and "will run" in set(plan["Next run"])
    skipped = plan[plan["Next run"] == "skipped"]   # hosted runs without their keys: said before anything runs
    assert set(skipped["Step"]) == {"train:gpt-4o-mini", "train:together-llama", "train:fireworks-llama"}, plan
    assert skipped["Why"].str.fullmatch(r"Skipped: [A-Z_]+_API_KEY is not set \(the \w+ fine-tune needs it\)\.").all()
    assert at.button(key="estudo_run").label == "Run the recipe"
    # the keys those steps lack can be typed for one run (password fields, never stored)
    fields = {f.label: f for f in at.text_input if f.key.startswith("estudo_key_")}
    assert set(fields) == {"OPENAI_API_KEY", "TOGETHER_API_KEY", "FIREWORKS_API_KEY", "FIREWORKS_ACCOUNT_ID"}
    assert all(f.proto.type == f.proto.PASSWORD for f in fields.values())
    assert any("python -m core study run" in c.value for c in at.caption)
    pt = _app("pt")
    assert not pt.exception and pt.title[0].value == "Receita do estudo"
    plan_pt = _frame(pt, "Etapa")
    assert "vai rodar" in set(plan_pt["Na próxima execução"])
    assert "Pulada: OPENAI_API_KEY não está definida (o ajuste fino na OpenAI precisa dela)." in set(plan_pt["Por quê"])
    assert "seed-study.toml · incluída" in pt.selectbox(key="estudo_recipe").options


def test_a_bad_upload_is_one_sentence_and_nothing_is_saved(isolated_results: Path) -> None:
    from core.paths import data_dir

    at = _app()
    bad = b'[study]\nname = "bad"\n\n[curation]\nname = "x"\nlora_rank = 8\n'
    at.file_uploader(key="estudo_upload").set_value(("bad.toml", bad, "application/toml")).run()
    assert not at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    message = at.error[0].value
    assert "line" in message and "\n" not in message.strip() and "Traceback" not in message, message
    assert not (data_dir() / "estudos" / "bad.toml").exists()
    assert at.selectbox(key="estudo_recipe").value == str(SEED_RECIPE)   # the open recipe stays

    at.file_uploader(key="estudo_upload").set_value(("worse.toml", b"[study\nname=", "application/toml")).run()
    assert not at.exception and len(at.error) == 1 and "line 1" in at.error[0].value, [e.value for e in at.error]


def test_upload_run_to_the_end_then_export(tmp_path: Path) -> None:
    from core.paths import data_dir

    source = tiny_recipe(tmp_path / "mine")
    text = source.read_bytes().replace(b'path = "raw.json"', f'path = "{tmp_path / "mine" / "raw.json"}"'.encode())
    at = _app()
    at.file_uploader(key="estudo_upload").set_value(("tiny-study.toml", text, "application/toml")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    saved = (data_dir() / "estudos" / "tiny-study.toml").resolve()
    assert saved.read_bytes() == text
    assert at.selectbox(key="estudo_recipe").value == str(saved)
    plan = _frame(at, "Step")
    assert list(plan["Step"]) == ["data", "curation", "format:openai-chat-train"]
    assert set(plan["Next run"]) == {"will run"}

    at.button(key="estudo_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.button(key="estudo_stop")                      # the live panel: Stop, the bars
    assert any(p for p in at.get("progress"))
    reloaded = AppTest.from_file(PAGE, default_timeout=120)  # a new session mid-run (the same app's Store)
    reloaded.session_state["lang"] = "pt"
    reloaded.run()
    assert not reloaded.exception and reloaded.selectbox(key="estudo_recipe").value == str(saved)
    assert reloaded.button(key="estudo_stop").label == "Parar"
    from core.study.launch import study_state

    deadline = time.time() + 300
    while study_state("tiny-study")["alive"] and time.time() < deadline:
        time.sleep(0.5)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Finished in" in s.value and "3 steps run, 0 reused, 0 skipped" in s.value for s in at.success), \
        [s.value for s in at.success]
    steps = _frame(at, "Status")
    assert list(steps["Status"]) == ["✓ done"] * 3
    assert set(_frame(at, "Step")["Next run"]) == {"will reuse"}    # the next run would do no work

    # the study made a curated dataset: page 6 now shows the current study as a recipe
    at = _app()
    assert not at.exception
    assert at.download_button and at.download_button[0].label == "Download the recipe"
    exported = tomllib.loads(at.code[0].value)
    assert exported["curation"]["name"] == "tiny-study-data"


def test_stop_from_the_page_then_run_again_goes_on(tmp_path: Path) -> None:
    from core.study.launch import study_state

    source = tiny_recipe(tmp_path / "mine", name="stop-page", evaluation=True)
    text = source.read_bytes().replace(b'path = "raw.json"', f'path = "{tmp_path / "mine" / "raw.json"}"'.encode())
    at = _app()
    at.file_uploader(key="estudo_upload").set_value(("stop-page.toml", text, "application/toml")).run()
    at.button(key="estudo_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.button(key="estudo_stop").click().run()
    deadline = time.time() + 60
    while study_state("stop-page")["alive"] and time.time() < deadline:
        time.sleep(0.3)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Stopped after" in w.value for w in at.warning), [w.value for w in at.warning]
    assert "estudo_run" in [b.key for b in at.button] and "estudo_stop" not in [b.key for b in at.button]
    at.button(key="estudo_run").click().run()                  # again: it goes on to the end
    deadline = time.time() + 300
    while study_state("stop-page")["alive"] and time.time() < deadline:
        time.sleep(0.5)
    at.run()
    assert any("Finished in" in s.value for s in at.success), [s.value for s in at.success]


def test_a_changed_raw_file_is_told_and_can_be_accepted(tmp_path: Path) -> None:
    from core.paths import data_dir
    from core.study.launch import start_study, study_state

    source = tiny_recipe(tmp_path / "mine", name="changed")
    text = source.read_text(encoding="utf-8").replace(
        'path = "raw.json"', f'path = "{tmp_path / "mine" / "raw.json"}"\nfingerprint = "blake2b:00000000"')
    recipe = data_dir() / "estudos" / "changed.toml"
    recipe.parent.mkdir(parents=True)
    recipe.write_text(text, encoding="utf-8")
    start_study(recipe)
    deadline = time.time() + 120
    while study_state("changed")["alive"] and time.time() < deadline:
        time.sleep(0.3)
    at = _app()
    at.selectbox(key="estudo_recipe").set_value(str(recipe.resolve())).run()
    assert not at.exception
    assert len(at.error) == 1 and "fingerprint" in at.error[0].value, [e.value for e in at.error]
    at.checkbox(key="estudo_accept_changed").check()
    at.button(key="estudo_run").click().run()
    deadline = time.time() + 300
    while study_state("changed")["alive"] and time.time() < deadline:
        time.sleep(0.5)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Finished in" in s.value for s in at.success), [s.value for s in at.success]
    assert "estudo_accept_changed" not in [c.key for c in at.checkbox]
