"""What a fine-tune will cost, in money and time, before it is launched.

OpenAI (the cookbook's method): tokens per example = 3 per message + 1 per name + 3, plus the
tokens of every string value; epochs by ``openai_epochs``; billable = epochs × Σ min(limit,
tokens), times the model's training price; plus answering the test split with the fine-tuned
model (input and output prices). Prices are data in DuckDB (``prices``), dated and sourced.

Local LoRA: tokens processed per epoch (padding to the longest in each batch, truncated at the
sequence length) × epochs ÷ tokens/s, where tokens/s comes from a calibration on this machine
(core/costs/calibrate.py), an explicit figure, or the editable ``hardware`` table (scaled by model
size); with a $/hour price, money too.

    est = estimate_openai(store, "gpt-4o-mini-2024-07-18", "dados/seed/trn_gpt4_formatted.jsonl", test_rows)
    print(est.summary())                       # billable tokens, epochs, $ training + inference
    est = estimate_local(store, "smollm2", rows, "chat-template", hardware="CPU 2 cores (this project)")
    save_estimate(store, est, run_id=None)     # kept; the training page links it to its run
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.costs.prices import base_model_name, get_price, openai_example_limit
from core.data.jsonl import numbered_lines, too_long
from core.errors import UserFacingError
from core.formats.openai_tokens import count_texts, openai_batch_tokens
from core.formats.render import (
    DEFAULT_PRESET,
    TemplateConfig,
    check_format,
    get_preset,
    is_row,
    render_text,
    to_records,
)
from core.store import Store
from core.store import formats as db

# The seed study's job: 990,507 trained tokens in ~27 minutes (queue and validation included).
SEED_JOB_TOKENS_PER_S = 990_507 / (27 * 60)
OPENAI_LAST_JOB_DATE = dt.date(2027, 1, 6)
TARGET_EPOCHS, MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES = 3, 100, 25_000
MIN_DEFAULT_EPOCHS, MAX_DEFAULT_EPOCHS = 1, 25


class NoThroughputError(UserFacingError):
    """A local estimate has no tokens/s to work with."""


class EstimateInputError(UserFacingError):
    """The data to estimate is empty or unreadable."""


# -- OpenAI token counting ---------------------------------------------------------------------
def openai_epochs(n_examples: int, requested: int | None = None) -> int:
    """The epochs OpenAI uses: ``requested``, else the cookbook's default (3, adjusted so that
    epochs × examples lands between 100 and 25,000 where it can)."""
    if requested is not None:
        if requested < 1:
            raise EstimateInputError(f"Epochs must be at least 1, not {requested}.")
        return int(requested)
    if n_examples < 1:
        raise EstimateInputError("There are no training examples to estimate.")
    epochs = TARGET_EPOCHS
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        epochs = min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    elif n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        epochs = max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return epochs


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Records of a JSONL file (bad lines are the validator's business: here they are an error)."""
    path = Path(path)
    if not path.is_file():
        raise EstimateInputError(f"{path} does not exist.")
    records = []
    # bounded lines: a binary file, another encoding or a 2 GB line is one sentence (core/data/jsonl.py)
    for number, line in numbered_lines(path, EstimateInputError):
        if line is None:
            raise EstimateInputError(too_long(path, number))
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise EstimateInputError(f"{path} line {number} is not valid JSON; run `python -m core validate` on it.") from None
        if not isinstance(record, dict):
            raise EstimateInputError(f"{path} line {number} is not a JSON object.")
        records.append(record)
    return records


