"""Local LoRA training speed: our backend vs TRL's SFTTrainer with its default settings.

Same model, same data (the seed split's training examples, the title as the user turn and the
description as the answer, through the model's chat template), same LoRA settings (the seed
study's preset unless overridden: r 16, alpha 16, dropout 0, every projection, lr 2e-4, linear,
batch 2 x grad-accum 4), same device, same seed; the loss on the answer only for both (TRL's
default for prompt-completion data). Everything else is TRL's default (bf16 autocast, gradient
checkpointing, padding to the longest in the batch, ...) except ``logging_steps=1``, so that its
per-step losses can be read. The two alternate, round after round, in one process.

After one unmeasured step of each (warm-up), printed per round and as medians: useful (non-padding) training tokens per second, measured from
the first step's start to the last step's end (model loading and tokenization excluded for both),
the ratio ours / TRL (target >= 1.5x), and the losses of the final adapters, computed by the same
code for both, on every training example (the final training loss) and on held-out test examples
(ours must be no worse); the mean loss of the last 3 steps is printed too, but each trainer shuffles
its own way, so those are losses on different batches.

    .venv/bin/python bench/bench_training.py --steps 3 --grad-accum 2 --rounds 2     # a short look on a CPU
    .venv/bin/python bench/bench_training.py --random-model --steps 30 --rounds 3    # GPU, no weights needed

``--random-model`` builds a SmolLM2-135M-shaped model with random weights from the bundled config
and tokenizer (throughput is the same, losses start near ln(vocab)); use it where the bundled
weights are not available: copy config.json, generation_config.json, tokenizer*.json and
chat_template.jinja of resultados/models/smollm2-135m-instruct into a folder and pass it as
``--model FOLDER --random-model`` (that is how it ran on an H100). Not a test: timings depend on
the machine and its other users.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data.curated import read_split, resolve_source  # noqa: E402
from core.training.backends.local_data import Example, chunks, encode, forward_logits, pack  # noqa: E402
from core.training.config import TrainConfig  # noqa: E402


def random_model(folder: Path, tokenizer_dir: Path) -> Path:
    """A SmolLM2-shaped model with random weights (config and tokenizer of the bundled model)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(tokenizer_dir)
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(folder)
    return folder


def prepare(model_dir: Path, n_train: int, n_test: int,
            workdir: Path) -> tuple[Path, list[dict], list[Example], list[Example]]:
    """A curated folder with only train.jsonl (so our run does no evaluation), TRL's dataset, and the
    training and held-out test examples tokenized once for both (to score the final adapters)."""
    from transformers import AutoTokenizer

    from core.formats import render as formats
    seed = resolve_source("seed-study")
    rows = read_split(seed, "train")[:n_train]
    folder = workdir / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    trl_rows = [{"prompt": [{"role": "user", "content": r["title"]}],
                 "completion": [{"role": "assistant", "content": r["content"]}]} for r in rows]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    preset = formats.get_preset("seed-openai")
    test, _, _ = encode(formats.to_records(read_split(seed, "test")[:n_test], "openai-chat", preset),
                        "openai-chat", tokenizer, 1024, "answer")
    train, _, _ = encode(formats.to_records(rows, "openai-chat", preset), "openai-chat", tokenizer, 1024, "answer")
    return folder, trl_rows, train, test


def heldout_loss(model: Any, test: list[Example], device: str) -> float:
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
        for part in chunks(test, 2048):
            batch = pack(part, "answer", device)
            logits = forward_logits(model, batch)
            total += float(torch.nn.functional.cross_entropy(logits.float(), batch["labels"], reduction="sum"))
            count += int(batch["labels"].numel())
    return total / max(count, 1)


