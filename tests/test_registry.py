"""The model registry: defaults, endpoints, local models and fine-tunes, prices and costs, the CLI."""
from __future__ import annotations

import json

import pytest

from core.cli import main
from core.models.registry import (
    BUNDLED_ID,
    InvalidModelError,
    Prices,
    UnknownModelError,
    add_endpoint,
    add_local_finetune,
    add_local_model,
    add_openai_finetune,
    answer_cost,
    available_models,
    ensure_default_models,
    get_registered,
    retire_model,
    set_prices,
    training_template,
)
from core.store.compare import list_models


def test_defaults_are_registered_once_with_prices(store) -> None:
    added = ensure_default_models(store)
    assert BUNDLED_ID in added and "openai:gpt-4o-mini-2024-07-18" in added
    assert ensure_default_models(store) == []  # idempotent
    mini = get_registered(store, "openai:gpt-4o-mini-2024-07-18")
    assert (mini["kind"], mini["remote_model"]) == ("openai", "gpt-4o-mini-2024-07-18")
    assert (mini["price_input_per_m"], mini["price_output_per_m"]) == (0.30, 1.20)
    bundled = get_registered(store, BUNDLED_ID)
    assert bundled["kind"] == "local-base" and bundled["base_model"] == "smollm2"
    assert bundled["price_per_hour"] > 0
    # an edited price survives the next ensure_default_models
    set_prices(store, BUNDLED_ID, Prices(per_hour=1.5))
    ensure_default_models(store)
    assert get_registered(store, BUNDLED_ID)["price_per_hour"] == 1.5


def test_sessions_opening_a_page_at_once_register_the_defaults_once(tmp_path) -> None:
    """The load test's failure: several page sessions each found a default model missing and inserted
    it, and all but one died on the duplicate key."""
    import threading

    from core.store import Store

    errors: list[BaseException] = []
    with Store(tmp_path / "race.duckdb") as store:
        start = threading.Barrier(8)

        def open_page() -> None:
            start.wait()
            try:
                available_models(store)
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=open_page) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ids = [m["id"] for m in list_models(store, include_retired=True)]
    assert errors == []
    assert len(ids) == len(set(ids)) and BUNDLED_ID in ids


def test_endpoint_validation_and_no_secret(store) -> None:
    model_id = add_endpoint(store, "ollama", "http://localhost:11434/v1/", "llama3", Prices(0.1, 0.2))
    row = get_registered(store, model_id)
    assert model_id == "endpoint:ollama" and row["endpoint_url"] == "http://localhost:11434/v1"
    assert row["remote_model"] == "llama3" and row["price_output_per_m"] == 0.2
    for name, url, model in (("two words", "http://x/v1", "m"), ("ok", "localhost:8000", "m"), ("ok", "http://x", "")):
        with pytest.raises(InvalidModelError):
            add_endpoint(store, name, url, model)
    with pytest.raises(InvalidModelError):
        Prices(-1)


def test_local_models_and_finetunes(store, tiny_model_dir, tmp_path) -> None:
    assert add_local_model(store, "smollm2") == BUNDLED_ID
    local = add_local_model(store, str(tiny_model_dir), price_per_hour=0.5)
    assert get_registered(store, local)["base_model"] == str(tiny_model_dir.resolve())
    with pytest.raises(InvalidModelError, match="config.json"):
        add_local_model(store, str(tmp_path))
    ft = add_local_finetune(store, "run-7", "smollm2", tmp_path / "adapter", step=20,
                            prompt_template={"system": "Describe books.", "user": "Title: {title}"})
    row = get_registered(store, ft)
    assert ft == "local-ft:run-7@20" and row["kind"] == "local-finetune" and row["run_id"] == "run-7"
    assert training_template(row) == {"system": "Describe books.", "user": "Title: {title}"}
    oft = add_openai_finetune(store, "ft:gpt-4o-mini-2024-07-18:org::abc", "gpt-4o-mini-2024-07-18", run_id="r2")
    assert get_registered(store, oft)["price_input_per_m"] == 0.30
    retire_model(store, ft)
    assert ft not in {m["id"] for m in available_models(store)}
    assert ft in {m["id"] for m in list_models(store, include_retired=True)}
    with pytest.raises(UnknownModelError, match="not registered"):
        get_registered(store, "local-ft:nope")


def test_costs() -> None:
    local = {"kind": "local-base", "price_per_hour": 3.6}
    assert answer_cost(local, 100, 50, 10.0) == pytest.approx(0.01)
    remote = {"kind": "openai", "price_input_per_m": 0.30, "price_output_per_m": 1.20}
    assert answer_cost(remote, 1_000_000, 500_000, 99) == pytest.approx(0.90)
    assert answer_cost({"kind": "endpoint", "price_input_per_m": None, "price_output_per_m": None}, 1, 1, 1) is None


def test_cli_models_list_and_add_endpoint(tmp_path, capsys) -> None:
    db = str(tmp_path / "cli.duckdb")
    assert main(["--db", db, "models", "add-endpoint", "--name", "vllm", "--base-url", "http://127.0.0.1:8000/v1",
                 "--model", "qwen", "--price-input", "0.05", "--price-output", "0.1"]) == 0
    assert "endpoint:vllm" in capsys.readouterr().out
    assert main(["--db", db, "models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"local:smollm2", "endpoint:vllm"} <= {r["id"] for r in rows}
    assert main(["--db", db, "models", "list"]) == 0
    assert "endpoint:vllm" in capsys.readouterr().out
    assert main(["--db", db, "models", "add-endpoint", "--name", "bad", "--base-url", "nope", "--model", "m"]) == 2
    assert capsys.readouterr().err.startswith("error: The base URL")
