"""Batched generation vs one example at a time, on the bundled model (SmolLM2-135M-Instruct).

The yardstick is the plain way: ``model.generate`` on one test example at a time. Ours is
``core.models.generate.generate_batch`` (left-padded batches, longest first). Same model object, same
greedy settings, same prompts (the seed split's test titles through the chat template), the two
alternating round after round after an untimed warm-up of each. Prints both timings (medians), the
speed-up and how many answers are identical (the target: ≥ 8× on CPU with every
answer identical; DESIGN.md measured ~10× with batches of 32 on 2 CPU cores).

    .venv/bin/python bench/bench_generation.py                  # 64 examples, 64 new tokens, batch 32
    .venv/bin/python bench/bench_generation.py --n 16 --batch-size 16 --max-new-tokens 32   # a quick look

Not a test: timings depend on the machine and on whoever else uses its cores.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data.curated import read_split, resolve_source  # noqa: E402
from core.models.answers import GenerationSettings
from core.models.generate import generate_batch, load_local, prompt_text
from core.models.registry import BUNDLED_ID, get_registered  # noqa: E402
from core.store import Store  # noqa: E402


def one_at_a_time(local, prompts: list[str], settings: GenerationSettings) -> tuple[list[str], float]:
    """The yardstick: model.generate on each example alone (no padding at all)."""
    import torch

    texts = []
    start = time.perf_counter()
    for prompt in prompts:
        inputs = local.tokenizer([prompt_text(local.tokenizer, prompt, settings)], return_tensors="pt",
                                 add_special_tokens=False).to(local.device)
        with torch.inference_mode():
            out = local.model.generate(**inputs, max_new_tokens=settings.max_new_tokens, do_sample=False,
                                       eos_token_id=local.eos_ids, pad_token_id=local.pad_id, top_k=None,
                                       temperature=None, top_p=None)
        ids = out[0, inputs["input_ids"].shape[1]:].tolist()
        end = next((i for i, t in enumerate(ids) if t in local.eos_ids), len(ids))
        texts.append(local.tokenizer.decode(ids[:end], skip_special_tokens=True).strip())
    return texts, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=64, help="Test examples (default 64).")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="Runs of each, alternating (medians are printed).")
    parser.add_argument("--data", default="seed-study", help="Curated dataset whose test titles are the prompts.")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice).")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    prompts = [r["title"] for r in read_split(resolve_source(args.data), "test")[: args.n]]
    settings = GenerationSettings(max_new_tokens=args.max_new_tokens)  # greedy
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with Store(":memory:") as store:
        local = load_local(get_registered(store, BUNDLED_ID))
        print(f"device: {local.device} ({platform.processor() or platform.machine()}), torch threads "
              f"{torch.get_num_threads()}, cores {os.cpu_count()}, load average {load:.1f}")
        print(f"{len(prompts)} test examples of {args.data}, greedy, {args.max_new_tokens} new tokens, "
              f"batches of {args.batch_size}, {args.rounds} rounds", flush=True)
        # Warm-up (first calls allocate and pick kernels): not timed, for either side.
        generate_batch(store, BUNDLED_ID, prompts[:2], GenerationSettings(max_new_tokens=4))
        one_at_a_time(local, prompts[:2], GenerationSettings(max_new_tokens=4))
        times: dict[str, list[float]] = {"single": [], "batched": []}
        batched: list = []
        single: list[str] = []
        for number in range(args.rounds):
            for who in (("batched", "single") if number % 2 == 0 else ("single", "batched")):
                if who == "batched":
                    start = time.perf_counter()
                    batched = generate_batch(store, BUNDLED_ID, prompts, settings, batch_size=args.batch_size)
                    times[who].append(time.perf_counter() - start)
                else:
                    single, seconds = one_at_a_time(local, prompts, settings)
                    times[who].append(seconds)
            same_now = sum(a.text == b for a, b in zip(batched, single))
            print(f"round {number + 1}: one at a time {times['single'][-1]:7.1f} s, batched {times['batched'][-1]:6.1f} s"
                  f" = {times['single'][-1] / times['batched'][-1]:.1f}x; identical {same_now}/{len(prompts)}",
                  flush=True)

    same = sum(a.text == b for a, b in zip(batched, single))
    tokens = sum(a.tokens_out for a in batched)
    single_s, batched_s = statistics.median(times["single"]), statistics.median(times["batched"])
    print(f"\n{tokens} tokens generated per run; medians over {args.rounds} rounds")
    print(f"{'method':<34} {'wall s':>8} {'answers/s':>10} {'tokens/s':>9}")
    print(f"{'one at a time (model.generate)':<34} {single_s:>8.1f} {len(prompts) / single_s:>10.2f} "
          f"{tokens / single_s:>9.1f}")
    print(f"{f'batched (generate_batch, {args.batch_size})':<34} {batched_s:>8.1f} {len(prompts) / batched_s:>10.2f} "
          f"{tokens / batched_s:>9.1f}")
    print(f"speed-up: {single_s / batched_s:.1f}x (target >= 8x)")
    print(f"identical answers: {same}/{len(prompts)}")
    for i, (a, b) in enumerate(zip(batched, single)):
        if a.text != b:
            print(f"  differs #{i}: batched {a.text[:60]!r} vs single {b[:60]!r}")
    return 0 if same == len(prompts) else 1


if __name__ == "__main__":
    sys.exit(main())
