"""``python -m core runs``: the training runs, newest first (after one supervision pass, so runs
whose process died are shown as lost).

    python -m core runs                 # a table; est_s / est_usd: the estimate made at launch,
                                        # time_err / cost_err: its error in % of the actual (succeeded runs),
                                        # quote_usd: the provider's own quote (Together, Fireworks),
                                        # model: the fine-tuned model (hosted) or adapter folder (local)
    python -m core runs --json          # every column, for scripts
"""
from __future__ import annotations

import argparse
import json

from core.commands import open_store

COLUMNS = ("id", "backend", "base_model", "status", "step", "total_steps", "final_loss", "best_loss",
           "tokens_per_s", "estimated_wall_s", "wall_s", "time_error_pct", "estimated_cost_usd", "provider_quote_usd",
           "actual_cost_usd", "cost_error_pct", "output_model")
# shorter headers for the table (the JSON keeps the full names)
HEADERS = {"estimated_wall_s": "est_s", "time_error_pct": "time_err", "estimated_cost_usd": "est_usd",
           "actual_cost_usd": "usd", "cost_error_pct": "cost_err", "total_steps": "steps_total",
           "provider_quote_usd": "quote_usd", "output_model": "model"}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("runs", help="List training runs (local, OpenAI, Together, Fireworks) with their status "
                                         "and figures.")
    parser.add_argument("--json", action="store_true", help="Print every column as JSON lines.")
    parser.add_argument("--limit", type=int, default=50, help="Show at most this many runs (newest first).")
    parser.set_defaults(func=run)


def _cell(value: object, column: str = "", row_unit: str | None = None) -> str:
    if value is None:
        return "—"
    if column == "step" and row_unit == "percent" and isinstance(value, (int, float)):
        return f"{value:.0f}%"
    if column.endswith("_pct") and isinstance(value, (int, float)):
        return f"{value:+.0f}%"
    if column.endswith("_usd") and isinstance(value, (int, float)):
        return f"${value:.4f}" if value < 1 else f"${value:,.2f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def run(args: argparse.Namespace) -> int:
    from core.store import runs as db
    from core.training import jobs
    from core.training.run_data import estimate_vs_actual

    with open_store() as store:
        jobs.poll(store)
        rows = [{**row, **estimate_vs_actual(row)} for row in db.list_runs(store, limit=args.limit)]
    if args.json:
        for row in rows:
            print(json.dumps(row, default=str, ensure_ascii=False))
        return 0
    if not rows:
        print("no runs yet: `python -m core train --preset cpu-demo` starts one")
        return 0
    table = [tuple(HEADERS.get(c, c) for c in COLUMNS)] + [tuple(_cell(r.get(c), c, r.get("step_unit")) for c in COLUMNS) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    for row in rows:
        if row["status"] in ("failed", "lost", "cancelled") and row.get("status_message"):
            print(f"{row['id']}: {row['status_message']}")
    return 0
