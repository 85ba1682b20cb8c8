"""AppTest of page 4: side by side on a typed prompt and on a test example, the blind arena with a
vote, the OpenAI key field, bad settings, and every answer stored. Uses the tiny model (twice, under
two ids) and the fake OpenAI server."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_page
from fake_openai import fake_openai_fixture  # noqa: F401 - the fixture
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "paginas" / "4_playground.py")


@pytest.fixture
def two_models(tiny_model_dir) -> tuple[str, str]:
    from core.models.registry import add_local_model, ensure_default_models
    from core.store import Store
    from core.store.compare import upsert_model

    with Store() as store:  # the page's database (FTDASH_DB of this test)
        ensure_default_models(store)
        first = add_local_model(store, str(tiny_model_dir), display_name="tiny-a", price_per_hour=1.0)
        upsert_model(store, id="local:tiny-b", kind="local-base", display_name="tiny-b",
                     base_model=str(tiny_model_dir), price_per_hour=2.0)
    return first, "local:tiny-b"


def _app() -> AppTest:
    return run_page("4_playground.py", "en")


def _rows(sql: str) -> list[tuple]:
    import streamlit as st

    st.cache_resource.clear()  # release the page's connection before opening the file here
    from core.store import Store

    with Store() as store:
        return store.fetchall(sql)


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def _settled(at: AppTest) -> AppTest:
    """Wait for the answers the last click started (background threads), then rerun the page: an
    AppTest cannot tick the fragment that redraws them in a browser."""
    from core.models.live_answers import get_batch, running_batches

    for batch_id in running_batches():
        assert get_batch(batch_id).wait(120), "the answers never finished"
    return at.run()


def test_page_loads_in_both_languages(two_models) -> None:
    at = _app()
    assert not at.exception
    assert at.title[0].value == "Playground"
    assert at.radio(key="pg_mode").value == "side"
    assert "SmolLM2-135M-Instruct (bundled) · local-base" in at.multiselect(key="pg_models").options
    assert at.button(key="pg_generate").disabled  # no prompt, one model
    at.session_state["lang"] = "pt"
    at.run()
    assert not at.exception and at.button(key="pg_generate").label == "Gerar"


def test_side_by_side_streams_stores_and_keeps_results(two_models) -> None:
    first, second = two_models
    at = _app()
    at.text_area(key="pg_prompt").input("Dune")
    at.multiselect(key="pg_models").set_value([first, second])
    at.number_input(key="pg_shared_max_new_tokens").set_value(8)
    at.run()
    assert not at.button(key="pg_generate").disabled
    at.button(key="pg_generate").click().run()
    assert not at.exception
    assert at.query_params["pg_batch"]  # the batch id rides in the URL: a reload finds the answers again
    _settled(at)
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert captions.count("first token") == 2 and "$" in captions
    rows = _rows("SELECT model_id, prompt, source, settings_json, cost_usd FROM generations ORDER BY id")
    # the columns answer at once: stored in the order they finish
    assert sorted((r[0], r[1], r[2]) for r in rows) == sorted([(first, "Dune", "playground"),
                                                              (second, "Dune", "playground")])
    assert all(json.loads(r[3])["max_new_tokens"] == 8 and r[4] > 0 for r in rows)
    answers = [t for t in _texts(at) if t]
    at.run()  # a rerun (any widget) still shows the last answers for this prompt
    assert not at.exception and [t for t in _texts(at) if t] == answers


def test_answers_go_on_through_reruns_and_come_back_after_a_reload(two_models) -> None:
    from core.models.live_answers import get_batch

    first, second = two_models
    at = _app()
    at.text_area(key="pg_prompt").input("Dune")
    at.multiselect(key="pg_models").set_value([first, second])
    at.number_input(key="pg_shared_max_new_tokens").set_value(24)
    at.run()
    at.button(key="pg_generate").click().run()
    batch_id = at.query_params["pg_batch"]
    batch_id = batch_id[0] if isinstance(batch_id, list) else batch_id
    at.toggle(key="pg_per_column").set_value(True).run()  # another widget while the answers come
    assert not at.exception
    assert get_batch(batch_id).wait(120)
    reloaded = AppTest.from_file(PAGE, default_timeout=120)  # a reload: a new session, the same URL
    reloaded.session_state["lang"] = "en"
    reloaded.query_params["pg_batch"] = batch_id
    reloaded.run()
    assert not reloaded.exception
    assert reloaded.text_area(key="pg_prompt").value == "Dune"
    assert reloaded.multiselect(key="pg_models").value == [first, second]
    answers = [c["answer"]["text"] for c in get_batch(batch_id).snapshot()["columns"]]
    assert all(a in _texts(reloaded) for a in answers if a)
    assert " ".join(c.value for c in reloaded.caption).count("first token") == 2
    rows = _rows("SELECT model_id FROM generations ORDER BY id")
    assert sorted(r[0] for r in rows) == sorted([first, second])  # stored once each, though two sessions drew them


def test_test_example_is_the_prompt_with_its_reference(two_models, seed_rows) -> None:
    first, second = two_models
    at = _app()
    at.radio(key="pg_source").set_value("example").run()
    at.number_input(key="pg_example").set_value(4).run()  # people count from 1: the fourth row, index 3
    row = seed_rows["test"][3]
    assert row["title"] in _texts(at) and row["content"].strip() in [x.strip() for x in _texts(at)]
    at.multiselect(key="pg_models").set_value([first, second])
    at.number_input(key="pg_shared_max_new_tokens").set_value(4).run()
    _settled(at.button(key="pg_generate").click().run())
    assert not at.exception
    rows = _rows("SELECT prompt, example_index, curated_source, curated_version, reference FROM generations")
    assert len(rows) == 2
    assert rows[0][:3] == (row["title"], 3, "seed-study") and rows[0][3].startswith("sha256:")
    assert rows[0][4] == row["content"]


def test_bad_settings_are_one_sentence(two_models) -> None:
    at = _app()
    at.text_input(key="pg_shared_user_template").input("no placeholder").run()
    assert not at.exception
    assert "user_template must contain {title}" in at.error[0].value


def test_blind_arena_hides_names_until_the_vote(two_models) -> None:
    first, second = two_models
    at = _app()
    at.radio(key="pg_mode").set_value("arena").run()
    at.text_area(key="pg_prompt").input("Emma")
    at.multiselect(key="pg_arena_pool").set_value([first, second])
    at.number_input(key="pg_arena_max_new_tokens").set_value(6)
    at.run()
    _settled(at.button(key="pg_arena_new").click().run())
    assert not at.exception
    assert first not in " ".join(c.value for c in at.caption) and "local:tiny-b" not in " ".join(c.value for c in at.caption)
    assert "first token" not in " ".join(c.value for c in at.caption)  # timings and cost would give it away
    at.button(key="pg_vote_a").click().run()
    assert not at.exception
    votes = _rows("SELECT model_a, model_b, winner, prompt, generation_a, generation_b FROM arena_votes")
    assert len(votes) == 1 and votes[0][2] == "a" and votes[0][3] == "Emma"
    assert {votes[0][0], votes[0][1]} == {first, second} and votes[0][4] and votes[0][5]
    assert "Vote stored" in at.success[0].value
    captions = " ".join(c.value for c in at.caption)
    assert first in captions and "local:tiny-b" in captions and "first token" in captions
    board = at.dataframe[0].value  # the leaderboard: the winner first
    assert list(board["Model"]) == ["tiny-a" if votes[0][0] == first else "tiny-b", "tiny-b" if votes[0][0] == first else "tiny-a"]
    gens = _rows("SELECT count(*) FROM generations WHERE source = 'arena'")
    assert gens[0][0] == 2


def test_openai_model_needs_a_key_then_answers(two_models, fake_openai, monkeypatch) -> None:
    from fake_openai import FAKE_KEY

    monkeypatch.delenv("OPENAI_API_KEY")
    first, _ = two_models
    at = _app()
    at.text_area(key="pg_prompt").input("Dune")
    at.multiselect(key="pg_models").set_value([first, "openai:gpt-4o-mini-2024-07-18"])
    at.number_input(key="pg_shared_max_new_tokens").set_value(5)
    at.run()
    assert at.button(key="pg_generate").disabled and "API key" in at.info[0].value
    at.text_input(key="pg_api_key").input(FAKE_KEY).run()
    _settled(at.button(key="pg_generate").click().run())
    assert not at.exception
    assert "gpt-4o-mini-2024-07-18 says: Dune" in _texts(at)
    assert FAKE_KEY not in json.dumps(_rows("SELECT * FROM generations"), default=str)


# -- the current dataset and models follow the user; the arena's checkpoints --------------------------
def _visit(url: dict[str, object] | None = None) -> AppTest:
    """Another session on the same app (a reload, a second tab): the app's one Store is shared."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["lang"] = "en"
    for key, value in (url or {}).items():
        at.query_params[key] = value
    return at.run()


