"""Tables and queries for the model registry, generations, arena votes and evaluations (04xx)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.store import Store

MIGRATIONS: list[tuple[str, str]] = [
    ("0401_models", """
        CREATE TABLE models (
            id VARCHAR PRIMARY KEY,          -- e.g. local:smollm2, local-ft:<run_id>, openai:gpt-4o-mini-2024-07-18
            kind VARCHAR NOT NULL,           -- local-base | local-finetune | openai | openai-finetune | endpoint
            display_name VARCHAR NOT NULL,
            base_model VARCHAR,              -- model spec of the base (local) or the OpenAI base model
            adapter_path VARCHAR,            -- local fine-tunes: the adapter folder (final or a checkpoint)
            remote_model VARCHAR,            -- OpenAI / endpoint model name (ft:..., llama3, ...)
            endpoint_url VARCHAR,            -- OpenAI-compatible base URL (endpoint kind)
            run_id VARCHAR,                  -- the training run that produced it
            price_input_per_m DOUBLE,        -- USD per 1M input tokens
            price_output_per_m DOUBLE,       -- USD per 1M output tokens
            price_per_hour DOUBLE,           -- USD per hour of local hardware
            prompt_template_json VARCHAR,    -- the template used in training (system/user/assistant)
            retired BOOLEAN DEFAULT false,
            created_at TIMESTAMP DEFAULT current_timestamp
        );
    """),
]

MODEL_COLUMNS = ("id", "kind", "display_name", "base_model", "adapter_path", "remote_model", "endpoint_url",
                 "run_id", "price_input_per_m", "price_output_per_m", "price_per_hour", "prompt_template_json",
                 "retired")


def upsert_model(store: Store, **entry: Any) -> None:
    """Insert or replace one registry entry (unknown keys are an error: catch typos early)."""
    unknown = set(entry) - set(MODEL_COLUMNS)
    if unknown:
        raise KeyError(f"unknown model fields: {sorted(unknown)}")
    columns = [c for c in MODEL_COLUMNS if c in entry]
    placeholders = ", ".join("?" for _ in columns)
    store.execute(
        f"INSERT OR REPLACE INTO models ({', '.join(columns)}) VALUES ({placeholders})",
        [entry[c] for c in columns],
    )


def list_models(store: Store, include_retired: bool = False) -> list[dict[str, Any]]:
    where = "" if include_retired else "WHERE NOT retired"
    return store.fetch_dicts(f"SELECT * FROM models {where} ORDER BY created_at, id")


def get_model(store: Store, model_id: str) -> dict[str, Any] | None:
    rows = store.fetch_dicts("SELECT * FROM models WHERE id = ?", [model_id])
    return rows[0] if rows else None
