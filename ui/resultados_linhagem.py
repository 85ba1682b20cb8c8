"""Page 5's tab: lineage: two runs (or recipes) side by side, what differs."""
from __future__ import annotations

from typing import Any


def lineage_tab(store: Any, language: str) -> None:
    """Draw the tab (filled in by its module's owner)."""
