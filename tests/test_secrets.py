"""Secrets stay secret: with OPENAI_API_KEY set to a unique value, the product is exercised the way
a user would (an OpenAI fine-tune against the fake server through core.training.jobs, a playground generation
and an evaluation through OpenAI models from the CLI, a 401 from a wrong key, the xlsx report,
curate/export/estimate/import) and then every byte it left behind is searched for the key: the
DuckDB file and its WAL, run folders (config.json, events.jsonl, output.log, heartbeat, state),
exports and manifests, the xlsx (unzipped), caches, uploads. Nothing. The key typed into the
playground's password field in the real browser (and the app's streamlit log) is checked by
tests/test_security.py.

The key ends in a marker (``QZXW``) that appears nowhere else, so OpenAI's "Incorrect API key
provided: sk-***QZXW" (which quotes the last four characters) is caught too.

    .venv/bin/python -m pytest -q tests/test_secrets.py
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, fake_openai_fixture  # noqa: F401 - the fixture

from core.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "dados" / "seed"
MARKER = "QZXW"


def unique_key() -> str:
    return f"sk-proj-ftdash-{os.urandom(12).hex()}-{MARKER}"


def _needles(secret: str) -> list[bytes]:
    """The key, its distinctive middle, and the tail OpenAI's own 401 message quotes."""
    middle = secret[8:-5]
    needles = [secret, middle, f"***{secret[-4:]}", secret[-4:]]
    return [n.encode() for n in needles] + [n.encode("utf-16-le") for n in needles[:2]]


def _contents(path: Path) -> list[tuple[str, bytes]]:
    data = path.read_bytes()
    found = [(str(path), data)]
    if data[:2] == b"PK":  # xlsx / ods: search every member, uncompressed
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                found += [(f"{path}!{name}", archive.read(name)) for name in archive.namelist()]
        except zipfile.BadZipFile:
            pass
    return found


def find_secret(secret: str, *folders: Path) -> list[str]:
    """Every file (and archive member) under the folders that holds the key or a recognisable part."""
    hits = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            for name, data in _contents(path):
                for needle in _needles(secret):
                    if needle in data:
                        hits.append(f"{name}: {needle[:40]!r}")
    return hits


@pytest.fixture
def secret_env(fake_openai: FakeOpenAI, monkeypatch, tmp_path: Path) -> str:
    secret = unique_key()
    fake_openai.api_key = secret
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("FTDASH_DATA", str(tmp_path / "dados"))
    return secret


def test_the_key_is_nowhere_after_using_the_product(secret_env: str, fake_openai: FakeOpenAI, tmp_path: Path,
                                                    isolated_results: Path, capsys, monkeypatch) -> None:
    from core.store import Store
    from core.store import runs as db
    from core.training import jobs

    secret = secret_env
    work = tmp_path / "work"
    steps: dict[str, int] = {}

    def cli(*argv: str) -> str:
        steps[argv[0]] = main(list(argv))
        out, err = capsys.readouterr()
        return out + err

    cli("curate", str(SEED / "train.jsonl"), "--train", "30", "--test", "10", "--name", "livros",
        "--out", str(work / "curated"))
    cli("export", "livros", "--format", "openai-chat", "--out", str(work / "train_openai.jsonl"))
    cli("estimate", "--data", str(work / "train_openai.jsonl"), "--format", "openai-chat",
        "--model", "gpt-4o-mini-2024-07-18")
    # an OpenAI fine-tune, launched and followed as the CLI and the page do (key only in the environment)
    out = cli("train", "--backend", "openai", "--model", "gpt-4o-mini-2024-07-18", "--data",
              str(work / "train_openai.jsonl"), "--openai", "poll_interval_s=0.05", "--openai", "suffix=secrets")
    assert steps["train"] == 0, out
    cli("generate", "--model", "openai:gpt-4o-mini-2024-07-18", "--prompt", "A book about keys")
    cli("models", "list")
    out = cli("eval", "--models", "openai:gpt-4o-mini-2024-07-18", "--data", "livros", "--limit", "2",
              "--max-new-tokens", "8", "--metrics", "rougeL", "--main-metric", "rougeL",
              "--xlsx", str(work / "eval.xlsx"))
    assert steps["eval"] == 0, out
    cli("report", "--xlsx", str(isolated_results / "relatorio.xlsx"))
    cli("import", str(SEED / "fine_tuning_llama_gpt.ods"), "--no-score")
    cli("runs")
    assert all(code == 0 for code in steps.values()), steps

    # a wrong key: OpenAI's 401 quotes the key's tail; the stored answer and the message must not
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    fake_openai.api_key = "sk-the-right-one-is-another"
    out = cli("generate", "--model", "openai:gpt-4o-mini-2024-07-18", "--prompt", "Again")
    assert secret[-4:] not in out and secret not in out and "401" in out

    with Store() as store:
        runs = db.list_runs(store)
        assert runs and runs[0]["status"] == "succeeded", runs
        assert store.fetchone("SELECT count(*) FROM generations")[0] >= 2
        assert Path(runs[0]["run_dir"], "output.log").exists()
        jobs.poll(store)
    files = [p for p in isolated_results.rglob("*") if p.is_file()]
    assert any(p.suffix == ".duckdb" for p in files) and any(p.name == "events.jsonl" for p in files)
    assert any(p.suffix == ".xlsx" for p in files) and (work / "eval.xlsx").exists()
    assert find_secret(secret, isolated_results, work, tmp_path / "dados") == []


def test_find_secret_finds_what_it_should(tmp_path: Path) -> None:
    """The search itself: plain files, a UTF-16 copy, the 401 tail, inside an xlsx."""
    from openpyxl import Workbook

    secret = unique_key()
    (tmp_path / "plain.log").write_text(f"key={secret}")
    (tmp_path / "wide.bin").write_bytes(secret.encode("utf-16-le"))
    (tmp_path / "tail.txt").write_text(f"Incorrect API key provided: sk-***{secret[-4:]}.")
    book = Workbook()
    book.active["A1"] = secret
    book.save(tmp_path / "book.xlsx")
    (tmp_path / "clean.txt").write_text("nothing here")
    hits = {Path(h.split(":")[0].split("!")[0]).name for h in find_secret(secret, tmp_path)}
    assert hits == {"plain.log", "wide.bin", "tail.txt", "book.xlsx"}
