"""One module per CLI command; each defines ``register(subparsers)`` (see core/cli.py)."""
from __future__ import annotations

from core.store import DatabaseLockedError, Store


def open_store() -> Store:
    """The database for a CLI command: the file itself, or, while the app holds it, the app's
    connection (``core.store.remote``: same API, the app runs the SQL). Raises DatabaseLockedError
    (one sentence) when another process holds it and no app answers for it.

    Commands check their arguments before calling this: a bad argument is reported as such, never
    as a busy database."""
    try:
        return Store()
    except DatabaseLockedError as locked:
        from core.store.remote import connect_to_app

        remote = connect_to_app(locked.path, locked.holder_pid)
        if remote is None:
            raise
        return remote