# -- estimates ---------------------------------------------------------------------------------
@dataclass
class Estimate:
    """One estimate; money in USD, time in seconds (None when unknown)."""

    kind: str
    model: str
    n_examples: int
    epochs: int
    tokens_per_epoch: int
    billable_tokens: int
    format: str = "openai-chat"
    data_path: str | None = None
    limit: int | None = None
    n_over_limit: int = 0
    train_cost_usd: float | None = None
    inference_examples: int = 0
    inference_input_tokens: int = 0
    inference_output_tokens: int = 0
    inference_cost_usd: float | None = None
    total_cost_usd: float | None = None
    time_s: float | None = None
    tokens_per_s: float | None = None
    throughput_source: str = ""
    # where tokens/s came from: past-runs | calibration | table (hardware table) | given | seed-job
    throughput_kind: str = ""
    overhead_s: float | None = None   # seconds outside training steps (load, eval, save), from past runs
    usd_per_hour: float | None = None
    price_as_of: str | None = None
    price_source: str = ""
    notes: list[str] = field(default_factory=list)
    # the same notes as a code and its values, keyed by the English note: the UI words them in its language
    note_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def note(self, code: str, text: str, **values: Any) -> None:
        """Add a note: ``text`` in English (the CLI, logs, the kept estimate), ``code`` and ``values``
        for the UI (retired, jobs-end, jobs-ended, truncated, padding; ui/core_text.py)."""
        self.notes.append(text)
        self.note_codes[text] = {"code": code, **values}

    def summary(self) -> str:
        lines = [f"{self.kind} estimate for {self.model} ({self.format}, {self.n_examples} examples)",
                 f"epochs: {self.epochs}", f"tokens per epoch: {self.tokens_per_epoch:,}"]
        if self.kind in ("openai", "together", "fireworks"):  # hosted: billed per training token
            lines.append(f"billable training tokens: {self.billable_tokens:,}")
            if self.limit:
                lines.append(f"examples over the {self.limit:,}-token limit (truncated): {self.n_over_limit}")
            lines.append(f"training cost: {format_usd(self.train_cost_usd)}")
            if self.inference_examples:
                lines.append(f"inference on {self.inference_examples} test examples: "
                             f"{self.inference_input_tokens:,} in + ~{self.inference_output_tokens:,} out tokens = "
                             f"{format_usd(self.inference_cost_usd)}")
            lines.append(f"total: {format_usd(self.total_cost_usd)}")
            lines.append(f"prices as of {self.price_as_of or '?'} ({self.price_source or 'no source'})")
        else:
            lines.append(f"tokens processed (padding included): {self.billable_tokens:,}")
            if self.limit:
                lines.append(f"examples longer than the sequence length {self.limit} (truncated): {self.n_over_limit}")
            lines.append(f"throughput: {self.tokens_per_s:,.1f} tokens/s ({self.throughput_source})"
                         if self.tokens_per_s else "throughput: unknown")
            if self.overhead_s:
                lines.append(f"plus {format_duration(self.overhead_s)} outside the training steps (loading, "
                             "evaluation, saving), as past runs took")
            if self.usd_per_hour is not None:
                lines.append(f"at {format_usd(self.usd_per_hour)}/hour: {format_usd(self.total_cost_usd)}")
        if self.time_s is not None:
            lines.append(f"time: {format_duration(self.time_s)}"
                         + (f" ({self.throughput_source})" if self.kind == "openai" else ""))
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


