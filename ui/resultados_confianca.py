"""Page 5's tab: which metric to trust: each metric's and the judge's agreement with the human votes."""
from __future__ import annotations

from typing import Any


def trust_tab(store: Any, language: str) -> None:
    """Draw the tab (filled in by its module's owner)."""
