"""``python -m core export | validate | estimate``: files written, reports printed, exit codes, and
bad input as one line with exit status 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.formats.render import to_records
from core.store import Store

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "dados" / "seed" / "trn_gpt4_formatted.jsonl"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_export_seed_study_in_each_layout(tmp_path, capsys, seed_rows) -> None:
    out = tmp_path / "seed_completion.jsonl"
    code, text, _ = run(capsys, "export", "seed-study", "--format", "completion", "--preset", "seed-completion",
                        "--split", "test", "--out", str(out))
    assert code == 0 and "500 examples" in text
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    row = seed_rows["test"][0]
    assert first == {"prompt": f"{row['title']} ->", "completion": f" {row['content']} STOPSTOP"}
    manifest = json.loads((tmp_path / "seed_completion.manifest.json").read_text(encoding="utf-8"))
    assert manifest["split"] == "test" and manifest["examples"] == 500 and manifest["source"] == "seed-study"


def test_export_with_template_options_from_a_folder(tmp_path, capsys, seed_rows, tiny_model_dir) -> None:
    folder = tmp_path / "cur"
    folder.mkdir()
    rows = seed_rows["train"][:12]
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "curation.json").write_text(json.dumps({"name": "books", "version": 3}), encoding="utf-8")
    out = tmp_path / "a.jsonl"
    code, _, _ = run(capsys, "export", str(folder), "--format", "alpaca", "--system", "Describe the book.",
                     "--user-template", "Title: {title}", "--tokenizer", str(tiny_model_dir), "--out", str(out))
    assert code == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert records[0] == {"instruction": "Describe the book.", "input": f"Title: {rows[0]['title']}",
                          "output": rows[0]["content"]}
    assert json.loads((tmp_path / "a.manifest.json").read_text())["source"] == "books@v3"


def test_validate_reports_and_exit_codes(tmp_path, capsys) -> None:
    code, text, _ = run(capsys, "validate", str(SEED_FILE), "--format", "openai-chat")
    assert code == 0 and "OK (0 errors" in text and "1500 examples" in text
    broken = tmp_path / "broken.jsonl"
    lines = SEED_FILE.read_text(encoding="utf-8").splitlines()[:12]
    lines[4] = json.dumps({"messages": [{"role": "user", "content": "only a question"}]})
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, text, _ = run(capsys, "validate", str(broken), "--format", "openai-chat")
    assert code == 1 and "error: line 5: [example_missing_assistant_message]" in text


def test_validate_against_a_hosted_providers_rules(tmp_path, capsys) -> None:
    few = tmp_path / "few.jsonl"
    few.write_text("\n".join(SEED_FILE.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8")
    code, text, _ = run(capsys, "validate", str(few), "--format", "openai-chat")
    assert code == 1 and "[too_few_examples]" in text  # OpenAI wants 10
    code, text, _ = run(capsys, "validate", str(few), "--format", "openai-chat", "--provider", "together")
    assert code == 0 and "warning: file: [too_few_examples]" in text and "Together does not require it" in text
    code, text, _ = run(capsys, "validate", str(few), "--format", "alpaca", "--provider", "fireworks")
    assert code == 1 and "[format_not_accepted] Fireworks fine-tuning takes openai-chat files, not alpaca" in text


def test_estimate_openai_with_the_test_split(capsys, store_path) -> None:
    code, text, _ = run(capsys, "estimate", "--data", str(SEED_FILE), "--format", "openai-chat",
                        "--model", "gpt-4o-mini-2024-07-18", "--test", "seed-study")
    assert code == 0
    assert "billable training tokens: 999,507" in text and "training cost: $3.00" in text
    assert "inference on 500 test examples" in text and "saved as estimate #1" in text
    with Store(store_path) as store:
        assert store.fetchone("SELECT count(*) FROM estimates")[0] == 1


def test_estimate_local_with_a_throughput(tmp_path, capsys, seed_rows, tiny_model_dir) -> None:
    data = tmp_path / "x.jsonl"
    records = to_records(seed_rows["train"][:30], "alpaca")
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    code, text, _ = run(capsys, "estimate", "--data", str(data), "--format", "alpaca", "--model", str(tiny_model_dir),
                        "--tokens-per-s", "100", "--usd-per-hour", "2", "--epochs", "2", "--no-save")
    assert code == 0 and "local estimate" in text and "throughput: 100.0 tokens/s (given)" in text
    assert "saved" not in text


def test_estimate_local_calibrates(tmp_path, capsys, seed_rows, tiny_model_dir) -> None:
    data = tmp_path / "x.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in to_records(seed_rows["train"][:8], "completion")),
                    encoding="utf-8")
    code, text, err = run(capsys, "estimate", "--data", str(data), "--format", "completion", "--model",
                          str(tiny_model_dir), "--calibrate", "--seq-len", "32", "--batch-size", "2")
    assert code == 0 and "calibration:" in text and "calibrating: step 1/4" in err
    assert "calibration on cpu" in text


BAD = [
    (["export", "no-such-dataset", "--format", "alpaca", "--out", "x.jsonl"], "is not a curated dataset"),
    (["export", "seed-study", "--format", "alpaca", "--user-template", "{author}", "--out", "x.jsonl"], "{author}"),
    (["validate", "missing.jsonl", "--format", "openai-chat"], "does not exist"),
    (["estimate", "--data", "missing.jsonl", "--format", "openai-chat", "--model", "gpt-4o-mini"], "does not exist"),
    (["estimate", "--data", str(SEED_FILE), "--format", "alpaca", "--model", "gpt-4o-mini"], "openai-chat format"),
    (["estimate", "--data", str(SEED_FILE), "--format", "openai-chat", "--model", "gpt-4o-mini", "--epochs", "0"],
     "at least 1"),
]


@pytest.mark.parametrize("argv, message", BAD)
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, argv, message) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert "Traceback" not in out + err


def test_real_process_exit_codes(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([sys.executable, "-m", "core", "validate", str(SEED_FILE), "--format", "openai-chat"],
                        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "-m", "core", "validate", str(tmp_path / "nope"), "--format", "alpaca"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and bad.stderr.startswith("error:")


@pytest.fixture
def store_path(isolated_results) -> Path:
    return Path(os.environ["FTDASH_DB"])
