"""UI text of the playground page."""

TEXT: dict[str, tuple[str, str]] = {}
