"""Reading raw datasets: every format, the seed notebook's line rules (bad lines counted exactly as
its Python loop does), one-sentence errors for bad files, parallel reading, uploads, cleaning."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data import datasets, rawfiles
from core.data.cleaning import clean_texts, lower_is_arrow, remove_special_chars, safe_text, seed_clean
from core.data.curation import take_texts
from core.data.datasets import ReadPlan, read_rows, safe_upload_name, save_upload
from core.data.rawfiles import (
    BinaryFileError,
    ColumnNotFoundError,
    DatasetNotFoundError,
    EmptyDatasetError,
    EncodingError,
    NotJsonError,
    fingerprint,
    list_columns,
)

ROWS = [
    {"uid": "1", "title": "The Author's Book", "content": "A copyright notice &amp; more."},
    {"uid": "2", "title": "Second title", "content": ""},
    {"uid": "3", "title": None, "content": "content of three"},
    {"uid": "4", "title": "Four", "content": "Olá, ação! Ünïcödé"},
]


def _texts(rows) -> list[tuple[str, str]]:
    return list(zip(take_texts(rows.title, np.arange(len(rows.rows))), take_texts(rows.content, np.arange(len(rows.rows)))))


def yardstick_read(path: Path) -> tuple[list[dict], int, int]:
    """The seed notebook's reading loop, verbatim in spirit: (rows, bad lines, lines)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    rows, bad, lines = [], 0, 0
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            lines += 1
            try:
                data = json.loads(line)
                rows.append({k: data[k] for k in ("title", "content") if k in data})
            except (json.JSONDecodeError, TypeError):
                bad += 1
    return rows, bad, lines


def write_lines(path: Path, lines: list[bytes], end: bytes = b"\n") -> Path:
    path.write_bytes(end.join(lines) + end)
    return path


# -- formats -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["jsonl", "jsonl.gz", "json", "json.gz", "csv", "parquet"])
def test_every_format_reads_the_same_rows(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"raw.{kind}"
    if kind.startswith("jsonl"):
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS).encode()
    elif kind.startswith("json"):
        text = json.dumps(ROWS, ensure_ascii=False).encode()
    if kind.endswith(".gz"):
        path.write_bytes(gzip.compress(text))
    elif kind in ("jsonl", "json"):
        path.write_bytes(text)
    elif kind == "csv":
        pd.DataFrame(ROWS).to_csv(path, index=False)
    else:
        pd.DataFrame(ROWS).to_parquet(path)
    rows = read_rows(path, ReadPlan(cleaning="none"))
    assert rows.report.rows == 4
    got = _texts(rows)
    assert got[0] == ("The Author's Book", "A copyright notice &amp; more.")
    assert got[3] == ("Four", "Olá, ação! Ünïcödé")
    assert got[2][0] == ""  # a null title is the empty text outside seed mode
    assert rows.title_null.tolist() == [False, False, True, False] or kind == "csv"  # CSV has no null
    assert "title" in list_columns(path) and "content" in list_columns(path)


def test_column_mapping_and_wrong_columns(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "raw.jsonl", [json.dumps({"q": "a question here", "a": "an answer"}).encode()])
    rows = read_rows(path, ReadPlan("q", "a", cleaning="none"))
    assert _texts(rows) == [("a question here", "an answer")]
    with pytest.raises(ColumnNotFoundError, match="'title' is not in raw.jsonl; its columns are: q, a"):
        read_rows(path, ReadPlan(cleaning="none"))
    csv = tmp_path / "raw.csv"
    csv.write_text("q,a\nx,y\n")
    with pytest.raises(ColumnNotFoundError, match="its columns are: q, a"):
        read_rows(csv, ReadPlan(cleaning="none"))


