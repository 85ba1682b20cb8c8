"""Raw datasets: finding the format, checking the file, reading title/content, fingerprints, uploads.

Formats: JSON lines (the trn.json shape), a JSON array, CSV and Parquet, each optionally
gzipped (``.gz``). JSON arrays, CSV and Parquet are read by DuckDB's readers (read_json with
format='array', read_csv, read_parquet). JSON lines are read line by line with Python's own
``json.loads`` (in 2 processes for big files) because the seed notebook's semantics are those
of Python: its lines are what Python's file iteration yields (universal newlines), a line is
bad when ``json.loads`` rejects it or it is not an object, and the bad ones are skipped and
counted. DuckDB's JSON parser disagrees with Python on some lines (it accepts ``nan``/``inf``
and trailing commas, rejects lone surrogate escapes, silently skips blank lines and cuts lines
at NUL bytes), so it cannot count bad lines or pick rows the way the yardstick does; measured
here, the exact Python path costs about what DuckDB plus the extra checks would.

Reading returns ``CleanRows``: the rows' title and content, already cleaned with the chosen mode
(core/cleaning.py), as Arrow arrays. A reader can be told the smallest title/content length a
row must reach after cleaning: rows that cannot reach it (cleaned length <= raw length, see
``max_cleaned_length``) are counted but not cleaned or kept, which is most of a raw file.

    report = inspect_file("dados/amostra_trn_20k.json.gz")     # format, columns, fingerprint
    rows = read_rows("trn.json", ReadPlan(cleaning="seed", min_title_chars=41, min_content_chars=401))
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import pickle
import re
import struct
import subprocess
import sys
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.cleaning import (
    CLEANING_MODES,
    clean_texts,
    lower_is_arrow,
    lower_text,
    remove_special_chars,
    safe_text,
    seed_clean_utf8,
)
from core.errors import UserFacingError
from core.paths import PROJECT_ROOT, results_dir

if TYPE_CHECKING:  # imported where used: worker processes never need pyarrow
    import pyarrow as pa

FORMATS = ("jsonl", "json", "csv", "parquet")
HEAD_BYTES = 1 << 16
BLOCK_BYTES = 4 << 20
PARALLEL_MIN_BYTES = 48 << 20
KIND_TEXT, KIND_NULL, KIND_MISSING, KIND_OTHER = 0, 1, 2, 3
_MISSING = object()
Progress = Callable[[float, str], None]


class DatasetError(UserFacingError):
    """A raw dataset that cannot be read."""


class DatasetNotFoundError(DatasetError):
    """The path does not name an existing file."""


class EmptyDatasetError(DatasetError):
    """The file has no rows at all."""


class NotJsonError(DatasetError):
    """A file read as JSON that holds no JSON object at all."""


class BinaryFileError(DatasetError):
    """A binary file (NUL bytes, not text)."""


class EncodingError(DatasetError):
    """A text file that is not UTF-8."""


class ColumnNotFoundError(DatasetError):
    """The mapped title/content column is not in the file."""


class UnsupportedFormatError(DatasetError):
    """A file whose contents match none of the supported formats."""


@dataclass(frozen=True)
class ReadPlan:
    """What to read from a raw file and how to clean it (a part of CurationConfig)."""

    title_column: str = "title"
    content_column: str = "content"
    cleaning: str = "seed"
    min_title_chars: int = 0
    min_content_chars: int = 0


@dataclass
class FileInfo:
    """What a quick look at a raw file tells: format, compression, size, fingerprint."""

    path: str
    format: str
    gzipped: bool
    size_bytes: int
    fingerprint: str
    columns: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    """How reading went: rows, lines and bad lines (JSON lines only), time."""

    path: str
    format: str
    fingerprint: str
    size_bytes: int
    rows: int
    lines: int | None = None
    bad_lines: int = 0
    bad_line_numbers: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CleanRows:
    """Rows read and cleaned. ``rows`` are their positions among all rows read (file order);
    rows that could not pass the plan's minimum lengths are counted in ``report.rows`` only.
    ``digest`` is BLAKE2b-128 of each (title, content) pair, to find duplicates fast."""

    report: LoadReport
    plan: ReadPlan
    rows: np.ndarray
    title: pa.ChunkedArray
    content: pa.ChunkedArray
    title_len: np.ndarray
    content_len: np.ndarray
    digest: np.ndarray
    title_null: np.ndarray
    content_null: np.ndarray

    @property
    def n_rows(self) -> int:
        return self.report.rows


# -- looking at a file ----------------------------------------------------------------------
def fingerprint(path: str | Path) -> str:
    """size + mtime + blake2b of the first and last MiB: cheap, and changes when the file does."""
    p = Path(path)
    stat = p.stat()
    digest = hashlib.blake2b(digest_size=12)
    digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    with p.open("rb") as handle:
        digest.update(handle.read(1 << 20))
        if stat.st_size > 2 << 20:
            handle.seek(-(1 << 20), os.SEEK_END)
            digest.update(handle.read())
    return digest.hexdigest()


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _head(path: Path, gzipped: bool, size: int = HEAD_BYTES) -> bytes:
    if not gzipped:
        with path.open("rb") as handle:
            return handle.read(size)
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path.name} is not a readable gzip file ({exc}).") from None


def _check_text(head: bytes, name: str) -> None:
    """Binary files and other encodings get their own sentence; a stray NUL in a text file does not
    make it binary (that line is just a bad line, as for the notebook)."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise EncodingError(f"{name} is UTF-16 text, not UTF-8: save it as UTF-8 and try again.")
    bad_at = None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut by the end of the sample
            bad_at = exc.start
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    if b"\x00" in head and (bad_at is not None or (controls > 16 and controls * 100 > len(head))):
        raise BinaryFileError(f"{name} is a binary file, not text: give JSON lines, a JSON array, CSV or Parquet.")
    if bad_at is not None:
        line = head[:bad_at].count(b"\n") + 1
        raise EncodingError(
            f"{name} is not UTF-8 text (line {line} has byte 0x{head[bad_at]:02x}): save it as UTF-8 and try again."
        )


