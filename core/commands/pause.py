"""``python -m core pause RUN``: pause the OpenAI job of a running run (what the training page's
pause button does). ``python -m core resume RUN`` continues it.

    python -m core pause 20261125-1702            # a unique prefix of the run id is enough
"""
from __future__ import annotations

import argparse

from core.commands import open_store


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("pause", help="Pause a running OpenAI fine-tuning job (resume continues it).")
    parser.add_argument("run", help="The run id (or a unique prefix of it); `python -m core runs` lists them.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.hosted.openai_finetune import pause_openai_run
    from core.training.jobs import get_run

    with open_store() as store:
        found = get_run(store, args.run)
        pause_openai_run(found)
    print(f"pause requested: run {found['id']} (its OpenAI job pauses at the next poll)")
    return 0