def format_usd(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"${value:,.4f}" if 0 < value < 0.01 else f"${value:,.2f}"


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def _chat_records(data: str | Path | Sequence[dict[str, Any]], template: TemplateConfig | None) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(data, (str, Path)):
        return read_jsonl(data), str(data)
    records = list(data)
    if records and is_row(records[0]):
        records = to_records(records, "openai-chat", template)
    return records, None


def _per_million(tokens: int, price: float | None) -> float | None:
    return None if price is None else tokens / 1e6 * price


def estimate_openai(store: Store, model: str, train_file_or_records: str | Path | Sequence[dict[str, Any]],
                    test_rows: Sequence[dict[str, Any]] | None = None, epochs: int | None = None,
                    template: TemplateConfig | None = None, today: dt.date | None = None) -> Estimate:
    """Training cost (cookbook count and epoch rule) plus answering ``test_rows`` with the result.

    ``train_file_or_records``: an openai-chat JSONL path, its records, or curated rows (turned
    into records with ``template``). ``test_rows``: curated rows or openai-chat records; the
    answer length is taken to be the reference answer's.
    """
    from core.tokens import encoding_name_for_model

    price = get_price(store, model)
    encoding = encoding_name_for_model(base_model_name(price.model))
    records, path = _chat_records(train_file_or_records, template)
    if not records:
        raise EstimateInputError("There are no training examples to estimate.")
    try:
        counts = openai_batch_tokens([r["messages"] for r in records], encoding)
    except (KeyError, TypeError, AttributeError):
        raise EstimateInputError("The training data is not in the openai-chat format; run `python -m core validate` on it.") from None
    limit = openai_example_limit(price.model)
    n_epochs = openai_epochs(len(records), epochs)
    per_epoch = int(np.minimum(counts, limit).sum())
    billable = n_epochs * per_epoch
    est = Estimate(kind="openai", model=price.model, n_examples=len(records), epochs=n_epochs,
                   tokens_per_epoch=per_epoch, billable_tokens=billable, data_path=path, limit=limit,
                   n_over_limit=int((counts > limit).sum()), train_cost_usd=_per_million(billable, price.training),
                   price_as_of=str(price.as_of) if price.as_of else None, price_source=price.source,
                   time_s=billable / SEED_JOB_TOKENS_PER_S, tokens_per_s=SEED_JOB_TOKENS_PER_S,
                   throughput_source="pace of the seed study's job: 990,507 tokens in ~27 min",
                   throughput_kind="seed-job")
    if test_rows:
        test_records, _ = _chat_records(test_rows, template or get_preset(DEFAULT_PRESET))
        prompts = [[m for m in r["messages"] if m.get("role") != "assistant"] for r in test_records]
        answers = [next((m["content"] for m in reversed(r["messages"]) if m.get("role") == "assistant"), "")
                   for r in test_records]
        # The prompt's count includes the 3 tokens priming the reply; the answer is plain text.
        est.inference_examples = len(test_records)
        est.inference_input_tokens = int(openai_batch_tokens(prompts, encoding).sum())
        est.inference_output_tokens = int(count_texts(encoding)(answers).sum()) if answers else 0
        costs = [_per_million(est.inference_input_tokens, price.input),
                 _per_million(est.inference_output_tokens, price.output)]
        est.inference_cost_usd = None if None in costs else sum(c for c in costs if c is not None)
    parts = [est.train_cost_usd, est.inference_cost_usd if test_rows else 0.0]
    est.total_cost_usd = None if None in parts else sum(p for p in parts if p is not None)
    today = today or dt.date.today()
    shutdown = str(price.shutdown_date) if price.shutdown_date else None
    if price.retired:
        est.note("retired", f"{price.model} is retired" + (f" (shut down {shutdown})" if shutdown else "")
                 + ": new fine-tunes are no longer possible.", model=price.model, shutdown=shutdown)
    last_day = OPENAI_LAST_JOB_DATE.isoformat()
    if today <= OPENAI_LAST_JOB_DATE:
        est.note("jobs-end", f"OpenAI accepts no new fine-tuning jobs after {last_day}; inference on existing "
                 "fine-tuned models continues.", date=last_day)
    else:
        est.note("jobs-ended", f"OpenAI stopped accepting new fine-tuning jobs on {last_day}.", date=last_day)
    if est.n_over_limit:
        est.note("truncated", f"{est.n_over_limit} examples exceed {limit:,} tokens and are billed (and trained) "
                 "truncated.", n=est.n_over_limit, limit=limit)
    return est


# -- local -------------------------------------------------------------------------------------
def model_size_b(spec: str) -> float | None:
    """Billions of parameters of a local model, from its config alone (no weights are loaded)."""
    try:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM

        from core.bundled import resolve_model_path

        config = AutoConfig.from_pretrained(resolve_model_path(spec))
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
        return sum(p.numel() for p in model.parameters()) / 1e9
    except (OSError, ValueError, ImportError):
        return None


def local_token_counts(model: str, records: Sequence[dict[str, Any]], fmt: str) -> np.ndarray:
    """Tokens of each record's rendered text with the local model's own tokenizer."""
    from core.tokens import get_counter

    counter = get_counter(model if model == "smollm2" else f"hf:{model}")
    return counter.count([render_text(r, fmt, None, model) for r in records])


def padded_tokens(counts: Sequence[int], seq_len: int, batch_size: int) -> int:
    """Tokens a trainer processes per epoch when each batch is padded to its longest example."""
    clipped = np.minimum(np.asarray(counts, dtype=np.int64), seq_len)
    total = 0
    for start in range(0, len(clipped), batch_size):
        batch = clipped[start:start + batch_size]
        total += int(batch.max()) * len(batch)
    return total


def estimate_local(store: Store, model: str, data: str | Path | Sequence[dict[str, Any]], fmt: str = "chat-template",
                   *, epochs: int = 1, template: TemplateConfig | None = None, seq_len: int = 512,
                   batch_size: int = 4, hardware: str | None = None, tokens_per_s: float | None = None,
                   usd_per_hour: float | None = None, size_b: float | None = None) -> Estimate:
    """Time (and money at ``usd_per_hour``) of a local LoRA fine-tune.

    Throughput: ``tokens_per_s`` if given, else the ``hardware`` row (scaled by model size), else
    the cached calibration of ``model`` on this machine's device (closest sequence length).
    """
    check_format(fmt)
    if epochs < 1:
        raise EstimateInputError(f"Epochs must be at least 1, not {epochs}.")
    if seq_len < 1 or batch_size < 1:
        raise EstimateInputError("The sequence length and batch size must be at least 1.")
    path = str(data) if isinstance(data, (str, Path)) else None
    records = read_jsonl(data) if path else list(data)  # type: ignore[arg-type]
    if records and is_row(records[0]):
        records = to_records(records, fmt, template, model)
    if not records:
        raise EstimateInputError("There are no training examples to estimate.")
    counts = local_token_counts(model, records, fmt)
    per_epoch_real = int(np.minimum(counts, seq_len).sum())
    per_epoch = padded_tokens(counts, seq_len, batch_size)
    est = Estimate(kind="local", model=model, format=fmt, n_examples=len(records), epochs=epochs,
                   tokens_per_epoch=per_epoch_real, billable_tokens=per_epoch * epochs, data_path=path, limit=seq_len,
                   n_over_limit=int((counts > seq_len).sum()))
    rate, source, hourly, kind = _throughput(store, model, seq_len, batch_size, hardware, tokens_per_s, size_b)
    est.tokens_per_s, est.throughput_source, est.throughput_kind = rate, source, kind
    est.usd_per_hour = usd_per_hour if usd_per_hour is not None else hourly
    est.time_s = est.billable_tokens / rate
    est.train_cost_usd = None if est.usd_per_hour is None else est.time_s / 3600 * est.usd_per_hour
    est.total_cost_usd = est.train_cost_usd
    if per_epoch > per_epoch_real:
        added, pct = per_epoch - per_epoch_real, 100 * (per_epoch - per_epoch_real) / max(per_epoch_real, 1)
        est.note("padding", f"padding to the longest example of each batch adds {added:,} tokens per epoch ({pct:.0f}%).",
                 tokens=added, pct=pct)
    return est


def _throughput(store: Store, model: str, seq_len: int, batch_size: int, hardware: str | None,
                tokens_per_s: float | None, size_b: float | None) -> tuple[float, str, float | None, str]:
    if tokens_per_s:
        return float(tokens_per_s), "given", None, "given"
    if hardware:
        row = db.get_hardware_row(store, hardware)
        if row is None:
            raise NoThroughputError(f"The hardware table has no row {hardware!r}; pick one of: "
                                    + ", ".join(r["name"] for r in db.list_hardware(store)) + ".")
        rate, source = float(row["tokens_per_s"]), f"hardware table: {hardware}"
        size = size_b if size_b is not None else model_size_b(model)
        if size and row.get("model_size_b") and abs(float(row["model_size_b"]) / size - 1) > 0.05:
            # Training cost per token grows roughly with the parameter count.
            ratio = float(row["model_size_b"]) / size
            rate *= ratio
            source += f", scaled from {row['model_size_b']:g}B to {size:.3g}B parameters"
            if not 0.1 <= ratio <= 10:
                source += " (rough across this gap: prefer a row measured near this size, or calibrate)"
        return rate, source, row.get("usd_per_hour"), "table"
    from core.costs.calibrate import find_calibration

    found = find_calibration(store, model, seq_len, batch_size)
    if found is None:
        raise NoThroughputError(
            f"No throughput is known for {model!r} on this machine: run a calibration "
            f"(`python -m core estimate ... --calibrate` or the button on page 2) or pick a hardware row.")
    return float(found["tokens_per_s"]), (
        f"calibration on {found['device']} (seq_len {found['seq_len']}, batch {found['batch_size']})"), None, "calibration"


def save_estimate(store: Store, estimate: Estimate, run_id: str | None = None) -> int:
    """Keep an estimate (optionally tied to a run); returns its id."""
    details = {k: v for k, v in estimate.to_dict().items() if k not in {"id"}}
    estimate.id = db.insert_estimate(store, {
        "run_id": run_id, "kind": estimate.kind, "model": estimate.model, "data_path": estimate.data_path,
        "format": estimate.format, "n_examples": estimate.n_examples, "epochs": estimate.epochs,
        "tokens_per_epoch": estimate.tokens_per_epoch, "billable_tokens": estimate.billable_tokens,
        "train_cost_usd": estimate.train_cost_usd, "inference_cost_usd": estimate.inference_cost_usd,
        "total_cost_usd": estimate.total_cost_usd, "time_s": estimate.time_s, "tokens_per_s": estimate.tokens_per_s,
        "throughput_source": estimate.throughput_source, "details_json": json.dumps(details, default=str),
    })
    return estimate.id


def link_estimate_to_run(store: Store, estimate_id: int, run_id: str) -> None:
    db.set_estimate_run(store, estimate_id, run_id)


def estimates_for_run(store: Store, run_id: str) -> list[dict[str, Any]]:
    """Estimates kept for a run, newest first (the training page shows them beside the actual figures)."""
    return db.estimates_for_run(store, run_id)
