"""Tables of study recipes: the steps each recipe ran, with the fingerprint of their inputs (05xx).

study_steps   one row per attempt of a step of a study (``python -m core study run``): the hash of the
              step's inputs (its config + what the steps it depends on produced), its status
              (running | done | failed | skipped), what it produced (outputs_json: the curated
              dataset, the export file, the run id, the evaluation id...) and one sentence. A step
              whose latest ``done`` row has the same inputs hash, and whose outputs still exist, is
              reused; a ``running`` row left by a killed runner tells the next run which training
              run to follow or resume.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.store import Store

MIGRATIONS: list[tuple[str, str]] = [
    ("0501_study_steps", """
        CREATE SEQUENCE study_steps_id;
        CREATE TABLE study_steps (
            id INTEGER PRIMARY KEY DEFAULT nextval('study_steps_id'),
            study VARCHAR NOT NULL,
            step VARCHAR NOT NULL,
            inputs_hash VARCHAR NOT NULL,
            status VARCHAR NOT NULL,            -- running | done | failed | skipped
            outputs_json VARCHAR,               -- what the step made (ids, names, paths); never a secret
            message VARCHAR,                    -- one sentence, as printed
            recipe_sha VARCHAR,                 -- sha256[:12] of the recipe's text
            recipe_path VARCHAR,
            started_at TIMESTAMP,
            ended_at TIMESTAMP
        );
    """),
]
STATUSES = ("running", "done", "failed", "skipped")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _row(row: dict[str, Any]) -> dict[str, Any]:
    try:
        outputs = json.loads(row.get("outputs_json") or "{}")
    except ValueError:
        outputs = {}
    return {**row, "outputs": outputs if isinstance(outputs, dict) else {}}


def start_step(store: Store, study: str, step: str, inputs_hash: str, *, recipe_sha: str = "",
               recipe_path: str = "", outputs: dict[str, Any] | None = None) -> int:
    """A new ``running`` attempt; returns its id."""
    with store.transaction() as cur:
        row = cur.execute(
            "INSERT INTO study_steps (study, step, inputs_hash, status, outputs_json, recipe_sha, recipe_path, "
            "started_at) VALUES (?, ?, ?, 'running', ?, ?, ?, ?) RETURNING id",
            [study, step, inputs_hash, json.dumps(outputs or {}, sort_keys=True), recipe_sha, recipe_path,
             _now()]).fetchone()
    return int(row[0])


def set_outputs(store: Store, step_id: int, outputs: dict[str, Any]) -> None:
    """What a running step made so far (the run id as soon as it is launched)."""
    with store.transaction():
        store.execute("UPDATE study_steps SET outputs_json = ? WHERE id = ?",
                      [json.dumps(outputs, sort_keys=True, default=str), step_id])


def end_step(store: Store, step_id: int, status: str, outputs: dict[str, Any] | None = None,
             message: str = "") -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown step status {status!r}")
    with store.transaction():
        if outputs is None:
            store.execute("UPDATE study_steps SET status = ?, message = ?, ended_at = ? WHERE id = ?",
                          [status, message, _now(), step_id])
        else:
            store.execute("UPDATE study_steps SET status = ?, outputs_json = ?, message = ?, ended_at = ? "
                          "WHERE id = ?",
                          [status, json.dumps(outputs, sort_keys=True, default=str), message, _now(), step_id])


def record_skipped(store: Store, study: str, step: str, inputs_hash: str, message: str, *,
                   recipe_sha: str = "", recipe_path: str = "") -> None:
    """A step skipped (a key missing, nothing to evaluate): said once per run, kept for the page."""
    step_id = start_step(store, study, step, inputs_hash, recipe_sha=recipe_sha, recipe_path=recipe_path)
    end_step(store, step_id, "skipped", {}, message)


def last_done(store: Store, study: str, step: str) -> dict[str, Any] | None:
    """The latest finished attempt of a step (with ``outputs`` parsed), or None."""
    rows = store.fetch_dicts("SELECT * FROM study_steps WHERE study = ? AND step = ? AND status = 'done' "
                             "ORDER BY id DESC LIMIT 1", [study, step])
    return _row(rows[0]) if rows else None


def last_attempt(store: Store, study: str, step: str, inputs_hash: str,
                 before: int | None = None) -> dict[str, Any] | None:
    """The latest attempt of a step with these inputs, whatever its status (a killed run left it
    ``running``); ``before``: only attempts older than this one (the attempt now running)."""
    rows = store.fetch_dicts("SELECT * FROM study_steps WHERE study = ? AND step = ? AND inputs_hash = ? "
                             "AND status <> 'skipped' AND id < ? ORDER BY id DESC LIMIT 1",
                             [study, step, inputs_hash, before if before is not None else 2**31 - 1])
    return _row(rows[0]) if rows else None


def study_steps(store: Store, study: str) -> list[dict[str, Any]]:
    """The latest attempt of every step of a study, in the order they were first run."""
    rows = store.fetch_dicts(
        "SELECT * FROM study_steps s WHERE study = ? AND id = (SELECT max(id) FROM study_steps t "
        "WHERE t.study = s.study AND t.step = s.step) ORDER BY (SELECT min(id) FROM study_steps u "
        "WHERE u.study = s.study AND u.step = s.step)", [study])
    return [_row(r) for r in rows]


def list_studies(store: Store) -> list[dict[str, Any]]:
    """Every study that ran a step: name, steps done, last activity."""
    return store.fetch_dicts(
        "SELECT study, count(DISTINCT step) FILTER (WHERE status = 'done') AS steps_done, "
        "max(coalesce(ended_at, started_at)) AS last_at FROM study_steps GROUP BY study ORDER BY last_at DESC")
