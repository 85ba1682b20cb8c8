"""Raw datasets: reading title/content, and uploads (finding the format, checks, columns and
fingerprints are in core/data/rawfiles.py, re-exported here).

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

``BlockReader`` yields blocks of rows (core/data/rowblocks.py: parsing, cleaning with the chosen mode
from core/data/cleaning.py, worker processes) and then its LoadReport; ``read_rows`` keeps them all
as ``CleanRows`` (Arrow string arrays + numpy arrays). A reader can be told the smallest
title/content length a row must reach after cleaning: rows that cannot reach it (cleaned length
<= raw length, see ``max_cleaned_length``) are counted but not cleaned or kept, which is most of
a raw file.

    report = inspect_file("dados/amostra_trn_20k.json.gz")     # format, columns, fingerprint
    rows = read_rows("trn.json", ReadPlan(cleaning="seed", min_title_chars=41, min_content_chars=401))
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.data.cleaning import (
    CLEANING_MODES,
)
from core.data.rawfiles import (
    MAX_LINE_BYTES,
    ColumnNotFoundError,
    DatasetError,
    EmptyDatasetError,
    EncodingError,
    NotJsonError,
    check_columns,
    check_path,
    detect_format,
    duck_error,
    duck_source,
    fingerprint,
    head_bytes,
    line_too_long,
    list_columns,
)
from core.data.rowblocks import (
    KIND_MISSING,
    KIND_NULL,
    AfterBlock,
    LineTooLongError,
    ReadPlan,
    RowBlock,
    block_from_bytes,
    block_from_range,
    block_from_values,
    byte_ranges,
    pair_digests,
    split_lines,
    text_block,
)
from core.data.workers import ordered_map
from core.paths import results_dir

if TYPE_CHECKING:  # imported where used: worker processes never need pyarrow
    import pyarrow as pa

FORMATS = ("jsonl", "json", "csv", "parquet")
BLOCK_BYTES = 4 << 20
# Below this, worker processes gain nothing measurable (227 MB: 2.07 s in one process, 1.97 s with
# two workers) and cost ~130 MB more; from ~500 MB they gain 20-30% (531 MB: 4.05 -> 3.34 s).
PARALLEL_MIN_BYTES = 256 << 20
Progress = Callable[[float, str], None]


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


def default_workers(size_bytes: int) -> int:
    """2 reading processes for a big file (PARALLEL_MIN_BYTES) when a second core is free, else
    read in this process.

    A worker costs ~0.3 s of CPU (start, imports, sending blocks back): worth it when it runs
    beside the parent, a loss when other programs already keep every core busy (measured here on
    a shared 2-core machine: 1.8 vs 1.2 CPU-s for 300k rows, and slower in wall time too). "Free"
    is measured now, over 0.1 s: the 1-minute load average also counts our own previous run, which
    made every other back-to-back curation read in one process (11 s instead of 6 s here)."""
    cores = os.cpu_count() or 1
    if size_bytes < PARALLEL_MIN_BYTES or cores < 2:
        return 1
    idle = idle_cores()
    return 2 if idle >= 1.25 else 1  # others use at most 3/4 of a core


def idle_cores(seconds: float = 0.1) -> float:
    """How many cores sat idle over the last ``seconds`` (Linux /proc/stat; elsewhere from the
    load average)."""
    def ticks() -> tuple[int, int]:
        with open("/proc/stat") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields[:8])  # idle + iowait, all but guest time

    cores = os.cpu_count() or 1
    try:
        idle0, total0 = ticks()
        time.sleep(seconds)
        idle1, total1 = ticks()
    except (OSError, ValueError, IndexError):
        try:
            return max(0.0, cores - os.getloadavg()[0])
        except OSError:
            return float(cores)
    if total1 == total0:
        return float(cores)
    return cores * (idle1 - idle0) / (total1 - total0)


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

    source = duck_source(p, fmt)
    try:
        with duckdb.connect() as con:
            columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
            check_columns(columns, plan, p.name)
            t, c = (f'"{x.replace(chr(34), chr(34) * 2)}"' for x in (plan.title_column, plan.content_column))
            reader = con.sql(f"SELECT CAST({t} AS VARCHAR) AS t, CAST({c} AS VARCHAR) AS c FROM {source}")
            for batch in reader.fetch_record_batch(100_000):
                yield block_from_values(batch.column(0).to_pylist(), batch.column(1).to_pylist(), plan)
    except duckdb.Error as exc:
        raise duck_error(exc, p, fmt) from None


class BlockReader:
    """Reads a raw file block by block: iterate it for RowBlocks (rows numbered among all rows
    read, in file order), then ``finish()`` for the LoadReport (and the errors that need the
    whole file: no rows, no JSON object, a column in no row)."""

    def __init__(self, path: str | Path, plan: ReadPlan | None = None, *, workers: int | None = None,
                 progress: Progress | None = None, on_start: Callable[[], None] | None = None,
                 after: AfterBlock = None) -> None:
        self.plan = plan or ReadPlan()
        self.after = after  # applied to each RowBlock where it is read (in the worker processes)
        if self.plan.cleaning not in CLEANING_MODES:
            raise DatasetError(f"Unknown cleaning mode {self.plan.cleaning!r}: use one of {', '.join(CLEANING_MODES)}.")
        self.started = time.perf_counter()
        self.path = check_path(path)
        self.format, self.gzipped = detect_format(self.path)
        self.info = LoadReport(str(self.path), self.format + (".gz" if self.gzipped else ""),
                               fingerprint(self.path), self.path.stat().st_size, 0)
        if self.format == "jsonl":
            check_columns(_jsonl_columns_or_all(self.path, self.gzipped, self.plan), self.plan, self.path.name)
        self.workers = default_workers(self.info.size_bytes) if workers is None else workers
        self.progress, self.on_start = progress, on_start
        self.other = [False, False]
        self.seen = [False, False]
        self.bad: list[int] = []

    def _tasks(self, marks: list[int]) -> tuple[Iterator[Any], Callable[[Any], Any]]:
        p, plan, after = self.path, self.plan, self.after
        if self.gzipped:
            def gz_tasks() -> Iterator[tuple[bytes, ReadPlan, AfterBlock]]:
                with gzip.open(p, "rb") as handle:
                    try:
                        for data in split_lines(handle, BLOCK_BYTES, MAX_LINE_BYTES):
                            marks.append(handle.fileobj.tell() if handle.fileobj else 0)
                            yield data, plan, after
                    except LineTooLongError:
                        raise line_too_long(p.name) from None

            return gz_tasks(), block_from_bytes

        def range_tasks() -> Iterator[tuple[str, int, int, ReadPlan, AfterBlock]]:
            for start, end in byte_ranges(p, BLOCK_BYTES):
                if end - start > BLOCK_BYTES + MAX_LINE_BYTES:  # never read such a line into memory
                    raise line_too_long(p.name)
                marks.append(end)
                yield str(p), start, end, plan, after

        return range_tasks(), block_from_range

    def _raw_blocks(self) -> Iterator[Any]:
        if self.format != "jsonl":
            if self.on_start:
                self.on_start()
            for block in _duckdb_blocks(self.path, self.format, self.plan):
                yield self.after(block) if self.after is not None else block
            return
        marks: list[int] = []
        tasks, func = self._tasks(marks)
        size = max(self.info.size_bytes, 1)
        ahead = 1 if self.gzipped else 2  # range tasks are a few hundred bytes: two may wait in a pipe
        for index, result in enumerate(ordered_map(func, tasks, self.workers, self.on_start, ahead)):
            if isinstance(result, str):  # BAD_ENCODING
                raise _locate_encoding_error(self.path, self.gzipped) from None
            if self.progress:
                self.progress(min(1.0, marks[index] / size), f"{self.info.rows + result.n_rows:,} rows read")
            yield result

    def __iter__(self) -> Iterator[Any]:
        """RowBlocks (or what ``after`` made of them: anything with RowBlock's n_lines, n_rows,
        bad, rows, other and seen)."""
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
    ``workers``: processes for big JSON lines files (default: 2 from 256 MB, see default_workers)."""
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
    text = head_bytes(p, gzipped, 8 << 20).decode("utf-8", "replace")
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
    """A file name that cannot leave the uploads folder: no folders, no dots first, letters (any
    script, so "avaliação.csv" stays itself), digits, spaces, '.', '_' and '-'; 120 characters at most."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^\w. -]+", "_", unicodedata.normalize("NFC", base)).strip().lstrip("._-")
    if len(base) > 120 or len(base.encode()) > 240:  # keep the extension: it tells CSV and Parquet apart (.gz too)
        suffix = "".join(Path(base).suffixes[-2:])[-20:]
        stem = base[: 120 - len(suffix)]
        while len((stem + suffix).encode()) > 240:  # file names are bytes on disk (255 at most)
            stem = stem[:-1]
        base = stem + suffix
    return base or "upload"


def save_upload(name: str, data: bytes) -> Path:
    """Store uploaded bytes as resultados/uploads/<content hash>/<the file's own name> (temp file then
    rename): the folder keeps two uploads apart, and the name is the user's, so every sentence about
    the file (a binary file, a bad column) names the file they chose, not a stored copy."""
    root = uploads_dir().resolve()
    folder = root / hashlib.blake2b(data, digest_size=6).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / safe_upload_name(name)).resolve()
    if target.parent != folder:  # belt and braces: the name above cannot do this
        raise DatasetError(f"The upload name {name!r} is not allowed.")
    if not target.exists():
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_bytes(data)
        tmp.replace(target)
    return target
