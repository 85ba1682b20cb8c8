"""Blocks of rows, read and cleaned: the inner loop of reading a raw file (see core/data/datasets.py).

A worker turns a block of whole JSON lines (or a batch of table values from DuckDB) into a
``RowBlock``: the rows that could still pass the plan's minimum lengths, cleaned, as UTF-8
buffers + offsets (an Arrow string array's layout, cheap to send between processes), with
lengths, value kinds and a BLAKE2b-128 digest per (title, content). Big JSON lines files are
read by worker *processes* (core/data/workers.py): plain ``python -c`` subprocesses that import
only this module, numpy and core.data.cleaning, talking pickles over their stdin/stdout.

Exactness rules live here: a JSON line is bad exactly when the seed notebook's
``json.loads(line)`` + ``{k: data[k] for k in (...) if k in data}`` fails; values become text
exactly as its pandas did (see core/data/cleaning.py).
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.data.cleaning import (
    clean_texts,
    lower_is_arrow,
    lower_text,
    remove_special_chars,
    safe_text,
    seed_clean_utf8,
)

if TYPE_CHECKING:  # imported where used: worker processes never need pyarrow
    import pyarrow as pa

KIND_TEXT, KIND_NULL, KIND_MISSING, KIND_OTHER = 0, 1, 2, 3
BAD_ENCODING = "bad-encoding"  # what a worker answers for a block that is not UTF-8
_MISSING = object()


@dataclass(frozen=True)
class ReadPlan:
    """What to read from a raw file and how to clean it (a part of CurationConfig). Rows whose
    cleaned title/content cannot reach the minimum lengths are counted but not kept."""

    title_column: str = "title"
    content_column: str = "content"
    cleaning: str = "seed"
    min_title_chars: int = 0
    min_content_chars: int = 0



# -- turning values into cleaned rows ------------------------------------------------------------
@dataclass
class TextBlock:
    """One column of a block of rows, cleaned: UTF-8 bytes + offsets (an Arrow string array's
    buffers, cheap to pickle between processes), code point lengths, kinds."""

    data: bytes
    offsets: np.ndarray
    lengths: np.ndarray
    kinds: np.ndarray

    def to_arrow(self) -> pa.Array:
        import pyarrow as pa

        return pa.Array.from_buffers(pa.string(), len(self.lengths),
                                     [None, pa.py_buffer(self.offsets), pa.py_buffer(self.data)])

    def texts(self, indices: np.ndarray) -> list[str]:
        view = memoryview(self.data)
        starts, ends = self.offsets[indices].tolist(), self.offsets[indices + 1].tolist()
        return [str(view[a:b], "utf-8") for a, b in zip(starts, ends)]

    def encoded(self, index: int) -> bytes:
        return self.data[self.offsets[index]: self.offsets[index + 1]]


def text_block(cleaned: list[str], kinds: np.ndarray) -> TextBlock:
    try:
        encoded = [t.encode("utf-8") for t in cleaned]
    except UnicodeEncodeError:  # lone surrogates (valid JSON escapes, invalid UTF-8)
        cleaned = [safe_text(t) for t in cleaned]
        encoded = [t.encode("utf-8") for t in cleaned]
    return _block_of(encoded, np.fromiter(map(len, cleaned), dtype=np.int32, count=len(cleaned)), kinds)


def _block_of(encoded: list[bytes], lengths: np.ndarray, kinds: np.ndarray) -> TextBlock:
    n = len(encoded)
    offsets = np.zeros(n + 1, dtype=np.int32)  # blocks are far below Arrow's 2 GiB per string array
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int32, count=n), out=offsets[1:])
    return TextBlock(b"".join(encoded), offsets, lengths, kinds)


def pair_digests(title: TextBlock, content: TextBlock, wanted: np.ndarray | None = None) -> np.ndarray:
    """BLAKE2b-128 of each (title, content) pair, the title's length as the hash's personalization
    (so where the title ends is part of it): equal digests mean equal rows unless 128-bit BLAKE2b
    collides. Rows not ``wanted`` (too short to be compared) get zeros."""
    n = len(title.lengths)
    rows = range(n) if wanted is None else np.flatnonzero(wanted).tolist()
    out = np.zeros((n, 16), dtype=np.uint8)
    blake = hashlib.blake2b
    tv, cv = memoryview(title.data), memoryview(content.data)
    to, co = title.offsets.tolist(), content.offsets.tolist()
    digests = bytearray()
    for i in rows:
        h = blake(tv[to[i]: to[i + 1]], digest_size=16, person=(to[i + 1] - to[i]).to_bytes(8, "little"))
        h.update(cv[co[i]: co[i + 1]])
        digests += h.digest()
    out[list(rows) if wanted is not None else slice(None)] = np.frombuffer(bytes(digests), dtype=np.uint8).reshape(-1, 16)
    return out


def _clean_values(values: list[Any], special: list[int], plan: ReadPlan) -> TextBlock:
    """Clean one column of candidate values. ``special`` lists the values that are not strings:
    a null or missing value is the empty text (``"nan"`` in seed mode, as pandas made it), any
    other value is ``str(value)`` (not stripped in seed mode: the notebook stripped only strings)."""
    kinds = np.zeros(len(values), dtype=np.int8)
    texts = values
    if special:
        texts = list(values)
        for i in special:
            v = texts[i]
            kinds[i] = KIND_NULL if v is None else KIND_MISSING if v is _MISSING else KIND_OTHER
            texts[i] = str(v) if kinds[i] == KIND_OTHER else ""
    if plan.cleaning != "seed":
        return text_block(clean_texts(texts, plan.cleaning), kinds)
    encoded, lengths = seed_clean_utf8(texts)
    for i in special:
        text = lower_text(remove_special_chars(texts[i])) if kinds[i] == KIND_OTHER else "nan"
        encoded[i], lengths[i] = safe_text(text).encode("utf-8"), len(text)
    return _block_of(encoded, np.asarray(lengths, dtype=np.int32), kinds)


def _candidate(value: Any, minimum: int, arrow_lower: bool) -> bool:
    """Can this value's cleaned text reach ``minimum`` characters? (False only when surely not.)"""
    if minimum <= 0 or type(value) is not str:
        return True
    n = len(value)
    if n >= minimum:
        return True
    return not (arrow_lower or value.isascii()) and n + value.count("İ") >= minimum


