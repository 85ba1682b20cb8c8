"""One pass over a raw file for one config: the CLI's curation (``python -m core curate``).

From nothing cached, in bounded memory. Worker processes (core/data/datasets.py) parse and clean
each block of lines, skip the rows that cannot reach the minimum lengths, and then run the
row-wise filters that need no tokenizer on it (``Prefilter``: lengths, empty, keywords), so the
parent receives per-row arrays plus the text of the rows whose tokens it must count; it counts
them (one tokenizer, in the parent) and keeps only small arrays (digest, token count, flags)
plus the text of the rows that pass every row-wise filter (the only ones that can end up in
train/test). The funnel's order is the pipeline's:
  lengths -> empty -> tokens, counted only where needed -> keywords
(keywords are matched before counting only to spread that work over the workers). Duplicates are
dropped at the end, by digest: a row and its earlier twin have the same cleaned text, so they
pass or fail every row-wise filter together, which makes "flag duplicates, then filter" equal
to the notebook's "filter, then drop duplicates". The funnel equals core.data.curation.evaluate's.

Token counts are skipped where the answer is already known: with a tiktoken encoding, a text
has at least as many tokens as runs of non-space characters (``word_counts``), so a row with
more words than ``max_tokens`` fails the token filter without being counted.

    split = curate("trn.json", preset("seed-notebook"))
    split.funnel, split.train[:1]
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.data.curation import CuratedSplit, CurationConfig, Features, evaluate, prepare
from core.data.datasets import BlockReader, read_rows
from core.data.rowblocks import KIND_NULL, RowBlock, TextBlock
from core.tokens import TIKTOKEN_ENCODINGS, get_counter

# ASCII bytes that tiktoken's pre-tokenizer regex treats as whitespace (\s, Unicode White_Space)
_WS = np.zeros(256, dtype=bool)
_WS[[9, 10, 11, 12, 13, 32]] = True


def word_counts(column: TextBlock) -> np.ndarray:
    """Runs of non-whitespace bytes in each ASCII text (0 for any other text), vectorized.

    For tiktoken encodings this is a lower bound of the token count: the pre-tokenizer's pieces
    never hold parts of two such runs, and every piece is at least one token."""
    n = len(column.lengths)
    buf = np.frombuffer(column.data, dtype=np.uint8)
    if n == 0 or len(buf) == 0:
        return np.zeros(n, dtype=np.int32)
    begin, end = column.offsets[:-1], column.offsets[1:]
    space = _WS[buf]
    starts = ~space
    starts[1:] &= space[:-1]
    filled = begin < end
    starts[begin[filled]] = ~space[begin[filled]]  # a row's first byte starts a word unless a space
    at = np.minimum(begin, len(buf) - 1)  # reduceat needs valid starts; empty rows are zeroed below
    words = np.add.reduceat(starts.view(np.uint8), at, dtype=np.int32)
    ascii_only = np.add.reduceat((buf >= 128).view(np.uint8), at, dtype=np.int32) == 0
    return np.where(filled & ascii_only, words, 0).astype(np.int32)


def _between(values: np.ndarray, low: int, high: int | None) -> np.ndarray:
    mask = values >= low
    if high is not None:
        mask &= values <= high
    return mask


def _contains(texts: list[str], word: str, cleaning: str) -> np.ndarray:
    from core.data.curation import keyword_match

    if cleaning == "seed":  # lowercase text: Python's own `in`, as the notebook (same as Arrow's)
        from core.data.cleaning import lower_text

        needle = lower_text(word)
        return np.fromiter((needle in t for t in texts), dtype=bool, count=len(texts))
    from core.data.cleaning import arrow_strings

    return keyword_match(arrow_strings(texts), word, cleaning)


@dataclass
class Candidates:
    """What a curation worker makes of one RowBlock (``Prefilter``): the rows that pass lengths +
    empty, with the text of those whose tokens must be counted and their keyword hits. Carries the
    RowBlock's bookkeeping (n_lines, n_rows, bad, other, seen) for BlockReader."""

    n_lines: int
    n_rows: int
    bad: list[int]
    other: tuple[bool, bool]
    seen: tuple[bool, bool]
    rows: np.ndarray
    digest: np.ndarray
    need: np.ndarray  # to be counted: the others already have more words than max_tokens
    titles: list[str]  # of rows[need]
    contents: list[str]
    hits: np.ndarray  # keywords found, for rows[need]
    chars: int  # rows that passed the length filters
    null_rows: bool  # a null value reached the funnel (see curate: pandas' "none")


@dataclass(frozen=True)
class Prefilter:
    """The row-wise filters that need no tokenizer (lengths, empty, the word-count bound of the
    token filter, keywords), as a picklable step that runs in the curation workers, beside the
    parsing. Token counting stays in the parent: one tokenizer in memory instead of one per worker
    (~120 MB each), and counting is a small part of the work since it went through gigatoken."""

    config: CurationConfig

    def __call__(self, block: RowBlock) -> Candidates:
        c = self.config
        title, content = block.title, block.content
        mask = _between(title.lengths, c.min_title_chars, c.max_title_chars)
        mask &= _between(content.lengths, c.min_content_chars, c.max_content_chars)
        chars = int(np.count_nonzero(mask))
        if c.drop_empty:
            mask &= (title.lengths > 0) & (content.lengths > 0)
        idx = np.flatnonzero(mask)
        null_rows = bool((title.kinds[idx] == KIND_NULL).any() or (content.kinds[idx] == KIND_NULL).any())
        need = np.ones(len(idx), dtype=bool)
        if c.max_tokens is not None and c.tokenizer in TIKTOKEN_ENCODINGS:
            need = (word_counts(title)[idx] + word_counts(content)[idx]) <= c.max_tokens
        titles, contents = title.texts(idx[need]), content.texts(idx[need])
        hits = np.ones(len(titles), dtype=bool)
        for number, word in enumerate(c.keywords):
            found = _contains(titles, word, c.cleaning) | _contains(contents, word, c.cleaning)
            hits = found if number == 0 else (hits & found if c.keyword_mode == "all" else hits | found)
        return Candidates(block.n_lines, block.n_rows, block.bad, block.other, block.seen, block.rows[idx],
                          block.digest[idx], need, titles, contents, hits, chars, null_rows)


