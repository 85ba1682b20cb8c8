"""The base error of the project: a failure a user can act on, told in one sentence.

Modules define small named subclasses (``class MalformedFileError(UserFacingError)``); the CLI
prints ``error: <message>`` and exits 2, the pages show the message with ``st.error``. Anything
that is *not* a UserFacingError is a bug and keeps its traceback.
"""
from __future__ import annotations


class UserFacingError(Exception):
    """An error whose message is one complete sentence meant for the person using the tool."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
