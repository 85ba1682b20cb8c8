"""Training formats: golden records and rendered texts on a real seed row, templates, token stats, export."""
from __future__ import annotations

import dataclasses
import json

import pytest

from core.config import ConfigError
from core.formats.export import export_training_file, manifest_path_for, read_export_manifest
from core.formats.render import (
    COMPLETION_SEPARATOR,
    FORMATS,
    PRESETS,
    TemplateConfig,
    TemplateError,
    answer_of,
    get_preset,
    render_text,
    to_records,
)
from core.formats.stats import ContextTarget, context_report, format_stats
from core.tokens import get_tiktoken

TITLE = "Star Bright: A Christmas Story"
CONTENT = " A Christmas tale from priest and best-selling author Greeley.Copyright 1997 Reed Business Information, Inc."
SMOL_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
DESCRIBE = PRESETS["describe"]


@pytest.fixture(scope="module")
def row(seed_rows):
    found = next(r for r in seed_rows["train"] if r["title"] == TITLE)
    assert found["content"] == CONTENT  # the real seed row, byte for byte
    return found


# -- golden records ----------------------------------------------------------------------------
def test_openai_chat_record_matches_the_seed_layout(row) -> None:
    assert to_records([row], "openai-chat", PRESETS["seed-openai"]) == [{"messages": [
        {"role": "user", "content": TITLE}, {"role": "assistant", "content": CONTENT}]}]
    assert to_records([row], "openai-chat", DESCRIBE) == [{"messages": [
        {"role": "system", "content": "You write the description of a book from its title."},
        {"role": "user", "content": f"Describe the product: {TITLE}"},
        {"role": "assistant", "content": CONTENT}]}]


def test_seed_openai_preset_reproduces_the_seed_training_file(seed_rows) -> None:
    # The seed's own file holds lowercased, cleaned rows; the layout (no system, title as the
    # user turn, description as the answer) is what the preset reproduces.
    from conftest import SEED

    first = json.loads((SEED / "trn_gpt4_formatted.jsonl").open(encoding="utf-8").readline())
    row = {"title": first["messages"][0]["content"], "content": first["messages"][1]["content"]}
    assert to_records([row], "openai-chat", get_preset("seed-openai"))[0] == first


def test_alpaca_record_and_text(row) -> None:
    record = to_records([row], "alpaca", PRESETS["seed-openai"])[0]
    assert record == {"instruction": TITLE, "input": "", "output": CONTENT}
    assert render_text(row, "alpaca", PRESETS["seed-openai"]) == (
        "Below is an instruction that describes a task. Write a response that appropriately completes the request."
        f"\n\n### Instruction:\n{TITLE}\n\n### Response:\n{CONTENT}")
    with_input = render_text(row, "alpaca", DESCRIBE)
    assert with_input == (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\nYou write the description of a book from its title.\n\n"
        f"### Input:\nDescribe the product: {TITLE}\n\n### Response:\n{CONTENT}")


def test_sharegpt_record(row) -> None:
    assert to_records([row], "sharegpt", DESCRIBE) == [{"conversations": [
        {"from": "system", "value": "You write the description of a book from its title."},
        {"from": "human", "value": f"Describe the product: {TITLE}"},
        {"from": "gpt", "value": CONTENT}]}]


def test_completion_seed_preset(row) -> None:
    record = to_records([row], "completion", PRESETS["seed-completion"])[0]
    assert record == {"prompt": f"{TITLE} ->", "completion": f" {CONTENT} STOPSTOP"}
    assert render_text(row, "completion", PRESETS["seed-completion"]) == f"{TITLE} -> {CONTENT} STOPSTOP"


def test_openai_chat_text(row) -> None:
    assert render_text(row, "openai-chat", PRESETS["seed-openai"]) == (
        f"<|im_start|>user<|im_sep|>{TITLE}<|im_end|><|im_start|>assistant<|im_sep|>{CONTENT}<|im_end|>")


