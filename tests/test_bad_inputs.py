"""Bad input on every CLI entry point: curate, export, validate, estimate, train, eval and import each
get malformed and truncated JSON lines, a JSON array, a CSV with other columns, an empty file, a
binary file, non-UTF-8 text and a single 50 MB line. Each answers with one sentence (exit status
non-zero, one ``error:`` line on stderr, no traceback) or, where the input is in fact acceptable
(curate reads JSON arrays, skips and counts malformed lines), does the right thing; and nothing is
stored half-way: the database (every table, every row), a previously written output folder or file
and the run/curated folders are exactly as before.

A 2 GB file given by path (sparse: all zeros; and a valid head followed by a 2 GB line of zeros, as
a preallocated download that never finished) goes to every command as a real child process whose
peak RSS must stay under 1 GB (``slow``). The upload paths of pages 1 and 5 are in
tests/test_bad_uploads.py.

    .venv/bin/python -m pytest -q tests/test_bad_inputs.py            # -m "not slow" skips the 2 GB files
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "dados" / "seed"
GOOD_ROW = {"title": "The Book of Many Things, a Novel by Someone",
            "content": "The author wrote this book in a cabin; copyright 2001 by the author. " * 8}
GOOD_LINE = json.dumps(GOOD_ROW) + "\n"
RSS_LIMIT = 1 << 30

# name -> (file suffix, bytes); the 50 MB line is written once per module (see bad_files).
BAD: dict[str, tuple[str, bytes]] = {
    "malformed_jsonl": (".jsonl", b'{not json\n{"title": 1,\n]]]\n{"title": "a", "content": \n'),
    "truncated_jsonl": (".jsonl", (GOOD_LINE + GOOD_LINE[:45]).encode()),
    "json_array": (".json", json.dumps([GOOD_ROW, GOOD_ROW]).encode()),
    "csv_other_columns": (".csv", b"name,price,stock\nlamp,10,3\nchair,25,1\n"),
    "empty": (".jsonl", b""),
    "binary": (".jsonl", bytes(range(256)) * 64),
    "not_utf8": (".jsonl", (json.dumps({"title": "café crème " * 5, "content": "olá " * 120}, ensure_ascii=False)
                            + "\n").encode("latin-1")),
    "line_50mb": (".jsonl", b""),  # written by the fixture
}
NAMES = list(BAD)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad_inputs")
    files = {}
    for name, (suffix, data) in BAD.items():
        path = folder / f"{name}{suffix}"
        if name == "line_50mb":
            with path.open("wb") as handle:
                handle.write(b'{"title": "')
                handle.write(b"x" * (50 << 20))
                handle.write(b'", "content": "the author copyright"}\n')
        else:
            path.write_bytes(data)
        files[name] = path
    return files


@pytest.fixture(autouse=True)
def isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "dados"
    monkeypatch.setenv("FTDASH_DATA", str(folder))
    return folder


# -- what "nothing stored half-way" means --------------------------------------------------------------
def db_snapshot() -> dict[str, str]:
    """Every table of the database file: a digest of all its rows (order-independent)."""
    from core.models.registry import ensure_default_models
    from core.store import Store

    with Store() as store:
        ensure_default_models(store)  # idempotent seeding any command may do on first use: not "stored"
        tables = [r[0] for r in store.fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1")]
        return {t: hashlib.sha1("\n".join(sorted(map(repr, store.fetchall(f'SELECT * FROM "{t}"')))).encode())
                .hexdigest() for t in tables}


def tree_snapshot(*folders: Path) -> dict[str, str]:
    """Every file under the folders (hidden temporary files included) with a digest of its bytes."""
    found = {}
    for folder in folders:
        if folder.exists():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path.suffix != ".duckdb" and ".wal" not in path.name:
                    found[str(path)] = hashlib.sha1(path.read_bytes()).hexdigest()
                elif path.is_dir():
                    found[str(path)] = "dir"
    return found


class State(tuple):
    """(tables, files); comparing two shows what changed, by name."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, tuple):
            return NotImplemented
        changed = [k for i in (0, 1) for k in sorted(set(self[i]) | set(other[i])) if self[i].get(k) != other[i].get(k)]
        assert not changed, f"changed: {changed}"
        return True

    __hash__ = tuple.__hash__


def state(results: Path, *extra: Path) -> State:
    return State((db_snapshot(), tree_snapshot(results, *extra)))


def run_cli(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    """``python -m core ARGV`` in this process; an exception escaping main() is a traceback."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - what a user would see as a traceback
        pytest.fail(f"python -m core {' '.join(argv[:2])} ended with a traceback: {exc!r}")
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_sentence(code: int, err: str, *words: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0, err
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert len(lines[0]) < 400, lines[0]
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]


# -- curate ---------------------------------------------------------------------------------------------
CURATE_OK = {  # inputs the curation reads on purpose (issue 2): a JSON array; malformed lines are counted
    "json_array": "funnel:",
    "truncated_jsonl": "skipped 1 malformed line",
    "line_50mb": "funnel:",
}


@pytest.fixture
def curated_before(tmp_path: Path, isolated_results: Path, isolated_data: Path, capsys) -> Path:
    """A curation saved the normal way (folder + --name in the database) that bad input must not touch."""
    out = tmp_path / "curated_out"
    code, _, err = run_cli(["curate", str(SEED / "train.jsonl"), "--train", "40", "--test", "10", "--out", str(out),
                            "--name", "livros"], capsys)
    assert code == 0, err
    return out


@pytest.mark.parametrize("name", NAMES)
def test_curate(name: str, bad_files, curated_before: Path, tmp_path: Path, isolated_results: Path,
                isolated_data: Path, capsys) -> None:
    before = state(isolated_results, isolated_data, curated_before)
    if name in CURATE_OK:
        fresh = tmp_path / "fresh"
        code, out, err = run_cli(["curate", str(bad_files[name]), "--out", str(fresh), "--train", "5", "--test", "0"],
                                 capsys)
        assert code == 0 and "Traceback" not in err, err
        assert CURATE_OK[name] in out
        assert (fresh / "train.jsonl").exists() and (fresh / "curation.json").exists()
        assert state(isolated_results, isolated_data, curated_before) == before
        return
    code, _, err = run_cli(["curate", str(bad_files[name]), "--out", str(curated_before), "--name", "livros"], capsys)
    assert_one_sentence(code, err, bad_files[name].name)
    assert state(isolated_results, isolated_data, curated_before) == before
    assert not list(curated_before.parent.glob(".curated_out*"))  # no temporary folder left behind


# -- export / eval: a curated folder whose split is the bad file ---------------------------------------
def curated_folder_of(path: Path, where: Path) -> Path:
    folder = where / f"curated_{path.stem}"
    folder.mkdir()
    for split in ("train", "test"):
        os.link(path, folder / f"{split}.jsonl")  # hard links: the 50 MB file is not copied
    return folder


@pytest.mark.parametrize("name", NAMES)
def test_export(name: str, bad_files, tmp_path: Path, isolated_results: Path, capsys) -> None:
    out_dir = tmp_path / "exported"
    out = out_dir / "train.jsonl"
    code, _, err = run_cli(["export", "seed-study", "--format", "openai-chat", "--out", str(out)], capsys)
    assert code == 0, err
    source = curated_folder_of(bad_files[name], tmp_path)
    before = state(isolated_results, out_dir)
    code, _, err = run_cli(["export", str(source), "--format", "alpaca", "--out", str(out)], capsys)
    assert_one_sentence(code, err)
    assert state(isolated_results, out_dir) == before  # the earlier export and its manifest untouched


@pytest.mark.parametrize("name", NAMES)
def test_eval(name: str, bad_files, tmp_path: Path, isolated_results: Path, capsys) -> None:
    source = curated_folder_of(bad_files[name], tmp_path)
    before = state(isolated_results)
    code, _, err = run_cli(["eval", "--models", "local:smollm2", "--data", str(source), "--limit", "2",
                            "--max-new-tokens", "4"], capsys)
    assert_one_sentence(code, err)
    assert state(isolated_results) == before


# -- validate / estimate / train: the bad file is the training file ------------------------------------
@pytest.mark.parametrize("fmt", ["openai-chat", "alpaca"])
@pytest.mark.parametrize("name", NAMES)
def test_validate(name: str, fmt: str, bad_files, isolated_results: Path, capsys) -> None:
    before = state(isolated_results)
    code, out, err = run_cli(["validate", str(bad_files[name]), "--format", fmt], capsys)
    assert "Traceback" not in err and "Traceback" not in out
    if code == 1:  # a report: FAILED with the problems and their line numbers
        assert "FAILED" in out.splitlines()[0] and ("line " in out or "file:" in out), out
    else:  # the file cannot be read at all: one sentence
        assert_one_sentence(code, err, bad_files[name].name)
    assert state(isolated_results) == before


@pytest.mark.parametrize("model", ["gpt-4o-mini-2024-07-18", "smollm2"])
@pytest.mark.parametrize("name", NAMES)
def test_estimate(name: str, model: str, bad_files, isolated_results: Path, capsys) -> None:
    fmt = "openai-chat" if model.startswith("gpt") else "alpaca"
    code, _, err = run_cli(["estimate", "--data", str(SEED / "trn_gpt4_formatted.jsonl"), "--format", "openai-chat",
                            "--model", "gpt-4o-mini-2024-07-18"], capsys)
    assert code == 0, err  # an estimate saved before: it must stay
    before = state(isolated_results)
    code, _, err = run_cli(["estimate", "--data", str(bad_files[name]), "--format", fmt, "--model", model,
                            "--tokens-per-s", "1000"], capsys)
    assert_one_sentence(code, err)
    assert state(isolated_results) == before


@pytest.mark.parametrize("name", NAMES)
def test_train(name: str, bad_files, isolated_results: Path, capsys) -> None:
    from core.store import Store
    from core.store import runs as db

    before = state(isolated_results)
    code, out, err = run_cli(["train", "--data", str(bad_files[name]), "--format", "alpaca", "--max-steps", "2"],
                             capsys)
    assert_one_sentence(code, err, bad_files[name].name)
    assert "started" not in out  # refused before a run row, folder or process exists
    assert state(isolated_results) == before
    with Store() as store:
        assert db.list_runs(store) == []
    assert not (isolated_results / "runs").exists() or not any((isolated_results / "runs").iterdir())


# -- import: the bad file as a sheet (.csv, .xlsx and .ods names) --------------------------------------
@pytest.fixture
def imported_before(isolated_results: Path, capsys) -> None:
    code, _, err = run_cli(["import", str(SEED / "fine_tuning_llama_gpt.ods"), "--no-score"], capsys)
    assert code == 0, err


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".ods"])
@pytest.mark.parametrize("name", NAMES)
def test_import(name: str, suffix: str, bad_files, imported_before, tmp_path: Path, isolated_results: Path,
                capsys) -> None:
    sheet = tmp_path / f"{name}{suffix}"
    os.link(bad_files[name], sheet)
    before = state(isolated_results)
    code, _, err = run_cli(["import", str(sheet)], capsys)
    assert_one_sentence(code, err, sheet.name)
    assert state(isolated_results) == before


def test_a_failure_while_scoring_an_import_keeps_the_earlier_import(imported_before, isolated_results: Path,
                                                                    monkeypatch, capsys) -> None:
    """Importing a file again replaces its evaluations: all in one transaction, after scoring, so a
    failure half-way leaves the earlier import as it was."""
    import core.compare.metrics

    before = state(isolated_results)

    def broken(*args, **kwargs):
        raise RuntimeError("the similarity model vanished half-way")

    monkeypatch.setattr(core.compare.metrics, "score_answers", broken)
    with contextlib.suppress(Exception):
        main(["import", str(SEED / "fine_tuning_llama_gpt.ods")])
    capsys.readouterr()
    assert state(isolated_results) == before


# -- 2 GB files given by path, in a real child process with its memory watched -------------------------
def run_watched(argv: list[str], env: dict[str, str], timeout: float = 240) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak RSS of the process tree); killed at 1 GB or the timeout."""
    proc = subprocess.Popen([sys.executable, "-m", "core", *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    outputs: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda n=n, s=s: outputs.__setitem__(n, s.read()), daemon=True)
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for reader in readers:
        reader.start()
    import psutil

    peak, started = 0, time.time()
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            parent = psutil.Process(proc.pid)
            rss = sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
            peak = max(peak, rss)
        if peak > RSS_LIMIT or time.time() - started > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            break
        time.sleep(0.02)
    for reader in readers:
        reader.join(10)
    return (proc.returncode, outputs.get("out", b"").decode(errors="replace"),
            outputs.get("err", b"").decode(errors="replace"), peak)


@pytest.fixture(scope="module")
def huge_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    folder = tmp_path_factory.mktemp("huge")
    sparse = folder / "zeros_2gb.jsonl"
    with sparse.open("wb") as handle:  # a hole: 2 GB that take no disk space
        handle.truncate(2 << 30)
    head = folder / "unfinished_2gb.jsonl"
    with head.open("wb") as handle:  # good lines, then a preallocated tail that was never written
        handle.write(GOOD_LINE.encode() * 200)
        handle.truncate(2 << 30)
    yield {"zeros": sparse, "unfinished": head}
    shutil.rmtree(folder, ignore_errors=True)


def huge_commands(path: Path, where: Path) -> dict[str, list[str]]:
    folder = where / f"curated_{path.stem}"
    if not folder.exists():
        folder.mkdir()
        for split in ("train", "test"):
            (folder / f"{split}.jsonl").symlink_to(path)
    sheets = {}
    for suffix in (".csv", ".xlsx", ".ods"):
        sheet = where / f"{path.stem}{suffix}"
        if not sheet.exists():
            sheet.symlink_to(path)
        sheets[suffix] = str(sheet)
    return {
        "curate": ["curate", str(path), "--out", str(where / "out"), "--name", "huge"],
        "validate": ["validate", str(path), "--format", "openai-chat"],
        "estimate-openai": ["estimate", "--data", str(path), "--format", "openai-chat", "--model",
                            "gpt-4o-mini-2024-07-18"],
        "estimate-local": ["estimate", "--data", str(path), "--format", "alpaca", "--model", "smollm2",
                           "--tokens-per-s", "1000"],
        "train": ["train", "--data", str(path), "--format", "alpaca", "--max-steps", "2"],
        "export": ["export", str(folder), "--format", "alpaca", "--out", str(where / "export.jsonl")],
        "eval": ["eval", "--models", "local:smollm2", "--data", str(folder), "--limit", "2"],
        "import-csv": ["import", sheets[".csv"]],
        "import-xlsx": ["import", sheets[".xlsx"]],
        "import-ods": ["import", sheets[".ods"]],
    }


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["zeros", "unfinished"])
def test_a_2gb_file_by_path_is_refused_without_being_read_into_memory(kind: str, huge_files, tmp_path: Path,
                                                                       isolated_results: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    before = state(isolated_results)
    problems = []
    for command, argv in huge_commands(huge_files[kind], tmp_path).items():
        code, out, err, peak = run_watched(argv, env)
        lines = [line for line in err.splitlines() if line.strip() and "%|" not in line]
        ok_curate = command == "curate" and code == 0 and "malformed line" in out  # the tail as one bad line
        ok_report = command == "validate" and code == 1 and "line_too_long" in out  # a report naming the line
        if peak > RSS_LIMIT:
            problems.append(f"{command}: peak RSS over {RSS_LIMIT >> 20} MB (killed)")
        elif "Traceback" in err:
            problems.append(f"{command}: traceback: {err[-300:]}")
        elif not (ok_curate or ok_report) and not (code != 0 and len(lines) == 1 and lines[0].startswith("error: ")):
            problems.append(f"{command}: exit {code}, stderr {err[-300:]!r}")
    assert not problems, "\n".join(problems)
    after = state(isolated_results)
    # the tokenizer's vocabulary cache (resultados/cache/) is written by the first command that counts
    # tokens in this results folder — or not, when an earlier test in this process already pointed
    # TIKTOKEN_CACHE_DIR elsewhere: a cache, not the user's state
    after = (after[0], {k: v for k, v in after[1].items() if not (k.endswith("/cache") or "/cache/" in k)})
    if kind == "unfinished":  # curate may save the 200 good rows as "huge" v1: everything else is unchanged
        after = ({k: v for k, v in after[0].items() if k != "curated_datasets"},
                 {k: v for k, v in after[1].items() if "/curated/" not in k})
        before = ({k: v for k, v in before[0].items() if k != "curated_datasets"}, before[1])
    assert after == before
