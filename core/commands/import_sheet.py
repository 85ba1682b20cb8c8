"""``python -m core import FILE``: import an old comparison sheet in the seed study's layout
(``Titulo | Descrição do dataset | <model> | ...``; .xlsx, .ods or .csv) as evaluations, scored
like new ones, to compare beside them on page 5.

    python -m core import dados/seed/fine_tuning_llama_gpt.ods
"""
from __future__ import annotations

import argparse

from core.commands import open_store


def register(sub: argparse._SubParsersAction) -> None:
    # The module cannot be named import.py (a keyword); the command is still "import".
    parser = sub.add_parser("import", help="Import a comparison sheet in the seed layout (xlsx, ods, csv).")
    parser.add_argument("file", help="The .xlsx / .ods / .csv file.")
    parser.add_argument("--no-score", action="store_true", help="Do not compute metrics for the imported answers.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.compare.results import leaderboard
    from core.compare.xlsx import ImportSheetError, import_sheet
    from core.store.compare import get_evaluation

    path = Path(args.file).expanduser()  # bad arguments are named before any database work
    if not path.is_file():
        raise ImportSheetError(f"{path} does not exist.")
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".ods", ".csv"):
        raise ImportSheetError(f"{path.name}: import reads .xlsx, .ods or .csv files.")
    with open_store() as store:
        for eval_id in import_sheet(store, args.file, score=not args.no_score):
            row = get_evaluation(store, eval_id) or {}
            print(f"imported: {eval_id}  {row.get('title')}  ({row.get('total')} answers)")
            board = leaderboard(store, eval_id)
            if not board.empty and not args.no_score:
                print(board[["display_name", "n", "main"]].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0
