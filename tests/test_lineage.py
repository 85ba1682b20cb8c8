"""Lineage: every run (jobs.launch, a real training process of the tiny model), evaluation
(prepare_evaluation) and export (the manifest) records the recipe step it was made in, or nulls when
made by clicking, and the fingerprints of its inputs: the curated dataset's raw file and curation,
the splits' sha256, the format and template, the base model and the hyperparameters."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from conftest import kill_runs, run_page

from core.store import Store
from core.store import runs as db
from core.study import lineage
from core.training import jobs
from core.training.config import TrainConfig

SEED = Path(__file__).resolve().parent.parent / "dados" / "seed"


def save_dataset(store: Store, name: str = "livros", **changes) -> dict:
    """A real curation of the seed's train file, saved as name@vN."""
    from core.data.curation import preset
    from core.data.curation_io import save_curated
    from core.data.curation_stream import curate

    config = dataclasses.replace(preset("seed-notebook"), train_size=40, test_size=10, **changes)
    return save_curated(store, name, curate(SEED / "train.jsonl", config))


def tiny_config(model: Path, **overrides) -> TrainConfig:
    values = dict(base_model=str(model), data="livros", max_steps=1, batch_size=2, grad_accum=1, max_seq_len=64,
                  learning_rate=3e-3, warmup_steps=0, lora_r=4, lora_alpha=8, eval_every=0, eval_examples=4,
                  save_every=0, max_train_examples=8, grace_s=5.0)
    values.update(overrides)
    return TrainConfig.from_preset("custom", **values)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_recipe_step_is_a_context_variable() -> None:
    assert lineage.current_step() is None
    with lineage.recipe_step("seed-study", "train:a", "abc123"):
        assert lineage.current_step() == {"study": "seed-study", "step": "train:a", "recipe_sha": "abc123"}
        with lineage.recipe_step("seed-study", "evaluation"):
            assert lineage.current_step()["step"] == "evaluation"
        assert lineage.current_step()["step"] == "train:a"
        assert lineage.record({"x": 1}) == {"study": "seed-study", "step": "train:a", "recipe_sha": "abc123",
                                            "inputs": {"x": 1}}
    with pytest.raises(RuntimeError), lineage.recipe_step("s", "curation"):
        raise RuntimeError("a failing step leaves no step behind")
    assert lineage.current_step() is None
    made = lineage.record({"openai": {"api_key": "sk-secret-1234567890"}})
    assert made["study"] is None and made["step"] is None and made["inputs"]["openai"]["api_key"] == "***"


def test_a_launched_run_records_its_step_and_its_inputs(db_store: Store, tiny_model_dir: Path) -> None:
    saved = save_dataset(db_store)
    clicked = jobs.launch(db_store, tiny_config(tiny_model_dir))
    with lineage.recipe_step("estudo", "train:tiny", "r3c1pe"):
        stepped = jobs.launch(db_store, tiny_config(tiny_model_dir, learning_rate=1e-3))
    by_hand = lineage.lineage_of(db.get_run(db_store, clicked))
    in_step = lineage.lineage_of(db.get_run(db_store, stepped))
    assert (by_hand["study"], by_hand["step"], by_hand["recipe_sha"]) == (None, None, None)
    assert (in_step["study"], in_step["step"], in_step["recipe_sha"]) == ("estudo", "train:tiny", "r3c1pe")

    inputs = in_step["inputs"]
    row = db_store.fetch_dicts("SELECT * FROM curated_datasets WHERE name = 'livros'")[0]
    folder = Path(saved["folder"])
    data = inputs["data"]
    assert data["kind"] == "curated" and data["dataset"] == "livros@v1"
    assert data["input_path"] == str(SEED / "train.jsonl") and data["input_fingerprint"] == row["input_fingerprint"]
    assert data["curation"] == json.loads(row["config_json"]) and data["curation"]["train_size"] == 40
    assert data["curation_sha"] == lineage.short_hash(json.loads(row["config_json"]))
    assert data["train_sha256"] == sha256(folder / "train.jsonl") and data["test_sha256"] == sha256(folder / "test.jsonl")
    assert inputs["format"] == "chat-template" and inputs["template"]["user_template"] == "{title}"
    assert inputs["base_model"] == str(tiny_model_dir) and inputs["backend"] == "local"
    assert inputs["hyperparameters"]["learning_rate"] == 1e-3 and "data" not in inputs["hyperparameters"]
    assert by_hand["inputs"]["hyperparameters"]["learning_rate"] == 3e-3
    assert by_hand["inputs"]["hyperparameters_sha"] != inputs["hyperparameters_sha"]
    assert by_hand["inputs"]["data"] == data  # the same dataset, the same fingerprints


