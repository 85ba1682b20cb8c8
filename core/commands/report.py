"""``python -m core report``: list evaluations, print a leaderboard, write the xlsx workbook.

    python -m core report                              # evaluations and the latest leaderboard
    python -m core report --xlsx resultados/comparacao.xlsx [--eval ev-1234abcd]
"""
from __future__ import annotations

import argparse

from core.commands import open_store


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="Leaderboard of an evaluation, and the xlsx workbook with --xlsx.")
    parser.add_argument("--xlsx", default=None, help="Write the workbook to this .xlsx file.")
    parser.add_argument("--eval", default=None, help="The evaluation (or imported sheet) id; default: the latest.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.compare.results import leaderboard
    from core.compare.xlsx import ExportError, check_report_path, latest_evaluation, write_report
    from core.store.compare import get_evaluation, list_evaluations

    if args.xlsx:
        check_report_path(args.xlsx)  # a bad path fails before anything is printed
    with open_store() as store:
        for row in list_evaluations(store):
            print(f"{row['id']}  {row['status']:<10} {row['done']}/{row['total']}  {row['title']}")
        eval_id = args.eval or latest_evaluation(store)
        if args.eval and get_evaluation(store, args.eval) is None:
            raise ExportError(f"There is no evaluation {args.eval!r}; the list above shows the ones there are.")
        if eval_id:
            board = leaderboard(store, eval_id)
            if not board.empty:
                print(f"\nleaderboard of {eval_id} (main metric: {board['main_metric'].iloc[0]})")
                columns = [c for c in ("rank", "display_name", "n", "main", "main_low", "main_high",
                                       "inference_cost_per_1k", "training_cost_usd") if c in board.columns]
                print(board[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        if args.xlsx:
            print(f"workbook: {write_report(store, args.xlsx, eval_id)}")
    return 0