def test_chat_template_with_a_local_tokenizer(row, tiny_model_dir) -> None:
    spec = str(tiny_model_dir)
    record = to_records([row], "chat-template", DESCRIBE, spec)[0]
    prompt = ("<|im_start|>system\nYou write the description of a book from its title.<|im_end|>\n"
              f"<|im_start|>user\nDescribe the product: {TITLE}<|im_end|>\n<|im_start|>assistant\n")
    # text only (a "prompt" column would make TRL read prompt/completion data), ending at the EOS
    # token: a trainer that finds none at the end appends one (TRL does)
    assert record == {"text": prompt + CONTENT + "<|im_end|>"}
    assert render_text(row, "chat-template", DESCRIBE, spec) == record["text"]
    assert render_text(record, "chat-template") == record["text"]  # a record renders as itself
    assert answer_of(record, "chat-template", spec) == CONTENT + "<|im_end|>"
    sharegpt = to_records([row], "sharegpt", DESCRIBE)[0]
    assert render_text(sharegpt, "sharegpt", None, spec) == record["text"] + "\n"  # the template's own output


@pytest.mark.slow
def test_chat_template_of_smollm2_adds_its_default_system_prompt(row) -> None:
    text = render_text(row, "chat-template", PRESETS["seed-openai"], "smollm2")
    assert text == (f"<|im_start|>system\n{SMOL_SYSTEM}<|im_end|>\n<|im_start|>user\n{TITLE}<|im_end|>\n"
                    f"<|im_start|>assistant\n{CONTENT}<|im_end|>")
    # With a system prompt of our own, SmolLM2's default is replaced, not added.
    assert SMOL_SYSTEM not in render_text(row, "chat-template", DESCRIBE, "smollm2")


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_answer_is_the_content_exactly_in_every_format(fmt, seed_rows, tiny_model_dir) -> None:
    rows = seed_rows["train"][:50]
    records = to_records(rows, fmt, PRESETS["seed-openai"], str(tiny_model_dir))
    suffix = "<|im_end|>" if fmt == "chat-template" else ""
    expected = [r["content"] + suffix for r in rows]
    if fmt == "completion":  # OpenAI's convention: the completion starts with a whitespace
        expected = [text if text[:1].isspace() else " " + text for text in expected]
    assert [answer_of(r, fmt, str(tiny_model_dir)) for r in records] == expected


def test_completion_puts_a_separator_between_prompt_and_answer() -> None:
    """Freshly curated rows (no leading space): prompt + separator, answer after a space; a
    template that ends with its own separator (the seed's " ->") gets none added."""
    fresh = {"title": "The Spanish Table", "content": "Questions for further discussion."}
    assert to_records([fresh], "completion", PRESETS["seed-openai"]) == [
        {"prompt": "The Spanish Table" + COMPLETION_SEPARATOR, "completion": " Questions for further discussion."}]
    assert to_records([fresh], "completion", DESCRIBE)[0]["prompt"] == (
        "You write the description of a book from its title.\n\nDescribe the product: The Spanish Table"
        + COMPLETION_SEPARATOR)
    assert to_records([fresh], "completion", PRESETS["seed-completion"]) == [
        {"prompt": "The Spanish Table ->", "completion": " Questions for further discussion. STOPSTOP"}]


# -- templates ---------------------------------------------------------------------------------
def test_presets_are_the_seed_layouts() -> None:
    assert PRESETS["seed-openai"].to_dict() == {"system_prompt": "", "user_template": "{title}",
                                                "assistant_template": "{content}"}
    assert PRESETS["seed-completion"].user_template == "{title} ->"
    assert PRESETS["seed-completion"].assistant_template == " {content} STOPSTOP"
    preset = get_preset("describe")
    preset.system_prompt = "changed"
    assert PRESETS["describe"].system_prompt != "changed"  # get_preset hands out copies


@pytest.mark.parametrize("changes, field", [
    ({"user_template": "Describe {author}"}, "{author}"),
    ({"user_template": "{title"}, "stray brace"),
    ({"assistant_template": "{title}"}, "assistant_template must contain {content}"),
    ({"user_template": "{title}: {content}"}, "its own answer"),
    ({"user_template": "  "}, "must not be empty"),
])
def test_bad_templates_say_what_is_wrong(changes, field) -> None:
    with pytest.raises((TemplateError, ConfigError), match=field.replace("{", r"\{").replace("}", r"\}")):
        dataclasses.replace(PRESETS["seed-openai"], **changes)


def test_literal_braces_and_braces_in_data(row) -> None:
    template = TemplateConfig(user_template="{{JSON}} {title}", assistant_template="{content}")
    odd = {"title": "Set {x}", "content": "a {b} c"}
    assert to_records([odd], "completion", template) == [
        {"prompt": "{JSON} Set {x}" + COMPLETION_SEPARATOR, "completion": " a {b} c"}]


