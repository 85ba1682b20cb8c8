"""One module per CLI command; each defines ``register(subparsers)`` (see core/cli.py)."""
from __future__ import annotations

from core.store import Store


def open_store() -> Store:
    """The database for a CLI command; raises DatabaseLockedError (one sentence) if the app holds it."""
    return Store()
