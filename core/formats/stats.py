"""Token statistics of the training formats: tokens per example (mean, p50, p95, max) with the
tokenizer that will read each format, the overhead versus the raw title + content, and the
examples that exceed each target model's context or training sequence length.

    stats = all_format_stats(rows, template, local_spec="smollm2")     # {format: FormatStats}
    stats["chat-template"].overhead_mean                               # tokens added per example
    context_report(stats, [ContextTarget("smollm2 @ 256", "chat-template", 256)])

``FormatView`` is page 2's one config object (source, split, format, template, target models).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.config import ConfigBase, option
from core.data.curated import SPLITS, is_curated_folder, read_manifest, read_split
from core.formats.render import (
    DEFAULT_LOCAL_MODEL,
    DEFAULT_OPENAI_ENCODING,
    DEFAULT_PRESET,
    FORMATS,
    OPENAI_FORMATS,
    TemplateConfig,
    check_format,
    get_preset,
    render_text,
    to_records,
)


# -- token statistics --------------------------------------------------------------------------
def tokenizer_for_format(fmt: str, local_spec: str = DEFAULT_LOCAL_MODEL,
                         openai_encoding: str = DEFAULT_OPENAI_ENCODING) -> str:
    """The counter name (core.tokens.get_counter) that reads ``fmt``'s text."""
    return openai_encoding if check_format(fmt) in OPENAI_FORMATS else (
        local_spec if local_spec == "smollm2" else f"hf:{local_spec}")


def openai_chat_counts(records: Sequence[dict[str, Any]], encoding: str = DEFAULT_OPENAI_ENCODING) -> np.ndarray:
    """The cookbook's per-example count for many chat records, batched through one counter."""
    from core.formats.openai_tokens import openai_batch_tokens

    return openai_batch_tokens([r["messages"] for r in records], encoding)


@dataclass
class FormatStats:
    """Tokens per example of one format, next to the raw title + content tokens."""

    fmt: str
    tokenizer: str
    counts: list[int]
    raw_counts: list[int]

    def _q(self, q: float) -> float:
        return float(np.percentile(self.counts, q)) if self.counts else 0.0

    @property
    def n(self) -> int:
        return len(self.counts)

    @property
    def mean(self) -> float:
        return float(np.mean(self.counts)) if self.counts else 0.0

    @property
    def p50(self) -> float:
        return self._q(50)

    @property
    def p95(self) -> float:
        return self._q(95)

    @property
    def max(self) -> int:
        return int(max(self.counts)) if self.counts else 0

    @property
    def total(self) -> int:
        return int(sum(self.counts))

    @property
    def raw_mean(self) -> float:
        return float(np.mean(self.raw_counts)) if self.raw_counts else 0.0

    @property
    def overhead_mean(self) -> float:
        """Tokens the format adds to each example on average (framing, prompts, system text)."""
        return self.mean - self.raw_mean

    @property
    def overhead_pct(self) -> float:
        return 100.0 * self.overhead_mean / self.raw_mean if self.raw_mean else 0.0

    def over(self, limit: int) -> list[int]:
        """0-based indices of the examples longer than ``limit`` tokens."""
        return [i for i, c in enumerate(self.counts) if c > limit]

    def as_row(self) -> dict[str, Any]:
        return {"format": self.fmt, "tokenizer": self.tokenizer, "examples": self.n, "mean": round(self.mean, 1),
                "p50": self.p50, "p95": round(self.p95, 1), "max": self.max, "total": self.total,
                "raw_mean": round(self.raw_mean, 1), "overhead_mean": round(self.overhead_mean, 1),
                "overhead_pct": round(self.overhead_pct, 1)}