def test_a_run_on_an_exported_file_records_the_file_and_its_source(db_store: Store, tiny_model_dir: Path) -> None:
    from core.data.curated import read_split, resolve_source
    from core.formats.export import default_export_path, export_training_file
    from core.formats.render import get_preset

    save_dataset(db_store)
    rows = read_split(resolve_source("livros@v1", db_store), "train")
    done = export_training_file(rows, "chat-template", get_preset("describe"), default_export_path("livros@v1", "chat-template"),
                                tokenizer_spec=str(tiny_model_dir), source="livros@v1")
    run_id = jobs.launch(db_store, tiny_config(tiny_model_dir, data=str(done.path)))
    data = lineage.lineage_of(db.get_run(db_store, run_id))["inputs"]["data"]
    assert data["kind"] == "file" and data["file_sha256"] == sha256(done.path) == done.manifest["sha256"]
    assert data["format"] == "chat-template" and data["template"]["system_prompt"].startswith("You write")
    assert data["source"]["dataset"] == "livros@v1" and data["source"]["train_sha256"]


def test_an_export_manifest_records_its_step_and_source(db_store: Store) -> None:
    from core.data.curated import read_split, resolve_source
    from core.formats.export import default_export_path, export_training_file, read_export_manifest
    from core.formats.render import get_preset

    saved = save_dataset(db_store)
    rows = read_split(resolve_source("livros@v1", db_store), "train")
    by_hand = export_training_file(rows, "openai-chat", get_preset("seed-openai"),
                                   default_export_path("livros@v1", "openai-chat"), source="livros@v1")
    with lineage.recipe_step("estudo", "format:alpaca-train", "abc"):
        stepped = export_training_file(rows, "alpaca", get_preset("describe"),
                                       default_export_path("livros@v1", "alpaca"), source="livros@v1")
    first = read_export_manifest(by_hand.path)["lineage"]
    second = read_export_manifest(stepped.path)["lineage"]
    assert first["study"] is None and first["step"] is None
    assert (second["study"], second["step"], second["recipe_sha"]) == ("estudo", "format:alpaca-train", "abc")
    assert second["inputs"]["format"] == "alpaca" and second["inputs"]["split"] == "train"
    assert second["inputs"]["template"]["user_template"] == "Describe the product: {title}"
    assert second["inputs"]["template_sha"] != first["inputs"]["template_sha"]
    source = second["inputs"]["data"]
    assert source["dataset"] == "livros@v1" and source["train_sha256"] == sha256(Path(saved["folder"]) / "train.jsonl")
    assert source["input_fingerprint"] == first["inputs"]["data"]["input_fingerprint"]