@dataclass
class RowBlock:
    """A block of rows after reading, prefiltering and cleaning. ``rows`` are positions among
    the block's rows until ``BlockReader`` makes them positions among all rows read."""

    n_lines: int
    n_rows: int
    bad: list[int]
    rows: np.ndarray
    title: TextBlock
    content: TextBlock
    digest: np.ndarray  # (n, 16) uint8: pair_digests(title, content)
    other: tuple[bool, bool]  # a non-text, non-null value was seen (pandas: an object column)
    seen: tuple[bool, bool]  # the column was present in at least one row


class _Collector:
    """Keeps the candidate rows of a block while values stream in (shared by every format)."""

    def __init__(self, plan: ReadPlan) -> None:
        self.plan = plan
        self.arrow_lower = lower_is_arrow()
        self.rows: list[int] = []
        self.titles: list[Any] = []
        self.contents: list[Any] = []
        self.special_t: list[int] = []
        self.special_c: list[int] = []
        self.other_t = self.other_c = self.seen_t = self.seen_c = False
        self.n_rows = 0

    def block(self, n_lines: int, bad: list[int]) -> RowBlock:
        title = _clean_values(self.titles, self.special_t, self.plan)
        content = _clean_values(self.contents, self.special_c, self.plan)
        return RowBlock(n_lines, self.n_rows, bad, np.asarray(self.rows, dtype=np.int64), title, content,
                        pair_digests(title, content, self._comparable(title, content)),
                        (self.other_t, self.other_c), (self.seen_t, self.seen_c))

    def _comparable(self, title: TextBlock, content: TextBlock) -> np.ndarray | None:
        """Rows long enough to meet the plan's minimums: only they can ever be compared."""
        if not (self.plan.min_title_chars or self.plan.min_content_chars):
            return None
        return (title.lengths >= self.plan.min_title_chars) & (content.lengths >= self.plan.min_content_chars)


@functools.cache
def _row_decoder(title_column: str, content_column: str) -> Callable[[str], Any]:
    """msgspec's decoder of one JSON line into just the two columns (other keys are skipped
    unparsed into Python objects: ~4x faster than json.loads on trn.json-shaped lines)."""
    import msgspec

    fields = [("t", object, msgspec.UNSET), ("c", object, msgspec.UNSET)]
    rename = {"t": title_column, "c": content_column}
    if title_column == content_column:
        fields, rename = fields[:1], {"t": title_column}
    return msgspec.json.Decoder(msgspec.defstruct("Row", fields, rename=rename)).decode


