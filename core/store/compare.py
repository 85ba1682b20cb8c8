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


# == Playground generations and arena votes (0402+, core/models/generate.py, core/compare/arena.py) ===============
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


# == Evaluations, per-answer scores and imported comparison sheets (0451+, core/compare/evaluate.py) ==========
# Appended as its own block so the playground's migrations (0402+) and ours never touch the same lines.
MIGRATIONS += [
    ("0451_evaluations", """
        CREATE TABLE evaluations (
            id VARCHAR PRIMARY KEY,          -- ev-<hash of what decides the answers>, or imp-<hash> for imports
            source VARCHAR NOT NULL,         -- eval | import
            title VARCHAR,                   -- what the UI lists (data, split, N; or the imported file/sheet)
            config_json VARCHAR NOT NULL,    -- EvalConfig (secrets masked) or the import's details
            status VARCHAR NOT NULL,         -- queued|running|cancelling|succeeded|failed|cancelled|imported
            status_message VARCHAR,          -- one sentence for failures
            phase VARCHAR,                   -- generating | scoring | judging
            done INTEGER DEFAULT 0,          -- answers made (progress bar survives a page reload)
            total INTEGER DEFAULT 0,
            created_at TIMESTAMP DEFAULT current_timestamp,
            started_at TIMESTAMP,
            ended_at TIMESTAMP,
            heartbeat_at TIMESTAMP,          -- a running eval whose heartbeat stopped was interrupted
            wall_s DOUBLE
        );
        CREATE TABLE eval_examples (
            eval_id VARCHAR NOT NULL,
            idx INTEGER NOT NULL,            -- row number in the split (or in the imported sheet)
            title VARCHAR NOT NULL,
            reference VARCHAR NOT NULL,      -- the dataset's content (the reference answer)
            PRIMARY KEY (eval_id, idx)
        );
        CREATE TABLE eval_models (
            eval_id VARCHAR NOT NULL,
            model_id VARCHAR NOT NULL,       -- registry id, or imported:<column> for imports
            display_name VARCHAR NOT NULL,
            kind VARCHAR,                    -- registry kind, or imported
            finetuned BOOLEAN DEFAULT false,
            base_model VARCHAR,              -- for pairing a fine-tune with its base in the xlsx
            run_id VARCHAR,
            position INTEGER,
            PRIMARY KEY (eval_id, model_id)
        );
        CREATE TABLE eval_answers (
            eval_id VARCHAR NOT NULL,
            model_id VARCHAR NOT NULL,
            variant VARCHAR NOT NULL,        -- prompt variant (core/compare/prompt_variants.py VARIANTS)
            idx INTEGER NOT NULL,
            prompt VARCHAR,
            reference VARCHAR,               -- the reference this variant is scored against
            answer VARCHAR,
            latency_first_token_s DOUBLE,
            total_s DOUBLE,
            tokens_in INTEGER,
            tokens_out INTEGER,
            cost_usd DOUBLE,
            error VARCHAR,
            created_at TIMESTAMP DEFAULT current_timestamp,
            PRIMARY KEY (eval_id, model_id, variant, idx)
        );
        CREATE TABLE eval_scores (
            eval_id VARCHAR NOT NULL,
            model_id VARCHAR NOT NULL,
            variant VARCHAR NOT NULL,
            idx INTEGER NOT NULL,
            metric VARCHAR NOT NULL,         -- rougeL | chrf | bleu | semantic | length_ratio | repetition | judge
            value DOUBLE,
            detail VARCHAR,                  -- the judge's own words
            PRIMARY KEY (eval_id, model_id, variant, idx, metric)
        );
    """),
]
# Lineage (issue 13, core/study/lineage.py): the recipe step and the inputs' fingerprints of an evaluation.
MIGRATIONS += [("0452_evaluations_lineage", "ALTER TABLE evaluations ADD COLUMN lineage_json VARCHAR")]


