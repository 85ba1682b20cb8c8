"""Tables of study recipes: the steps each recipe ran, with the fingerprint of their inputs (05xx)."""
from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = []
