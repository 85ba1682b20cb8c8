"""``python -m core curate``: the files it writes, every filter option, saving with --name, and
every bad input answered with one line on stderr, exit status 2 and nothing written."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.data.curation import CurationConfig, preset
from core.paths import sample_raw_path

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "dados"
    monkeypatch.setenv("FTDASH_DATA", str(folder))
    return folder


def curate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "curate", *args], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ), timeout=300)


def test_seed_notebook_preset_writes_the_three_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = curate(str(sample_raw_path()), "--preset", "seed-notebook", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "funnel:" in done.stdout and "keywords" in done.stdout and "train" in done.stdout
    train = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert train and set(train[0]) == {"title", "content"}
    manifest = json.loads((out / "curation.json").read_text())
    assert manifest["config"] == preset("seed-notebook").to_dict()
    assert manifest["funnel"]["loaded"] == 20000 and manifest["funnel"]["train"] == len(train)
    assert manifest["counts"]["train_tokens"] > 0 and manifest["input"]["rows"] == 20000
    # the bundled sample fills the notebook's whole split (issue 10: it used to give 126 / 0)
    test = (out / "test.jsonl").read_text().splitlines()
    assert (len(train), len(test)) == (1500, 500) and manifest["funnel"]["keywords"] >= 2000
    assert "warning" not in done.stderr


def _short_raw(tmp_path: Path, rows: int) -> Path:
    body = " ".join(["river", "garden", "winter", "letters", "harbour", "orchard"] * 12)
    lines = [json.dumps({"title": f"The collected letters of a river town, volume {i:03d} of the series",
                         "content": f"The author of volume {i}: {body}. Copyright 1994 by the author."})
             for i in range(rows)]
    raw = tmp_path / "short.jsonl"
    raw.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return raw


def test_a_short_split_is_one_warning_line_with_the_fix(tmp_path: Path) -> None:
    done = curate(str(_short_raw(tmp_path, 126)), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "warning: the filters kept 126 rows, fewer than --train 1500 + --test 500: train gets 126, test 0 "
        "(nothing to evaluate on); --train 94 --test 32 keeps the 3:1 ratio."]
    assert len((tmp_path / "out" / "train.jsonl").read_text().splitlines()) == 126
    done = curate(str(_short_raw(tmp_path, 126)), "--out", str(tmp_path / "fixed"), "--train", "94", "--test", "32")
    assert done.returncode == 0 and done.stderr == ""
    assert len((tmp_path / "fixed" / "test.jsonl").read_text().splitlines()) == 32


def test_name_with_no_test_rows_needs_allow_no_test(tmp_path: Path, isolated_data: Path) -> None:
    raw = str(_short_raw(tmp_path, 20))
    done = curate(raw, "--name", "curto", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "error: This split has no test rows" in done.stderr
    assert "use 15 train / 5 test rows" in done.stderr and "--allow-no-test" in done.stderr
    assert not (tmp_path / "out").exists() and not (isolated_data / "curated").exists()  # nothing written
    done = curate(raw, "--name", "curto", "--allow-no-test")
    assert done.returncode == 0 and "saved curto v1" in done.stdout
    done = curate(raw, "--name", "vazio", "--keywords", "zzzz-nowhere")
    assert done.returncode == 2 and "nothing to save" in done.stderr
    assert "warning: no row passes every filter" in done.stderr


def test_columns_of_numbers_are_one_sentence(tmp_path: Path) -> None:
    raw = tmp_path / "items.csv"
    raw.write_text("name,price,qty\nlamp,10.50,3\nchair,25,1\n", encoding="utf-8")
    done = curate(str(raw), "--title-column", "name", "--content-column", "qty", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: The content column 'qty' of items.csv does not look like text")


def test_every_filter_option_reaches_the_config(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = main(["curate", str(sample_raw_path()), "--out", str(out), "--tokenizer", "cl100k_base",
                 "--keywords", "Author, book", "--keyword-mode", "any", "--min-tokens", "10", "--max-tokens", "none",
                 "--min-title-chars", "5", "--max-title-chars", "120", "--min-content-chars", "50",
                 "--max-content-chars", "3000", "--cleaning", "html", "--no-dedup", "--keep-empty",
                 "--train", "30", "--test", "20", "--shuffle-seed", "9", "--title-column", "title",
                 "--content-column", "content", "--workers", "1"])
    assert code == 0
    config = json.loads((out / "curation.json").read_text())["config"]
    assert config == CurationConfig(
        tokenizer="cl100k_base", keywords=["Author", "book"], keyword_mode="any", min_tokens=10, max_tokens=None,
        min_title_chars=5, max_title_chars=120, min_content_chars=50, max_content_chars=3000, cleaning="html",
        dedup=False, drop_empty=False, train_size=30, test_size=20, shuffle_seed=9).to_dict()
    assert len((out / "train.jsonl").read_text().splitlines()) == 30
    assert len((out / "test.jsonl").read_text().splitlines()) == 20
    assert "shuffled, seed 9" in capsys.readouterr().out


def test_command_line_of_the_page_gives_back_the_same_config(tmp_path: Path) -> None:
    import shlex

    from core.commands.curate import command_line

    config = CurationConfig(keywords=["poetry", "verse"], keyword_mode="any", max_tokens=None, min_tokens=300,
                            dedup=False, shuffle_seed=5, tokenizer="cl100k_base")
    words = shlex.split(command_line(str(sample_raw_path()), config))
    out = tmp_path / "again"
    assert main(words[3:-2] + ["--out", str(out), "--workers", "1"]) == 0
    assert json.loads((out / "curation.json").read_text())["config"] == config.to_dict()


def test_malformed_lines_are_reported_not_fatal(tmp_path: Path) -> None:
    raw = tmp_path / "raw.json"
    good = json.dumps({"title": "A title long enough to pass the notebook filter of forty",
                       "content": "the author and the copyright " * 20})
    raw.write_text(f"{good}\n{{broken\n\n{good}\n[1]\n", encoding="utf-8")
    done = curate(str(raw), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "skipped 2 malformed line(s)" in done.stdout and "first: 2, 3" in done.stdout
    assert len((tmp_path / "out" / "train.jsonl").read_text().splitlines()) == 1  # the twin is a duplicate


BAD_INPUTS = {
    "missing": (None, "does not exist"),
    "empty": (b"", "is empty"),
    "not-json": (b"hello there\nplain text\n", "is not JSON lines"),
    "binary": (bytes(range(256)) * 50, "binary file"),
    "latin1": ('{"title": "café", "content": "crème"}\n'.encode("latin-1"), "not UTF-8"),
    "wrong-column": (b'{"name": "a", "text": "b"}\n', "column 'title' is not in"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path: Path, case: str) -> None:
    data, words = BAD_INPUTS[case]
    raw = tmp_path / f"{case}.json"
    if data is not None:
        raw.write_bytes(data)
    out = tmp_path / "out"
    done = curate(str(raw), "--out", str(out))
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and words in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    left = {p.name for p in tmp_path.iterdir()} - {"resultados", "dados"}
    assert not out.exists() and left == ({raw.name} - {"missing.json"})


@pytest.mark.parametrize("args, words", [
    (["--max-tokens", "lots"], "expected a whole number"),
    (["--cleaning", "lower"], "invalid choice"),
    (["--min-title-chars", "90", "--max-title-chars", "10"], "max_title_chars must be empty or a whole number"),
    (["--preset", "nope"], "no preset named 'nope'"),
    (["--name", "bad name!"], "cannot name a curated dataset"),
])
def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, args: list[str], words: str) -> None:
    done = curate(str(sample_raw_path()), "--out", str(tmp_path / "out"), *args)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("a file")
    done = curate(str(sample_raw_path()), "--out", str(taken))
    assert done.returncode == 2 and "is not a folder" in done.stderr and taken.read_text() == "a file"


def test_name_saves_versions_in_the_database(tmp_path: Path) -> None:
    for version in (1, 2):
        done = curate(str(sample_raw_path()), "--name", "amostra")
        assert done.returncode == 0, done.stderr
        assert f"saved amostra v{version}" in done.stdout
    from core.data.curated import read_split, resolve_source
    from core.store import Store

    with Store() as store:
        folder = resolve_source("amostra", store)
        assert folder.name == "v2" and read_split(folder, "train")
        assert [r["version"] for r in store.fetch_dicts("SELECT version FROM curated_datasets ORDER BY 1")] == [1, 2]
        from core.selection import get_current

        assert get_current(store, "dataset") == "amostra@v2"  # the app's pages 2-5 open with what the CLI saved


def test_a_locked_database_is_one_sentence(tmp_path: Path) -> None:
    from core.store import Store

    with Store():  # this process holds the file, as the running app would
        done = curate(str(sample_raw_path()), "--name", "amostra", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "in use by another process" in done.stderr
    assert done.stderr.count("\n") == 1
