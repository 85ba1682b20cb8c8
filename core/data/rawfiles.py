"""Looking at a raw data file before reading it: format, checks, columns, fingerprint, errors.

    fmt, gzipped = detect_format("trn.json")    # ("jsonl", False); empty, binary, non-UTF-8: one sentence
    columns = list_columns("trn.json")          # keys of the first JSON objects, or the table's columns
    check_text_columns("items.csv", ReadPlan("name", "price"))   # NotTextColumnError: 'price' holds numbers
    info = inspect_file("dados/amostra_trn_20k.json.gz")

Everything here reads at most the head of a file (or its first line, bounded by MAX_LINE_BYTES), so a
2 GB or binary file is judged without being loaded. core/data/datasets.py reads the rows and re-exports
these names; the error classes are the sentences a user meets for a bad file.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from core.data.rowblocks import ReadPlan
from core.errors import UserFacingError

HEAD_BYTES = 1 << 16
MAX_LINE_BYTES = 256 << 20  # as read_json's maximum_object_size: a longer line is a damaged file


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


class NotTextColumnError(DatasetError):
    """A mapped title/content column holds numbers (or lists), not text: a CSV of other things."""


@dataclass
class FileInfo:
    """What a quick look at a raw file tells: format, compression, size, fingerprint."""

    path: str
    format: str
    gzipped: bool
    size_bytes: int
    fingerprint: str
    columns: list[str] = field(default_factory=list)


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


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def head_bytes(path: Path, gzipped: bool, size: int = HEAD_BYTES) -> bytes:
    if not gzipped:
        with path.open("rb") as handle:
            return handle.read(size)
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path.name} is not a readable gzip file ({exc}).") from None


def check_text(head: bytes, name: str) -> None:
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


def line_too_long(name: str) -> DatasetError:
    return DatasetError(f"{name} has a line longer than {MAX_LINE_BYTES >> 20} MB: the file is damaged "
                        "(a download that never finished?) or is not JSON lines.")


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
    head = head_bytes(p, gzipped)
    if not head.strip():
        raise EmptyDatasetError(f"{p.name} has no data (only blank space).")
    check_text(head, p.name)
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


def duck_source(path: Path, fmt: str) -> str:
    quoted = "'" + str(path).replace("'", "''") + "'"
    if fmt == "parquet":
        return f"read_parquet({quoted})"
    if fmt == "csv":
        return f"read_csv({quoted}, all_varchar=true)"
    return f"read_json({quoted}, format='array', maximum_object_size=268435456)"


def duck_error(exc: Exception, path: Path, fmt: str) -> DatasetError:
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
        head = head_bytes(p, gzipped, 1 << 20)
        if b"\n" not in head.rstrip(b"\r\n") and len(head) == 1 << 20:
            head = first_line(p, gzipped)  # one line longer than the sample: read it whole (bounded)
        text = head.decode("utf-8", "replace")
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
            return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {duck_source(p, fmt)}").fetchall()]
    except duckdb.Error as exc:
        raise duck_error(exc, p, fmt) from None


def first_line(p: Path, gzipped: bool) -> bytes:
    opener = gzip.open if gzipped else open
    with opener(p, "rb") as handle:
        line = handle.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise line_too_long(p.name)
    return line


def inspect_file(path: str | Path) -> FileInfo:
    p = check_path(path)
    fmt, gzipped = detect_format(p)
    return FileInfo(str(p), fmt, gzipped, p.stat().st_size, fingerprint(p), list_columns(p))


def check_columns(columns: list[str], plan: ReadPlan, name: str) -> None:
    for role, column in (("title", plan.title_column), ("content", plan.content_column)):
        if column not in columns:
            raise ColumnNotFoundError(
                f"The {role} column {column!r} is not in {name}; its columns are: {', '.join(columns) or 'none'}."
            )


# -- do the mapped columns hold text? -------------------------------------------------------------
SAMPLE_ROWS = 200


def column_samples(path: Path, fmt: str, gzipped: bool, columns: list[str],
                   rows: int = SAMPLE_ROWS) -> dict[str, list[object]]:
    """The first values of these columns (those present; the others are a ColumnNotFoundError later)."""
    found: dict[str, list[object]] = {c: [] for c in columns}
    if fmt == "jsonl":
        for line in head_bytes(path, gzipped, 1 << 20).decode("utf-8", "replace").splitlines()[:rows]:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                for column in columns:
                    if column in row:
                        found[column].append(row[column])
        return found
    import duckdb

    try:
        with duckdb.connect() as con:
            source = duck_source(path, fmt)
            present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
            for column in [c for c in columns if c in present]:
                quoted = '"' + column.replace('"', '""') + '"'
                found[column] = [r[0] for r in con.execute(f"SELECT {quoted} FROM {source} LIMIT {rows}").fetchall()]
    except duckdb.Error as exc:
        raise duck_error(exc, path, fmt) from None
    return found


def _kind(value: object) -> str:
    """text (has a letter), number, empty, or other (lists, objects, punctuation)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "empty"
    if isinstance(value, bool | int | float):
        return "number"
    if not isinstance(value, str):
        return "other"
    if any(ch.isalpha() for ch in value):
        return "text"
    return "number" if any(ch.isdigit() for ch in value) else "other"


def check_text_columns(path: str | Path, plan: ReadPlan, found: tuple[str, bool] | None = None) -> None:
    """The title and content columns must hold text: when most of the first non-empty values have no
    letter (prices, quantities, ids, lists), the mapping is wrong, and saying so beats a funnel that
    silently drops every row. Empty values (40% of trn.json's contents) do not count either way.
    Page 1 and ``curate`` ask this before reading; reading itself keeps the notebook's semantics (any
    JSON value becomes text), so the benchmarks' yardstick still holds."""
    p = check_path(path)
    fmt, gzipped = found or detect_format(p)  # found: (format, gzipped) already detected by the caller
    columns = list(dict.fromkeys((plan.title_column, plan.content_column)))
    samples = column_samples(p, fmt, gzipped, columns)
    for role, column in (("title", plan.title_column), ("content", plan.content_column)):
        kinds = [_kind(v) for v in samples.get(column, [])]
        filled = [k for k in kinds if k != "empty"]
        if filled and filled.count("text") * 2 < len(filled):
            what = "numbers" if filled.count("number") * 2 >= len(filled) else "no words"
            shown = ", ".join(repr(v)[:30] for v in [v for v in samples[column] if _kind(v) != "empty"][:3])
            raise NotTextColumnError(
                f"The {role} column {column!r} of {p.name} does not look like text (its values are {what}: "
                f"{shown}): choose the columns that hold titles and their descriptions, or another file.")
