"""``python -m core train | runs | cancel | resume``: a real foreground run of the tiny model recorded
like the page records it, options built from TrainConfig, one-sentence errors, a locked database."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.cli import build_parser, main
from core.commands.train import config_from_args
from core.store import Store
from core.store import runs as db


def _args(*argv: str):
    return build_parser().parse_args(["train", *argv])


def test_options_come_from_the_config_and_presets() -> None:
    config = config_from_args(_args("--preset", "seed-study", "--max-steps", "7", "--model", "smollm2",
                                    "--target-modules", "q_proj,v_proj", "--no-multi-gpu",
                                    "--user-template", "Describe: {title}"))
    assert (config.lora_r, config.lora_alpha, config.learning_rate, config.batch_size, config.grad_accum) == \
        (16, 16, 2e-4, 2, 4)
    assert config.max_steps == 7 and config.seed == 3407 and config.preset == "seed-study"
    assert config.target_modules == ["q_proj", "v_proj"] and config.multi_gpu is False
    assert config.template == {"user_template": "Describe: {title}"}
    demo = config_from_args(_args("--preset", "cpu-demo"))
    assert demo.max_steps == 16 and demo.max_seq_len == 128
    openai = config_from_args(_args("--backend", "openai", "--model", "gpt-4o-mini-2024-07-18", "--data", "x.jsonl",
                                    "--openai", "n_epochs=3", "--openai", "suffix=seed"))
    assert openai.openai == {"n_epochs": 3, "suffix": "seed", "model": "gpt-4o-mini-2024-07-18"}
    named = config_from_args(_args("--backend", "openai", "--data", "x.jsonl", "--openai-model", "gpt-4.1-mini-2025-04-14",
                                   "--n-epochs", "2", "--lr-multiplier", "1.8"))
    assert named.openai == {"model": "gpt-4.1-mini-2025-04-14", "n_epochs": 2, "learning_rate_multiplier": 1.8}
    assert openai.format == "openai-chat"
    assert "LoRA rank" in build_parser()._subparsers._group_actions[0].choices["train"].format_help()


def test_train_in_the_foreground_then_runs(tiny_model_dir: Path, capsys) -> None:
    code = main(["train", "--model", str(tiny_model_dir), "--data", "seed-study", "--format", "chat-template",
                 "--max-steps", "3", "--batch-size", "2", "--grad-accum", "1", "--max-seq-len", "64",
                 "--max-train-examples", "12", "--lr", "0.003", "--eval-every", "0", "--eval-examples", "4"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "started" in out and ": succeeded, train loss" in out
    with Store() as store:
        (run,) = db.list_runs(store)
        assert run["status"] == "succeeded" and run["step"] == 3 and run["curated_name"] == "seed-study"
        config = json.loads(run["config_json"])
        assert config["max_steps"] == 3 and config["learning_rate"] == 0.003 and config["data_path"].endswith("seed")
        assert Path(run["run_dir"], "config.json").exists() and Path(run["run_dir"], "adapter").is_dir()
        from core.selection import get_current

        assert get_current(store, "run") == run["id"]  # the app's pages 3-5 open with the run the CLI launched
    assert main(["runs"]) == 0
    table = capsys.readouterr().out
    assert run["id"] in table and "succeeded" in table
    assert main(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["id"] == run["id"]
    assert main(["resume", run["id"][:12]]) == 2  # already finished: one sentence
    assert "already finished" in capsys.readouterr().err


@pytest.mark.parametrize("argv, expected", [
    (["train", "--data", "no-such-data"], "neither a training file nor a curated dataset"),
    (["train", "--lora-r", "0"], "lora_r"),
    (["train", "--backend", "openai", "--openai", "n_epochs"], "KEY=VALUE"),
    (["cancel", "no-such-run"], "There is no run"),
    (["resume", "no-such-run"], "There is no run"),
])
def test_errors_are_one_sentence(argv: list[str], expected: str, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and err.count("\n") == 1


def test_a_locked_database_is_one_sentence_and_cancel_still_reaches_the_run(isolated_results: Path, capsys) -> None:
    with Store():
        pass  # create the file with its schema
    run_dir = isolated_results / "runs" / "20260101-000000-smollm2-abcd"
    run_dir.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(isolated_results / 'estudo.duckdb')!r})
            print("ready", flush=True)
            sys.stdin.readline()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert main(["train", "--preset", "cpu-demo"]) == 2
        err = capsys.readouterr().err
        assert "in use by another process" in err and err.count("\n") == 1
        assert main(["cancel", "20260101-000000"]) == 0
        assert "asked to stop through its folder" in capsys.readouterr().out
        assert (run_dir / "cancel").exists()
    finally:
        holder.communicate("\n", timeout=10)
