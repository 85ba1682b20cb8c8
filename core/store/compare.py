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


# == Playground generations and arena votes (0402+, core/generate.py, core/arena.py) ===============
MIGRATIONS += [
    ("0402_generations", """
        CREATE SEQUENCE generations_id;
        CREATE TABLE generations (
            id BIGINT PRIMARY KEY DEFAULT nextval('generations_id'),
            created_at TIMESTAMP DEFAULT current_timestamp,
            source VARCHAR NOT NULL,         -- playground | arena | cli
            model_id VARCHAR NOT NULL,
            prompt VARCHAR NOT NULL,         -- what the user asked (before the template)
            settings_json VARCHAR NOT NULL,  -- GenerationSettings (template, sampling, length)
            answer VARCHAR,
            latency_first_token_s DOUBLE,
            total_s DOUBLE,
            tokens_in INTEGER,
            tokens_out INTEGER,
            cost_usd DOUBLE,
            error VARCHAR,
            curated_source VARCHAR,          -- the test example's dataset, when the prompt came from one
            curated_version VARCHAR,
            example_index INTEGER,
            reference VARCHAR
        );
    """),
    ("0403_arena_votes", """
        CREATE SEQUENCE arena_votes_id;
        CREATE TABLE arena_votes (
            id BIGINT PRIMARY KEY DEFAULT nextval('arena_votes_id'),
            created_at TIMESTAMP DEFAULT current_timestamp,
            model_a VARCHAR NOT NULL,        -- shown on the left
            model_b VARCHAR NOT NULL,        -- shown on the right
            winner VARCHAR NOT NULL,         -- a | b | tie | both_bad
            prompt VARCHAR NOT NULL,
            generation_a BIGINT,             -- generations.id of each answer
            generation_b BIGINT,
            curated_source VARCHAR,
            curated_version VARCHAR,
            example_index INTEGER,
            settings_json VARCHAR
        );
    """),
]
GENERATION_COLUMNS = ("source", "model_id", "prompt", "settings_json", "answer", "latency_first_token_s", "total_s",
                      "tokens_in", "tokens_out", "cost_usd", "error", "curated_source", "curated_version",
                      "example_index", "reference")
VOTE_COLUMNS = ("model_a", "model_b", "winner", "prompt", "generation_a", "generation_b", "curated_source",
                "curated_version", "example_index", "settings_json")


def _insert_returning_id(store: Store, table: str, columns: tuple[str, ...], row: dict[str, Any]) -> int:
    unknown = set(row) - set(columns)
    if unknown:
        raise KeyError(f"unknown {table} fields: {sorted(unknown)}")
    names = [c for c in columns if c in row]
    with store.transaction() as cur:
        found = cur.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) "
                            "RETURNING id", [row[c] for c in names]).fetchone()
    return int(found[0]) if found else 0


def insert_generation(store: Store, **row: Any) -> int:
    """Store one generation; ``answer`` may be an Answer's dict (text, timings, tokens, cost, error)."""
    answer = row.pop("answer", None)
    if isinstance(answer, dict):
        row = {"model_id": answer["model_id"], "prompt": answer["prompt"], "answer": answer["text"],
               **{k: answer.get(k) for k in ("latency_first_token_s", "total_s", "tokens_in", "tokens_out",
                                             "cost_usd", "error")}, **row}
    elif answer is not None:
        row["answer"] = answer
    return _insert_returning_id(store, "generations", GENERATION_COLUMNS, row)


def list_generations(store: Store, limit: int = 100, source: str | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE source = ?", [source]) if source else ("", [])
    return store.fetch_dicts(f"SELECT * FROM generations {where} ORDER BY id DESC LIMIT ?", [*params, limit])


def insert_vote(store: Store, **row: Any) -> int:
    if row.get("winner") not in ("a", "b", "tie", "both_bad"):
        raise ValueError(f"winner must be a, b, tie or both_bad, not {row.get('winner')!r}")
    return _insert_returning_id(store, "arena_votes", VOTE_COLUMNS, row)


def list_votes(store: Store) -> list[dict[str, Any]]:
    return store.fetch_dicts("SELECT * FROM arena_votes ORDER BY id")
