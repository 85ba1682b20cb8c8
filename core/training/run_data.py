"""What a training run trains on, and what it will cost, resolved by the app before a launch.

    data = resolve_data(store, config)     # a curated dataset (name, name@vN, folder) or an exported file
    check_data(data)                       # unreadable data is one sentence before anything exists
    estimate = estimate_run(store, config, data)   # core.costs.estimates' Estimate, or None when none can be made

The training subprocess has no database: core/training/jobs.py resolves the data here and writes the result
into the run's config. Estimates count tokens on at most ESTIMATE_SAMPLE examples and scale to the
examples the run will go through; the throughput is what earlier runs of this model measured on
the same hardware (plus the time they spent outside the training steps), else a calibration, else
the hardware table. Once a run has succeeded, ``estimate_vs_actual`` puts its estimate beside what
happened, with the error in %.
"""
from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import UserFacingError
from core.store import Store
from core.store import runs as db
from core.training.config import TrainConfig

ESTIMATE_SAMPLE = 400         # examples tokenized for a local estimate


class TrainingDataError(UserFacingError):
    """The training data cannot be read (binary, not UTF-8, not JSON lines, no examples)."""


@dataclass
class DataChoice:
    """What a run trains on, resolved by the app (the subprocess has no database)."""

    path: Path                    # curated folder or training file
    kind: str                     # curated | file
    curated_name: str | None
    curated_version: int | None
    format: str


