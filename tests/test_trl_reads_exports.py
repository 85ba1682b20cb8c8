"""Every export format read by the field's trainer: TRL's real ``SFTTrainer`` dataset preparation
(trl is installed for bench/bench_training.py) on files written by ``export_training_file``, and
the token ids it prepares compared with what our local trainer (core/training/backends/local_data.py)
trains on. A format TRL misreads fails here (the old chat-template layout with a ``prompt``
column raises ``KeyError: 'completion'``); a prompt/answer boundary that is not a token boundary
makes TRL's completion mask start elsewhere than ours.

    .venv/bin/python -m pytest -q tests/test_trl_reads_exports.py
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.formats import render as formats
from core.formats.export import export_training_file, read_export_manifest
from core.training.backends.local_data import build_data
from core.training.config import TrainConfig

pytest.importorskip("trl")

N_ROWS = 6


def _fresh(rows: list[dict]) -> list[dict]:
    """Rows as page 1 curates them now: the seed split's descriptions start with a space, fresh ones do not."""
    return [{**r, "content": r["content"].strip()} for r in rows]


def _trl_prepared(records: list[dict], model_dir: Path, tmp_path: Path, formatting_func=None):
    """The dataset SFTTrainer builds from ``records`` (tokenized, with its completion mask)."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(output_dir=str(tmp_path / "trl"), report_to=[], use_cpu=True, max_length=None,
                     save_strategy="no", logging_strategy="no")
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model_dir), args=args,
                         processing_class=AutoTokenizer.from_pretrained(model_dir),
                         train_dataset=Dataset.from_list(records), formatting_func=formatting_func)
    return trainer.train_dataset


def _ours(model_dir: Path, path: Path, fmt: str, loss_on: str = "answer"):
    from transformers import AutoTokenizer

    config = TrainConfig.from_preset("custom", base_model=str(model_dir), data=str(path), format=fmt,
                                     max_seq_len=4096, loss_on=loss_on, max_steps=1)
    return build_data(config, path, AutoTokenizer.from_pretrained(model_dir), with_test=False)


def _export(rows: list[dict], fmt: str, tmp_path: Path, model_dir: Path, preset: str = "seed-openai") -> Path:
    out = tmp_path / f"seed_{fmt}_train.jsonl"
    export_training_file(rows, fmt, formats.get_preset(preset), out, tokenizer_spec=str(model_dir))
    return out


def _alpaca_text(example: dict) -> str:
    """What an Alpaca user hands TRL: Stanford Alpaca's prompt followed by the output."""
    return formats.render_text(example, "alpaca")


@pytest.mark.parametrize("fmt, preset", [(f, "seed-openai") for f in formats.FORMATS]
                         + [("completion", "seed-completion"), ("completion", "describe"),
                            ("chat-template", "describe")])
def test_trl_prepares_each_export_into_the_tokens_our_trainer_uses(fmt, preset, seed_rows, tiny_model_dir,
                                                                   tmp_path) -> None:
    rows = _fresh(seed_rows["train"][:N_ROWS])
    path = _export(rows, fmt, tmp_path, tiny_model_dir, preset)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if fmt == "sharegpt":
        # TRL renames from/value to role/content but keeps ShareGPT's role names, so a chat template
        # would say "human" and "gpt"; its users map them (axolotl and LLaMA-Factory do it themselves)
        roles = {"human": "user", "gpt": "assistant", "system": "system"}
        records = [{"conversations": [{"from": roles[t["from"]], "value": t["value"]} for t in r["conversations"]]}
                   for r in records]
    prepared = _trl_prepared(records, tiny_model_dir, tmp_path, _alpaca_text if fmt == "alpaca" else None)
    ours = _ours(tiny_model_dir, path, fmt)
    assert len(prepared) == len(ours.train) == N_ROWS
    for index, example in enumerate(ours.train):
        assert prepared[index]["input_ids"] == example.ids, (fmt, index)
        if "completion_mask" in prepared.column_names:
            # TRL's loss starts where ours does: the boundary is a token boundary
            assert prepared[index]["completion_mask"].index(1) == example.n_prompt, (fmt, index)