# -- the notebook's line rules ---------------------------------------------------------------------------
MESSY = [
    b'{"title": "ok one", "content": "c1"}',
    b"",
    b"   ",
    b"[1, 2]",
    b'"just a string"',
    b'"has title inside"',
    b"42",
    b"null",
    b'{"title": NaN, "content": "nan value"}',
    b'{"title": nan, "content": "lowercase nan: bad for Python"}',
    b'{"title": "trailing", "content": "comma",}',
    b'{"title": "dup1", "title": "dup2", "content": "last key wins"}',
    b'{"title": "ctl\x01x", "content": "raw control char"}',
    b'{"title": "tab\tx", "content": "raw tab in a string"}',
    b'{"title": {"a": 1}, "content": [1, "x"]}',
    b'{"title": 12, "content": 1e5}',
    b'{"uid": "no keys"}',
    b'{"title": null, "content": null}',
    b'{"title": "trunc", "cont',
    b'{"title": "a"} {"title": "b"}',
    b'{"title": "esc \\u00e9 \\n", "content": "escapes"}',
    b'  {"title": "spaces around", "content": "ok"}  ',
    b'{"title": "x", "content": "y"} // comment',
    b'{"title": "nul\x00", "content": "NUL byte"}',
    # where msgspec (the fast path) and json.loads differ: json's answer must win
    b'{"title": "lone \\ud800 surrogate", "content": "\\udfff\\ud800"}',
    b'{"title": Infinity, "content": -Infinity}',
    b'{"uid": NaN, "title": "NaN in a skipped key", "content": "ok"}',
    b'{"title": 1E400, "content": 123456789012345678901234567890}',
    b'{"uid": "\\ud800", "title": "surrogate in a skipped key", "content": "ok"}',
    b'{"ti\\u0074le": "escaped key", "content": "ok"}',
    b'{"uid": [[[[[[[[[[{"a": [1, {"b": null}]}]]]]]]]]]], "title": "nested skip", "content": "ok"}',
    b'\x0c{"title": "form feed is not JSON whitespace", "content": "bad"}',
    b'{"title": "nbsp after"}\xc2\xa0',
    b'{"title": "dup", "content": "first", "content": "second"}',
    b'{"title": "last", "content": "no newline at the end"}',
]


@pytest.mark.parametrize("workers", [1, 2])
def test_bad_lines_are_counted_exactly_as_the_notebook(tmp_path: Path, workers: int, monkeypatch) -> None:
    monkeypatch.setattr(datasets, "BLOCK_BYTES", 64)  # many blocks: line numbers across block ends
    path = tmp_path / "messy.json"
    path.write_bytes(b"\n".join(MESSY))  # no newline after the last line
    expected_rows, expected_bad, expected_lines = yardstick_read(path)
    rows = read_rows(path, ReadPlan(cleaning="none"), workers=workers)
    assert (rows.report.lines, rows.report.bad_lines, rows.report.rows) == (expected_lines, expected_bad,
                                                                           len(expected_rows))
    assert rows.report.bad_line_numbers[:4] == [2, 3, 6, 7]  # 6: "title" in a string -> TypeError
    got = _texts(rows)
    for ours, theirs in zip(got, expected_rows, strict=True):  # row for row, text values equal
        for value, other in zip(ours, (theirs.get("title"), theirs.get("content"))):
            if isinstance(other, str):
                assert value == safe_text(other)  # lone surrogates are U+FFFD in stored text
            elif other is None:
                assert value == ""  # null or missing: the empty text outside seed mode
            else:
                assert value == str(other)  # numbers, lists, objects: str(value)
    assert ("dup2", "last key wins") in got  # Python keeps the last duplicate key


def test_seed_mode_turns_every_value_into_the_notebooks_text(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "values.json", [
        b'{"title": {"a": 1}, "content": [1, "x"]}',
        b'{"title": 12, "content": 1e5}',
        b'{"title": true, "content": null}',
        b'{"uid": "missing both"}',
        b'{"title": "  Hello, World!  ", "content": "I\xc3\x84\xc5\x9a"}',
    ])
    rows = read_rows(path, ReadPlan(cleaning="seed"))
    # an object column (numbers, lists here) keeps None: pandas turns it into "None" -> "none"
    assert _texts(rows) == [("a 1", "1 x"), ("12", "1000000"), ("true", "none"), ("nan", "nan"),
                            ("hello world", seed_clean("IÄŚ"))]


def test_universal_newlines_bom_and_crlf(tmp_path: Path) -> None:
    lines = [b'\xef\xbb\xbf{"title": "bom line", "content": "x"}', b'{"title": "crlf", "content": "y"}',
             b'{"title": "a", "content": "b"}\r{"title": "after lone cr", "content": "z"}']
    path = write_lines(tmp_path / "crlf.json", lines, end=b"\r\n")
    expected_rows, expected_bad, expected_lines = yardstick_read(path)
    rows = read_rows(path, ReadPlan(cleaning="none"))
    assert (rows.report.lines, rows.report.bad_lines) == (expected_lines, expected_bad) == (4, 1)
    assert [t for t, _ in _texts(rows)] == [r["title"] for r in expected_rows]


