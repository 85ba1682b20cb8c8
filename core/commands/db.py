"""``python -m core db``: where the database is, which migrations are applied, row counts."""
from __future__ import annotations

import argparse

from core.commands import open_store


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="Show the database file, its migrations and table sizes.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_store() as store:
        print(f"database: {store.path}")
        for name in store.applied_migrations():
            print(f"migration: {name}")
        tables = store.fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        )
        for (table,) in tables:
            (count,) = store.fetchone(f'SELECT count(*) FROM "{table}"') or (0,)
            print(f"table: {table} ({count} rows)")
    return 0
