"""``python -m core cancel RUN``: stop a run (its checkpoint is kept; ``resume`` continues it).

The run is asked to stop through its folder (the cancel file); after the grace period its whole
process group is ended. When the app holds the database, only the request is made, through the
run folder, and the app records the end.

    python -m core cancel 20261125-164501-smollm2-ab12      # or a unique prefix of the id
"""
from __future__ import annotations

import argparse
import sys

from core.commands import open_store
from core.errors import UserFacingError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("cancel", help="Cancel a training run (graceful, then forced after a grace period).")
    parser.add_argument("run_id", metavar="RUN", help="The run id (or a unique prefix of it).")
    parser.add_argument("--grace", type=float, default=None,
                        help="Seconds the run gets to stop by itself before it is killed (default: its config's).")
    parser.set_defaults(func=run)


def _cancel_through_folder(run_id: str) -> int:
    from core.paths import runs_dir
    from core.training.backends.base import CANCEL_FILE

    found = [p for p in runs_dir().glob(f"{run_id}*") if p.is_dir()] if runs_dir().is_dir() else []
    if len(found) != 1:
        raise UserFacingError(f"No single run folder matches {run_id!r} in {runs_dir()}.")
    (found[0] / CANCEL_FILE).touch()
    print(f"The app holds the database: run {found[0].name} was asked to stop through its folder, "
          "and the app will record it.")
    return 0


def run(args: argparse.Namespace) -> int:
    from core.store import DatabaseLockedError
    from core.training import jobs

    try:
        store = open_store()
    except DatabaseLockedError:
        return _cancel_through_folder(args.run_id)
    with store:
        print(f"cancelling {jobs.get_run(store, args.run_id)['id']} ...", file=sys.stderr)
        result = jobs.cancel_run(store, args.run_id, grace_s=args.grace)
    print(f"run {result['id']}: {result['status']}" + (f" ({result['status_message']})"
                                                        if result.get("status_message") else ""))
    return 0