def test_opens_with_the_saved_dataset_and_the_launched_runs_models(two_models, isolated_results) -> None:
    from test_selection import save_dataset

    from core.models.registry import BUNDLED_ID, add_local_finetune
    from core.selection import remember_launch, set_current
    from core.store import Store
    from core.store.runs import insert_run, update_run
    from ui.common import get_store

    first, second = two_models
    with Store() as store:
        dataset = save_dataset(store, "books")
        set_current(store, "dataset", dataset)  # page 1 saved it
        insert_run(store, {"id": "r1", "backend": "local", "base_model": "smollm2", "config_json": "{}",
                           "status": "running", "run_dir": str(isolated_results / "r1")})
        remember_launch(store, "r1", "local", "smollm2")  # page 3 launched it
    at = _app()
    assert not at.exception
    assert at.multiselect(key="pg_models").value == [BUNDLED_ID]
    assert any("r1" in i.value and "still training" in i.value for i in at.info)  # said, not dropped
    at.radio(key="pg_source").set_value("example").run()
    assert at.selectbox(key="pg_dataset").value == dataset
    assert at.number_input(key="pg_example").value == 1  # counted from 1, as on page 2
    # the run ends and registers its fine-tune: the next visit opens with base and fine-tune side by side
    add_local_finetune(get_store(), "r1", "smollm2", isolated_results / "r1" / "adapter")
    update_run(get_store(), "r1", status="succeeded")
    again = _visit()
    assert again.multiselect(key="pg_models").value == [BUNDLED_ID, "local-ft:r1"]
    assert not any("still training" in i.value for i in again.info)
    # the user's own choice then wins in every session, and a link's models win over it
    again.multiselect(key="pg_models").set_value([first, second]).run()
    assert again.query_params["models"] == [first, second]  # ?models=a&models=b: a reload keeps them
    assert _visit().multiselect(key="pg_models").value == [first, second]
    assert _visit({"models": second}).multiselect(key="pg_models").value == [second]


def test_the_arena_leaves_checkpoints_out_unless_asked(two_models) -> None:
    from core.models.registry import add_local_finetune
    from core.store import Store

    first, second = two_models
    with Store() as store:
        for step in (5, 10):
            add_local_finetune(store, "r1", str(first), f"/tmp/r1/checkpoints/step-{step}", step=step)
        add_local_finetune(store, "r1", str(first), "/tmp/r1/adapter")
    at = _app()
    at.radio(key="pg_mode").set_value("arena").run()
    pool = at.multiselect(key="pg_arena_pool")  # options are labels, values ids
    assert "r1 · local-finetune" in pool.options and not any("step" in o for o in pool.options)
    assert "local-ft:r1" in pool.value and not any("@" in m for m in pool.value)
    at.toggle(key="pg_arena_checkpoints").set_value(True).run()
    pool = at.multiselect(key="pg_arena_pool")
    assert sum("(step" in o for o in pool.options) == 2 and not at.exception
    pool.set_value(["local-ft:r1@5", "local-ft:r1"]).run()
    at.toggle(key="pg_arena_checkpoints").set_value(False).run()  # switched off again: the checkpoint leaves
    assert at.multiselect(key="pg_arena_pool").value == ["local-ft:r1"] and not at.exception
