"""UI text of the formatos page."""

TEXT: dict[str, tuple[str, str]] = {}