def test_parallel_reading_equals_one_process(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "many.json"
    rng = np.random.default_rng(0)
    with path.open("w", encoding="utf-8") as f:
        for i in range(3000):
            f.write(json.dumps({"title": f"Title {i} " + "x" * int(rng.integers(0, 80)),
                                "content": "word " * int(rng.integers(0, 200))}) + "\n")
            if i % 500 == 0:
                f.write("not json\n")
    monkeypatch.setattr(datasets, "BLOCK_BYTES", 50_000)
    plan = ReadPlan(cleaning="seed", min_title_chars=41, min_content_chars=401)
    one, two = read_rows(path, plan, workers=1), read_rows(path, plan, workers=2)
    assert one.report.bad_line_numbers == two.report.bad_line_numbers == [2, 503, 1004, 1505, 2006, 2507]
    assert one.rows.tolist() == two.rows.tolist() and _texts(one) == _texts(two)
    assert (one.digest == two.digest).all()
    gz = tmp_path / "many.json.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    zipped = read_rows(gz, plan, workers=2)
    assert zipped.rows.tolist() == one.rows.tolist() and zipped.report.lines == 3006


def test_minimum_lengths_skip_only_rows_that_cannot_pass(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    with path.open("w", encoding="utf-8") as f:
        for i in range(400):
            f.write(json.dumps({"title": "İ" * (i % 50) + "!" * (i % 7), "content": "ab " * (i % 150)}) + "\n")
    everything = read_rows(path, ReadPlan(cleaning="seed"))
    some = read_rows(path, ReadPlan(cleaning="seed", min_title_chars=41, min_content_chars=301))
    passing = (everything.title_len >= 41) & (everything.content_len >= 301)
    assert set(everything.rows[passing].tolist()) <= set(some.rows.tolist())
    assert some.report.rows == everything.report.rows == 400


# -- bad files -------------------------------------------------------------------------------------------------
def test_bad_files_get_one_sentence(tmp_path: Path) -> None:
    cases = {
        "missing.json": (None, DatasetNotFoundError, "does not exist"),
        "empty.json": (b"", EmptyDatasetError, "is empty"),
        "blank.json": (b"\n \n\t\n", EmptyDatasetError, "no data"),
        "prose.json": (b"This is not JSON at all.\nNeither is this.\n", NotJsonError, "none of its 2 lines"),
        "prose.txt": (b"Just some words.\n", rawfiles.UnsupportedFormatError, "neither JSON lines"),
        "binary.json": (bytes(range(256)) * 64, BinaryFileError, "binary file"),
        "latin1.json": ('{"title": "café", "content": "x"}\n'.encode("latin-1"), EncodingError, "line 1"),
        "utf16.json": ('{"title": "a"}\n'.encode("utf-16"), EncodingError, "UTF-16"),
        "fake.parquet": (b'{"title": "a"}\n', rawfiles.UnsupportedFormatError, "not a Parquet file"),
        "broken.json.gz": (b"\x1f\x8b\x08\x00garbage", rawfiles.DatasetError, "gzip"),
        "array.json": (b'[{"title": "a", "content": "b"}, {"title": ', NotJsonError, "JSON array"),
    }
    for name, (data, error, words) in cases.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(error) as caught:
            read_rows(path, ReadPlan())
        message = str(caught.value)
        assert words in message and message.count(". ") == 0 and "\n" not in message, (name, message)
    with pytest.raises(DatasetNotFoundError, match="is not a file"):
        read_rows(tmp_path, ReadPlan())


def test_an_encoding_error_deep_in_a_big_file_names_its_line(tmp_path: Path) -> None:
    good = b'{"title": "fine", "content": "fine"}\n' * 3000
    path = tmp_path / "late.json"
    path.write_bytes(good + '{"title": "caf\xe9", "content": "x"}\n'.encode("latin-1") + good)
    with pytest.raises(EncodingError, match="line 3001"):
        read_rows(path, ReadPlan(), workers=2)


def test_a_stray_nul_is_a_bad_line_not_a_binary_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "nul.json", [b'{"title": "a", "content": "b"}', b"\x00", b'{"title": "c", "content": "d"}'])
    rows = read_rows(path, ReadPlan(cleaning="none"))
    assert rows.report.bad_lines == 1 and rows.report.rows == 2


def test_fingerprint_is_fast_and_changes_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(b"x" * (3 << 20))
    first = fingerprint(path)
    assert fingerprint(path) == first
    with path.open("r+b") as handle:  # same size, different tail
        handle.seek(-1, 2)
        handle.write(b"y")
    assert fingerprint(path) != first


# -- uploads ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../etc/passwd", "..", "", "a/b\\c.json", ".hidden.json", "dados ção.jsonl",
                                  "/abs/path/trn.json.gz", "x" * 400])
