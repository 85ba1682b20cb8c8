"""The study's current selection (core/selection.py): stored in the real DuckDB settings table,
picked URL > stored > default with the vanished choice reported, a launched run's future model
resolved once registered; and the arena's pool without checkpoints (core/compare/arena.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

from core.compare.arena import default_pool, is_checkpoint, pool_options
from core.selection import (
    available_datasets,
    base_model_id,
    get_current,
    get_current_models,
    pick,
    remember_launch,
    resolve_models,
    set_current,
    set_current_models,
)
from core.store import Store

ROOT = Path(__file__).resolve().parent.parent


def save_dataset(store: Store, name: str) -> str:
    """A saved curation the way page 1 leaves it: a folder and its row (copied from the seed split)."""
    from core.data.curated import curated_folder
    from core.store.curation import insert_curated, next_curated_version

    with store.transaction() as cur:
        version = next_curated_version(cur, name)
        folder = curated_folder(name, version)
        folder.mkdir(parents=True)
        for split in ("train", "test"):
            shutil.copy(ROOT / "dados" / "seed" / f"{split}.jsonl", folder / f"{split}.jsonl")
        insert_curated(cur, {"name": name, "version": version, "config_json": "{}", "funnel_json": "{}",
                             "train_rows": 1500, "test_rows": 500, "folder": str(folder)})
    return f"{name}@v{version}"


def test_current_choices_survive_reopening_the_database(isolated_results: Path) -> None:
    path = isolated_results / "estudo.duckdb"
    with Store(path) as store:
        assert get_current(store, "dataset") is None and get_current_models(store) == []
        set_current(store, "dataset", "books@v2")
        set_current(store, "run", "r1")
        set_current_models(store, ["local:smollm2", "local-ft:r1", "local:smollm2"])
    with Store(path) as store:  # an app restart, or the second tab's next run
        assert get_current(store, "dataset") == "books@v2" and get_current(store, "run") == "r1"
        assert get_current_models(store) == ["local:smollm2", "local-ft:r1"]
        set_current(store, "run", None)
        assert get_current(store, "run") is None


def test_pick_prefers_the_url_then_the_stored_choice_then_the_default() -> None:
    options = ["seed-study", "books@v1", "books@v2"]
    assert pick(options, url="books@v1", stored="books@v2", default="seed-study").value == "books@v1"
    chosen = pick(options, url=None, stored="books@v2", default="seed-study")
    assert (chosen.value, chosen.origin, chosen.missing) == ("books@v2", "stored", None)
    assert pick(options, url=None, stored=None, default="seed-study").origin == "default"
    # a vanished choice falls back and says which one, and from where
    gone = pick(options, url=None, stored="old@v1", default="seed-study")
    assert (gone.value, gone.origin, gone.missing, gone.missing_origin) == ("seed-study", "default", "old@v1", "stored")
    link = pick(options, url="nope@v9", stored="books@v2", default="seed-study")
    assert (link.value, link.origin, link.missing, link.missing_origin) == ("books@v2", "stored", "nope@v9", "url")
    assert pick([], url=None, stored=None, default="seed-study").value is None


def test_available_datasets_leave_out_a_removed_folder(store: Store) -> None:
    first, second = save_dataset(store, "books"), save_dataset(store, "books")
    assert available_datasets(store) == ["seed-study", second, first]
    from core.data.curated import resolve_source

    shutil.rmtree(resolve_source(second, store))
    assert available_datasets(store) == ["seed-study", first]
    gone = pick(available_datasets(store), url=None, stored=second, default="seed-study")
    assert gone.value == "seed-study" and gone.missing == second


def _register_run(store: Store, run_id: str, status: str) -> None:
    from core.store.runs import insert_run

    insert_run(store, {"id": run_id, "backend": "local", "base_model": "smollm2", "config_json": "{}",
                       "status": status, "run_dir": f"/tmp/{run_id}"})


def test_a_launched_run_becomes_current_and_its_model_follows_when_registered(store: Store) -> None:
    from core.models.registry import BUNDLED_ID, add_local_finetune, available_models

    _register_run(store, "r1", "running")
    remember_launch(store, "r1", "local", "smollm2")
    assert get_current(store, "run") == "r1"
    wanted = get_current_models(store)
    assert wanted == [BUNDLED_ID, "run:r1"]
    ids = [m["id"] for m in available_models(store)]
    still = resolve_models(store, wanted, ids)  # training: the base now, a note for the rest
    assert still.ids == [BUNDLED_ID] and [(n.reason, n.model) for n in still.notes] == [("training", "r1")]
    add_local_finetune(store, "r1", "smollm2", "/tmp/r1/checkpoints/step-5", step=5)  # a checkpoint is not it
    add_local_finetune(store, "r1", "smollm2", "/tmp/r1/adapter")
    ids = [m["id"] for m in available_models(store)]
    done = resolve_models(store, wanted, ids)
    assert done.ids == [BUNDLED_ID, "local-ft:r1"] and done.notes == []
    gone = resolve_models(store, ["run:r9", "endpoint:gone", BUNDLED_ID], ids)
    assert gone.ids == [BUNDLED_ID] and [(n.reason, n.model) for n in gone.notes] == [("gone", "r9"),
                                                                                     ("gone", "endpoint:gone")]


def test_base_model_ids() -> None:
    assert base_model_id("local", "smollm2") == "local:smollm2"
    assert base_model_id("openai", "gpt-4o-mini-2024-07-18") == "openai:gpt-4o-mini-2024-07-18"
    assert base_model_id("local", "org/name") == "local:org/name"


def test_the_arena_pool_leaves_checkpoints_out_unless_asked() -> None:
    models = [{"id": "local:smollm2", "kind": "local-base"},
              {"id": "local-ft:r1@10", "kind": "local-finetune"},
              {"id": "local-ft:r1@20", "kind": "local-finetune"},
              {"id": "openai:ft:gpt-4o-mini:org::abc:ckpt-step-40", "kind": "openai-finetune",
               "remote_model": "ft:gpt-4o-mini:org::abc:ckpt-step-40"},
              {"id": "openai:ft:gpt-4o-mini:org::abc", "kind": "openai-finetune", "remote_model": "ft:gpt-4o-mini:org::abc"},
              {"id": "local-ft:r1", "kind": "local-finetune"}]
    assert [m["id"] for m in models if is_checkpoint(m)] == ["local-ft:r1@10", "local-ft:r1@20",
                                                             "openai:ft:gpt-4o-mini:org::abc:ckpt-step-40"]
    assert pool_options(models) == ["local:smollm2", "openai:ft:gpt-4o-mini:org::abc", "local-ft:r1"]
    assert len(pool_options(models, include_checkpoints=True)) == 6
    assert default_pool(models) == ["local:smollm2", "local-ft:r1"]
    assert default_pool(models[:3]) == ["local:smollm2"]  # one real model: the arena asks for another
