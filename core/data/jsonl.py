"""Reading JSON lines files (training files, curated splits) in bounded memory, with one-sentence errors.

A file given by path can be anything: a binary file, text in another encoding, a 2 GB file with no
newline at all. ``numbered_lines`` never holds more than one line of at most ``MAX_LINE_BYTES``
in memory: a longer line is skipped without being read into memory and reported as ``None``, a
binary file or a line that is not UTF-8 raises the caller's error class with one sentence.
Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (Python's universal newlines, as text mode).

    for number, text in numbered_lines(path, TrainingDataError):
        if text is None: ...            # longer than MAX_LINE_BYTES
    records = read_records(path, TrainingDataError)   # JSON objects, blank lines skipped
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.errors import UserFacingError

# 4 MiB is about a million tokens: beyond the context of every model we train or estimate
# (OpenAI's fine-tuning examples stop at 64k tokens), so such a line is a broken file, not data.
MAX_LINE_BYTES = 4 << 20
_CHUNK = 1 << 20
_LONE_CR = re.compile(rb"\r(?!\n)")


def _size(n: int) -> str:
    return f"{n / (1 << 30):.1f} GB" if n >= 1 << 30 else f"{n / (1 << 20):.1f} MB"


def check_text_head(path: Path, error: type[UserFacingError]) -> None:
    """A binary file (NUL bytes in its first 64 KiB) is refused before anything else is read."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise error(f"{path.name} is UTF-16 text, not UTF-8: save it as UTF-8 and try again.")
    if b"\x00" in head:
        raise error(f"{path.name} is a binary file, not JSON lines text (UTF-8).")


def _raw_lines(path: Path, max_bytes: int) -> Iterator[bytes | None]:
    """Each line's bytes (without its newline), or None for a line longer than ``max_bytes``."""
    with path.open("rb") as handle:
        rest = b""
        skipping = False
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            start = 0
            while True:
                at = chunk.find(b"\n", start)
                if at < 0:
                    break
                if skipping:
                    skipping = False
                else:
                    line = rest + chunk[start:at]
                    if len(line) > max_bytes:
                        yield None
                    else:
                        yield from _split_cr(line)
                rest = b""
                start = at + 1
            if not skipping:
                rest += chunk[start:]
                if len(rest) > max_bytes:  # a line too long to hold: skip to its end unread
                    rest = b""
                    skipping = True
                    yield None
        if rest and not skipping:
            yield from _split_cr(rest)


def _split_cr(line: bytes) -> Iterator[bytes]:
    if line.endswith(b"\r"):
        line = line[:-1]
    if b"\r" in line:
        yield from _LONE_CR.split(line)
    else:
        yield line


def numbered_lines(path: str | Path, error: type[UserFacingError],
                   max_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, str | None]]:
    """(1-based line number, text) for every line; text is None for a line over ``max_bytes``."""
    path = Path(path)
    check_text_head(path, error)
    for number, raw in enumerate(_raw_lines(path, max_bytes), start=1):
        if raw is None:
            yield number, None
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(f"{path.name} is not UTF-8 text (line {number} has byte 0x{raw[exc.start]:02x}): "
                        "save it as UTF-8 and try again.") from None
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield number, text


def too_long(path: str | Path, number: int, max_bytes: int = MAX_LINE_BYTES) -> str:
    return (f"{Path(path).name} line {number} is longer than {_size(max_bytes)}, far beyond any model's "
            "context: the file is damaged or is not a training file.")


def iter_records(path: str | Path, error: type[UserFacingError],
                 max_bytes: int = MAX_LINE_BYTES) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON lines file, one at a time (blank lines skipped); any other line
    is ``error`` with one sentence naming it."""
    name = Path(path).name
    for number, text in numbered_lines(path, error, max_bytes):
        if text is None:
            raise error(too_long(path, number, max_bytes))
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            raise error(f"{name} line {number} is not valid JSON.") from None
        if not isinstance(record, dict):
            raise error(f"{name} line {number} is not a JSON object.")
        yield record


def read_records(path: str | Path, error: type[UserFacingError],
                 max_bytes: int = MAX_LINE_BYTES) -> list[dict[str, Any]]:
    return list(iter_records(path, error, max_bytes))


def check_records(path: str | Path, error: type[UserFacingError], what: str = "training examples",
                  max_bytes: int = MAX_LINE_BYTES) -> int:
    """Count the JSON objects of a file holding one line at a time (a check before launching work):
    the errors of ``iter_records``, plus one when there is no object at all."""
    count = sum(1 for _ in iter_records(path, error, max_bytes))
    if not count:
        raise error(f"{Path(path).name} holds no {what}.")
    return count
