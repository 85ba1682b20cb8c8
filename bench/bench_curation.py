"""Curation speed and memory against the yardstick (../shared/bench/seed_notebook_baseline.py).

Both run as child processes on the same generated raw file, alternating, for several rounds:
the yardstick (pandas + per-row tiktoken) and ``python -m core curate --preset seed-notebook``
from nothing cached. For each: wall time, CPU time (user + sys of the whole process tree) and
peak RSS of the process tree (sampled every 5 ms, summed over the child and its workers). Every
round also checks that both wrote the same train/test rows. Then the interactive part: with
token counts cached, the core call a slider change makes (``evaluate`` + ``histograms``) timed
over a series of slider moves. Medians and ratios are printed; nothing passes or fails.

    .venv/bin/python bench/bench_curation.py --rows 300000 --rounds 3
    .venv/bin/python bench/bench_curation.py --raw trn_raw.json --rounds 2    # the full-size file

Raw files come from ../shared/tools/make_raw_dataset.py (kept in resultados/bench/). Timings on a
shared machine are noisy: compare CPU time too, and run several rounds.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
YARDSTICK = SHARED / "bench" / "seed_notebook_baseline.py"
MAKER = SHARED / "tools" / "make_raw_dataset.py"


def raw_file(rows: int) -> Path:
    from core.paths import results_dir

    folder = results_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"raw_{rows}.json"
    if not path.exists():
        print(f"generating {path} ({rows:,} rows) ...", flush=True)
        tmp = path.with_suffix(".part")
        subprocess.run([sys.executable, str(MAKER), "--rows", str(rows), "--out", str(tmp)], check=True)
        tmp.replace(path)
    return path


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(pid: int) -> int:
    """RSS of a process and all its descendants, from /proc (~0.03 ms a call).

    psutil's children(recursive=True) scans every process on the machine (~1 ms a call): at a
    5 ms interval that took ~18% of a core from the measured command, which hurt ours (two busy
    cores) more than the single-threaded yardstick."""
    pids, total = [pid], 0
    for member in pids:  # grows while it is walked: breadth-first over the tree
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{member}/task"):
                with open(f"/proc/{member}/task/{task}/children") as handle:
                    pids.extend(int(child) for child in handle.read().split())
        with contextlib.suppress(OSError, IndexError, ValueError), open(f"/proc/{member}/statm") as handle:
            total += int(handle.read().split()[1]) * _PAGE
    return total


def measure(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall seconds, CPU seconds (tree) and peak tree RSS (MB) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "peak_mb": peak / 1e6, "stdout": out}


def read_split(folder: Path) -> dict[str, list[tuple[str, str]]]:
    out = {}
    for split in ("train", "test"):
        lines = (folder / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        out[split] = [(r["title"], r["content"]) for r in map(json.loads, filter(str.strip, lines))]
    return out


def side_by_side(raw: Path, rounds: int) -> dict[str, list[dict[str, float]]]:
    from core.tokens import ensure_tiktoken_offline

    env = dict(os.environ, TIKTOKEN_CACHE_DIR=str(ensure_tiktoken_offline()))
    results: dict[str, list[dict[str, float]]] = {"yardstick": [], "ours": []}
    for number in range(rounds):
        order = ["yardstick", "ours"] if number % 2 == 0 else ["ours", "yardstick"]
        outs = {}
        for who in order:
            folder = Path(tempfile.mkdtemp(prefix=f"bench-{who}-"))
            if who == "yardstick":
                cmd = [sys.executable, str(YARDSTICK), str(raw), "--out-dir", str(folder)]
            else:
                cmd = [sys.executable, "-m", "core", "curate", str(raw), "--preset", "seed-notebook",
                       "--out", str(folder / "out")]
                folder = folder / "out"
            m = measure(cmd, env)
            results[who].append(m)
            outs[who] = read_split(folder)
            print(f"round {number + 1} {who:<9} wall {m['wall_s']:7.2f} s  cpu {m['cpu_s']:7.2f} s  "
                  f"peak {m['peak_mb']:7.0f} MB", flush=True)
        same = outs["yardstick"] == outs["ours"]
        print(f"round {number + 1} same train/test rows: {same} "
              f"({len(outs['ours']['train'])} + {len(outs['ours']['test'])})", flush=True)
        if not same:
            raise SystemExit("outputs differ: the seed-notebook preset no longer reproduces the yardstick")
    return results


def interactive(raw: Path, moves: int) -> list[float]:
    """ms per slider change (evaluate + histograms) with every needed token count cached."""
    import numpy as np

    from core.data.curation import Features, evaluate, prepare, preset
    from core.data.curation_views import HistogramScale, histograms
    from core.data.datasets import ReadPlan, read_rows

    base = preset("seed-notebook")
    t0 = time.perf_counter()
    features = Features(read_rows(raw, ReadPlan(cleaning=base.cleaning)))
    print(f"interactive: read + clean every row in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    features.ensure_tokens(base.tokenizer, ~features.empty)  # what the page caches in DuckDB
    tokens, hits = prepare(features, base)
    print(f"interactive: tokens of {np.count_nonzero(~features.empty):,} rows + keyword hits in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    scale = HistogramScale(features)
    rng = np.random.default_rng(0)
    timings = []
    for _ in range(moves):
        config = preset("seed-notebook")
        config.min_title_chars = int(rng.integers(0, 80))
        config.min_content_chars = int(rng.integers(0, 800))
        config.max_tokens = int(rng.integers(100, 1000))
        config.min_tokens = int(rng.integers(0, 100))
        config.keyword_mode = str(rng.choice(["all", "any"]))
        config.dedup = bool(rng.integers(0, 2))
        started = time.perf_counter()
        result = evaluate(features, config, tokens, hits)
        histograms(features, result, scale)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000, help="generate a raw file of this many rows")
    parser.add_argument("--raw", type=Path, help="use this raw file instead of generating one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--moves", type=int, default=20, help="slider changes timed in the interactive part")
    parser.add_argument("--skip-side-by-side", action="store_true")
    parser.add_argument("--skip-interactive", action="store_true")
    args = parser.parse_args()
    raw = args.raw or raw_file(args.rows)
    print(f"raw file: {raw} ({raw.stat().st_size / 1e6:,.0f} MB), cores: {os.cpu_count()}", flush=True)
    if not args.skip_side_by_side:
        results = side_by_side(raw, args.rounds)
        med = {who: {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "peak_mb")}
               for who, runs in results.items()}
        y, o = med["yardstick"], med["ours"]
        print("\nmedians over", args.rounds, "rounds")
        print(f"  yardstick  wall {y['wall_s']:7.2f} s  cpu {y['cpu_s']:7.2f} s  peak {y['peak_mb']:7.0f} MB")
        print(f"  ours       wall {o['wall_s']:7.2f} s  cpu {o['cpu_s']:7.2f} s  peak {o['peak_mb']:7.0f} MB")
        print(f"  ratio      {y['wall_s'] / o['wall_s']:.1f}x faster (wall), {y['cpu_s'] / o['cpu_s']:.1f}x less CPU, "
              f"{o['peak_mb'] / y['peak_mb']:.2f} of the yardstick's peak memory")
    if not args.skip_interactive:
        timings = interactive(raw, args.moves)
        print(f"\nslider change (evaluate + histograms), counts cached: median {statistics.median(timings):.0f} ms, "
              f"max {max(timings):.0f} ms over {len(timings)} moves")


if __name__ == "__main__":
    main()