def check_path(path: str | Path) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise DatasetNotFoundError(f"The file {p} does not exist.")
    if not p.is_file():
        raise DatasetNotFoundError(f"{p} is not a file: give the path of a data file.")
    return p


def detect_format(path: str | Path) -> tuple[str, bool]:
    """(format, gzipped) from the file's bytes and name; raises for empty, binary or non-UTF-8 files."""
    p = check_path(path)
    if p.stat().st_size == 0:
        raise EmptyDatasetError(f"{p.name} is empty.")
    with p.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1":
        return "parquet", False
    gzipped = magic[:2] == b"\x1f\x8b"
    head = _head(p, gzipped)
    if not head.strip():
        raise EmptyDatasetError(f"{p.name} has no data (only blank space).")
    _check_text(head, p.name)
    suffixes = [s.lower() for s in p.suffixes if s.lower() != ".gz"]
    ext = suffixes[-1] if suffixes else ""
    if ext in (".csv", ".tsv"):
        return "csv", gzipped
    if ext == ".parquet":
        raise UnsupportedFormatError(f"{p.name} is named .parquet but is not a Parquet file.")
    first = head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1]
    if first == b"[":
        return "json", gzipped
    if first == b"{" or ext in (".json", ".jsonl", ".ndjson"):
        return "jsonl", gzipped
    raise UnsupportedFormatError(
        f"{p.name} is neither JSON lines, a JSON array, CSV nor Parquet (it starts with {head[:20]!r})."
    )


def _duck_source(path: Path, fmt: str) -> str:
    quoted = "'" + str(path).replace("'", "''") + "'"
    if fmt == "parquet":
        return f"read_parquet({quoted})"
    if fmt == "csv":
        return f"read_csv({quoted}, all_varchar=true)"
    return f"read_json({quoted}, format='array', maximum_object_size=268435456)"


def _duck_error(exc: Exception, path: Path, fmt: str) -> DatasetError:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "unicode" in first.lower() or "utf-8" in first.lower():
        return EncodingError(f"{path.name} is not UTF-8 text: save it as UTF-8 and try again.")
    kind = {"json": "a JSON array", "csv": "CSV", "parquet": "Parquet"}[fmt]
    return NotJsonError(f"{path.name} could not be read as {kind} ({first[:160]}).") if fmt == "json" else \
        DatasetError(f"{path.name} could not be read as {kind} ({first[:160]}).")