def run_ours(config: TrainConfig, data: Path, workdir: Path, train: list[Example], test: list[Example],
             device: str) -> dict[str, Any]:
    from peft import PeftModel

    from core.bundled import load_model
    from core.training.backends.base import read_events
    from core.training.trainer import run as run_training

    run_dir = Path(tempfile.mkdtemp(prefix="ours-", dir=workdir))
    (run_dir / "config.json").write_text(json.dumps({**config.to_dict(), "data_path": str(data)}))
    status = run_training(run_dir)
    events, _ = read_events(run_dir)
    if status != "succeeded":
        raise SystemExit(f"our run {status}: {[e for e in events if e['type'] == 'status'][-1]}")
    result = next(e for e in events if e["type"] == "result")
    losses = [e["train_loss"] for e in events if e["type"] == "metric" and "train_loss" in e]
    model = PeftModel.from_pretrained(load_model(config.base_model).to(device), run_dir / "adapter")
    return {"tokens": result["trained_tokens"], "seconds": result["train_s"], "losses": losses,
            "train_set": heldout_loss(model, train, device), "heldout": heldout_loss(model, test, device),
            "peak_gpu_mb": result.get("peak_gpu_mb")}


class _Counting:
    """Wraps TRL's collator and counts the non-padding tokens it hands to the model."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.tokens = inner, 0

    def __call__(self, examples: list[Any]) -> Any:
        batch = self.inner(examples)
        if "attention_mask" in batch:
            self.tokens += int(batch["attention_mask"].sum())
        else:  # padding-free layouts carry position_ids instead
            self.tokens += int(batch["input_ids"].numel())
        return batch


def run_trl(config: TrainConfig, trl_rows: list[dict], workdir: Path, train: list[Example], test: list[Example],
            device: str) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from core.bundled import resolve_model_path

    times: dict[str, float] = {}

    class Clock(TrainerCallback):
        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            times.setdefault("start", time.perf_counter())

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if device == "cuda":
                torch.cuda.synchronize()
            times["end"] = time.perf_counter()

    args = SFTConfig(
        output_dir=str(Path(tempfile.mkdtemp(prefix="trl-", dir=workdir))), max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size, gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate, lr_scheduler_type=config.lr_scheduler, warmup_steps=config.warmup_steps,
        weight_decay=config.weight_decay, seed=config.seed, logging_steps=1, save_strategy="no", report_to="none",
        use_cpu=device == "cpu", disable_tqdm=True,
    )
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=list(config.target_modules), task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=resolve_model_path(config.base_model), args=args, peft_config=lora,
                         train_dataset=Dataset.from_list(trl_rows), callbacks=[Clock()])
    counter = _Counting(trainer.data_collator)
    trainer.data_collator = counter
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {"tokens": counter.tokens, "seconds": times["end"] - times["start"], "losses": losses,
            "train_set": heldout_loss(trainer.model, train, device), "heldout": heldout_loss(trainer.model, test, device),
            "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2", help="Model spec (default: the bundled SmolLM2-135M-Instruct).")
    parser.add_argument("--random-model", action="store_true", help="A SmolLM2-shaped model with random weights.")
    parser.add_argument("--steps", type=int, default=6, help="Optimizer steps per run.")
    parser.add_argument("--rounds", type=int, default=2, help="Runs of each, alternating.")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--grad-accum", type=int, default=None)
    parser.add_argument("--warmup-steps", type=int, default=None)
    parser.add_argument("--test-examples", type=int, default=32, help="Held-out examples for the final loss.")
    parser.add_argument("--no-warmup", action="store_true", help="Skip the unmeasured one-step run of each.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the results here.")
    args = parser.parse_args()

    import torch

    from core.bundled import resolve_model_path
    from core.training.backends.local import pick_device

    device = pick_device("auto")
    overrides: dict[str, Any] = {"max_steps": args.steps, "eval_every": 0, "save_every": 0, "loss_on": "answer"}
    for name in ("batch_size", "grad_accum", "warmup_steps"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    with tempfile.TemporaryDirectory(prefix="bench-training-") as tmp:
        workdir = Path(tmp)
        model = args.model
        if args.random_model:
            model = str(random_model(workdir / "random-smollm2", Path(resolve_model_path(args.model))))
        config = TrainConfig.from_preset("seed-study", base_model=model, **overrides)
        examples = config.max_steps * config.batch_size * config.grad_accum
        data, trl_rows, train, test = prepare(Path(resolve_model_path(model)), examples, args.test_examples, workdir)
        name = torch.cuda.get_device_name() if device == "cuda" else f"{platform.processor() or 'cpu'}, " \
            f"{torch.get_num_threads()} threads, {os.cpu_count()} cores"
        print(f"device: {device} ({name}); model {'random SmolLM2-shaped' if args.random_model else model}; "
              f"{config.max_steps} steps x {config.batch_size}x{config.grad_accum} examples; "
              f"LoRA r={config.lora_r} on {len(config.target_modules)} modules; {args.rounds} rounds", flush=True)
        if not args.no_warmup:
            # One unmeasured step of each first: a fresh process pays for its first memory touches
            # and kernel choices, and whoever ran first would carry that cost alone.
            short = TrainConfig.from_dict({**config.to_dict(), "max_steps": 1})
            run_ours(short, data, workdir, train[:2], test[:2], device)
            run_trl(short, trl_rows, workdir, train[:2], test[:2], device)
        results: dict[str, list[dict[str, Any]]] = {"ours": [], "trl": []}
        for index in range(args.rounds):
            order = ("ours", "trl") if index % 2 == 0 else ("trl", "ours")
            for who in order:
                result = (run_ours(config, data, workdir, train, test, device) if who == "ours"
                          else run_trl(config, trl_rows, workdir, train, test, device))
                result["tokens_per_s"] = result["tokens"] / result["seconds"]
                results[who].append(result)
                print(f"round {index + 1} {who:>4}: {result['tokens']:>7,} tokens in {result['seconds']:7.1f} s = "
                      f"{result['tokens_per_s']:8.1f} tokens/s; losses {[round(x, 3) for x in result['losses']]}; "
                      f"train set {result['train_set']:.4f}, held-out {result['heldout']:.4f}", flush=True)
    summary = {}
    for who, runs in results.items():
        summary[who] = {
            "tokens_per_s": statistics.median(r["tokens_per_s"] for r in runs),
            "last_steps_loss": statistics.mean(statistics.mean(r["losses"][-3:]) for r in runs),
            "train_set_loss": statistics.mean(r["train_set"] for r in runs),
            "heldout_loss": statistics.mean(r["heldout"] for r in runs),
            "peak_gpu_mb": max((r["peak_gpu_mb"] or 0) for r in runs) or None,
        }
    ratio = summary["ours"]["tokens_per_s"] / summary["trl"]["tokens_per_s"]
    print(f"\n{'':12}{'tokens/s':>12}{'train-set loss':>16}{'held-out loss':>15}{'last 3 steps':>14}"
          f"{'peak GPU MB':>13}")
    for who in ("ours", "trl"):
        s = summary[who]
        gpu = f"{s['peak_gpu_mb']:.0f}" if s["peak_gpu_mb"] else "-"
        print(f"{who:12}{s['tokens_per_s']:12.1f}{s['train_set_loss']:16.4f}{s['heldout_loss']:15.4f}"
              f"{s['last_steps_loss']:14.4f}{gpu:>13}")
    print(f"\nratio ours / TRL (useful tokens per second): {ratio:.2f}x (target >= 1.5x)")
    # The final training loss is the final adapter's loss over every training example (same code for
    # both): the last steps' losses are taken on different batches (each trainer shuffles its own way).
    for name, key in (("training", "train_set_loss"), ("held-out", "heldout_loss")):
        ours, theirs = summary["ours"][key], summary["trl"][key]
        print(f"final {name} loss ours {ours:.4f} vs TRL {theirs:.4f}: " + ("no worse" if ours <= theirs + 0.005
                                                                            else "WORSE"))
    if args.json:
        args.json.write_text(json.dumps({"device": device, "ratio": ratio, "summary": summary, "runs": results},
                                        indent=2))


if __name__ == "__main__":
    main()
