"""``python -m core resume RUN``: continue a cancelled, failed or lost run.

A local run continues from its newest checkpoint (same data order, optimizer and scheduler
state); an OpenAI run re-attaches to its job and resumes it if it was paused. It is followed in
the foreground like ``train`` (``--detach`` returns at once).

    python -m core resume 20261125-164501-smollm2-ab12
"""
from __future__ import annotations

import argparse

from core.commands import open_store


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("resume", help="Resume a training run from its last checkpoint (or its OpenAI job).")
    parser.add_argument("run_id", metavar="RUN", help="The run id (or a unique prefix of it).")
    parser.add_argument("--detach", action="store_true", help="Resume and return at once.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.commands.train import follow_in_terminal
    from core.training import jobs

    with open_store() as store:
        run_id = jobs.resume_run(store, args.run_id)
        print(f"run {run_id} resumed")
        if args.detach:
            return 0
        return follow_in_terminal(store, run_id)