def list_columns(path: str | Path) -> list[str]:
    """Column names (for mapping title/content): keys of the first JSON objects, or the table's columns."""
    p = check_path(path)
    fmt, gzipped = detect_format(p)
    if fmt == "jsonl":
        text = _head(p, gzipped, 1 << 20).decode("utf-8", "replace")
        seen: dict[str, None] = {}
        for line in text.splitlines()[:200]:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                seen.update(dict.fromkeys(row))
        if not seen:
            raise NotJsonError(f"{p.name} is not JSON lines: its first lines are not JSON objects.")
        return list(seen)
    import duckdb

    try:
        with duckdb.connect() as con:
            return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_duck_source(p, fmt)}").fetchall()]
    except duckdb.Error as exc:
        raise _duck_error(exc, p, fmt) from None


def inspect_file(path: str | Path) -> FileInfo:
    p = check_path(path)
    fmt, gzipped = detect_format(p)
    return FileInfo(str(p), fmt, gzipped, p.stat().st_size, fingerprint(p), list_columns(p))


def _check_columns(columns: list[str], plan: ReadPlan, name: str) -> None:
    for role, column in (("title", plan.title_column), ("content", plan.content_column)):
        if column not in columns:
            raise ColumnNotFoundError(
                f"The {role} column {column!r} is not in {name}; its columns are: {', '.join(columns) or 'none'}."
            )


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


def pair_digests(title: TextBlock, content: TextBlock) -> np.ndarray:
    """BLAKE2b-128 of each (title, content) pair (length-prefixed, so the split is part of it):
    equal digests mean equal rows unless 128-bit BLAKE2b collides."""
    out = bytearray()
    blake = hashlib.blake2b
    tv, cv = memoryview(title.data), memoryview(content.data)
    to, co = title.offsets.tolist(), content.offsets.tolist()
    for i in range(len(to) - 1):
        h = blake(tv[to[i]: to[i + 1]], digest_size=16)
        h.update((to[i + 1] - to[i]).to_bytes(8, "little"))
        h.update(cv[co[i]: co[i + 1]])
        out += h.digest()
    return np.frombuffer(bytes(out), dtype=np.uint8).reshape(-1, 16)


def _clean_values(values: list[Any], special: list[int], plan: ReadPlan) -> TextBlock:
    """Clean one column of candidate values. ``special`` lists the values that are not strings:
    a null or missing value is the empty text (``"nan"`` in seed mode, as pandas made it), any
    other value is ``str(value)`` (not stripped in seed mode: the notebook stripped only strings)."""
    kinds = np.zeros(len(values), dtype=np.int8)
    if not special and plan.cleaning == "seed":
        encoded, lengths = seed_clean_utf8(values)
        return _block_of(encoded, np.asarray(lengths, dtype=np.int32), kinds)
    if not special:
        return text_block(clean_texts(values, plan.cleaning), kinds)
    texts = list(values)
    for i in special:
        v = texts[i]
        kinds[i] = KIND_NULL if v is None else KIND_MISSING if v is _MISSING else KIND_OTHER
        texts[i] = str(v) if kinds[i] == KIND_OTHER else ""
    cleaned = clean_texts(texts, plan.cleaning)
    if plan.cleaning == "seed":
        for i in special:
            cleaned[i] = lower_text(remove_special_chars(texts[i])) if kinds[i] == KIND_OTHER else "nan"
    return text_block(cleaned, kinds)


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
    the block's rows until ``iter_blocks`` makes them positions among all rows read."""

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
                        pair_digests(title, content), (self.other_t, self.other_c), (self.seen_t, self.seen_c))


