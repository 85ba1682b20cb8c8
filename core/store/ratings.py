"""Tables of human ratings imported from sheets and of pairwise judge verdicts (046x), for the
agreement of each metric with the human (core/compare/agreement.py)."""
from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = []
