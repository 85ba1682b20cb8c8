"""The command line: ``python -m core <command> ...`` (``--help`` lists the commands).

Each command lives in ``core/commands/<name>.py`` with a ``register(subparsers)`` function that
adds its sub-parser and sets ``func``; this module finds them, runs the chosen one, and turns a
``UserFacingError`` into ``error: <one sentence>`` on stderr with exit status 2 (never a
traceback). Commands call the same core functions as the pages.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from core.errors import UserFacingError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="Fine-tuning comparison dashboard: curate, format, train, compare.",
    )
    parser.add_argument("--db", help="DuckDB file to use (default resultados/estudo.duckdb or $FTDASH_DB).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    import core.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        importlib.import_module(f"core.commands.{info.name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.db:
        os.environ["FTDASH_DB"] = args.db
    try:
        result = args.func(args)
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