def get_evaluation(store: Store, eval_id: str) -> dict[str, Any] | None:
    rows = store.fetch_dicts("SELECT * FROM evaluations WHERE id = ?", [eval_id])
    return rows[0] if rows else None


def list_evaluations(store: Store, source: str | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE source = ?", [source]) if source else ("", [])
    return store.fetch_dicts(f"SELECT * FROM evaluations {where} ORDER BY created_at DESC, id", params)


def create_evaluation(store: Store, eval_id: str, source: str, title: str, config_json: str, status: str,
                      examples: list[tuple[int, str, str]], models: list[dict[str, Any]]) -> None:
    """The evaluation row, its examples and models, all or nothing (kept if it already exists)."""
    with store.transaction() as cur:
        cur.execute("INSERT OR IGNORE INTO evaluations (id, source, title, config_json, status) VALUES (?, ?, ?, ?, ?)",
                    [eval_id, source, title, config_json, status])
        if examples:  # (executemany refuses an empty list)
            cur.executemany("INSERT OR IGNORE INTO eval_examples VALUES (?, ?, ?, ?)",
                            [[eval_id, i, t, r] for i, t, r in examples])
        if models:
            cur.executemany(
                "INSERT OR IGNORE INTO eval_models VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [[eval_id, m["model_id"], m["display_name"], m.get("kind"), bool(m.get("finetuned")),
                  m.get("base_model"), m.get("run_id"), position] for position, m in enumerate(models)])


def update_evaluation(store: Store, eval_id: str, **fields: Any) -> None:
    allowed = {"config_json", "status", "status_message", "phase", "done", "total", "started_at", "ended_at",
               "heartbeat_at", "wall_s", "title", "lineage_json"}
    unknown = set(fields) - allowed
    if unknown:
        raise KeyError(f"unknown evaluation fields: {sorted(unknown)}")
    if not fields:
        return
    sets = ", ".join(f"{k} = ?" for k in fields)
    with store.transaction() as cur:
        cur.execute(f"UPDATE evaluations SET {sets} WHERE id = ?", [*fields.values(), eval_id])


def delete_evaluation(store: Store, eval_id: str) -> None:
    with store.transaction() as cur:
        for table in ("eval_scores", "eval_answers", "eval_models", "eval_examples"):
            cur.execute(f"DELETE FROM {table} WHERE eval_id = ?", [eval_id])
        cur.execute("DELETE FROM evaluations WHERE id = ?", [eval_id])


def eval_examples(store: Store, eval_id: str) -> list[dict[str, Any]]:
    return store.fetch_dicts("SELECT idx, title, reference FROM eval_examples WHERE eval_id = ? ORDER BY idx", [eval_id])


def eval_models(store: Store, eval_id: str) -> list[dict[str, Any]]:
    return store.fetch_dicts("SELECT * FROM eval_models WHERE eval_id = ? ORDER BY position, model_id", [eval_id])


def answered_indexes(store: Store, eval_id: str, model_id: str, variant: str) -> set[int]:
    """Examples that already have a good answer (failed ones are retried on resume)."""
    rows = store.fetchall("SELECT idx FROM eval_answers WHERE eval_id = ? AND model_id = ? AND variant = ? "
                          "AND error IS NULL", [eval_id, model_id, variant])
    return {r[0] for r in rows}


def count_answers(store: Store, eval_id: str) -> int:
    row = store.fetchone("SELECT count(*) FROM eval_answers WHERE eval_id = ? AND error IS NULL", [eval_id])
    return int(row[0]) if row else 0


def save_answers(store: Store, rows: list[dict[str, Any]]) -> None:
    """Store answers (one transaction); a failed answer is replaced when it is retried."""
    columns = ("eval_id", "model_id", "variant", "idx", "prompt", "reference", "answer", "latency_first_token_s",
               "total_s", "tokens_in", "tokens_out", "cost_usd", "error")
    if not rows:
        return
    with store.transaction() as cur:
        cur.executemany(f"INSERT OR REPLACE INTO eval_answers ({', '.join(columns)}) VALUES "
                        f"({', '.join('?' for _ in columns)})", [[r.get(c) for c in columns] for r in rows])


