"""Fixtures of the browser tests: where screenshots go, and a clear skip where no chromium exists.

    .venv/bin/python -m pytest -q tests/browser                                 # journey + load
    FTDASH_SCREENSHOTS=imagens/jornada .venv/bin/python -m pytest -q tests/browser/test_journey.py
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.harness import CHROMIUM


@pytest.fixture(autouse=True)
def needs_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser at {CHROMIUM}: install Debian's chromium (scripts/install.sh says how)")


@pytest.fixture
def screens(tmp_path: Path) -> Path:
    """Screenshot folder: $FTDASH_SCREENSHOTS when set (README pictures), else under the test's tmp dir."""
    folder = Path(os.environ.get("FTDASH_SCREENSHOTS") or tmp_path / "screens").expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder
