"""Page 3's figures of finished runs: the estimate made at launch beside what happened (time and
cost, with the estimate's error) and the table of runs, every missing figure as n/a, never None.

    from ui.treino_runs import estimate_check, runs_table
    estimate_check(store, run)                 # a caption and a small table once the run has ended
    st.dataframe(runs_table(db.list_runs(store)))
"""
from __future__ import annotations

import json
from typing import Any

import streamlit as st

from core.store import runs as db
from core.training.run_data import estimate_vs_actual
from locales import t
from ui.common import lang, tr
from ui.core_text import throughput_source
from ui.numbers import integer, na, num, percent, usd


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return na()
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def usd_text(value: float | None) -> str:
    if value is None:
        return na()
    return usd(value, 4 if value < 1 else 2)


def source_text(kind: str, source: str | None) -> str:
    """Where an estimate's speed came from: past runs, a calibration, the hardware table, ..."""
    text = throughput_source(source)
    named = tr("source.hardware", name="")   # "hardware table: ", said once already by the kind
    if kind == "table" and text.startswith(named):
        text = text[len(named):]
    return tr("treino.est_source_kind", kind=tr(f"treino.source_kind_{kind or 'given'}"), source=text)


def estimate_check(store: Any, run: dict[str, Any]) -> None:
    """Once a run has ended: the estimate made at launch beside what happened, with its error, and
    where the estimate's speed came from (past runs, a calibration, the hardware table)."""
    if run["status"] not in db.TERMINAL or (run.get("estimated_wall_s") is None
                                            and run.get("estimated_cost_usd") is None):
        return
    from core.costs.estimates import estimates_for_run

    check = estimate_vs_actual(run)
    rows = [{"": tr("treino.check_time"), tr("treino.check_estimated"): duration_text(check["estimated_wall_s"]),
             tr("treino.check_actual"): duration_text(check["wall_s"]),
             tr("treino.check_error"): percent(check["time_error_pct"])},
            {"": tr("treino.check_cost"), tr("treino.check_estimated"): usd_text(check["estimated_cost_usd"]),
             tr("treino.check_actual"): usd_text(check["actual_cost_usd"]),
             tr("treino.check_error"): percent(check["cost_error_pct"])}]
    kept = estimates_for_run(store, run["id"])
    source = ""
    if kept:
        details = json.loads(kept[0].get("details_json") or "{}")
        kind = details.get("throughput_kind") or ("seed-job" if run["backend"] == "openai" else "given")
        source = source_text(kind, kept[0].get("throughput_source"))
    st.caption(tr("treino.check_title") + (f" · {source}" if source else ""))
    st.dataframe(rows, hide_index=True, key=f"treino.check.{run['id']}")


def runs_table(runs: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The runs as text in the page's language: a missing figure is n/a, never None; the estimate
    made at launch beside the actual time and cost, with its error."""
    cells = {
        "id": str, "backend": lambda v: t(f"treino.backend_{v}", lang()), "base_model": str,
        "status": lambda v: tr(f"treino.status_{v}"), "step": integer, "total_steps": integer,
        "final_loss": lambda v: num(v, 4), "best_loss": lambda v: num(v, 4), "tokens_per_s": integer,
        "estimated_wall_s": duration_text, "wall_s": duration_text, "time_error_pct": percent,
        "estimated_cost_usd": usd_text,
        "actual_cost_usd": usd_text, "cost_error_pct": percent, "device": str,
    }
    table = []
    for run in runs:
        row = {**run, **estimate_vs_actual(run)}
        table.append({tr(f"treino.col_{name}"): na() if row.get(name) in (None, "") else show(row[name])
                      for name, show in cells.items()})
    return table
