"""Text cleaning modes of the curation pipeline, exact to the seed notebook where it matters.

Modes:
  ``none``  values as they are (a null or missing value is the empty text).
  ``seed``  the seed notebook's cleaning, done exactly as ../shared/bench/seed_notebook_baseline.py
            does it: Python ``str.strip()``, keep only characters ``c`` with ``c.isalnum() or
            c.isspace()``, then pandas' ``.str.lower()``; null / missing values become the text
            pandas gives them (``"nan"``, or ``"none"`` in a column that also holds non-text
            values, where pandas keeps ``None``); non-text values become ``str(value)``.
  ``html``  HTML entities decoded (``&amp;`` -> ``&``, Python's ``html.unescape``), then stripped.

Why "pandas' lower" and not Python's: with the pinned pandas 3 and pyarrow, pandas stores text
as Arrow strings and ``.str.lower()`` is Arrow's ``utf8_lower`` (a one-to-one code point
mapping: ``"İ"`` -> ``"i"``, no final sigma, a newer Unicode table; 77 code points differ from
Python's ``str.lower``). ``lower_is_arrow()`` decides which one the installed pandas uses, so the
``seed-notebook`` preset writes what the yardstick writes in this environment.

Speed: most text is ASCII, cleaned with ``bytes.translate`` (delete table built from Python's own
predicates over the 128 ASCII codes; note ``\\x1c``-``\\x1f`` are whitespace for Python). Other
text goes through one compiled regex whose character class is generated from Python's
predicates over every code point, built on first use (~0.2 s).

    clean_texts(["  Olá, Mundo!! "], "seed")    # ['olá mundo']
"""
from __future__ import annotations

import functools
import html
import importlib.metadata
import importlib.util
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

CLEANING_MODES = ("none", "seed", "html")
_ASCII_DELETE = bytes(c for c in range(128) if not (chr(c).isalnum() or chr(c).isspace()))
_ASCII_LOWER = bytes.maketrans(bytes(range(65, 91)), bytes(range(97, 123)))


@functools.cache
def lower_is_arrow() -> bool:
    """True when pandas' ``.str.lower()`` is Arrow's utf8_lower (pandas >= 3 with pyarrow)."""
    try:
        major = int(importlib.metadata.version("pandas").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return major >= 3 and importlib.util.find_spec("pyarrow") is not None


@functools.cache
def _special_chars_regex() -> re.Pattern[str]:
    """``[^keep]+`` where keep = every code point with isalnum() or isspace(), from Python itself."""
    ranges: list[tuple[int, int]] = []
    start = None
    for code in range(0x110000):
        char = chr(code)
        keep = char.isalnum() or char.isspace()
        if keep and start is None:
            start = code
        elif not keep and start is not None:
            ranges.append((start, code - 1))
            start = None
    if start is not None:
        ranges.append((start, 0x10FFFF))
    body = "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    return re.compile(f"[^{body}]+")


def remove_special_chars(text: str) -> str:
    """Keep only characters that are alphanumeric or whitespace (Python's isalnum/isspace)."""
    if text.isascii():
        return text.encode("ascii").translate(None, _ASCII_DELETE).decode("ascii")
    return _special_chars_regex().sub("", text)


def lower_texts(texts: Sequence[str]) -> list[str]:
    """Lowercase as pandas' ``.str.lower()`` does here (Arrow or Python, see lower_is_arrow)."""
    if not lower_is_arrow():
        return [t.lower() for t in texts]
    out = list(texts)
    slow = [i for i, t in enumerate(out) if not t.isascii()]
    for i, t in enumerate(out):
        if t.isascii():
            out[i] = t.lower()  # ASCII: Arrow and Python agree
    if slow:
        import pyarrow.compute as pc

        lowered = pc.utf8_lower(arrow_strings([out[i] for i in slow])).to_pylist()
        for i, t in zip(slow, lowered):
            out[i] = t
    return out


def arrow_strings(texts: Sequence[str]) -> pa.Array:
    """An Arrow string array built from its buffers (``pa.array`` would import pandas: +0.5 s)."""
    import numpy as np
    import pyarrow as pa

    encoded = [safe_text(t).encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    return pa.Array.from_buffers(pa.large_string(), len(encoded),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


def lower_text(text: str) -> str:
    return text.lower() if text.isascii() else lower_texts([text])[0]


def seed_clean(text: str) -> str:
    """The notebook's cleaning of one text value: strip, drop special characters, lowercase."""
    return lower_text(remove_special_chars(text.strip()))


def clean_texts(texts: Sequence[str], mode: str) -> list[str]:
    """Clean text values (already strings) with a mode; see the module docstring."""
    if mode == "none":
        return list(texts)
    if mode == "html":
        return [html.unescape(t).strip() if "&" in t else t.strip() for t in texts]
    if mode == "seed":
        out: list[str] = []
        slow: list[int] = []
        delete = _ASCII_DELETE
        for t in texts:
            t = t.strip()
            if t.isascii():
                out.append(t.encode("ascii").translate(None, delete).lower().decode("ascii"))
            else:
                slow.append(len(out))
                out.append(_special_chars_regex().sub("", t))
        if slow:
            lowered = lower_texts([out[i] for i in slow])
            for i, t in zip(slow, lowered):
                out[i] = t
        return out
    raise ValueError(f"unknown cleaning mode {mode!r}")


def seed_clean_utf8(texts: Sequence[str]) -> tuple[list[bytes], list[int]]:
    """``seed`` cleaning straight to UTF-8 bytes, with each result's length in code points.

    ASCII text (almost all of it) takes one ``bytes.translate`` that deletes and lowercases at once.
    """
    encoded: list[bytes] = []
    lengths: list[int] = []
    slow: list[int] = []
    table, delete = _ASCII_LOWER, _ASCII_DELETE
    for t in texts:
        t = t.strip()
        if t.isascii():
            b = t.encode("ascii").translate(table, delete)
            encoded.append(b)
            lengths.append(len(b))
        else:
            slow.append(len(encoded))
            encoded.append(b"")
            lengths.append(0)
    if slow:
        pattern = _special_chars_regex()
        lowered = lower_texts([pattern.sub("", texts[i].strip()) for i in slow])
        for i, t in zip(slow, lowered):
            encoded[i] = t.encode("utf-8")
            lengths[i] = len(t)
    return encoded, lengths


def max_cleaned_length(text: str) -> int:
    """An upper bound of ``len(clean(text))`` for every mode, used to skip rows early.

    strip and removing characters only shrink; html.unescape never makes an entity longer than
    its own text; Arrow's lower is one code point to one; Python's lower grows only "İ" (to 2).
    """
    if text.isascii() or lower_is_arrow():
        return len(text)
    return len(text) + text.count("İ")


def safe_text(text: str) -> str:
    """The text with lone surrogates (valid in Python, not in UTF-8 / Arrow) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