def test_template_round_trips_through_json() -> None:
    assert TemplateConfig.from_json(DESCRIBE.to_json()) == DESCRIBE


# -- tokens ------------------------------------------------------------------------------------
def _cookbook_tokens(messages, encoding) -> int:
    # The OpenAI cookbook's num_tokens_from_messages, written out with tiktoken itself.
    total = 0
    for message in messages:
        total += 3
        for key, value in message.items():
            total += len(encoding.encode_ordinary(value))
            if key == "name":
                total += 1
    return total + 3


def test_openai_chat_counts_equal_the_cookbook_with_tiktoken(seed_rows) -> None:
    rows = seed_rows["train"][:200]
    stats = format_stats(rows, "openai-chat", DESCRIBE)
    encoding = get_tiktoken("o200k_base")
    expected = [_cookbook_tokens(r["messages"], encoding) for r in to_records(rows, "openai-chat", DESCRIBE)]
    assert stats.counts == expected
    assert stats.raw_counts == [len(encoding.encode_ordinary(r["title"])) + len(encoding.encode_ordinary(r["content"]))
                                for r in rows]
    assert stats.tokenizer == "o200k_base"


def test_completion_counts_equal_tiktoken(seed_rows) -> None:
    rows = seed_rows["train"][:100]
    stats = format_stats(rows, "completion", PRESETS["seed-completion"], openai_encoding="cl100k_base")
    encoding = get_tiktoken("cl100k_base")
    assert stats.counts == [len(encoding.encode_ordinary(f"{r['title']} -> {r['content']} STOPSTOP")) for r in rows]


def test_chat_template_counts_equal_the_hf_tokenizer(seed_rows, tiny_model_dir) -> None:
    from transformers import AutoTokenizer

    rows = seed_rows["train"][:100]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    stats = format_stats(rows, "chat-template", DESCRIBE, local_spec=str(tiny_model_dir))
    # the template's output less the newline after the final end-of-turn token (formats.chat_template_texts)
    expected = [len(tokenizer.apply_chat_template(r["messages"], tokenize=True)["input_ids"]) - 1
                for r in to_records(rows, "openai-chat", DESCRIBE)]
    assert stats.counts == expected
    assert stats.overhead_mean > 0 and stats.mean == pytest.approx(sum(expected) / len(expected))


def test_stats_summary_and_context_report() -> None:
    from core.formats.stats import FormatStats

    stats = FormatStats(fmt="alpaca", tokenizer="x", counts=[10, 20, 30, 40, 500], raw_counts=[5, 15, 25, 35, 495])
    assert (stats.mean, stats.p50, stats.max, stats.total) == (120.0, 30.0, 500, 600)
    assert stats.p95 == pytest.approx(408.0)
    assert stats.overhead_mean == 5.0 and stats.overhead_pct == pytest.approx(5 / 115 * 100)
    report = context_report({"alpaca": stats}, [ContextTarget("seq 32", "alpaca", 32), ContextTarget("big", "alpaca", 1000),
                                                 ContextTarget("other", "sharegpt", 1)])
    assert report[0]["exceeding"] == 2 and report[0]["examples"] == "4, 5" and report[0]["tokens_cut"] == 8 + 468
    assert report[1]["exceeding"] == 0 and len(report) == 2


# -- export ------------------------------------------------------------------------------------
def test_export_writes_the_file_and_its_manifest(tmp_path, seed_rows) -> None:
    rows = seed_rows["test"][:25]
    out = tmp_path / "sub" / "x_openai-chat_test.jsonl"
    result = export_training_file(rows, "openai-chat", DESCRIBE, out, source="seed-study", split="test")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == to_records(rows, "openai-chat", DESCRIBE)
    assert result.manifest_path == manifest_path_for(out) == tmp_path / "sub" / "x_openai-chat_test.manifest.json"
    manifest = read_export_manifest(out)
    assert manifest["examples"] == 25 and manifest["template"] == DESCRIBE.to_dict()
    assert manifest["source"] == "seed-study" and manifest["split"] == "test"
    assert manifest["tokens"]["total"] == format_stats(rows, "openai-chat", DESCRIBE).total
    assert not list(tmp_path.rglob("*.tmp"))