def test_uploads_cannot_leave_the_uploads_folder(name: str, isolated_results: Path) -> None:
    path = save_upload(name, b'{"title": "a", "content": "b"}\n')
    assert path.parent.parent == (isolated_results / "uploads").resolve()  # uploads/<content hash>/<name>
    assert not path.name.startswith(".") and "/" not in safe_upload_name(name) and len(path.name) < 140
    assert path.read_bytes().startswith(b'{"title"')


@pytest.mark.parametrize("name", ["mine.jsonl", "avaliação dos livros.csv", "trn.json.gz"])
def test_an_upload_keeps_the_users_file_name(name: str, isolated_results: Path) -> None:
    """Sentences about an upload name the file the user chose, not a stored copy (issue 10)."""
    first = save_upload(name, b'{"title": "a", "content": "b"}\n')
    other = save_upload(name, b'{"title": "c", "content": "d"}\n')
    assert first.name == other.name == name and first != other  # same name, other bytes: both kept
    assert save_upload(name, b'{"title": "a", "content": "b"}\n') == first


# -- cleaning -----------------------------------------------------------------------------------------------------
TRICKY = ["  Hello, World!  ", "İstanbul ΣΑΣ ΟΔΟΣ.", "straße ﬁne ½ ² Ⅻ ٣", "a\x1cb\x1dc\x1ed\x1fe", "e\u0301 combining",
          "\u00a0nbsp\u2003em\u3000ideographic\u2028line", "tab\tnew\nline\r", "ǅ ǈ ǋ", "🙂 emoji", "", "   ",
          "&amp; &lt;b&gt; &#8217;", "ÀÉÎÕÜ çñ", "ⅰⅱ ᾈ ﬀ"]


def _pandas_seed(values: list[str]) -> list[str]:
    """What the yardstick does to a column of strings, with the pandas installed here."""
    def remove(text: str) -> str:
        return "".join(c for c in text if c.isalnum() or c.isspace())

    series = pd.Series(values).apply(lambda x: x.strip() if isinstance(x, str) else x)
    return series.map(lambda x: x if isinstance(x, str) else str(x)).map(remove).str.lower().tolist()


def test_seed_cleaning_is_the_yardsticks_pipeline() -> None:
    assert lower_is_arrow()  # pandas 3 + pyarrow: .str.lower() is Arrow's utf8_lower
    assert clean_texts(TRICKY, "seed") == _pandas_seed(TRICKY)
    assert [seed_clean(t) for t in TRICKY] == _pandas_seed(TRICKY)
    sample = "".join(chr(c) for c in range(0x20, 0x3000) if not 0xD800 <= c < 0xE000)
    assert remove_special_chars(sample) == "".join(c for c in sample if c.isalnum() or c.isspace())


def test_html_and_none_modes() -> None:
    assert clean_texts(["  a &amp; b  ", "x &#8217; y"], "html") == ["a & b", "x ’ y"]
    assert clean_texts(["  keep  as is "], "none") == ["  keep  as is "]


def test_worker_processes_only_for_big_files_and_a_free_core(monkeypatch) -> None:
    monkeypatch.setattr(datasets.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(datasets, "idle_cores", lambda seconds=0.1: 1.9)
    assert datasets.default_workers(datasets.PARALLEL_MIN_BYTES - 1) == 1  # no gain below: one process
    assert datasets.default_workers(datasets.PARALLEL_MIN_BYTES) == 2
    monkeypatch.setattr(datasets, "idle_cores", lambda seconds=0.1: 0.9)  # another program keeps a core busy
    assert datasets.default_workers(datasets.PARALLEL_MIN_BYTES) == 1
    monkeypatch.undo()
    assert 0.0 <= datasets.idle_cores(0.05) <= (os.cpu_count() or 1) + 1e-9
