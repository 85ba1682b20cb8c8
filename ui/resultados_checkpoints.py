"""Page 5's tab: every checkpoint of a run scored on the held-out split (metric vs step beside the loss curve)."""
from __future__ import annotations

from typing import Any


def checkpoints_tab(store: Any, language: str) -> None:
    """Draw the tab (filled in by its module's owner)."""
