"""UI text of the resultados page."""

TEXT: dict[str, tuple[str, str]] = {}