def test_an_evaluation_records_its_step_data_and_models(db_store: Store, tiny_model_dir: Path) -> None:
    from core.compare import evaluate
    from core.models.registry import add_local_model, ensure_default_models
    from core.store import compare as cdb

    save_dataset(db_store)
    ensure_default_models(db_store)
    tiny = add_local_model(db_store, str(tiny_model_dir), display_name="tiny")
    config = evaluate.EvalConfig(models=[tiny], data="livros@v1", limit=3, metrics=["rougeL"], main_metric="rougeL")
    with lineage.recipe_step("estudo", "evaluation", "abc"):
        eval_id = evaluate.prepare_evaluation(db_store, config)
    recorded = lineage.lineage_of(cdb.get_evaluation(db_store, eval_id))
    assert (recorded["study"], recorded["step"]) == ("estudo", "evaluation")
    inputs = recorded["inputs"]
    assert inputs["data"]["dataset"] == "livros@v1" and inputs["split"] == "test"
    assert [m["model_id"] for m in inputs["models"]] == [tiny]
    assert inputs["identity"] == config.identity() and inputs["identity_sha"] == lineage.short_hash(config.identity())
    # the same evaluation again, by clicking (say, to add a metric): the answers' lineage stays the first one
    evaluate.prepare_evaluation(db_store, evaluate.EvalConfig(**{**config.to_dict(), "metrics": ["rougeL", "chrf"]}))
    assert lineage.lineage_of(cdb.get_evaluation(db_store, eval_id))["step"] == "evaluation"
    clicked = evaluate.prepare_evaluation(db_store, evaluate.EvalConfig(**{**config.to_dict(), "limit": 2}))
    assert lineage.lineage_of(cdb.get_evaluation(db_store, clicked))["step"] is None


# -- page 5's lineage tab ----------------------------------------------------------------------------
def _page5(lang: str):
    return run_page("5_resultados.py", lang)


def _table(at, column: str):
    """The table with ``column`` (AppTest finds dataframes by position, not by key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _kill(run_ids: list[str]) -> None:
    with Store() as store:
        kill_runs(store, [run for run in (db.get_run(store, i) for i in run_ids) if run])


def test_page5_lineage_tab_shows_what_differs_between_two_runs(isolated_results: Path, tiny_model_dir: Path) -> None:
    with Store() as store:
        at = _page5("en")
        assert not at.exception and any("launch at least two" in i.value for i in at.info)
        save_dataset(store)
        save_dataset(store, max_tokens=300)
        first = jobs.launch(store, tiny_config(tiny_model_dir, data="livros@v1", learning_rate=3e-3))
        with lineage.recipe_step("estudo", "train:b", "f00d"):
            second = jobs.launch(store, tiny_config(tiny_model_dir, data="livros@v2", learning_rate=1e-3))
    try:
        at = _page5("en")
        assert not at.exception and not at.error
        assert at.selectbox(key="lin_a").value == first and at.selectbox(key="lin_b").value == second
        assert any(m.value == "**3 differences: data 1, curation 1, hyperparameters 1**" for m in at.markdown)
        cells = _table(at, "Setting")
        assert list(cells.columns) == ["Section", "Setting", "A", "B"]
        assert cells.values.tolist() == [["data", "curated dataset", "livros@v1", "livros@v2"],
                                         ["curation", "max_tokens", "256", "300"],
                                         ["hyperparameters", "learning_rate", "0.003", "0.001"]]
        captions = [c.value for c in at.caption]
        assert "Made by clicking (not by a study recipe)." in captions
        assert "Made by the study recipe estudo, step train:b (recipe f00d)." in captions
        at.toggle(key="lin_all").set_value(True).run()
        every = _table(at, "Setting")
        assert len(every) > 40 and "lora_r" in every["Setting"].tolist()
        at.selectbox(key="lin_b").set_value(first).run()
        assert any("same run" in i.value for i in at.info) and not at.exception

        pt = _page5("pt")
        assert not pt.exception and not pt.error
        assert any(m.value == "**3 diferenças: dados 1, curadoria 1, hiperparâmetros 1**" for m in pt.markdown)
        rows = _table(pt, "Configuração")
        assert list(rows.columns)[:2] == ["Seção", "Configuração"] and rows.iloc[0, 1] == "conjunto curado"
        assert "Feita com cliques (não por uma receita de estudo)." in [c.value for c in pt.caption]
    finally:
        _kill([first, second])
