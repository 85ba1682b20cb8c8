"""Tables and queries for the runs feature (see the MIGRATIONS numbering in core/store/__init__.py)."""
from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = []
