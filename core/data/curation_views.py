"""What page 1 shows about a curation, as data (no streamlit, no figures: ui/dados_charts.py draws).

``histograms`` bins per-row arrays with fixed edges (computed once per dataset), so redrawing
after a slider change is a few ``np.bincount`` calls on numpy arrays. ``samples`` picks rows kept
and rows dropped at each stage, with the numbers that explain why.

    hists = histograms(features, result)         # {"tokens_before": Histogram, ...}
    rows = samples(features, result)             # [{"row": 12, "kept": False, "stage": "tokens", ...}]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.data.curation import STAGES, CurationResult, Features, take_texts

BINS = 60


@dataclass
class Histogram:
    """Counts over equal-width bins [edges[i], edges[i+1]); the last bin also holds everything above."""

    edges: np.ndarray
    counts: np.ndarray
    total: int
    clipped: int  # values above the last edge, counted in the last bin


def _upper(values: np.ndarray, quantile: float = 0.995) -> int:
    if len(values) == 0:
        return 1
    return max(1, int(np.quantile(values, quantile)) + 1)


def bin_counts(values: np.ndarray, high: int, bins: int = BINS) -> Histogram:
    width = max(1, -(-high // bins))  # ceil, whole-number bins
    edges = np.arange(bins + 1, dtype=np.int64) * width
    index = np.minimum(values.astype(np.int64) // width, bins - 1)
    counts = np.bincount(index, minlength=bins)[:bins] if len(values) else np.zeros(bins, np.int64)
    return Histogram(edges, counts, int(len(values)), int(np.count_nonzero(values >= edges[-1])))


class HistogramScale:
    """Bin ranges fixed per dataset (so charts do not jump while sliders move)."""

    def __init__(self, features: Features) -> None:
        self.title = _upper(features.title_len)
        self.content = _upper(features.content_len)
        self.tokens: dict[str, int] = {}

    def token_high(self, tokenizer: str, tokens: np.ndarray, known: np.ndarray) -> int:
        if tokenizer not in self.tokens:
            self.tokens[tokenizer] = _upper(tokens[known])
        return self.tokens[tokenizer]


def histograms(features: Features, result: CurationResult, scale: HistogramScale | None = None,
               bins: int = BINS) -> dict[str, Histogram]:
    """Character lengths of every row read, tokens before and after the token filter."""
    scale = scale or HistogramScale(features)
    masks = result.masks
    before = masks["deduplicated"]
    after = masks["tokens"]
    tokens = result.tokens
    high = scale.token_high(result.config.tokenizer, tokens, before & (tokens >= 0))
    return {
        "title_chars": bin_counts(features.title_len, scale.title, bins),
        "content_chars": bin_counts(features.content_len, scale.content, bins),
        "tokens_before": bin_counts(tokens[before & (tokens >= 0)], high, bins),
        "tokens_after": bin_counts(tokens[after], high, bins),
    }


def stage_limits(result: CurationResult) -> dict[str, Any]:
    c = result.config
    return {"min_title_chars": c.min_title_chars, "max_title_chars": c.max_title_chars,
            "min_content_chars": c.min_content_chars, "max_content_chars": c.max_content_chars,
            "min_tokens": c.min_tokens, "max_tokens": c.max_tokens}


def samples(features: Features, result: CurationResult, per_stage: int = 3, kept: int = 5,
            text_chars: int = 300) -> list[dict[str, Any]]:
    """Rows kept (the first of train) and the first rows dropped at each stage, with the reason:
    ``stage`` names where a row left the funnel, and the numbers behind it are included."""
    picks: list[tuple[int, str]] = [(int(i), "train") for i in result.train[:kept]]
    masks = result.masks
    previous = masks["loaded"]
    for stage in STAGES[1:]:
        current = masks[stage]
        dropped = np.flatnonzero(previous & ~current)[:per_stage]
        picks.extend((int(i), stage) for i in dropped)
        previous = current
    order = sorted(range(len(picks)), key=lambda k: picks[k][0])
    rows = np.asarray([picks[k][0] for k in order], dtype=np.int64)
    titles = take_texts(features.data.title, rows)
    contents = take_texts(features.data.content, rows)
    by_row = {int(r): (t, c) for r, t, c in zip(rows.tolist(), titles, contents)}
    out = []
    for index, stage in picks:
        title, content = by_row[index]
        tokens = int(result.tokens[index]) if len(result.tokens) else -1
        out.append({
            "row": int(features.data.rows[index]) + 1,
            "kept": stage == "train",
            "stage": stage,
            "title": title[:text_chars],
            "content": content[:text_chars] + ("…" if len(content) > text_chars else ""),
            "title_chars": int(features.title_len[index]),
            "content_chars": int(features.content_len[index]),
            "tokens": tokens if tokens >= 0 else None,
        })
    return out
