"""The curation pipeline: every filter, both presets, agreement with the yardstick (the seed
notebook's own code, run as a subprocess) on the real seed split and on messy generated files,
the CLI's one-pass path equal to the page's, token-count caching, saving, the store's tables."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.config import ConfigError
from core.data.curated import read_split, resolve_source
from core.data.curation import (
    CurationConfig,
    Features,
    PresetNotFoundError,
    TokenCache,
    evaluate,
    prepare,
    preset,
    save_preset,
    split_of,
)
from core.data.curation_io import OutputError, save_curated, write_curated
from core.data.curation_stream import curate, word_counts
from core.data.curation_views import histograms, samples
from core.data.datasets import ReadPlan, read_rows, seed_split_file
from core.tokens import ensure_tiktoken_offline, get_tiktoken

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
YARDSTICK = SHARED / "bench" / "seed_notebook_baseline.py"
MAKER = SHARED / "tools" / "make_raw_dataset.py"
RENAME = {"chars": "min_chars", "tokens": "max_tokens"}


@pytest.fixture(autouse=True)
def isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Curated datasets go to a temporary dados/ (not the repository's)."""
    folder = tmp_path / "dados"
    monkeypatch.setenv("FTDASH_DATA", str(folder))
    return folder


def run_yardstick(raw: Path, out: Path) -> tuple[dict, dict[str, list[tuple[str, str]]]]:
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TIKTOKEN_CACHE_DIR=str(ensure_tiktoken_offline()))
    done = subprocess.run([sys.executable, str(YARDSTICK), str(raw), "--out-dir", str(out)], env=env,
                          capture_output=True, text=True, check=True)
    counts = json.loads(done.stdout)
    rows = {}
    for split in ("train", "test"):
        lines = (out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        rows[split] = [(r["title"], r["content"]) for r in map(json.loads, filter(str.strip, lines))]
    return counts, rows


def ours(split) -> dict[str, list[tuple[str, str]]]:
    return {"train": [(r["title"], r["content"]) for r in split.train],
            "test": [(r["title"], r["content"]) for r in split.test]}


def page_path(raw: Path, config: CurationConfig):
    features = Features(read_rows(raw, ReadPlan(config.title_column, config.content_column, config.cleaning)))
    tokens, hits = prepare(features, config)
    result = evaluate(features, config, tokens, hits)
    return features, result, split_of(features, result)


def assert_same_funnel(split, counts: dict) -> None:
    for stage, value in split.funnel.items():
        assert counts[RENAME.get(stage, stage)] == value, stage


@pytest.fixture(scope="module")
def messy_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated raw file (nulls, duplicates, empty content, HTML entities) plus malformed lines,
    blank lines, non-object lines, odd values and a missing newline at the end."""
    folder = tmp_path_factory.mktemp("raw")
    made = folder / "made.json"
    subprocess.run([sys.executable, str(MAKER), "--rows", "6000", "--seed", "7", "--out", str(made)], check=True)
    lines = made.read_bytes().splitlines(keepends=True)
    extra = [b"\n", b"{not json\n", b'{"title": "truncated", "cont\n', b"[1, 2]\n", b'"a string"\n', b"17\n",
             b'{"title": 12345, "content": ["a", "list"]}\n', b'{"content": "no title at all"}\n',
             b'{"title": NaN, "content": "nan title"}\n', b"   \n"]
    for i, line in enumerate(extra):
        lines.insert(37 + i * 571, line)
    duplicate = lines[500]
    lines.insert(4000, duplicate)
    raw = folder / "messy.json"
    raw.write_bytes(b"".join(lines).rstrip(b"\n"))
    return raw


# -- agreement with the yardstick -------------------------------------------------------------------
def test_seed_split_matches_the_yardstick_and_the_design_numbers(tmp_path: Path) -> None:
    raw = seed_split_file()
    counts, theirs = run_yardstick(raw, tmp_path / "yard")
    config = preset("seed-notebook")
    cli = curate(raw, config)
    assert (cli.funnel["loaded"], cli.funnel["chars"], cli.funnel["deduplicated"]) == (2000, 970, 717)
    assert_same_funnel(cli, counts)
    assert ours(cli) == theirs
    _, _, page = page_path(raw, config)
    assert page.funnel == cli.funnel and ours(page) == theirs
    assert (page.train_tokens, page.test_tokens) == (cli.train_tokens, cli.test_tokens)


def test_messy_generated_file_matches_the_yardstick(messy_raw: Path, tmp_path: Path) -> None:
    counts, theirs = run_yardstick(messy_raw, tmp_path / "yard")
    assert counts["bad_lines"] == 5 and counts["train"] > 10  # [1, 2] and "a string" are rows for pandas
    for workers in (1, 2):
        cli = curate(messy_raw, preset("seed-notebook"), workers=workers)
        assert_same_funnel(cli, counts)
        assert ours(cli) == theirs
    _, _, page = page_path(messy_raw, preset("seed-notebook"))
    assert page.funnel == cli.funnel and ours(page) == theirs


def test_token_counts_are_tiktokens(messy_raw: Path) -> None:
    features, result, split = page_path(messy_raw, preset("seed-notebook"))
    encoding = get_tiktoken("o200k_base")
    for row in split.train[:40]:
        assert len(encoding.encode(row["title"])) + len(encoding.encode(row["content"])) <= 256
    want = sum(len(encoding.encode(r["title"])) + len(encoding.encode(r["content"])) for r in split.train)
    assert split.train_tokens == want


CONFIGS = [
    {},
    {"keyword_mode": "any", "shuffle_seed": 3, "train_size": 40, "test_size": 25},
    {"dedup": False, "drop_empty": False, "min_title_chars": 0, "min_content_chars": 0, "keywords": [],
     "max_tokens": 120, "train_size": 100, "test_size": 50},
    {"cleaning": "html", "keywords": ["Author"], "min_tokens": 100, "max_tokens": None, "max_title_chars": 80},
    {"cleaning": "none", "keywords": ["COPYRIGHT", "the"], "keyword_mode": "all", "max_content_chars": 2000,
     "min_content_chars": 50},
    {"tokenizer": "cl100k_base", "min_tokens": 257, "max_tokens": None, "keyword_mode": "any"},
]


@pytest.mark.parametrize("overrides", CONFIGS)
def test_the_cli_path_equals_the_page_path(messy_raw: Path, overrides: dict) -> None:
    config = CurationConfig(**overrides)
    cli = curate(messy_raw, config, workers=1)
    _, _, page = page_path(messy_raw, config)
    assert cli.funnel == page.funnel
    assert cli.train == page.train and cli.test == page.test
    assert (cli.train_tokens, cli.test_tokens) == (page.train_tokens, page.test_tokens)


# -- every filter ------------------------------------------------------------------------------------------
ROWS = [
    ("A short one", "tiny"),                                   # 0
    ("The Long Title Of A Book About Authors", "x " * 300),    # 1
    ("The Long Title Of A Book About Authors", "x " * 300),    # 2 duplicate of 1
    ("Another long title for testing the filter", ""),         # 3 empty content
    ("COPYRIGHT Long title written in capitals", "the author wrote this " * 20),  # 4
    ("Medium title here", "copyright 2001 " * 50),             # 5
    ("", "only content " * 10),                                # 6 empty title
]


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps({"title": t, "content": c}) + "\n" for t, c in ROWS), encoding="utf-8")
    return path


def kept(raw: Path, **overrides) -> list[int]:
    config = CurationConfig(**{"min_title_chars": 0, "min_content_chars": 0, "max_tokens": None, "keywords": [],
                               "train_size": 100, "test_size": 0, "cleaning": "none", **overrides})
    features, result, _ = page_path(raw, config)
    return features.data.rows[result.train].tolist()


def test_each_filter_alone(small: Path) -> None:
    assert kept(small) == [0, 1, 4, 5]  # drop empty + duplicates by default
    assert kept(small, drop_empty=False) == [0, 1, 3, 4, 5, 6]
    assert kept(small, dedup=False) == [0, 1, 2, 4, 5]
    assert kept(small, min_title_chars=20) == [1, 4]
    assert kept(small, max_title_chars=17) == [0, 5]
    assert kept(small, min_content_chars=700) == [5]
    assert kept(small, max_content_chars=599) == [0, 4]  # row 1 has exactly 600
    encoding = get_tiktoken("o200k_base")
    totals = {i: len(encoding.encode(t)) + len(encoding.encode(c)) for i, (t, c) in enumerate(ROWS)}
    assert kept(small, max_tokens=totals[4]) == [i for i in (0, 1, 4, 5) if totals[i] <= totals[4]]
    assert kept(small, min_tokens=totals[4]) == [i for i in (0, 1, 4, 5) if totals[i] >= totals[4]]
    assert kept(small, keywords=["author"], keyword_mode="any") == [1, 4]      # title OR content, any case
    assert kept(small, keywords=["copyright", "author"], keyword_mode="all") == [4]
    assert kept(small, keywords=["copyright", "author"], keyword_mode="any") == [1, 4, 5]
    assert kept(small, train_size=2) == [0, 1]


def test_train_and_test_sizes_and_seeded_shuffle(small: Path) -> None:
    base = {"min_title_chars": 0, "min_content_chars": 0, "max_tokens": None, "keywords": [], "cleaning": "none"}
    _, result, split = page_path(small, CurationConfig(**base, train_size=1, test_size=2))
    assert (len(split.train), len(split.test)) == (1, 2) and split.test[0]["title"] == ROWS[1][0]
    one = page_path(small, CurationConfig(**base, train_size=2, test_size=2, shuffle_seed=7))[2]
    two = page_path(small, CurationConfig(**base, train_size=2, test_size=2, shuffle_seed=7))[2]
    other = page_path(small, CurationConfig(**base, train_size=4, test_size=0, shuffle_seed=8))[2]
    assert one.train == two.train and one.test == two.test
    assert sorted(r["title"] for r in other.train) == sorted(r["title"] for r in one.train + one.test)


def test_seed_cleaning_makes_the_notebooks_text(small: Path) -> None:
    _, _, split = page_path(small, CurationConfig(min_title_chars=0, min_content_chars=0, max_tokens=None,
                                                  keywords=[], train_size=10))
    assert split.train[2]["title"] == "copyright long title written in capitals"


def test_presets() -> None:
    notebook = preset("seed-notebook")
    assert (notebook.min_title_chars, notebook.min_content_chars, notebook.max_tokens) == (41, 401, 256)
    assert (notebook.keywords, notebook.keyword_mode, notebook.train_size, notebook.test_size) == (
        ["author", "copyright"], "all", 1500, 500)
    assert notebook.cleaning == "seed" and notebook.dedup and notebook.drop_empty and notebook.tokenizer == "o200k_base"
    readme = preset("seed-readme")
    assert (readme.min_tokens, readme.max_tokens, readme.keyword_mode) == (257, None, "any")
    with pytest.raises(PresetNotFoundError, match="seed-notebook, seed-readme"):
        preset("nope")


def test_seed_readme_keeps_long_rows_with_either_keyword(messy_raw: Path) -> None:
    features, result, split = page_path(messy_raw, preset("seed-readme"))
    assert split.train and all(("author" in r["title"] + " " + r["content"]) or ("copyright" in r["title"] + r["content"])
                               for r in split.train)
    assert (result.tokens[result.train] >= 257).all()


def test_user_presets_live_in_the_database(store) -> None:
    config = CurationConfig(keywords=["poetry"], max_tokens=512)
    save_preset(store, "poesia", config)
    assert preset("poesia", store) == config
    with pytest.raises(ConfigError):
        save_preset(store, "seed-notebook", config)
    with pytest.raises(ConfigError):
        save_preset(store, "../bad", config)


def test_config_checks_and_round_trip() -> None:
    config = CurationConfig(keywords=[" a ", "", "b"], shuffle_seed=4)
    assert config.keywords == ["a", "b"]
    assert CurationConfig.from_json(config.to_json()) == config
    for bad in ({"min_title_chars": 50, "max_title_chars": 10}, {"cleaning": "lower"}, {"keyword_mode": "some"},
                {"train_size": -1}, {"min_tokens": 300, "max_tokens": 256}):
        with pytest.raises(ConfigError):
            CurationConfig(**bad)


# -- caches, views, saving, store ------------------------------------------------------------------------
def test_token_counts_are_cached_in_duckdb_and_never_recounted(messy_raw: Path, store, monkeypatch) -> None:
    config = preset("seed-notebook")
    plan = ReadPlan(cleaning="seed")
    first = Features(read_rows(messy_raw, plan))
    tokens, _ = prepare(first, config, cache=TokenCache(store))
    counted = int((tokens >= 0).sum())
    assert counted > 100
    second = Features(read_rows(messy_raw, plan))

    def no_counting(name: str):
        raise AssertionError("a cached row was counted again")

    monkeypatch.setattr("core.tokens.get_counter", no_counting)
    again, _ = prepare(second, config, cache=TokenCache(store))
    assert (again == tokens).all()
    from core.store.curation import count_cached_tokens

    assert count_cached_tokens(store, first.cache_key, "o200k_base") == counted


def test_word_counts_never_exceed_tiktoken(seed_rows) -> None:
    from core.data.rowblocks import text_block

    texts = [r["content"] for r in seed_rows["train"][:300]] + ["", " ", "a  b", "é x", "x\x1cy z"]
    block = text_block(texts, np.zeros(len(texts), np.int8))
    encoding = get_tiktoken("o200k_base")
    words = word_counts(block)
    assert all(w <= len(encoding.encode(t)) for w, t in zip(words.tolist(), texts))
    assert words[:300].sum() > 0.7 * sum(len(encoding.encode(t)) for t in texts[:300])


def test_histograms_and_samples(messy_raw: Path) -> None:
    features, result, _ = page_path(messy_raw, preset("seed-notebook"))
    hists = histograms(features, result)
    assert hists["tokens_before"].total == result.funnel["deduplicated"]
    assert hists["tokens_after"].total == result.funnel["tokens"]
    assert hists["title_chars"].counts.sum() == features.n
    rows = samples(features, result)
    stages = {r["stage"] for r in rows}
    assert {"train", "chars", "tokens", "keywords"} <= stages
    assert all(not r["kept"] or r["stage"] == "train" for r in rows)


def test_saving_makes_versions_readable_by_the_other_pages(messy_raw: Path, store) -> None:
    _, _, split = page_path(messy_raw, CurationConfig(train_size=20, test_size=5))
    assert (len(split.train), len(split.test)) == (20, 5)
    first = save_curated(store, "livros", split)
    second = save_curated(store, "livros", split)
    assert (first["version"], second["version"]) == (1, 2)
    folder = resolve_source("livros", store)
    assert folder == Path(second["folder"]) and folder.name == "v2"
    assert read_split(folder, "train") == split.train and read_split(folder, "test") == split.test
    assert resolve_source("livros@v1", store) == Path(first["folder"])
    manifest = json.loads((folder / "curation.json").read_text())
    assert manifest["funnel"] == split.funnel and manifest["input"]["fingerprint"] == split.report.fingerprint
    row = store.fetch_dicts("SELECT * FROM curated_datasets WHERE name = 'livros' AND version = 2")[0]
    assert row["train_rows"] == len(split.train) and row["input_fingerprint"] == split.report.fingerprint


def test_a_failed_save_leaves_nothing(messy_raw: Path, store, monkeypatch) -> None:
    _, _, split = page_path(messy_raw, CurationConfig(train_size=20, test_size=5))

    def broken(cur, values):
        raise RuntimeError("disk full")

    monkeypatch.setattr("core.store.curation.insert_curated", broken)
    with pytest.raises(RuntimeError):
        save_curated(store, "livros", split)
    assert store.fetchall("SELECT * FROM curated_datasets") == []
    from core.data.curated import curated_root

    assert not (curated_root() / "livros" / "v1").exists()
    with pytest.raises(OutputError):
        save_curated(store, "bad name!", split)


def test_write_curated_keeps_other_files_and_refuses_a_file(messy_raw: Path, tmp_path: Path) -> None:
    _, _, split = page_path(messy_raw, preset("seed-notebook"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    write_curated(out, split)
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == ["curation.json", "notes.txt", "test.jsonl", "train.jsonl"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    with pytest.raises(OutputError):
        write_curated(out / "notes.txt", split)


def test_migrations_add_the_curation_tables(store) -> None:
    applied = store.applied_migrations()
    for name in ("0101_curated_datasets", "0102_raw_datasets", "0103_token_counts", "0104_curation_presets"):
        assert name in applied
    tables = {r[0] for r in store.fetchall("SELECT table_name FROM information_schema.tables")}
    assert {"raw_datasets", "token_counts", "curation_presets", "curated_datasets"} <= tables
    assert store.migrate() == []  # applied once


def test_any_hugging_face_tokenizer_works_in_both_paths(messy_raw: Path, tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    config = CurationConfig(tokenizer=f"hf:{tiny_model_dir}", max_tokens=400, keyword_mode="any", train_size=20)
    cli = curate(messy_raw, config, workers=1)
    _, _, page = page_path(messy_raw, config)
    assert cli.funnel == page.funnel and cli.train == page.train and cli.train
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    want = sum(len(tokenizer.encode(r["title"], add_special_tokens=False))
               + len(tokenizer.encode(r["content"], add_special_tokens=False)) for r in cli.train)
    assert cli.train_tokens == want


@pytest.mark.slow
def test_a_big_generated_file_matches_the_yardstick_with_a_test_split(tmp_path: Path) -> None:
    """~280k rows: enough rows keep both keywords for the notebook's 500-row test split."""
    raw = tmp_path / "big.json"
    subprocess.run([sys.executable, str(MAKER), "--rows", "280000", "--seed", "11", "--out", str(raw)], check=True)
    counts, theirs = run_yardstick(raw, tmp_path / "yard")
    assert counts["test"] > 0
    cli = curate(raw, preset("seed-notebook"))
    assert_same_funnel(cli, counts)
    assert ours(cli) == theirs


# -- issue 10: a split the kept rows cannot fill -------------------------------------------------------------
@pytest.mark.parametrize("kept, asked, gets, fix", [
    (126, (1500, 500), (126, 0), (94, 32)),      # the old bundled sample under seed-notebook
    (1800, (1500, 500), (1500, 300), (1350, 450)),
    (3, (1500, 500), (3, 0), (2, 1)),            # at least one test row when a test split was asked for
    (1, (1500, 500), (1, 0), (1, 0)),            # one row cannot be split
    (40, (100, 0), (40, 0), (40, 0)),            # no test asked: train is what is short
    (30, (0, 50), (0, 30), (0, 30)),
])
def test_split_shortfall_and_its_ratio_fix(kept: int, asked: tuple[int, int], gets: tuple[int, int],
                                           fix: tuple[int, int]) -> None:
    from core.data.curation_split import split_shortfall

    short = split_shortfall(kept, *asked)
    assert short is not None and (short.train, short.test) == gets and (short.fix_train, short.fix_test) == fix
    assert short.fix_train + short.fix_test == kept
    assert short.no_test == (asked[1] > 0 and gets[1] == 0)


def test_no_shortfall_when_the_rows_fill_the_split_or_none_is_kept() -> None:
    from core.data.curation_split import split_shortfall

    assert split_shortfall(2000, 1500, 500) is None and split_shortfall(2364, 1500, 500) is None
    assert split_shortfall(0, 1500, 500) is None  # nothing kept: page 1 says to loosen a filter instead
    assert split_shortfall(126, 1500, 500).sentence() == (
        "the filters kept 126 rows, fewer than --train 1500 + --test 500: train gets 126, test 0 "
        "(nothing to evaluate on); --train 94 --test 32 keeps the 3:1 ratio.")


def test_saving_refuses_no_rows_and_no_test_rows_unless_asked(messy_raw: Path, isolated_results: Path) -> None:
    from core.data.curation_io import NoTestSplitError, NothingToSaveError
    from core.store import Store

    split = curate(messy_raw, CurationConfig(keyword_mode="any", max_tokens=None, train_size=10_000))
    kept = len(split.train)
    assert kept >= 2 and not split.test
    nothing = curate(messy_raw, CurationConfig(keywords=["zzzz-nowhere"]))
    with Store() as store:
        with pytest.raises(NoTestSplitError, match=r"use \d+ train / \d+ test rows"):
            save_curated(store, "sem-teste", split)
        with pytest.raises(NothingToSaveError):
            save_curated(store, "vazio", nothing, allow_no_test=True)
        assert store.fetchone("SELECT count(*) FROM curated_datasets")[0] == 0
        saved = save_curated(store, "sem-teste", split, allow_no_test=True)
    assert (saved["train"], saved["test"]) == (kept, 0)
    assert not (isolated_results.parent / "dados" / "curated" / "vazio").exists()