def format_stats(rows: Sequence[dict[str, Any]], fmt: str, template: TemplateConfig | None = None,
                 local_spec: str = DEFAULT_LOCAL_MODEL, openai_encoding: str = DEFAULT_OPENAI_ENCODING,
                 raw_cache: dict[str, list[int]] | None = None) -> FormatStats:
    """Token counts of every row in ``fmt`` with the tokenizer that will read it. ``raw_cache`` keeps
    the raw title + content counts per tokenizer between formats (four formats share one)."""
    from core.tokens import get_counter

    template = template or get_preset(DEFAULT_PRESET)
    name = tokenizer_for_format(fmt, local_spec, openai_encoding)
    counter = get_counter(name)
    raw = (raw_cache or {}).get(name)
    if raw is None:
        raw = (counter.count([r["title"] for r in rows]) + counter.count([r["content"] for r in rows])).tolist()
        if raw_cache is not None:
            raw_cache[name] = raw
    records = to_records(rows, fmt, template, local_spec)
    if fmt == "openai-chat":
        counts = openai_chat_counts(records, openai_encoding).tolist()
    else:
        counts = counter.count([render_text(r, fmt, template, local_spec) for r in records]).tolist()
    return FormatStats(fmt=fmt, tokenizer=name, counts=[int(c) for c in counts], raw_counts=[int(c) for c in raw])


def all_format_stats(rows: Sequence[dict[str, Any]], template: TemplateConfig | None = None,
                     local_spec: str = DEFAULT_LOCAL_MODEL, openai_encoding: str = DEFAULT_OPENAI_ENCODING,
                     progress: Callable[[float, str], None] | None = None) -> dict[str, FormatStats]:
    """Every format's statistics; ``progress(fraction, format)`` is told before each format (the first
    local one may load, or on a first run convert, the local model's tokenizer)."""
    raw_cache: dict[str, list[int]] = {}
    stats = {}
    for done, fmt in enumerate(FORMATS):
        if progress is not None:
            progress(done / len(FORMATS), fmt)
        stats[fmt] = format_stats(rows, fmt, template, local_spec, openai_encoding, raw_cache)
    return stats


@dataclass
class ContextTarget:
    """A model whose context (or training sequence length) an example must fit into."""

    name: str
    fmt: str
    limit: int
    note: str = ""  # why the limit applies: openai-limit | seq-len | positions (the page words it)
    # ``name`` is the model; the page words the target from it, ``note`` and ``limit``


def local_context_limit(spec: str) -> int | None:
    """The local model's maximum positions (from its config), or None when unknown."""
    try:
        from transformers import AutoConfig

        from core.bundled import resolve_model_path

        config = AutoConfig.from_pretrained(resolve_model_path(spec))
    except (OSError, ValueError):
        return None
    value = getattr(config, "max_position_embeddings", None)
    return int(value) if value else None


def context_report(stats: dict[str, FormatStats], targets: Sequence[ContextTarget],
                   show: int = 20) -> list[dict[str, Any]]:
    """Per target: how many examples exceed its limit, how many tokens would be cut, which ones."""
    report = []
    for target in targets:
        fmt_stats = stats.get(target.fmt)
        if fmt_stats is None:
            continue
        over = fmt_stats.over(target.limit)
        report.append({
            "target": target.name, "format": target.fmt, "limit": target.limit, "exceeding": len(over),
            "tokens_cut": int(sum(fmt_stats.counts[i] - target.limit for i in over)),
            "examples": ", ".join(str(i + 1) for i in over[:show]) + (" …" if len(over) > show else ""),
            "note": target.note,
        })
    return report




