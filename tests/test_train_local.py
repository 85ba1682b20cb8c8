"""The local backend: padding-free packing, data in every format, a real run of the tiny model in
the training entry point (events, checkpoints, adapter, exact resume, crashes told in one sentence),
and one slow run of the bundled SmolLM2 (loss falls, the adapter reloads and generates)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from core.errors import UserFacingError
from core.training.backends.base import CONFIG_FILE, read_events
from core.training.backends.local_data import Example, build_data, chunks, forward_logits, pack, step_groups, targets
from core.training.config import TrainConfig
from core.training.trainer import run as run_training

SEED = Path(__file__).resolve().parent.parent / "dados" / "seed"


def _config(model: Path | str, **overrides) -> TrainConfig:
    values = dict(base_model=str(model), data=str(SEED), max_steps=4, batch_size=2, grad_accum=2, max_seq_len=96,
                  learning_rate=3e-3, warmup_steps=0, lora_r=4, lora_alpha=8, eval_every=2, eval_examples=4,
                  save_every=2, max_train_examples=24, price_per_hour=0.5)
    values.update(overrides)
    return TrainConfig.from_preset("custom", **values)


def _run_dir(tmp_path: Path, config: TrainConfig, name: str = "run-1") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / CONFIG_FILE).write_text(json.dumps({**config.to_dict(), "data_path": config.data}))
    return folder


def _events(run_dir: Path, kind: str | None = None) -> list[dict]:
    events, _ = read_events(run_dir)
    return [e for e in events if kind is None or e["type"] == kind]


# -- packing ---------------------------------------------------------------------------------------
def test_pack_lays_examples_end_to_end_without_padding() -> None:
    a, b = Example([5, 6, 7, 8], n_prompt=2), Example([9, 10, 11], n_prompt=1)
    batch = pack([a, b], "answer")
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8, 9, 10, 11]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 3, 0, 1, 2]]
    # targets: a's answer tokens 7, 8 (predicted at positions 1, 2) and b's 10, 11 (positions 4, 5)
    assert batch["keep"].tolist() == [[False, True, True, False, True, True, False]]
    assert batch["labels"].tolist() == [7, 8, 10, 11]
    assert targets(a, "answer") + targets(b, "answer") == 4
    everything = pack([a, b], "all")
    assert everything["labels"].tolist() == [6, 7, 8, 10, 11] and targets(a, "all") == 3


def test_packed_pass_gives_the_same_loss_as_separate_passes(tiny_model_dir: Path) -> None:
    """Position ids that restart per example must isolate the examples (block-diagonal mask)."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()  # use_cache on: the trap forward_logits avoids
    examples = [Example(list(range(3, 40)), 5), Example(list(range(50, 70)), 3), Example(list(range(80, 131)), 10)]

    def loss(batch_examples: list[Example]) -> float:
        batch = pack(batch_examples, "answer")
        with torch.no_grad():
            logits = forward_logits(model, batch)
        return float(torch.nn.functional.cross_entropy(logits, batch["labels"], reduction="sum"))

    assert loss(examples) == pytest.approx(sum(loss([e]) for e in examples), rel=1e-4)
    assert [len(c) for c in chunks(examples, 40)] == [1, 1, 1]
    assert [len(c) for c in chunks(examples, 60)] == [2, 1]
    assert [len(c) for c in chunks(examples, 1000)] == [3]


def test_step_order_is_reproducible_and_resumable() -> None:
    full = [g for (g, _), _ in zip(step_groups(10, 4, seed=1), range(7))]
    assert sorted(sum(full[:5], [])[:10]) == list(range(10))  # the first epoch sees every example once
    resumed = [g for (g, _), _ in zip(step_groups(10, 4, seed=1, start_step=3), range(4))]
    assert resumed == full[3:]


