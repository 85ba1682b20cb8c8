"""A short measurement of LoRA training throughput on this machine's device.

A few real optimizer steps with peft on the chosen model, at the chosen sequence length and
batch size (random token ids, every sequence exactly ``seq_len`` long, so tokens/s counts the
padded work a trainer does); one warm-up step first (allocations, kernel selection), then the
median step time of the measured steps. The result is cached in DuckDB per model / device /
settings, and ``core.costs.estimates.estimate_local`` uses it.

    python -m core estimate --data FILE --format chat-template --model smollm2 --calibrate

    cal = calibrate(CalibrationConfig(model="smollm2", seq_len=128, batch_size=4), store)
    cal.tokens_per_s          # e.g. ~300 on 2 CPU cores for SmolLM2-135M

The page runs it in a background thread (``start_calibration``) so a reload does not lose it.
"""
from __future__ import annotations

import functools
import platform
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from core.config import ConfigBase, option
from core.errors import UserFacingError

if TYPE_CHECKING:  # measuring needs no database: the store is imported only to cache results
    from core.store import Store


class CalibrationError(UserFacingError):
    """The calibration could not run (model not loadable, no LoRA target, out of memory)."""


@dataclass
class CalibrationConfig(ConfigBase):
    """What to measure; the defaults take ~15-30 s for SmolLM2-135M on 2 CPU cores."""

    model: str = option("smollm2", "Model spec: smollm2 (bundled), a local folder or a Hugging Face id.")
    seq_len: int = option(128, "Tokens per training sequence (use the length your examples are padded to).")
    batch_size: int = option(4, "Sequences per optimizer step.")
    steps: int = option(3, "Measured optimizer steps, after one warm-up step that is not counted.")
    lora_r: int = option(8, "LoRA rank.")
    lora_alpha: int = option(16, "LoRA alpha.")
    target_modules: str = option("q_proj,k_proj,v_proj,o_proj",
                                 "Comma-separated module names to adapt, or all-linear.")
    device: str = option("auto", "cpu, cuda, mps, or auto (the best available).")

    def validate(self) -> None:
        self.check(bool(self.model.strip()), "model", "must not be empty")
        self.check(1 <= self.seq_len <= 32768, "seq_len", "must be between 1 and 32768")
        self.check(1 <= self.batch_size <= 512, "batch_size", "must be between 1 and 512")
        self.check(1 <= self.steps <= 50, "steps", "must be between 1 and 50")
        self.check(self.lora_r >= 1, "lora_r", "must be at least 1")
        self.check(self.device in ("auto", "cpu", "cuda", "mps"), "device", "must be auto, cpu, cuda or mps")


@dataclass
class Calibration:
    model: str
    device: str
    seq_len: int
    batch_size: int
    tokens_per_s: float
    step_s: float
    warmup_s: float = 0.0
    step_times: list[float] = field(default_factory=list)
    peak_memory_mb: float | None = None
    trainable_params: int = 0
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_device(name: str = "auto") -> str:
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise CalibrationError("No CUDA device is available on this machine; use cpu.")
    return name


@functools.cache
def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str = "auto") -> str:
    """A stable description of the device, part of the cache key."""
    import torch

    device = resolve_device(device)
    if device == "cuda":
        return f"cuda: {torch.cuda.get_device_name(0)}"
    if device == "mps":
        return "mps: Apple GPU"
    return f"cpu: {_cpu_name()} ({torch.get_num_threads()} threads)"


def cache_key(config: CalibrationConfig, device: str) -> str:
    return "|".join([config.model, device, f"seq{config.seq_len}", f"b{config.batch_size}", f"r{config.lora_r}",
                     f"a{config.lora_alpha}", config.target_modules])


def _targets(config: CalibrationConfig) -> str | list[str]:
    if config.target_modules.strip() == "all-linear":
        return "all-linear"
    return [m.strip() for m in config.target_modules.split(",") if m.strip()]


