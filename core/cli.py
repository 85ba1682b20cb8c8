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

MODULE_OF = {"import": "import_sheet"}  # command names that are not their module's name


def _command_in(argv: Sequence[str]) -> str | None:
    """The command word of an argument list (the first word that is not an option or --db's value)."""
    words = iter(argv)
    for word in words:
        if word == "--db":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or only the one ``argv`` names: a command's module imports
    what it needs (duckdb, the evaluation code...), and loading all of them cost every command
    ~0.25 s and ~27 MB before doing anything."""
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="Fine-tuning comparison dashboard: curate, format, train, compare.",
    )
    parser.add_argument("--db", help="DuckDB file to use (default resultados/estudo.duckdb or $FTDASH_DB).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    import core.commands as commands

    names = sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))
    wanted = _command_in(argv) if argv is not None else None
    module = MODULE_OF.get(wanted or "", wanted)
    for name in [module] if module in names else names:
        importlib.import_module(f"core.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
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