# -- data ------------------------------------------------------------------------------------------
def test_curated_rows_become_chat_template_examples(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    data = build_data(_config(tiny_model_dir, max_seq_len=4096), SEED, tokenizer)
    assert len(data.train) == 24 and len(data.test) == 4
    first = data.train[0]
    text = tokenizer.decode(first.ids)
    assert text.startswith("<|im_start|>user\n") and text.endswith("<|im_end|>")  # as page 2 exports it
    answer = tokenizer.decode(first.ids[first.n_prompt:])
    rows = [json.loads(line) for line in (SEED / "train.jsonl").open()]
    assert answer.startswith(rows[0]["content"][:30])
    short = build_data(_config(tiny_model_dir, max_seq_len=40), SEED, tokenizer)
    assert short.truncated > 0 and all(len(e.ids) <= 40 for e in short.train)


@pytest.mark.parametrize("fmt", ["alpaca", "completion", "openai-chat", "sharegpt"])
def test_exported_files_of_every_format(tiny_model_dir: Path, tmp_path: Path, fmt: str, seed_rows) -> None:
    from transformers import AutoTokenizer

    from core.formats.export import export_training_file
    from core.formats.render import get_preset

    out = tmp_path / f"seed_{fmt}_train.jsonl"
    export_training_file(seed_rows["train"][:6], fmt, get_preset("seed-openai"), out, tokenizer_spec=str(tiny_model_dir))
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    data = build_data(_config(tiny_model_dir, data=str(out), format=fmt, max_seq_len=4096), out, tokenizer)
    assert data.format == fmt and len(data.train) == 6 and data.test == []
    example = data.train[0]
    answer = tokenizer.decode(example.ids[example.n_prompt:])
    assert seed_rows["train"][0]["content"][:20].strip() in answer
    assert tokenizer.eos_token_id in example.ids[-2:]  # every format teaches the model to stop


# -- runs ------------------------------------------------------------------------------------------
def test_a_run_trains_evaluates_checkpoints_and_saves_the_adapter(tiny_model_dir: Path, tmp_path: Path) -> None:
    run_dir = _run_dir(tmp_path, _config(tiny_model_dir))
    assert run_training(run_dir) == "succeeded"
    statuses = [e["status"] for e in _events(run_dir, "status")]
    assert statuses == ["starting", "running", "succeeded"]
    running = _events(run_dir, "status")[1]
    assert running["device"].startswith("cpu") and running["total_steps"] == 4
    metrics = _events(run_dir, "metric")
    train = [m["train_loss"] for m in metrics if "train_loss" in m]
    assert len(train) == 4 and all(m["tokens_seen"] > 0 for m in metrics)
    assert [m["step"] for m in metrics if "eval_loss" in m] == [2, 4]
    assert [c["step"] for c in _events(run_dir, "checkpoint")] == [2]
    result = _events(run_dir, "result")[0]
    assert result["trained_tokens"] > 0 and result["tokens_per_s"] > 0 and result["peak_rss_mb"] > 0
    assert result["final_loss"] == pytest.approx(train[-1], abs=1e-4) and result["actual_cost_usd"] > 0
    assert result["register_model"]["adapter_path"] == str(run_dir / "adapter")
    assert (run_dir / "adapter" / "adapter_model.safetensors").exists()
    registered = [e["register_model"]["step"] for e in _events(run_dir) if e.get("register_model")]
    assert registered == [2, None]  # the checkpoint, then the final adapter


def test_resume_continues_exactly_where_the_checkpoint_was(tiny_model_dir: Path, tmp_path: Path) -> None:
    config = _config(tiny_model_dir, eval_every=0)
    run_dir = _run_dir(tmp_path, config)
    assert run_training(run_dir) == "succeeded"
    first = {m["step"]: m["train_loss"] for m in _events(run_dir, "metric") if "train_loss" in m}
    assert run_training(run_dir, resume=True) == "succeeded"  # from checkpoints/step-000002
    events = _events(run_dir)
    resumed_at = next(i for i, e in enumerate(events) if e["type"] == "resumed")
    assert events[resumed_at]["from_step"] == 2
    again = {e["step"]: e["train_loss"] for e in events[resumed_at:] if e["type"] == "metric" and "train_loss" in e}
    assert sorted(again) == [3, 4]
    for step, value in again.items():  # same data order, optimizer and scheduler state: same losses
        assert value == pytest.approx(first[step], rel=1e-4)


def test_cancel_before_the_first_step(tiny_model_dir: Path, tmp_path: Path) -> None:
    run_dir = _run_dir(tmp_path, _config(tiny_model_dir))
    (run_dir / "cancel").touch()
    assert run_training(run_dir) == "cancelled"
    assert not (run_dir / "adapter").exists()


@pytest.mark.parametrize("problem", ["bad-json", "no-model", "no-targets", "4bit"])
def test_a_failing_run_ends_failed_with_one_sentence(tiny_model_dir: Path, tmp_path: Path, problem: str) -> None:
    config = _config(tiny_model_dir)
    if problem == "bad-json":
        bad = tmp_path / "bad_train.jsonl"
        bad.write_text('{"messages": [{"role": "user", "content": "x"}]}\nnot json\n')
        config = _config(tiny_model_dir, data=str(bad), format="openai-chat")
    elif problem == "no-model":
        config = _config(tmp_path / "nowhere")
    elif problem == "no-targets":
        config = _config(tiny_model_dir, target_modules=["c_attn"])
    else:
        config = _config(tiny_model_dir, load_in_4bit=True)
    run_dir = _run_dir(tmp_path, config)
    assert run_training(run_dir) == "failed"
    message = _events(run_dir, "status")[-1]["message"]
    assert message and "\n" not in message and message.endswith(".")
    expected = {"bad-json": "line 2", "no-model": "could not be fetched", "no-targets": "c_attn",
                "4bit": "bitsandbytes"}[problem]
    assert expected in message


@pytest.mark.slow
def test_the_bundled_model_learns_saves_reloads_and_generates(tmp_path: Path) -> None:
    """Real SmolLM2-135M: a few steps on the seed split at a high learning rate, loss falls; the
    saved adapter loads back into a fresh base model and generates an answer."""
    from peft import PeftModel

    from core.bundled import load_model, load_tokenizer

    config = TrainConfig.from_preset("cpu-demo", data=str(SEED), max_steps=8, eval_every=0, save_every=0,
                                     max_seq_len=96, learning_rate=1e-3, max_train_examples=16, grad_accum=1)
    run_dir = _run_dir(tmp_path, config)
    assert run_training(run_dir) == "succeeded"
    losses = [m["train_loss"] for m in _events(run_dir, "metric") if "train_loss" in m]
    assert len(losses) == 8
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3  # it learns
    tokenizer = load_tokenizer("smollm2")
    model = PeftModel.from_pretrained(load_model("smollm2"), run_dir / "adapter").eval()
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "The Art of French Cooking"}],
                                           tokenize=False, add_generation_prompt=True)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    answer = tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert answer.strip()


def test_merged_model_on_request_loads_as_a_plain_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    run_dir = _run_dir(tmp_path, _config(tiny_model_dir, max_steps=1, save_every=0, eval_every=0,
                                         merge_adapter=True))
    assert run_training(run_dir) == "succeeded"
    merged = AutoModelForCausalLM.from_pretrained(run_dir / "merged")
    assert not hasattr(merged, "peft_config") and (run_dir / "merged" / "tokenizer.json").exists()


def test_precision_follows_the_hardware() -> None:
    from core.training.backends.local import cpu_has_native_bf16, pick_precision

    assert pick_precision("auto", "cpu") == ("bf16" if cpu_has_native_bf16() else "fp32")
    assert pick_precision("fp32", "cpu") == "fp32"
    with pytest.raises(UserFacingError, match="fp16"):
        pick_precision("fp16", "cpu")