def _parse_jsonl_text(text: str, plan: ReadPlan) -> RowBlock:
    """One block of whole lines: the yardstick's json.loads per line, then prefilter and clean."""
    if "\r" in text:  # Python's universal newlines: \r\n and \r end lines too
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # json.loads(line) for each line, without cutting the text into lines: the same scanner run
    # from the line's first non-blank character must stop before the line's newline with only
    # blanks after it (a value running past the newline is a bad line, as json.loads would say).
    # A BOM is not JSON whitespace, so a line starting with one is bad, as in json.loads.
    scan = json.JSONDecoder().scan_once
    space = json.decoder.WHITESPACE.match
    find = text.find
    size = len(text)
    tk, ck = plan.title_column, plan.content_column
    min_t, min_c = plan.min_title_chars, plan.min_content_chars
    out = _Collector(plan)
    arrow_lower = out.arrow_lower
    rows, titles, contents, special_t, special_c = out.rows, out.titles, out.contents, out.special_t, out.special_c
    bad: list[int] = []
    row = -1
    seen_t = seen_c = False
    pos = 0
    i = -1
    while pos < size:
        i += 1
        nl = find("\n", pos)
        if nl < 0:
            nl = size
        start = space(text, pos).end()
        line_start, pos = start, nl + 1
        if start >= nl:  # blank line
            bad.append(i)
            continue
        try:
            data, end = scan(text, line_start)
        except (StopIteration, ValueError, RecursionError):
            bad.append(i)
            continue
        if end > nl or (end < nl and space(text, end).end() < nl):
            bad.append(i)
            continue
        if type(data) is dict:
            t = data.get(tk, _MISSING)
            c = data.get(ck, _MISSING)
        else:  # what `k in data` / `data[k]` do to a list, a string or a number in the notebook
            try:
                t = data[tk] if tk in data else _MISSING  # noqa: SIM401 (not a dict)
                c = data[ck] if ck in data else _MISSING  # noqa: SIM401
            except TypeError:
                bad.append(i)
                continue
        row += 1
        if not seen_t and t is not _MISSING:
            seen_t = True
        if not seen_c and c is not _MISSING:
            seen_c = True
        t_text = type(t) is str
        c_text = type(c) is str
        if t_text:
            if min_t and len(t) < min_t and not _candidate(t, min_t, arrow_lower):
                continue
        elif t is not None and t is not _MISSING:
            out.other_t = True
        if c_text:
            if min_c and len(c) < min_c and not _candidate(c, min_c, arrow_lower):
                continue
        elif c is not None and c is not _MISSING:
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
    return out.block(i + 1, bad)


