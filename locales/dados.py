"""UI text of the dados page."""

TEXT: dict[str, tuple[str, str]] = {}