def cuda_devices() -> int:
    """CUDA devices this process can use (0 without torch, or with CUDA_VISIBLE_DEVICES empty)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "":
        return 0
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except ImportError:
        return 0


def resolve_data(store: Store | None, config: TrainConfig) -> DataChoice:
    """The curated dataset (name, name@vN, folder) or exported training file of ``config.data``."""
    from core.data.curated import CuratedNotFoundError, read_manifest, resolve_source

    path = Path(config.data).expanduser()
    if path.is_file():
        manifest = {}
        with contextlib.suppress(ImportError):
            from core.formats.export import read_export_manifest

            manifest = read_export_manifest(path)
        name, version = _name_version(str(manifest.get("source") or "")) if manifest.get("source") else (None, None)
        return DataChoice(path.resolve(), "file", name, version, config.format)
    try:
        folder = resolve_source(config.data, store)
    except CuratedNotFoundError:
        raise CuratedNotFoundError(
            f"{config.data!r} is neither a training file nor a curated dataset: give a JSONL file from page 2, "
            "a folder with train.jsonl, or the name of a saved curation (or seed-study).") from None
    name, version = _name_version(config.data)
    manifest = read_manifest(folder)
    if store is not None and version is None and not Path(config.data).expanduser().is_dir():
        with contextlib.suppress(Exception):
            from core.store.curation import find_curated

            found = find_curated(store, name)
            version = int(found["version"]) if found else None
    name = str(manifest.get("name") or name)
    version = version if version is not None else manifest.get("version")
    return DataChoice(folder.resolve(), "curated", name, version, config.format)


def check_data(data: DataChoice) -> None:
    """Unreadable data is one sentence before anything exists (no run row, folder or process): one
    streaming pass in bounded memory, so a binary or 2 GB file is refused without being loaded."""
    from core.data.jsonl import check_records

    check_records(data.path if data.kind == "file" else data.path / "train.jsonl", TrainingDataError)


def _name_version(text: str) -> tuple[str, int | None]:
    match = re.fullmatch(r"(.+?)@v(\d+)", text)
    if match:
        return match.group(1), int(match.group(2))
    return (Path(text).name if os.sep in text else text), None


def estimate_run(store: Store, config: TrainConfig, data: DataChoice | None = None) -> Any:
    """The teammate's core.costs.estimates estimate for this run (an ``Estimate``), or None when it cannot be
    made (no throughput known, OpenAI data in a local format, ...): the run then records no estimate."""
    try:
        from core.costs import estimates as costs
    except ImportError:
        return None
    data = data or resolve_data(store, config)
    try:
        if config.backend in ("together", "fireworks"):
            from core.hosted.pricing import estimate_hosted

            return estimate_hosted(store, config, data)
        if config.backend == "openai":
            openai = config.openai or {}
            epochs = openai.get("n_epochs")
            return costs.estimate_openai(store, str(openai.get("model") or config.base_model), data.path,
                                         epochs=epochs if isinstance(epochs, int) else None)
        rows = _estimate_rows(config, data)
        if not rows:
            return None
        # Tokens are counted on at most ESTIMATE_SAMPLE examples, once; the estimate is then scaled
        # to the examples the run will really go through (max steps x step size, or epochs x data).
        total = len(rows)
        sample = rows[:ESTIMATE_SAMPLE]
        examples = (config.max_steps * config.batch_size * config.grad_accum if config.max_steps
                    else config.epochs * total)
        # Past runs of this model on this same hardware come first: they measured the real thing,
        # and the time they spent outside the training steps (loading, evaluating, saving) too.
        device = expected_device(config)
        history = db.throughput_history(store, config.base_model, device) if device else None
        rate = history["rate"] if history else None
        # batch_size=1: our batches carry no padding, so the tokens processed are the real ones
        kwargs = dict(epochs=1, seq_len=config.max_seq_len, batch_size=1, usd_per_hour=config.price_per_hour)
        try:
            estimate = costs.estimate_local(store, config.base_model, sample, config.format, tokens_per_s=rate,
                                            hardware=None if rate else config.hardware or None, **kwargs)
        except costs.NoThroughputError:
            # nothing measured yet: the hardware table's row for a machine like this one
            fallback = _default_hardware(store)
            if fallback is None:
                return None
            estimate = costs.estimate_local(store, config.base_model, sample, config.format, hardware=fallback,
                                            **kwargs)
        if history:
            runs = history["runs"]
            estimate.throughput_kind = "past-runs"
            estimate.throughput_source = (f"{runs} earlier run{'s' if runs > 1 else ''} of {config.base_model} on "
                                          f"{device}: median {history['rate']:,.0f} tokens/s")
        estimate = _scaled(estimate, examples / len(sample), config)
        if history and history["overhead_s"] and estimate.time_s is not None:
            estimate.overhead_s = history["overhead_s"]
            estimate.time_s += history["overhead_s"]
            if estimate.usd_per_hour is not None:
                estimate.train_cost_usd = estimate.total_cost_usd = estimate.time_s / 3600 * estimate.usd_per_hour
        return estimate
    except (UserFacingError, OSError, ValueError):
        return None


def expected_device(config: TrainConfig) -> str | None:
    """The device label a local run of ``config`` gets on this machine (as its row will store it),
    None when it cannot be known here (no torch, a device that is not available)."""
    try:
        from core.training.backends.local import device_label, pick_device, pick_precision

        device = pick_device(config.device)
        world = cuda_devices() if device == "cuda" and config.multi_gpu else 1
        return device_label(device, pick_precision(config.precision, device), max(world, 1))
    except (ImportError, UserFacingError, RuntimeError):
        return None


def error_pct(estimated: float | None, actual: float | None) -> float | None:
    """How far an estimate was from what happened, in % of the actual (negative: it was too low)."""
    if estimated is None or actual is None or actual <= 0:
        return None
    return 100.0 * (estimated - actual) / actual


def estimate_vs_actual(run: dict[str, Any]) -> dict[str, Any]:
    """A run's estimated and actual time and cost, with the error of each estimate (%) once the run
    succeeded (a cancelled or failed run stopped early: its figures are not the estimate's)."""
    done = run.get("status") == "succeeded"
    est_s, wall = run.get("estimated_wall_s"), run.get("wall_s")
    est_cost, cost = run.get("estimated_cost_usd"), run.get("actual_cost_usd")
    return {"estimated_wall_s": est_s, "wall_s": wall, "time_error_pct": error_pct(est_s, wall) if done else None,
            "estimated_cost_usd": est_cost, "actual_cost_usd": cost,
            "cost_error_pct": error_pct(est_cost, cost) if done else None}


def _scaled(estimate: Any, factor: float, config: TrainConfig) -> Any:
    estimate.billable_tokens = int(round(estimate.billable_tokens * factor))
    estimate.epochs = max(1, int(round(config.epochs))) if not config.max_steps else 1
    for name in ("time_s", "train_cost_usd", "total_cost_usd"):
        value = getattr(estimate, name)
        if value is not None:
            setattr(estimate, name, value * factor)
    if abs(factor - 1) > 1e-9:
        estimate.note("scaled", f"Counted on {estimate.n_examples} examples and scaled by {factor:.2f} to the "
                      "examples this run goes through.", n=estimate.n_examples, factor=factor)
    return estimate


def _default_hardware(store: Store) -> str | None:
    from core.costs.prices import list_hardware

    rows = [r["name"] for r in list_hardware(store)]
    wanted = "gpu" if cuda_devices() else "cpu"
    return next((name for name in rows if wanted in name.lower()), None)


def _estimate_rows(config: TrainConfig, data: DataChoice) -> list[dict[str, Any]]:
    if data.kind == "curated":
        from core.data.curated import read_split

        rows = read_split(data.path, "train")
    else:
        from core.costs.estimates import read_jsonl

        rows = read_jsonl(data.path)
    return rows[: config.max_train_examples] if config.max_train_examples else rows
