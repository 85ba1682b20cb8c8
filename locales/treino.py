"""UI text of the treino page."""

TEXT: dict[str, tuple[str, str]] = {}