def _decode_block(data: bytes, first_line: int, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data[: exc.start].count(b"\n") + 1
        raise EncodingError(
            f"{name} is not UTF-8 text (line {line} has byte 0x{data[exc.start]:02x}): save it as UTF-8 and try again."
        ) from None


def _block_from_range(args: tuple[str, int, int, ReadPlan]) -> RowBlock | EncodingError:
    path, start, end, plan = args
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    try:
        return _parse_jsonl_text(_decode_block(data, 0, Path(path).name), plan)
    except EncodingError as exc:  # line number is relative to the block: redo it in the parent
        return exc


def _block_from_bytes(args: tuple[bytes, ReadPlan]) -> RowBlock | EncodingError:
    data, plan = args
    try:
        return _parse_jsonl_text(_decode_block(data, 0, "file"), plan)
    except EncodingError as exc:
        return exc


def _byte_ranges(path: Path, block: int) -> list[tuple[int, int]]:
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


def _split_lines(handle: Any, block: int) -> Iterator[bytes]:
    """Blocks of whole lines (each ends just after a newline, but the last) from a binary stream."""
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
            continue
        yield data[:cut]
        rest = data[cut:]


class _Workers:
    """Worker processes that run ``func(task)`` for the parent, results read back in task order.

    Plain subprocesses (``python -c`` importing this module) talking pickles over their stdin and
    stdout, rather than multiprocessing: a fresh interpreter imports only this module and numpy
    (~30 MB, where a fork would count a copy of everything the parent loaded), and nothing re-runs
    the parent's ``__main__`` (multiprocessing's spawn does that, which breaks scripts and costs a
    Streamlit import per worker). One task in flight per worker keeps the pipes deadlock-free.
    """

    def __init__(self, count: int) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                                         os.environ.get("PYTHONPATH")])))
        self.procs = [subprocess.Popen([sys.executable, "-c", "from core.datasets import _serve; _serve()"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
                      for _ in range(count)]

    def send(self, index: int, func: Callable[[Any], Any], task: Any) -> None:
        data = pickle.dumps((func.__name__, task), protocol=pickle.HIGHEST_PROTOCOL)
        pipe = self.procs[index].stdin
        assert pipe is not None
        pipe.write(struct.pack("<Q", len(data)) + data)
        pipe.flush()

    def receive(self, index: int) -> Any:
        pipe = self.procs[index].stdout
        assert pipe is not None
        head = pipe.read(8)
        if len(head) < 8:
            raise RuntimeError(f"curation worker {self.procs[index].pid} stopped unexpectedly")
        ok, value = pickle.loads(pipe.read(struct.unpack("<Q", head)[0]))
        if not ok:
            raise RuntimeError(f"curation worker failed:\n{value}")
        return value

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(OSError):
                if proc.stdin:
                    proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _serve() -> None:
    """Worker loop: read (function name, task), answer (ok, result or traceback), until EOF."""
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = source.read(8)
        if len(head) < 8:
            return
        name, task = pickle.loads(source.read(struct.unpack("<Q", head)[0]))
        try:
            answer = (True, globals()[name](task))
        except Exception:  # noqa: BLE001 - sent to the parent, which raises it
            answer = (False, traceback.format_exc())
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        sink.write(struct.pack("<Q", len(data)) + data)
        sink.flush()


def _ordered_map(func: Callable[[Any], Any], tasks: Iterator[Any], workers: int,
                 on_start: Callable[[], None] | None = None) -> Iterator[Any]:
    """Results in task order; with workers > 1, task k runs in worker k mod workers. ``on_start``
    runs once the workers exist (a thread it starts overlaps with their reading)."""
    if workers <= 1:
        if on_start:
            on_start()
        for task in tasks:
            yield func(task)
        return
    pool = _Workers(workers)
    try:
        if on_start:
            on_start()
        busy: list[int] = []  # worker index of each task in flight, in task order
        for index in range(workers):
            task = next(tasks, None)
            if task is None:
                break
            pool.send(index, func, task)
            busy.append(index)
        while busy:
            index = busy.pop(0)
            result = pool.receive(index)
            task = next(tasks, None)
            if task is not None:
                pool.send(index, func, task)
                busy.append(index)
            yield result
    finally:
        pool.close()


def default_workers(size_bytes: int) -> int:
    return 2 if size_bytes >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1 else 1


def _locate_encoding_error(p: Path, gzipped: bool) -> EncodingError:
    opener: Callable[..., Any] = gzip.open if gzipped else open
    with opener(p, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return EncodingError(
                    f"{p.name} is not UTF-8 text (line {number} has byte 0x{line[exc.start]:02x}): "
                    "save it as UTF-8 and try again."
                )
    return EncodingError(f"{p.name} is not UTF-8 text: save it as UTF-8 and try again.")


def _assemble(blocks: list[RowBlock], plan: ReadPlan, info: LoadReport, other: tuple[bool, bool]) -> CleanRows:
    import pyarrow as pa

    if plan.cleaning == "seed":
        for index in (0, 1):
            if other[index]:
                for b in blocks:
                    _nulls_as_none(b, index)
    titles = [b.title for b in blocks]
    contents = [b.content for b in blocks]
    title_kinds = np.concatenate([t.kinds for t in titles])
    content_kinds = np.concatenate([c.kinds for c in contents])
    return CleanRows(
        report=info, plan=plan, rows=np.concatenate([b.rows for b in blocks]),
        title=pa.chunked_array([t.to_arrow() for t in titles], pa.string()),
        content=pa.chunked_array([c.to_arrow() for c in contents], pa.string()),
        title_len=np.concatenate([t.lengths for t in titles]),
        content_len=np.concatenate([c.lengths for c in contents]),
        digest=np.concatenate([b.digest for b in blocks]),
        title_null=(title_kinds == KIND_NULL) | (title_kinds == KIND_MISSING),
        content_null=(content_kinds == KIND_NULL) | (content_kinds == KIND_MISSING),
    )


def _nulls_as_none(block: RowBlock, index: int) -> None:
    """In a column that also holds non-text values pandas keeps None (object column): "none", not "nan"."""
    column = block.title if index == 0 else block.content
    where = np.flatnonzero(column.kinds == KIND_NULL)
    if len(where) == 0:
        return
    values = column.texts(np.arange(len(column.lengths)))
    for i in where.tolist():
        values[i] = "none"
    fixed = text_block(values, column.kinds)
    if index == 0:
        block.title = fixed
    else:
        block.content = fixed
    block.digest = pair_digests(block.title, block.content)


def _duckdb_blocks(p: Path, fmt: str, plan: ReadPlan) -> Iterator[RowBlock]:
    import duckdb

    source = _duck_source(p, fmt)
    try:
        with duckdb.connect() as con:
            columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
            _check_columns(columns, plan, p.name)
            t, c = (f'"{x.replace(chr(34), chr(34) * 2)}"' for x in (plan.title_column, plan.content_column))
            reader = con.sql(f"SELECT CAST({t} AS VARCHAR) AS t, CAST({c} AS VARCHAR) AS c FROM {source}")
            for batch in reader.fetch_record_batch(100_000):
                yield _block_from_values(batch.column(0).to_pylist(), batch.column(1).to_pylist(), plan)
    except duckdb.Error as exc:
        raise _duck_error(exc, p, fmt) from None


def _block_from_values(titles: list[Any], contents: list[Any], plan: ReadPlan) -> RowBlock:
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


class BlockReader:
    """Reads a raw file block by block: iterate it for RowBlocks (rows numbered among all rows
    read, in file order), then ``finish()`` for the LoadReport (and the errors that need the
    whole file: no rows, no JSON object, a column in no row)."""

    def __init__(self, path: str | Path, plan: ReadPlan | None = None, *, workers: int | None = None,
                 progress: Progress | None = None, on_start: Callable[[], None] | None = None) -> None:
        self.plan = plan or ReadPlan()
        if self.plan.cleaning not in CLEANING_MODES:
            raise DatasetError(f"Unknown cleaning mode {self.plan.cleaning!r}: use one of {', '.join(CLEANING_MODES)}.")
        self.started = time.perf_counter()
        self.path = check_path(path)
        self.format, self.gzipped = detect_format(self.path)
        self.info = LoadReport(str(self.path), self.format + (".gz" if self.gzipped else ""),
                               fingerprint(self.path), self.path.stat().st_size, 0)
        if self.format == "jsonl":
            _check_columns(_jsonl_columns_or_all(self.path, self.gzipped, self.plan), self.plan, self.path.name)
        self.workers = default_workers(self.info.size_bytes) if workers is None else workers
        self.progress, self.on_start = progress, on_start
        self.other = [False, False]
        self.seen = [False, False]
        self.bad: list[int] = []

    def _tasks(self, marks: list[int]) -> tuple[Iterator[Any], Callable[[Any], Any]]:
        p, plan = self.path, self.plan
        if self.gzipped:
            def gz_tasks() -> Iterator[tuple[bytes, ReadPlan]]:
                with gzip.open(p, "rb") as handle:
                    for data in _split_lines(handle, BLOCK_BYTES):
                        marks.append(handle.fileobj.tell() if handle.fileobj else 0)
                        yield data, plan

            return gz_tasks(), _block_from_bytes

        def range_tasks() -> Iterator[tuple[str, int, int, ReadPlan]]:
            for start, end in _byte_ranges(p, BLOCK_BYTES):
                marks.append(end)
                yield str(p), start, end, plan

        return range_tasks(), _block_from_range

    def _raw_blocks(self) -> Iterator[RowBlock]:
        if self.format != "jsonl":
            if self.on_start:
                self.on_start()
            yield from _duckdb_blocks(self.path, self.format, self.plan)
            return
        marks: list[int] = []
        tasks, func = self._tasks(marks)
        size = max(self.info.size_bytes, 1)
        for index, result in enumerate(_ordered_map(func, tasks, self.workers, self.on_start)):
            if isinstance(result, EncodingError):
                raise _locate_encoding_error(self.path, self.gzipped) from None
            if self.progress:
                self.progress(min(1.0, marks[index] / size), f"{self.info.rows + result.n_rows:,} rows read")
            yield result

    def __iter__(self) -> Iterator[RowBlock]:
        lines = 0
        for block in self._raw_blocks():
            block.rows = block.rows + self.info.rows
            self.bad.extend(lines + i + 1 for i in block.bad)
            self.info.rows += block.n_rows
            lines += block.n_lines
            for i in (0, 1):
                self.other[i] = self.other[i] or block.other[i]
                self.seen[i] = self.seen[i] or block.seen[i]
            if self.format == "jsonl":
                self.info.lines = lines
            yield block

    def finish(self) -> LoadReport:
        info, name = self.info, self.path.name
        info.bad_lines, info.bad_line_numbers = len(self.bad), self.bad[:20]
        if info.rows == 0:
            if not info.lines or self.format != "jsonl":
                raise EmptyDatasetError(f"{name} has no rows.")
            raise NotJsonError(f"{name} is not JSON lines: none of its {info.lines:,} lines is a JSON object.")
        for index, (role, column) in enumerate((("title", self.plan.title_column),
                                                ("content", self.plan.content_column))):
            if not self.seen[index]:
                raise ColumnNotFoundError(f"The {role} column {column!r} is in no row of {name}.")
        info.seconds = round(time.perf_counter() - self.started, 3)
        return info


def read_rows(path: str | Path, plan: ReadPlan | None = None, *, workers: int | None = None,
              progress: Progress | None = None, on_start: Callable[[], None] | None = None) -> CleanRows:
    """Read and clean a raw file's title/content, every block kept (see the module docstring).
    ``workers``: processes for big JSON lines files (default: 2 from 48 MB)."""
    reader = BlockReader(path, plan, workers=workers, progress=progress, on_start=on_start)
    blocks = list(reader)
    info = reader.finish()
    return _assemble(blocks, reader.plan, info, (reader.other[0], reader.other[1]))


def _jsonl_columns_or_all(p: Path, gzipped: bool, plan: ReadPlan) -> list[str]:
    """Keys seen in the first objects; a column that is never there is an error, not 'all missing'."""
    try:
        columns = list_columns(p)
    except NotJsonError:
        return [plan.title_column, plan.content_column]  # let the full read count the bad lines
    if plan.title_column in columns and plan.content_column in columns:
        return columns
    # maybe the key appears later in the file: look further before failing
    text = _head(p, gzipped, 8 << 20).decode("utf-8", "replace")
    for column in (plan.title_column, plan.content_column):
        if column not in columns and f'"{column}"' in text:
            columns.append(column)
    return columns


def seed_split_file() -> Path:
    """The bundled seed split (dados/seed train.jsonl then test.jsonl) as one raw file, in the cache."""
    from core.paths import cache_dir, seed_dir

    target = cache_dir() / "seed_train_test.jsonl"
    parts = [seed_dir() / "train.jsonl", seed_dir() / "test.jsonl"]
    if not target.exists() or target.stat().st_mtime < max(p.stat().st_mtime for p in parts):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        chunks = [p.read_bytes() for p in parts]
        tmp.write_bytes(b"".join(c if c.endswith(b"\n") else c + b"\n" for c in chunks if c))
        tmp.replace(target)
    return target


# -- uploads -----------------------------------------------------------------------------------
def uploads_dir() -> Path:
    return results_dir() / "uploads"


def safe_upload_name(name: str) -> str:
    """A file name that cannot leave the uploads folder: no folders, no dots first, plain characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip("._-")[:120]
    return base or "upload"


def save_upload(name: str, data: bytes) -> Path:
    """Store uploaded bytes under resultados/uploads/ (content hash in the name; temp file then rename)."""
    folder = uploads_dir().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.blake2b(data, digest_size=6).hexdigest()
    target = (folder / f"{digest}-{safe_upload_name(name)}").resolve()
    if target.parent != folder:  # belt and braces: the name above cannot do this
        raise DatasetError(f"The upload name {name!r} is not allowed.")
    if not target.exists():
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_bytes(data)
        tmp.replace(target)
    return target
