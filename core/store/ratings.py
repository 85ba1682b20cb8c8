"""Tables of human ratings imported from sheets and of pairwise judge verdicts (046x), for the
agreement of each metric with the human (core/compare/agreement.py).

human_ratings: one number a person gave one model's answer in one row of an imported sheet
(``Nota <model>`` / ``Rating <model>`` / ``Score <model>`` columns, core/compare/human_ratings.py);
the answer itself is the imported evaluation's eval_answers row (eval_id, model_id, idx).

judge_verdicts: a cache of pairwise judge verdicts, keyed by the judge model, the hash of the
question (title and reference) and the hashes of the answer shown first and the one shown second,
so asking again (the other order is another key) never calls the judge twice for the same thing.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.store import Store

MIGRATIONS: list[tuple[str, str]] = [
    ("0461_human_ratings", """
        CREATE TABLE human_ratings (
            eval_id VARCHAR NOT NULL,        -- the imported evaluation (imp-...) whose answer was rated
            model_id VARCHAR NOT NULL,       -- imported:<answer column>
            idx INTEGER NOT NULL,            -- the example (eval_examples.idx)
            rating DOUBLE NOT NULL,          -- the person's number, on the sheet's own scale
            source_file VARCHAR,             -- file name and sheet, to say where a rating came from
            sheet VARCHAR,
            sheet_row INTEGER,               -- the sheet's row number as a spreadsheet shows it (1-based)
            column_name VARCHAR,             -- the rating column's header
            created_at TIMESTAMP DEFAULT current_timestamp,
            PRIMARY KEY (eval_id, model_id, idx)
        );
    """),
    ("0462_judge_verdicts", """
        CREATE TABLE judge_verdicts (
            judge_model VARCHAR NOT NULL,    -- registry id of the judge
            question_sha VARCHAR NOT NULL,   -- sha256 of title + reference (and the prompt's version)
            first_sha VARCHAR NOT NULL,      -- sha256 of the answer shown as A
            second_sha VARCHAR NOT NULL,     -- sha256 of the answer shown as B
            verdict VARCHAR,                 -- a | b | tie (positions), NULL when the text named none
            raw VARCHAR,                     -- the judge's own words (or its error)
            created_at TIMESTAMP DEFAULT current_timestamp,
            PRIMARY KEY (judge_model, question_sha, first_sha, second_sha)
        );
    """),
]


def replace_ratings(store: Store, eval_id: str, rows: Sequence[dict[str, Any]]) -> None:
    """The ratings of one imported evaluation, replacing what an earlier import of it stored."""
    columns = ("eval_id", "model_id", "idx", "rating", "source_file", "sheet", "sheet_row", "column_name")
    with store.transaction() as cur:
        cur.execute("DELETE FROM human_ratings WHERE eval_id = ?", [eval_id])
        if rows:
            cur.executemany(f"INSERT OR REPLACE INTO human_ratings ({', '.join(columns)}) VALUES "
                            f"({', '.join('?' for _ in columns)})",
                            [[eval_id if c == "eval_id" else r.get(c) for c in columns] for r in rows])


def rated_answers(store: Store) -> list[dict[str, Any]]:
    """Every rated answer with its text, title and reference (for the rating pairs)."""
    return store.fetch_dicts(
        "SELECT r.eval_id, r.model_id, r.idx, r.rating, r.source_file, r.sheet, r.sheet_row, "
        "a.answer, e.title, coalesce(a.reference, e.reference) AS reference FROM human_ratings r "
        "JOIN eval_answers a ON a.eval_id = r.eval_id AND a.model_id = r.model_id AND a.variant = 'default' "
        "AND a.idx = r.idx JOIN eval_examples e ON e.eval_id = r.eval_id AND e.idx = r.idx "
        "WHERE a.error IS NULL ORDER BY r.eval_id, r.idx, r.model_id")


def count_ratings(store: Store) -> int:
    row = store.fetchone("SELECT count(*) FROM human_ratings")
    return int(row[0]) if row else 0


def cached_verdicts(store: Store, judge_model: str, keys: Sequence[tuple[str, str, str]]
                    ) -> dict[tuple[str, str, str], tuple[str | None, str]]:
    """{(question_sha, first_sha, second_sha): (verdict, raw)} for the keys already asked."""
    if not keys:
        return {}
    rows = store.fetchall("SELECT question_sha, first_sha, second_sha, verdict, raw FROM judge_verdicts "
                          "WHERE judge_model = ?", [judge_model])
    wanted = set(keys)
    return {(q, f, s): (v, raw or "") for q, f, s, v, raw in rows if (q, f, s) in wanted}


def save_verdicts(store: Store, judge_model: str, rows: Sequence[tuple[str, str, str, str | None, str]]) -> None:
    """(question_sha, first_sha, second_sha, verdict, raw) rows; a verdict asked again is replaced."""
    if not rows:
        return
    with store.transaction() as cur:
        cur.executemany("INSERT OR REPLACE INTO judge_verdicts (judge_model, question_sha, first_sha, second_sha, "
                        "verdict, raw) VALUES (?, ?, ?, ?, ?, ?)", [[judge_model, *r] for r in rows])


def judges_with_verdicts(store: Store) -> list[tuple[str, int]]:
    """(judge model, questions asked and cached), most first: what the xlsx may show without asking anyone."""
    return [(str(m), int(n)) for m, n in store.fetchall(
        "SELECT judge_model, count(*) AS n FROM judge_verdicts "
        "GROUP BY judge_model ORDER BY n DESC, judge_model")]


def fingerprint(store: Store) -> tuple[Any, ...]:
    """What the agreement depends on, cheaply: changes when a vote, a rating or a verdict is added."""
    row = store.fetchone(
        "SELECT (SELECT count(*) FROM arena_votes), (SELECT max(id) FROM arena_votes), "
        "(SELECT count(*) FROM human_ratings), (SELECT max(created_at) FROM human_ratings), "
        "(SELECT count(*) FROM judge_verdicts)")
    return tuple(str(v) for v in row) if row else ()


def vote_answers(store: Store) -> list[dict[str, Any]]:
    """Every arena vote with the two answers it was cast on and the reference (when the prompt came
    from a test example)."""
    return store.fetch_dicts(
        "SELECT v.id, v.model_a, v.model_b, v.winner, v.prompt, ga.answer AS answer_a, gb.answer AS answer_b, "
        "coalesce(ga.reference, gb.reference) AS reference FROM arena_votes v "
        "LEFT JOIN generations ga ON ga.id = v.generation_a LEFT JOIN generations gb ON gb.id = v.generation_b "
        "ORDER BY v.id")
