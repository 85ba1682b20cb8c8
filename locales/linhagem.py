"""UI text of linhagem (English, Portuguese): see locales/__init__.py."""
from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
}
