"""Tables and queries for formats, prices, hardware, estimates and calibrations (02xx).

prices       USD per 1M tokens per hosted model (training, input, cached input, output) and its provider
             (openai, together, fireworks), each row dated and sourced, retired models flagged;
             editable from page 2. A price nobody could read from a public page stays empty.
hardware     GPUs / machines for local estimates: tokens/s measured for a model size, $/hour.
estimates    every estimate made (page 2, ``python -m core estimate``, the training page), with an
             optional run_id so the actual figures of a run can be shown beside it.
calibrations measured LoRA training throughput per model / device / settings (core/costs/calibrate.py).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.store import Store

_PRICE_SOURCE = "DESIGN.md (OpenAI pricing page, Standard tier, as published mid-2026)"  # as first seeded (0202)
PRICE_SOURCE = "OpenAI pricing page, https://platform.openai.com/docs/pricing (Standard tier, as published mid-2026)"
_CPU_SOURCE = "Project estimate, SmolLM2-135M"
_CACHED_SOURCE = "; cached input from third-party copies of the OpenAI fine-tuning price table"

# Hosted fine-tuning beside OpenAI (issue 12), read 2026-12-06. Fireworks publishes its rates on
# https://fireworks.ai/pricing: supervised fine-tuning per 1M training tokens (dataset tokens x
# epochs) $0.50 for models up to 16B, $3.00 for 16.1B-80B; serverless inference per 1M tokens
# $0.20 up to 16B, $0.90 for 16.1B-80B, and a LoRA served serverless costs what its base model costs
# (a dedicated deployment is billed per GPU-hour instead). Together bills tokens processed x a rate
# per size bracket (https://docs.together.ai/docs/fine-tuning-pricing) whose figures are only on
# https://together.ai/pricing, which could not be read when these rows were written: they stay
# empty (the run says its actual cost is unknown, and Together's own quote is shown) until a user
# fills them in on page 2.
_FIREWORKS_SOURCE = ("Fireworks pricing page, https://fireworks.ai/pricing (a copy read 2026-12-06; serverless LoRA "
                     "inference at the base model''s rate)")
_TOGETHER_SOURCE = ("check the provider''s pricing page: https://together.ai/pricing (fine-tuning is billed per "
                    "token processed by model size, https://docs.together.ai/docs/fine-tuning-pricing)")
MIGRATIONS: list[tuple[str, str]] = [
    ("0201_prices", """
        CREATE TABLE prices (
            model VARCHAR PRIMARY KEY,          -- OpenAI base model name (ft: names resolve to it)
            training DOUBLE,                    -- USD per 1M training tokens
            input DOUBLE,                       -- USD per 1M input tokens of the fine-tuned model
            cached_input DOUBLE,                -- USD per 1M cached input tokens (NULL: not published / unknown)
            output DOUBLE,                      -- USD per 1M output tokens of the fine-tuned model
            as_of DATE,
            source VARCHAR,
            retired BOOLEAN DEFAULT false,
            shutdown_date DATE,
            updated_at TIMESTAMP DEFAULT current_timestamp
        );
    """),
    ("0202_seed_prices", f"""
        INSERT INTO prices (model, training, input, cached_input, output, as_of, source, retired, shutdown_date) VALUES
        ('gpt-4o-mini-2024-07-18', 3.00, 0.30, 0.15, 1.20, DATE '2026-07-01', '{_PRICE_SOURCE}{_CACHED_SOURCE}', false, NULL),
        ('gpt-4.1-mini-2025-04-14', 5.00, 0.80, 0.20, 3.20, DATE '2026-07-01', '{_PRICE_SOURCE}{_CACHED_SOURCE}', false, NULL),
        ('gpt-4.1-nano-2025-04-14', 1.50, 0.20, NULL, 0.80, DATE '2026-07-01', '{_PRICE_SOURCE}', true, DATE '2026-10-23'),
        ('gpt-3.5-turbo-0125', 8.00, 3.00, NULL, 6.00, DATE '2026-07-01', '{_PRICE_SOURCE}', true, NULL);
    """),
    ("0203_hardware", """
        CREATE TABLE hardware (
            name VARCHAR PRIMARY KEY,
            model_size_b DOUBLE,                -- model size (billions of parameters) the tokens/s was measured for
            tokens_per_s DOUBLE,                -- LoRA training tokens per second
            usd_per_hour DOUBLE,                -- rental price (0: free / owned)
            source VARCHAR,
            updated_at TIMESTAMP DEFAULT current_timestamp
        );
        INSERT INTO hardware (name, model_size_b, tokens_per_s, usd_per_hour, source) VALUES
        ('Colab T4 (seed study)', 8.0, 150, 0.0,
         'Seed study: Llama-3-8B 4-bit LoRA r=16, 60 steps x 8 examples (~260 tokens each) in 13:39 on a free Colab T4'),
        ('CPU 2 cores (this project)', 0.135, 120, 0.0,
         'DESIGN.md: SmolLM2-135M LoRA r=8, batch 4 x ~56 tokens in ~1.9 s/step; calibrate for a measured figure');
    """),
    ("0204_estimates", """
        CREATE SEQUENCE estimates_id;
        CREATE TABLE estimates (
            id INTEGER PRIMARY KEY DEFAULT nextval('estimates_id'),
            created_at TIMESTAMP DEFAULT current_timestamp,
            run_id VARCHAR,                     -- the training run this estimate was made for (set at launch)
            kind VARCHAR NOT NULL,              -- openai | local
            model VARCHAR NOT NULL,
            data_path VARCHAR,
            format VARCHAR,
            n_examples INTEGER,
            epochs INTEGER,
            tokens_per_epoch BIGINT,
            billable_tokens BIGINT,             -- openai: epochs x sum(min(limit, tokens)); local: tokens processed
            train_cost_usd DOUBLE,
            inference_cost_usd DOUBLE,
            total_cost_usd DOUBLE,
            time_s DOUBLE,
            tokens_per_s DOUBLE,
            throughput_source VARCHAR,
            details_json VARCHAR
        );
    """),
    ("0205_calibrations", """
        CREATE TABLE calibrations (
            key VARCHAR PRIMARY KEY,            -- model|device|seq_len|batch|lora settings
            model VARCHAR NOT NULL,
            device VARCHAR NOT NULL,
            seq_len INTEGER,
            batch_size INTEGER,
            tokens_per_s DOUBLE NOT NULL,
            step_s DOUBLE,
            measured_at TIMESTAMP DEFAULT current_timestamp,
            details_json VARCHAR
        );
    """),
    # Measured with core.costs.calibrate.measure on a lent H100 (2026-11-25): bf16, LoRA r=8 on q/k/v/o,
    # random weights of each shape (tokens/s does not depend on the values). No price: add yours.
    ("0206_hardware_h100", """
        INSERT INTO hardware (name, model_size_b, tokens_per_s, usd_per_hour, source) VALUES
        ('H100 80GB, 8B model (measured)', 8.03, 11600, NULL,
         'core.costs.calibrate on an H100 80GB HBM3: Llama-3-8B shape, bf16, LoRA r=8 q/k/v/o, batch 8 x 512 tokens, 0.35 s/step'),
        ('H100 80GB, SmolLM2-135M (measured)', 0.135, 23900, NULL,
         'core.costs.calibrate on an H100 80GB HBM3: SmolLM2-135M, bf16, LoRA r=8 q/k/v/o, batch 8 x 512 tokens, 0.17 s/step (launch-bound)');
    """),
    # One price for this CPU everywhere: the registry charged local answers and runs $0.10/hour while
    # this row estimated their training at $0.00. A row the user already priced is left alone.
    ("0207_cpu_price", """
        UPDATE hardware SET usd_per_hour = 0.10,
               source = source || '; $0.10/hour: a small 2-4 vCPU cloud VM, the registry''s default local price'
        WHERE name = 'CPU 2 cores (this project)' AND usd_per_hour = 0.0;
    """),
    # The seeded sources pointed at DESIGN.md, a design note outside the repository (a clone has no
    # ../shared/): they now name the public page itself. Rows whose source a user edited are left alone.
    ("0208_public_sources", f"""
        UPDATE prices SET source = replace(source, '{_PRICE_SOURCE}', '{PRICE_SOURCE}')
        WHERE starts_with(source, '{_PRICE_SOURCE}');
        UPDATE hardware SET source = replace(source, 'DESIGN.md: SmolLM2-135M', '{_CPU_SOURCE}')
        WHERE name = 'CPU 2 cores (this project)' AND starts_with(source, 'DESIGN.md: SmolLM2-135M');
    """),
    # Rows of Together's and Fireworks' fine-tunable models (see _FIREWORKS_SOURCE above); the
    # existing rows are OpenAI's. A model a user already added by hand is left as it is.
    ("0209_provider_prices", f"""
        ALTER TABLE prices ADD COLUMN provider VARCHAR DEFAULT 'openai';
        UPDATE prices SET provider = 'openai' WHERE provider IS NULL;
        INSERT INTO prices (model, training, input, cached_input, output, as_of, source, retired, shutdown_date, provider)
        SELECT * FROM (VALUES
        ('accounts/fireworks/models/llama-v3p1-8b-instruct', 0.50, 0.20, NULL, 0.20, DATE '2026-12-06',
         '{_FIREWORKS_SOURCE}: up to 16B', false, NULL::DATE, 'fireworks'),
        ('accounts/fireworks/models/qwen2p5-7b-instruct', 0.50, 0.20, NULL, 0.20, DATE '2026-12-06',
         '{_FIREWORKS_SOURCE}: up to 16B', false, NULL::DATE, 'fireworks'),
        ('accounts/fireworks/models/llama-v3p1-70b-instruct', 3.00, 0.90, NULL, 0.90, DATE '2026-12-06',
         '{_FIREWORKS_SOURCE}: 16.1B-80B', false, NULL::DATE, 'fireworks'),
        ('meta-llama/Meta-Llama-3.1-8B-Instruct-Reference', NULL, NULL, NULL, NULL, DATE '2026-12-06',
         '{_TOGETHER_SOURCE}', false, NULL::DATE, 'together'),
        ('Qwen/Qwen2.5-7B-Instruct', NULL, NULL, NULL, NULL, DATE '2026-12-06',
         '{_TOGETHER_SOURCE}', false, NULL::DATE, 'together')
        ) AS new(model, training, input, cached_input, output, as_of, source, retired, shutdown_date, provider)
        WHERE new.model NOT IN (SELECT model FROM prices);
    """),
]

PRICE_COLUMNS = ("model", "training", "input", "cached_input", "output", "as_of", "source", "retired", "shutdown_date",
                 "provider")
PROVIDERS = ("openai", "together", "fireworks")
HARDWARE_COLUMNS = ("name", "model_size_b", "tokens_per_s", "usd_per_hour", "source")
ESTIMATE_COLUMNS = ("run_id", "kind", "model", "data_path", "format", "n_examples", "epochs", "tokens_per_epoch",
                    "billable_tokens", "train_cost_usd", "inference_cost_usd", "total_cost_usd", "time_s",
                    "tokens_per_s", "throughput_source", "details_json")


# -- prices ------------------------------------------------------------------------------------
def list_prices(store: Store) -> list[dict[str, Any]]:
    return store.fetch_dicts(f"SELECT {', '.join(PRICE_COLUMNS)} FROM prices ORDER BY retired, model")


def get_price_row(store: Store, model: str) -> dict[str, Any] | None:
    rows = store.fetch_dicts(f"SELECT {', '.join(PRICE_COLUMNS)} FROM prices WHERE model = ?", [model])
    return rows[0] if rows else None


def replace_prices(store: Store, rows: list[dict[str, Any]]) -> None:
    """Replace the whole table at once (the page's editor); all or nothing."""
    with store.transaction() as cur:
        cur.execute("DELETE FROM prices")
        for row in rows:
            cur.execute(f"INSERT INTO prices ({', '.join(PRICE_COLUMNS)}) VALUES ({', '.join('?' for _ in PRICE_COLUMNS)})",
                        [row.get(c) for c in PRICE_COLUMNS])


# -- hardware ----------------------------------------------------------------------------------
def list_hardware(store: Store) -> list[dict[str, Any]]:
    return store.fetch_dicts(f"SELECT {', '.join(HARDWARE_COLUMNS)} FROM hardware ORDER BY name")


def get_hardware_row(store: Store, name: str) -> dict[str, Any] | None:
    rows = store.fetch_dicts(f"SELECT {', '.join(HARDWARE_COLUMNS)} FROM hardware WHERE name = ?", [name])
    return rows[0] if rows else None


def replace_hardware(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.transaction() as cur:
        cur.execute("DELETE FROM hardware")
        for row in rows:
            cur.execute(f"INSERT INTO hardware ({', '.join(HARDWARE_COLUMNS)}) VALUES ({', '.join('?' for _ in HARDWARE_COLUMNS)})",
                        [row.get(c) for c in HARDWARE_COLUMNS])


def upsert_hardware(store: Store, row: dict[str, Any]) -> None:
    with store.transaction() as cur:
        cur.execute("DELETE FROM hardware WHERE name = ?", [row["name"]])
        cur.execute(f"INSERT INTO hardware ({', '.join(HARDWARE_COLUMNS)}) VALUES ({', '.join('?' for _ in HARDWARE_COLUMNS)})",
                    [row.get(c) for c in HARDWARE_COLUMNS])


# -- estimates ---------------------------------------------------------------------------------
def insert_estimate(store: Store, values: dict[str, Any]) -> int:
    unknown = set(values) - set(ESTIMATE_COLUMNS)
    if unknown:
        raise KeyError(f"unknown estimate fields: {sorted(unknown)}")
    columns = [c for c in ESTIMATE_COLUMNS if c in values]
    with store.transaction() as cur:
        row = cur.execute(
            f"INSERT INTO estimates ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) RETURNING id",
            [values[c] for c in columns]).fetchone()
    return int(row[0]) if row else 0


def set_estimate_run(store: Store, estimate_id: int, run_id: str) -> None:
    with store.transaction() as cur:
        cur.execute("UPDATE estimates SET run_id = ? WHERE id = ?", [run_id, estimate_id])


def get_estimate_row(store: Store, estimate_id: int) -> dict[str, Any] | None:
    rows = store.fetch_dicts("SELECT * FROM estimates WHERE id = ?", [estimate_id])
    return rows[0] if rows else None


def estimates_for_run(store: Store, run_id: str) -> list[dict[str, Any]]:
    return store.fetch_dicts("SELECT * FROM estimates WHERE run_id = ? ORDER BY created_at DESC, id DESC", [run_id])


def list_estimates(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    return store.fetch_dicts("SELECT * FROM estimates ORDER BY created_at DESC, id DESC LIMIT ?", [limit])


# -- calibrations ------------------------------------------------------------------------------
def get_calibration_row(store: Store, key: str) -> dict[str, Any] | None:
    rows = store.fetch_dicts("SELECT * FROM calibrations WHERE key = ?", [key])
    if not rows:
        return None
    row = rows[0]
    row["details"] = json.loads(row.pop("details_json") or "{}")
    return row


def save_calibration_row(store: Store, key: str, model: str, device: str, seq_len: int, batch_size: int,
                         tokens_per_s: float, step_s: float, details: dict[str, Any]) -> None:
    with store.transaction() as cur:
        cur.execute("DELETE FROM calibrations WHERE key = ?", [key])
        cur.execute(
            "INSERT INTO calibrations (key, model, device, seq_len, batch_size, tokens_per_s, step_s, details_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [key, model, device, seq_len, batch_size, tokens_per_s, step_s, json.dumps(details, default=str)])


def list_calibrations(store: Store) -> list[dict[str, Any]]:
    return store.fetch_dicts("SELECT key, model, device, seq_len, batch_size, tokens_per_s, step_s, measured_at "
                             "FROM calibrations ORDER BY measured_at DESC")