def save_scores(store: Store, rows: list[tuple[str, str, str, int, str, float | None, str | None]]) -> None:
    """(eval_id, model_id, variant, idx, metric, value, detail) rows, replacing earlier values."""
    if not rows:
        return
    with store.transaction() as cur:
        cur.executemany("INSERT OR REPLACE INTO eval_scores VALUES (?, ?, ?, ?, ?, ?, ?)", [list(r) for r in rows])


def answers_missing_metric(store: Store, eval_id: str, metric: str) -> list[dict[str, Any]]:
    """Good answers of an evaluation that have no score for ``metric`` yet."""
    return store.fetch_dicts(
        "SELECT a.model_id, a.variant, a.idx, a.prompt, a.reference, a.answer, e.title FROM eval_answers a "
        "JOIN eval_examples e ON e.eval_id = a.eval_id AND e.idx = a.idx "
        "LEFT JOIN eval_scores s ON s.eval_id = a.eval_id AND s.model_id = a.model_id AND s.variant = a.variant "
        "AND s.idx = a.idx AND s.metric = ? WHERE a.eval_id = ? AND a.error IS NULL AND s.metric IS NULL "
        "ORDER BY a.model_id, a.variant, a.idx", [metric, eval_id])


def eval_answers_df(store: Store, eval_id: str) -> Any:
    """Every answer with its example's title (pandas)."""
    return store.fetch_df(
        "SELECT a.*, e.title FROM eval_answers a JOIN eval_examples e ON e.eval_id = a.eval_id AND e.idx = a.idx "
        "WHERE a.eval_id = ? ORDER BY a.model_id, a.variant, a.idx", [eval_id])


def eval_scores_df(store: Store, eval_id: str) -> Any:
    """Per-example scores in long form: model_id, variant, idx, metric, value (pandas)."""
    return store.fetch_df("SELECT model_id, variant, idx, metric, value, detail FROM eval_scores WHERE eval_id = ? "
                          "ORDER BY model_id, variant, idx, metric", [eval_id])


def table_exists(store: Store, name: str) -> bool:
    row = store.fetchone("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                         "AND table_name = ?", [name])
    return bool(row and row[0])


def table_df(store: Store, name: str) -> Any:
    """A whole table as pandas (empty frame when it does not exist yet: exports of other features' tables)."""
    import pandas as pd

    if not table_exists(store, name):
        return pd.DataFrame()
    return store.fetch_df(f'SELECT * FROM "{name}"')


def run_metrics_df(store: Store, run_ids: list[str] | None = None, names: tuple[str, ...] = ("train_loss", "eval_loss")) -> Any:
    """Loss curves (or any run metric) of the given runs, in long form (pandas)."""
    params: list[Any] = list(names)
    where = f"name IN ({', '.join('?' for _ in names)})"
    if run_ids is not None:
        if not run_ids:
            run_ids = [""]
        where += f" AND run_id IN ({', '.join('?' for _ in run_ids)})"
        params += run_ids
    return store.fetch_df(f"SELECT run_id, step, epoch, tokens_seen, name, value FROM run_metrics WHERE {where} "
                          "ORDER BY run_id, name, step", params)


def scores_overview(store: Store, metric: str) -> Any:
    """Every evaluation's models with their mean ``metric`` on the as-trained prompt (pandas):
    old imported comparisons and new evaluations in one table."""
    return store.fetch_df(
        "SELECT e.id AS eval_id, e.source, e.title, e.created_at, m.display_name, m.finetuned, "
        "count(s.value) AS n, avg(s.value) AS mean FROM evaluations e "
        "JOIN eval_models m ON m.eval_id = e.id "
        "LEFT JOIN eval_scores s ON s.eval_id = e.id AND s.model_id = m.model_id AND s.metric = ? "
        "AND s.variant = 'default' GROUP BY ALL ORDER BY e.source, e.created_at DESC, mean DESC NULLS LAST", [metric])