class _Stream:
    """Counts the tokens of each block's candidates as they arrive and keeps only small arrays,
    plus the text of the rows that pass every row-wise filter (rows numbered by BlockReader)."""

    def __init__(self, config: CurationConfig) -> None:
        self.config = config
        self.counter: Any = None  # set once the first block arrives (the tokenizer loads meanwhile)
        self.chars = 0
        self.parts: dict[str, list[np.ndarray]] = {"rows": [], "digest": [], "tokens": [], "passed": [],
                                                   "final": []}
        self.texts: dict[int, tuple[str, str]] = {}
        self.null_rows = False

    def add(self, block: Candidates) -> None:
        c = self.config
        tokens = np.full(len(block.rows), -1, dtype=np.int32)
        if block.titles:
            tokens[block.need] = self.counter.count(block.titles) + self.counter.count(block.contents)
        passed = _between(tokens, c.min_tokens, c.max_tokens)
        final = np.zeros(len(block.rows), dtype=bool)
        final[block.need] = passed[block.need] & block.hits
        kept = np.flatnonzero(final[block.need]).tolist()
        self.texts.update(zip(block.rows[final].tolist(), ((block.titles[i], block.contents[i]) for i in kept)))
        self.chars += block.chars
        self.null_rows = self.null_rows or block.null_rows
        for name, value in (("rows", block.rows), ("digest", block.digest), ("tokens", tokens),
                            ("passed", passed), ("final", final)):
            self.parts[name].append(value)

    def finish(self, report: Any) -> CuratedSplit:
        c = self.config

        def joined(name: str, dtype: Any) -> np.ndarray:
            return np.concatenate(self.parts[name]) if self.parts[name] else np.zeros(0, dtype)

        rows, tokens = joined("rows", np.int64), joined("tokens", np.int32)
        passed, final = joined("passed", bool), joined("final", bool)
        first = np.ones(len(rows), dtype=bool)
        if c.dedup and len(rows):
            digests = np.ascontiguousarray(joined("digest", np.uint8)).view("V16").ravel()
            _, first_index, inverse = np.unique(digests, return_index=True, return_inverse=True)
            first[:] = False
            first[first_index] = True
            # the rows that can reach train/test still have their text: check them exactly
            for i in np.flatnonzero(final & ~first).tolist():
                j = first_index[inverse[i]]
                if self.texts[int(rows[i])] != self.texts.get(int(rows[j])):
                    raise RuntimeError("two different rows share a BLAKE2b-128 digest")
        funnel = {"bad_lines": report.bad_lines, "loaded": report.rows, "chars": self.chars,
                  "not_empty": len(rows), "deduplicated": int(np.count_nonzero(first)),
                  "tokens": int(np.count_nonzero(first & passed)),
                  "keywords": int(np.count_nonzero(first & final))}
        kept = np.flatnonzero(first & final)
        if c.shuffle_seed is not None:  # the same permutation evaluate() applies to the same rows
            kept = kept[np.random.default_rng(c.shuffle_seed).permutation(len(kept))]
        train, test = kept[: c.train_size], kept[c.train_size: c.train_size + c.test_size]
        funnel["train"], funnel["test"] = len(train), len(test)

        def rows_of(indices: np.ndarray) -> list[dict[str, str]]:
            return [dict(zip(("title", "content"), self.texts[int(rows[i])])) for i in indices.tolist()]

        return CuratedSplit(c, report, funnel, rows_of(train), rows_of(test),
                            int(tokens[train].sum()), int(tokens[test].sum()))


def _load_quietly(tokenizer: str) -> None:
    with contextlib.suppress(Exception):  # the real call later reports it, with its own message
        get_counter(tokenizer)


def curate(path: str | Path, config: CurationConfig, *, workers: int | None = None,
           progress: Callable[[float, str], None] | None = None) -> CuratedSplit:
    """Read, clean, count and filter a raw file for one config in one pass (see the docstring)."""
    # loading a tokenizer takes ~0.2-1 s of one core (holding the GIL): start it once the workers read
    loader = threading.Thread(target=_load_quietly, args=(config.tokenizer,), daemon=True)
    reader = BlockReader(path, config.read_plan(), workers=workers, progress=progress, on_start=loader.start,
                         after=Prefilter(config))
    stream = _Stream(config)
    for block in reader:
        if stream.counter is None:
            loader.join()
            stream.counter = get_counter(config.tokenizer)
        stream.add(block)
    report = reader.finish()
    if config.cleaning == "seed" and stream.null_rows and any(reader.other):
        # pandas keeps None (-> "none") in a column that also holds numbers or lists; the blocks
        # assumed "nan". Only a config that keeps 3-4 character texts can meet this: redo it whole.
        features = Features(read_rows(path, config.read_plan(), workers=workers))
        tokens, hits = prepare(features, config)
        from core.data.curation import split_of

        return split_of(features, evaluate(features, config, tokens, hits))
    return stream.finish(report)
