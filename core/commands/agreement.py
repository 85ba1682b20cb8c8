"""``python -m core agreement``: which metric to trust. Each automatic metric's (and, with --judge, an
LLM judge's) agreement with the people: the arena's votes (page 4) and ratings imported with
comparison sheets (``python -m core import`` of a sheet with ``Nota <model>`` columns).

    python -m core agreement                                  # metrics only
    python -m core agreement --judge local:smollm2            # + the pairwise judge, asked in both orders
    python -m core agreement --bootstrap 2000 --xlsx resultados/agreement.xlsx

Prints metric | n | agreement % [low, high] | Kendall τ (models) | position bias, then one line naming
the metric that agrees best (or saying there are too few votes). Judge verdicts are cached: a second
run asks nothing again.
"""
from __future__ import annotations

import argparse
import sys

from core.commands import open_store


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("agreement", help="Which metric agrees with the human votes and ratings (and the judge).")
    parser.add_argument("--judge", default=None, metavar="MODEL",
                        help="A registry model to ask as a pairwise judge (e.g. local:smollm2, openai:gpt-4o-mini-...).")
    parser.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                        help="Resamples of the pairs for the agreement's 95%% interval (default 1000).")
    parser.add_argument("--seed", type=int, default=0, help="Random seed of the bootstrap.")
    parser.add_argument("--xlsx", default=None, metavar="FILE",
                        help="Also write the table to this .xlsx file (sheet 'agreement').")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.compare.agreement import AgreementError, format_table, metric_agreement
    from core.compare.xlsx import check_report_path, write_agreement_xlsx

    if args.bootstrap < 1 or args.bootstrap > 100_000:
        raise AgreementError(f"--bootstrap must be a whole number from 1 to 100000, not {args.bootstrap}.")
    if args.xlsx:
        check_report_path(args.xlsx)  # a bad path fails before any work

    def progress(phase: str, done: int, total: int) -> None:
        if total:
            print(f"\r{phase}: {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    with open_store() as store:
        if args.judge:
            from core.models.registry import get_registered

            get_registered(store, args.judge)  # an unknown judge is one sentence, before any scoring
        report = metric_agreement(store, judge_model=args.judge, n_bootstrap=args.bootstrap, seed=args.seed,
                                  on_progress=progress)
        print(f"human pairs with a winner: {report.pairs} (votes: {report.votes}, rating pairs: "
              f"{report.rating_pairs}, ties or both bad: {report.ties})")
        print(format_table(report))
        for note in report.notes:
            print(f"note: {note.text}")
        print(report.verdict.text)
        if args.xlsx:
            print(f"workbook: {write_agreement_xlsx(report, args.xlsx)}")
    return 0
