"""The validator: the seed's real OpenAI file passes; each deliberately broken file fails with exactly
its own error class, on the right line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.formats.render import PRESETS, to_records
from core.formats.validate import ValidationInputError, validate_file, validate_records

SEED_FILE = Path(__file__).resolve().parent.parent / "dados" / "seed" / "trn_gpt4_formatted.jsonl"
GOOD = {"messages": [{"role": "system", "content": "Describe books."}, {"role": "user", "content": "A title"},
                     {"role": "assistant", "content": "A description."}]}


def write(tmp_path: Path, examples: list, name: str = "data.jsonl") -> Path:
    path = tmp_path / name
    lines = [e if isinstance(e, str) else json.dumps(e) for e in examples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_seed_training_file_passes() -> None:
    report = validate_file(SEED_FILE, "openai-chat")
    assert report.ok and report.problems == [] and report.n_examples == 1500
    assert report.stats["total_tokens"] == 333_169  # x3 epochs = 999,507; the seed's job billed 990,507
    assert report.stats["examples_without_system"] == 1500


# Each case: the broken example (put on line 4 of 12), and the one error class it must raise.
BROKEN = {
    "invalid_json": '{"messages": [',
    "data_type": ["not", "an", "object"],
    "missing_messages_list": {"conversation": []},
    "message_missing_key": {"messages": [{"role": "user"}, {"role": "assistant", "content": "x"}]},
    "message_unrecognized_key": {"messages": [{"role": "user", "content": "a", "mood": "happy"},
                                              {"role": "assistant", "content": "x"}]},
    "unrecognized_role": {"messages": [{"role": "narrator", "content": "a"}, {"role": "assistant", "content": "x"}]},
    "missing_content": {"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "x"}]},
    "example_missing_assistant_message": {"messages": [{"role": "user", "content": "a"}]},
    "bad_weight": {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "x", "weight": 2}]},
}


@pytest.mark.parametrize("code", sorted(BROKEN))
def test_each_error_class_on_its_line(tmp_path, code) -> None:
    examples = [GOOD] * 12
    examples[3] = BROKEN[code]
    report = validate_file(write(tmp_path, examples), "openai-chat")
    assert not report.ok
    assert [(p.line, p.code, p.severity) for p in report.problems] == [(4, code, "error")]
    assert report.counts == {code: 1}
    assert "line 4" in report.summary() and code in report.summary()


def test_too_few_examples(tmp_path) -> None:
    report = validate_file(write(tmp_path, [GOOD] * 9), "openai-chat")
    assert [(p.line, p.code) for p in report.problems] == [(0, "too_few_examples")]
    assert validate_file(write(tmp_path, [GOOD] * 10, "ten.jsonl"), "openai-chat").ok


def test_examples_over_the_model_limit_are_reported_with_their_line(tmp_path) -> None:
    long = {"messages": [{"role": "user", "content": "word " * 17_000}, {"role": "assistant", "content": "x"}]}
    examples = [GOOD] * 12
    examples[6] = long
    path = write(tmp_path, examples)
    report = validate_file(path, "openai-chat", model="gpt-3.5-turbo-0125")  # 16,385-token limit
    assert [(p.line, p.code, p.severity) for p in report.problems] == [(7, "too_long", "warning")]
    assert report.ok  # truncated, not rejected
    assert validate_file(path, "openai-chat", model="ft:gpt-4o-mini-2024-07-18:org::abc").problems == []


def test_blank_lines_and_empty_files(tmp_path) -> None:
    report = validate_file(write(tmp_path, [GOOD] * 5 + [""] + [GOOD] * 5), "openai-chat")
    assert [(p.line, p.code) for p in report.problems] == [(6, "blank_line")] and report.ok
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert [p.code for p in validate_file(empty, "alpaca").problems] == ["empty_file"]


def test_unreadable_files_are_one_sentence(tmp_path) -> None:
    with pytest.raises(ValidationInputError, match="does not exist"):
        validate_file(tmp_path / "missing.jsonl", "openai-chat")
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValidationInputError, match="not UTF-8"):
        validate_file(binary, "openai-chat")


@pytest.mark.parametrize("fmt", ["openai-chat", "alpaca", "sharegpt", "completion", "chat-template"])
def test_exported_records_of_every_format_pass(fmt, seed_rows, tiny_model_dir) -> None:
    records = to_records(seed_rows["train"][:20], fmt, PRESETS["describe"], str(tiny_model_dir))
    report = validate_records(records, fmt)
    assert report.ok and report.problems == [], report.summary()


SCHEMA_BROKEN = [
    ("alpaca", {"instruction": "a"}, "missing_field"),
    ("alpaca", {"instruction": "a", "output": 3}, "wrong_type"),
    ("alpaca", {"instruction": "a", "output": "  "}, "empty_answer"),
    ("alpaca", {"instruction": "a", "output": "b", "extra": 1}, "unknown_key"),
    ("sharegpt", {"conversations": [{"from": "human", "value": "a"}, {"from": "bot", "value": "b"},
                                    {"from": "gpt", "value": "c"}]}, "unrecognized_role"),
    ("sharegpt", {"conversations": [{"from": "human", "value": "a"}]}, "example_missing_assistant_message"),
    ("sharegpt", {"conversations": [{"from": "human"}, {"from": "gpt", "value": "b"}]}, "wrong_type"),
    ("chat-template", {"text": "abc", "prompt": "xyz"}, "prompt_mismatch"),
    ("chat-template", {"prompt": "a"}, "missing_field"),
    ("completion", {"prompt": "a", "completion": None}, "wrong_type"),
    ("completion", ["a", "b"], "data_type"),
]


@pytest.mark.parametrize("fmt, broken, code", SCHEMA_BROKEN)
def test_schema_checks_of_the_other_formats(tmp_path, fmt, broken, code, seed_rows, tiny_model_dir) -> None:
    good = to_records(seed_rows["train"][:5], fmt, PRESETS["seed-openai"], str(tiny_model_dir))
    examples = good[:2] + [broken] + good[2:]
    report = validate_file(write(tmp_path, examples), fmt)
    assert [(p.line, p.code) for p in report.problems] == [(3, code)]
    assert report.ok == (code == "unknown_key")