# -- the page's view ---------------------------------------------------------------------------
@dataclass
class FormatView(ConfigBase):
    """What page 2 looks at: a curated split, a template, the local and OpenAI target models."""

    source: str = option("seed-study", "Curated dataset: seed-study (the bundled seed split), a saved name[@vN] "
                                       "from page 1, or a folder written by `python -m core curate --out`.")
    split: str = option("train", "Which split to format: train (what is trained on) or test (held out).")
    fmt: str = option("openai-chat", "The format to validate, estimate and export.")
    local_model: str = option(DEFAULT_LOCAL_MODEL, "Local model whose tokenizer and chat template are used "
                                                   "(smollm2 = the bundled SmolLM2-135M-Instruct, a folder or an HF id).")
    openai_model: str = option("gpt-4o-mini-2024-07-18", "OpenAI model for token counts, limits and prices.")
    seq_len: int = option(512, "Training sequence length of the local fine-tune: longer examples are truncated.")
    template: TemplateConfig = option(dataclasses.MISSING, "System prompt and user/assistant templates.",
                                      default_factory=lambda: get_preset(DEFAULT_PRESET))

    def validate(self) -> None:
        self.check(self.split in SPLITS, "split", f"must be one of {', '.join(SPLITS)}")
        self.check(self.fmt in FORMATS, "fmt", f"must be one of {', '.join(FORMATS)}")
        self.check(bool(self.local_model.strip()), "local_model", "must not be empty")
        self.check(16 <= self.seq_len <= 1_000_000, "seq_len", "must be between 16 and 1,000,000")
        if isinstance(self.template, dict):
            self.template = TemplateConfig.from_dict(self.template)

    @property
    def openai_encoding(self) -> str:
        from core.costs.prices import base_model_name
        from core.tokens import UnknownTokenizerError, encoding_name_for_model

        try:
            return encoding_name_for_model(base_model_name(self.openai_model))
        except UnknownTokenizerError:
            return DEFAULT_OPENAI_ENCODING

    def source_name(self, folder: Path) -> str:
        """The name an export records for this source: a saved name or seed-study as given; for a
        folder written by ``curate --out`` (``folder``), the name in its manifest, else the folder's."""
        if is_curated_folder(Path(self.source).expanduser()):
            return str(read_manifest(folder).get("name") or Path(self.source).name)
        return self.source

    def held_out_rows(self, folder: Path) -> list[dict[str, str]] | None:
        """The test rows the fine-tuned model would answer (the OpenAI estimate's inference cost):
        the test split while the train split is formatted; None otherwise or when there is none."""
        if self.split != "train" or not (folder / "test.jsonl").exists():
            return None
        return read_split(folder, "test")


def context_targets(view: FormatView, openai_models: Sequence[str]) -> list[ContextTarget]:
    """The limits an example must fit into: each OpenAI model's per-example limit (openai-chat),
    the local training sequence length (the local formats) and the local model's context."""
    from core.costs.prices import openai_example_limit

    targets = [ContextTarget(model, "openai-chat", openai_example_limit(model), "openai-limit")
               for model in openai_models]
    for fmt in ("alpaca", "sharegpt", "chat-template"):
        targets.append(ContextTarget(view.local_model, fmt, view.seq_len, "seq-len"))
    context = local_context_limit(view.local_model)
    if context:
        targets.append(ContextTarget(view.local_model, "chat-template", context, "positions"))
    return targets


def default_system_block(local_spec: str) -> str | None:
    """The system turn a chat template inserts on its own when a conversation has none (SmolLM2's
    "You are a helpful AI assistant named SmolLM…"), or None when it adds nothing."""
    from core.formats.render import apply_chat_template

    marker = "\x00SYSTEM\x00"
    try:
        probe = apply_chat_template([{"role": "system", "content": marker}], local_spec)
        bare = apply_chat_template([{"role": "user", "content": "hi"}], local_spec)
    except Exception:  # noqa: BLE001 - templates may refuse a system role; then there is no default either
        return None
    if marker not in probe:
        return None
    head, tail = probe.split(marker, 1)
    start = bare.find(head) if head.strip() else -1
    if start < 0:
        return None
    end = bare.find(tail, start + len(head)) if tail else -1
    return bare[start:end + len(tail)] if end >= 0 else None


def default_system_tokens(local_spec: str) -> int:
    """Tokens that default system turn costs per example (0 when the template adds none)."""
    from core.tokens import get_counter

    block = default_system_block(local_spec)
    if not block:
        return 0
    return int(get_counter(tokenizer_for_format("chat-template", local_spec)).count([block])[0])