def measure(config: CalibrationConfig, model: Any = None,
            progress: Callable[[int, int], None] | None = None) -> Calibration:
    """Run the steps and time them (``model``: an already loaded model, else ``config.model``)."""
    import torch
    from peft import LoraConfig, get_peft_model

    from core.bundled import load_model

    device = resolve_device(config.device)
    dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    if model is None:
        model = load_model(config.model, dtype=dtype)
    model.to(device)
    try:
        lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=0.0,
                          target_modules=_targets(config), task_type="CAUSAL_LM")
        peft_model = get_peft_model(model, lora)
    except ValueError as exc:
        raise CalibrationError(f"LoRA cannot target {config.target_modules!r} in {config.model!r} ({exc}); "
                               "try all-linear.") from None
    peft_model.train()
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    batch = torch.randint(0, int(model.config.vocab_size), (config.batch_size, config.seq_len), generator=generator)
    batch = batch.to(device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    def step() -> float:
        sync()
        start = time.perf_counter()
        loss = peft_model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync()
        return time.perf_counter() - start

    total = config.steps + 1
    try:
        warmup = step()
        if progress:
            progress(1, total)
        times = []
        for index in range(config.steps):
            times.append(step())
            if progress:
                progress(index + 2, total)
    except torch.OutOfMemoryError:
        raise CalibrationError(f"Out of memory at batch {config.batch_size} x {config.seq_len} tokens; "
                               "lower the batch size or the sequence length.") from None
    step_s = statistics.median(times)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else _rss_mb()
    return Calibration(model=config.model, device=device_name(device), seq_len=config.seq_len,
                       batch_size=config.batch_size, tokens_per_s=config.batch_size * config.seq_len / step_s,
                       step_s=step_s, warmup_s=warmup, step_times=times, peak_memory_mb=peak,
                       trainable_params=sum(p.numel() for p in trainable))


def _rss_mb() -> float | None:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:  # pragma: no cover - psutil is a dependency
        return None


def cached_calibration(store: Store, config: CalibrationConfig) -> Calibration | None:
    from core.store import formats as db

    row = db.get_calibration_row(store, cache_key(config, device_name(config.device)))
    if row is None:
        return None
    details = row["details"]
    return Calibration(model=row["model"], device=row["device"], seq_len=row["seq_len"], batch_size=row["batch_size"],
                       tokens_per_s=row["tokens_per_s"], step_s=row["step_s"], warmup_s=details.get("warmup_s", 0.0),
                       step_times=details.get("step_times", []), peak_memory_mb=details.get("peak_memory_mb"),
                       trainable_params=details.get("trainable_params", 0), cached=True)


def calibrate(config: CalibrationConfig, store: Store | None = None, force: bool = False, model: Any = None,
              progress: Callable[[int, int], None] | None = None) -> Calibration:
    """The cached measurement for these settings on this device, or a fresh one (then cached)."""
    if store is not None and not force:
        found = cached_calibration(store, config)
        if found is not None:
            return found
    result = measure(config, model=model, progress=progress)
    if store is not None:
        from core.store import formats as db

        details = {k: v for k, v in result.to_dict().items() if k in
                   ("warmup_s", "step_times", "peak_memory_mb", "trainable_params")}
        details["config"] = config.to_dict()
        db.save_calibration_row(store, cache_key(config, result.device), config.model, result.device, config.seq_len,
                                config.batch_size, result.tokens_per_s, result.step_s, details)
    return result


def find_calibration(store: Store, model: str, seq_len: int, batch_size: int) -> dict[str, Any] | None:
    """The best cached calibration of ``model`` on this device for an estimate: same settings if
    measured, else the closest sequence length."""
    from core.store import formats as db

    device = device_name("auto")
    rows = [r for r in db.list_calibrations(store) if r["model"] == model and r["device"] == device]
    if not rows:
        return None
    return min(rows, key=lambda r: (abs(r["seq_len"] - seq_len), abs(r["batch_size"] - batch_size)))


def list_calibrations(store: Store) -> list[dict[str, Any]]:
    from core.store import formats as db

    return db.list_calibrations(store)


# -- background runs (the page) ----------------------------------------------------------------
@dataclass
class CalibrationJob:
    config: CalibrationConfig
    status: str = "running"          # running | done | failed
    done_steps: int = 0
    total_steps: int = 0
    result: Calibration | None = None
    error: str | None = None
    started_at: float = field(default_factory=time.time)

    def progress(self, done: int, total: int) -> None:
        self.done_steps, self.total_steps = done, total


_JOBS: dict[str, CalibrationJob] = {}
_JOBS_LOCK = threading.Lock()


def start_calibration(store: Store, config: CalibrationConfig) -> CalibrationJob:
    """Measure in a background thread of this process (one per settings; a running one is reused)."""
    key = cache_key(config, device_name(config.device))
    with _JOBS_LOCK:
        job = _JOBS.get(key)
        if job is not None and job.status == "running":
            return job
        job = CalibrationJob(config=config, total_steps=config.steps + 1)
        _JOBS[key] = job

    def work() -> None:
        try:
            job.result = calibrate(config, store, force=True, progress=job.progress)
            job.status = "done"
        except UserFacingError as exc:
            job.error, job.status = str(exc), "failed"
        except Exception as exc:  # a bug, but the page must still learn that the thread ended
            job.error, job.status = f"{type(exc).__name__}: {exc}", "failed"

    threading.Thread(target=work, name=f"calibrate-{config.model}", daemon=True).start()
    return job


def calibration_job(config: CalibrationConfig) -> CalibrationJob | None:
    """The background run for these settings, if one was started in this process."""
    return _JOBS.get(cache_key(config, device_name(config.device)))