def test_the_old_chat_template_layout_is_what_trl_misread(seed_rows, tiny_model_dir, tmp_path) -> None:
    """Exports written before this fix held text + prompt: TRL took them for prompt-completion data.
    Our trainer still reads them, with the same answer boundary as the new text-only files."""
    rows = seed_rows["train"][:N_ROWS]
    new_path = _export(rows, "chat-template", tmp_path, tiny_model_dir)
    new = [json.loads(line) for line in new_path.read_text(encoding="utf-8").splitlines()]
    assert all(list(record) == ["text"] for record in new)
    manifest = read_export_manifest(new_path)
    assert manifest["columns"] == ["text"] and manifest["response_template"] == "<|im_start|>assistant\n"
    old = [{"text": r["text"], "prompt": formats.split_chat_text(r["text"], manifest["response_template"])[0]}
           for r in new]
    with pytest.raises(KeyError, match="completion"):
        _trl_prepared(old, tiny_model_dir, tmp_path)
    old_path = tmp_path / "old_chat-template_train.jsonl"
    old_path.write_text("".join(json.dumps(r) + "\n" for r in old), encoding="utf-8")
    from_old, from_new = _ours(tiny_model_dir, old_path, "chat-template"), _ours(tiny_model_dir, new_path, "chat-template")
    assert [(e.ids, e.n_prompt) for e in from_old.train] == [(e.ids, e.n_prompt) for e in from_new.train]
    # the answer is the content and the end-of-turn token, nothing after it
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    first = from_new.train[0]
    assert tokenizer.decode(first.ids[first.n_prompt:]) == rows[0]["content"] + "<|im_end|>"


def test_curated_rows_train_on_the_text_the_export_holds(seed_rows, tiny_model_dir, tmp_path) -> None:
    """A run on a curated folder renders each format as page 2 exports it: same ids, same boundary."""
    from transformers import AutoTokenizer

    folder = tmp_path / "curated"
    folder.mkdir()
    rows = seed_rows["train"][:N_ROWS]
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    template = formats.get_preset("seed-openai").to_dict()
    for fmt in ("chat-template", "completion", "alpaca"):
        config = TrainConfig.from_preset("custom", base_model=str(tiny_model_dir), data=str(folder), format=fmt,
                                         template=template, max_seq_len=4096, max_steps=1)
        curated = build_data(config, folder, tokenizer, with_test=False)
        exported = _ours(tiny_model_dir, _export(rows, fmt, tmp_path, tiny_model_dir), fmt)
        assert [(e.ids, e.n_prompt) for e in curated.train] == [(e.ids, e.n_prompt) for e in exported.train], fmt


@pytest.mark.slow
def test_completion_separator_is_a_clean_token_boundary_for_smollm2(seed_rows) -> None:
    """With the bundled SmolLM2 tokenizer: the separator is 4 tokens, the answer's first word keeps
    its usual token, and prompt + completion tokenizes as prompt tokens + completion tokens on every
    seed row (without the leading space it does not: "\\n\\nQuestions" splits the separator's last
    token differently)."""
    from core.bundled import load_tokenizer

    tokenizer = load_tokenizer("smollm2")
    sep = tokenizer(formats.COMPLETION_SEPARATOR, add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(sep) == ["Ċ", "Ċ", "###", "ĊĊ"]

    def clean(prompt: str, completion: str) -> bool:
        alone = tokenizer([prompt, completion], add_special_tokens=False)["input_ids"]
        joint = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]
        return joint == alone[0] + alone[1]

    rows = seed_rows["train"] + _fresh(seed_rows["train"])
    records = formats.to_records(rows, "completion", formats.get_preset("seed-openai"))
    assert all(r["prompt"].endswith(formats.COMPLETION_SEPARATOR) and r["completion"].startswith(" ")
               for r in records)
    assert all(clean(r["prompt"], r["completion"]) for r in records)
    assert not clean(records[0]["prompt"], records[0]["completion"].lstrip())
    # the old layout glued title and answer: "…Regions of FranceThough at first…"
    assert formats.render_text(_fresh(rows[:1])[0], "completion") == (
        rows[0]["title"] + formats.COMPLETION_SEPARATOR + " " + rows[0]["content"].strip())