def _exact_values(line: str, title_column: str, content_column: str) -> tuple[Any, Any] | None:
    """The notebook's ``json.loads(line)`` + ``data[k] if k in data``: (title, content), or None
    for a bad line."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if type(data) is dict:
        return data.get(title_column, _MISSING), data.get(content_column, _MISSING)
    try:  # what `k in data` / `data[k]` do to a list, a string or a number in the notebook
        t = data[title_column] if title_column in data else _MISSING  # noqa: SIM401 (not a dict)
        c = data[content_column] if content_column in data else _MISSING  # noqa: SIM401
    except TypeError:
        return None
    return t, c


def _parse_jsonl_text(text: str, plan: ReadPlan) -> RowBlock:
    """One block of whole lines: the yardstick's json.loads per line, then prefilter and clean.

    Each line goes through msgspec first; a line msgspec refuses or whose values are not text or
    null (numbers, lists, NaN, lone surrogates: msgspec is stricter than json) is read again with
    json.loads, so bad lines and values are exactly json.loads's. (Lines nested ~1000 deep fail
    both, at a depth that depends on the call stack, as in the notebook itself.)"""
    import msgspec

    if "\r" in text:  # Python's universal newlines: \r\n and \r end lines too
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":  # after the last newline: not a line
        lines.pop()
    tk, ck = plan.title_column, plan.content_column
    decode = _row_decoder(tk, ck)
    same_column = tk == ck
    unset, missing = msgspec.UNSET, _MISSING
    refused = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, _NotPlain)
    min_t, min_c = plan.min_title_chars, plan.min_content_chars
    out = _Collector(plan)
    arrow_lower = out.arrow_lower
    rows, titles, contents, special_t, special_c = out.rows, out.titles, out.contents, out.special_t, out.special_c
    bad: list[int] = []
    row = -1
    seen_t = seen_c = False
    for i, line in enumerate(lines):
        try:
            record = decode(line)
            t = record.t
            c = t if same_column else record.c
            if not ((type(t) is str or t is None or t is unset) and (type(c) is str or c is None or c is unset)):
                raise _NotPlain
            if t is unset:
                t = missing
            if c is unset:
                c = missing
        except refused:
            values = _exact_values(line, tk, ck)
            if values is None:
                bad.append(i)
                continue
            t, c = values
        row += 1
        if not seen_t and t is not missing:
            seen_t = True
        if not seen_c and c is not missing:
            seen_c = True
        t_text = type(t) is str
        c_text = type(c) is str
        # inlined _candidate (this loop runs once per line): skip what cannot reach the minimum
        if t_text:
            if len(t) < min_t and (arrow_lower or t.isascii() or len(t) + t.count("İ") < min_t):
                continue
        elif t is not None and t is not missing:
            out.other_t = True
        if c_text:
            if len(c) < min_c and (arrow_lower or c.isascii() or len(c) + c.count("İ") < min_c):
                continue
        elif c is not None and c is not missing:
            out.other_c = True
        if not t_text:
            special_t.append(len(rows))
        if not c_text:
            special_c.append(len(rows))
        rows.append(row)
        titles.append(t)
        contents.append(c)
    out.n_rows = row + 1
    out.seen_t, out.seen_c = seen_t, seen_c
    return out.block(len(lines), bad)


class _NotPlain(Exception):
    """A value msgspec read that is not text or null: read the line again with json.loads."""


# What a worker does to a block before sending it back (e.g. core.data.curation_stream.RowFilter): a
# picklable callable, so the work and the answer's size leave the parent process.
AfterBlock = Callable[[RowBlock], Any] | None


def _parse_bytes(data: bytes, plan: ReadPlan, after: AfterBlock) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # the parent finds the line and says it in one sentence
        return BAD_ENCODING
    block = _parse_jsonl_text(text, plan)
    return after(block) if after is not None else block


def block_from_range(args: tuple[str, int, int, ReadPlan, AfterBlock]) -> Any:
    """Worker task: the lines in bytes [start, end) of a file (then ``after``, if any)."""
    path, start, end, plan, after = args
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    return _parse_bytes(data, plan, after)


def block_from_bytes(args: tuple[bytes, ReadPlan, AfterBlock]) -> Any:
    """Worker task: lines already read (a decompressed .gz)."""
    data, plan, after = args
    return _parse_bytes(data, plan, after)


def byte_ranges(path: Path, block: int) -> list[tuple[int, int]]:
    """Ranges that end just after a newline (so a \\r\\n pair is never split)."""
    size = path.stat().st_size
    ranges, start = [], 0
    with path.open("rb") as handle:
        while start < size:
            end = min(start + block, size)
            if end < size:
                handle.seek(end)
                while True:
                    chunk = handle.read(1 << 16)
                    if not chunk:
                        end = size
                        break
                    at = chunk.find(b"\n")
                    if at >= 0:
                        end += at + 1
                        break
                    end += len(chunk)
            ranges.append((start, end))
            start = end
    return ranges


class LineTooLongError(ValueError):
    """A line longer than the reader holds (a damaged file: see core/data/datasets.py)."""


def split_lines(handle: Any, block: int, max_line: int | None = None) -> Iterator[bytes]:
    """Blocks of whole lines (each ends just after a newline, but the last) from a binary stream;
    a line longer than ``max_line`` raises LineTooLongError instead of filling the memory."""
    rest = b""
    while True:
        chunk = handle.read(block)
        if not chunk:
            if rest:
                yield rest
            return
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            if max_line is not None and len(rest) > max_line:
                raise LineTooLongError(f"a line longer than {max_line} bytes")
            continue
        yield data[:cut]
        rest = data[cut:]


def block_from_values(titles: list[Any], contents: list[Any], plan: ReadPlan) -> RowBlock:
    """A block from a table reader (text or null values; the columns exist)."""
    out = _Collector(plan)
    out.seen_t = out.seen_c = True
    for row, (t, c) in enumerate(zip(titles, contents)):
        if not (_candidate(t, plan.min_title_chars, out.arrow_lower)
                and _candidate(c, plan.min_content_chars, out.arrow_lower)):
            continue
        if t is None:
            out.special_t.append(len(out.rows))
        if c is None:
            out.special_c.append(len(out.rows))
        out.rows.append(row)
        out.titles.append(t)
        out.contents.append(c)
    out.n_rows = len(titles)
    return out.block(len(titles), [])


