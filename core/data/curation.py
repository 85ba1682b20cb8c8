"""The curation pipeline: CurationConfig (every filter), presets, per-row features, the funnel.

Stages, in the seed notebook's order (the funnel counts the rows left after each):
  loaded -> chars (title/content length after cleaning) -> not_empty -> deduplicated
  -> tokens (tokens(title) + tokens(content)) -> keywords -> train / test
Every row-wise filter is a function of the cleaned (title, content), so identical rows pass or
fail together: "drop duplicates after the filters, keep the first" equals "flag duplicates once,
then filter". That is what makes the interactive page fast: per-row numpy arrays (lengths,
duplicate flags, token counts, keyword flags) are computed once per dataset and cleaning mode,
and a slider change is a few vectorized masks (``evaluate``).

    config = preset("seed-notebook")              # exactly ../shared/bench/seed_notebook_baseline.py
    features = Features(read_rows("trn.json", ReadPlan(cleaning=config.cleaning)))   # every row
    tokens, hits = prepare(features, config)      # counts only rows never counted
    result = evaluate(features, config, tokens, hits)     # milliseconds: the page's slider path
    result.funnel                                 # {'bad_lines': 0, 'loaded': ..., 'train': 1500, ...}

The CLI's one-pass path (from nothing cached, skipping early what cannot pass) is
core/data/curation_stream.py; tests check both give the same rows.
"""
from __future__ import annotations

import dataclasses
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.config import ConfigBase, ConfigError, option
from core.data.cleaning import CLEANING_MODES, lower_text
from core.data.datasets import CleanRows, LoadReport, Progress, ReadPlan
from core.errors import UserFacingError

if TYPE_CHECKING:
    import pyarrow as pa

    from core.store import Store

STAGES = ("loaded", "chars", "not_empty", "deduplicated", "tokens", "keywords")
KEYWORD_MODES = ("all", "any")
COUNT_BATCH = 20_000


class PresetNotFoundError(UserFacingError):
    """No built-in or saved preset has that name."""


@dataclass
class CurationConfig(ConfigBase):
    """Every filter of the curation, in pipeline order; the defaults are the seed notebook's."""

    title_column: str = option("title", "Column of the raw file that holds the title (the model's input).")
    content_column: str = option("content", "Column of the raw file that holds the content (the expected answer).")
    cleaning: str = option("seed", "Text cleaning. seed: the notebook's (strip, keep only letters, digits and "
                                   "spaces, lowercase; a missing value becomes the text 'nan', as pandas made it); "
                                   "html: decode HTML entities like &amp;; none: text as it is.")
    min_title_chars: int = option(41, "Keep rows whose cleaned title has at least this many characters "
                                      "(the notebook: more than 40).")
    max_title_chars: int | None = option(None, "Keep rows whose cleaned title has at most this many characters "
                                               "(none: no limit).")
    min_content_chars: int = option(401, "Keep rows whose cleaned content has at least this many characters "
                                         "(the notebook: more than 400).")
    max_content_chars: int | None = option(None, "Keep rows whose cleaned content has at most this many "
                                                 "characters (none: no limit).")
    drop_empty: bool = option(True, "Drop rows whose title or content is empty after cleaning.")
    dedup: bool = option(True, "Drop rows whose (title, content) repeats an earlier row, keeping the first.")
    tokenizer: str = option("o200k_base", "Tokenizer for the token filter: o200k_base (gpt-4o family), "
                                          "cl100k_base, smollm2 (the bundled model) or hf:<model id or folder>.")
    min_tokens: int = option(0, "Keep rows whose tokens(title) + tokens(content) is at least this "
                                "(the seed README: 257).")
    max_tokens: int | None = option(256, "Keep rows whose tokens(title) + tokens(content) is at most this "
                                         "(the notebook: fewer than 257; none: no limit).")
    keywords: list[str] = option(["author", "copyright"], "Keep rows where these words occur in the title or "
                                                          "the content (case-insensitive substrings); "
                                                          "none: keep all.")
    keyword_mode: str = option("all", "all: every keyword must occur (the notebook); any: at least one "
                                      "(the seed README).")
    train_size: int = option(1500, "Rows in the train split (the first ones kept).")
    test_size: int = option(500, "Rows in the test split (the ones right after train).")
    shuffle_seed: int | None = option(None, "Empty: train and test in file order (the notebook). A number: "
                                            "shuffle the kept rows with this seed before splitting.")

    def validate(self) -> None:
        self.check(bool(self.title_column), "title_column", "must name a column")
        self.check(bool(self.content_column), "content_column", "must name a column")
        self.check(self.cleaning in CLEANING_MODES, "cleaning", f"must be one of {', '.join(CLEANING_MODES)}")
        self.check(self.keyword_mode in KEYWORD_MODES, "keyword_mode", "must be 'all' or 'any'")
        self.check(bool(self.tokenizer), "tokenizer", "must name a tokenizer")
        for name in ("min_title_chars", "min_content_chars", "min_tokens", "train_size", "test_size"):
            value = getattr(self, name)
            self.check(isinstance(value, int) and value >= 0, name, "must be a whole number >= 0")
        for low, high in (("min_title_chars", "max_title_chars"), ("min_content_chars", "max_content_chars"),
                          ("min_tokens", "max_tokens")):
            value = getattr(self, high)
            self.check(value is None or (isinstance(value, int) and value >= getattr(self, low)), high,
                       f"must be empty or a whole number >= {low}")
        self.check(isinstance(self.keywords, list) and all(isinstance(k, str) for k in self.keywords),
                   "keywords", "must be a list of words")
        self.keywords = [k.strip() for k in self.keywords if k.strip()]

    def read_plan(self) -> ReadPlan:
        return ReadPlan(self.title_column, self.content_column, self.cleaning,
                        self.min_title_chars, self.min_content_chars)


BUILTIN_PRESETS: dict[str, dict[str, Any]] = {
    # the notebook: > 40 / > 400 characters, < 257 tokens, both keywords, first 1500 / next 500
    "seed-notebook": {},
    # the seed README's wording: >= 257 tokens, "author" OR "copyright"
    "seed-readme": {"min_tokens": 257, "max_tokens": None, "keyword_mode": "any"},
}
PRESET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def preset(name: str, store: Store | None = None) -> CurationConfig:
    """A built-in preset (seed-notebook, seed-readme) or one saved in the database."""
    if name in BUILTIN_PRESETS:
        return CurationConfig(**BUILTIN_PRESETS[name])
    if store is not None:
        from core.store.curation import get_preset

        saved = get_preset(store, name)
        if saved is not None:
            return CurationConfig.from_json(saved)
    known = ", ".join(list(BUILTIN_PRESETS) + (_saved_names(store) if store is not None else []))
    raise PresetNotFoundError(f"There is no preset named {name!r}; known presets: {known}.")


def _saved_names(store: Store) -> list[str]:
    from core.store.curation import list_presets

    return [p["name"] for p in list_presets(store)]


def save_preset(store: Store, name: str, config: CurationConfig) -> None:
    if not PRESET_NAME.fullmatch(name) or name in BUILTIN_PRESETS:
        raise ConfigError(f"{name!r} cannot be a preset name: use letters, digits, '.', '_' or '-' "
                          f"(up to 64) and not a built-in name ({', '.join(BUILTIN_PRESETS)}).")
    from core.store.curation import put_preset

    put_preset(store, name, config.to_json())


# -- arrow helpers (pa.array() and .to_numpy() import pandas: +0.5 s for the CLI) --------------------
def arrow_indices(indices: np.ndarray) -> pa.Array:
    import pyarrow as pa

    data = np.ascontiguousarray(indices, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def bool_numpy(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    import pyarrow as pa

    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    parts = []
    for chunk in chunks:
        bits = np.frombuffer(chunk.buffers()[1], dtype=np.uint8) if len(chunk) else np.zeros(0, np.uint8)
        parts.append(np.unpackbits(bits, bitorder="little")[chunk.offset: chunk.offset + len(chunk)].astype(bool))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def take_texts(column: pa.ChunkedArray, indices: np.ndarray) -> list[str]:
    """The texts at ``indices`` (ascending), sliced straight from the Arrow buffers."""
    out: list[str] = []
    if len(indices) == 0:
        return out
    start = 0
    for chunk in column.chunks:
        end = start + len(chunk)
        lo, hi = np.searchsorted(indices, [start, end])
        if hi > lo:
            offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset: chunk.offset + len(chunk) + 1]
            data = memoryview(chunk.buffers()[2]) if chunk.buffers()[2] is not None else memoryview(b"")
            local = indices[lo:hi] - start
            out.extend(str(data[x:y], "utf-8") for x, y in zip(offsets[local].tolist(), offsets[local + 1].tolist()))
        start = end
    return out


def keyword_match(texts: pa.ChunkedArray | pa.Array, word: str, cleaning: str) -> np.ndarray:
    """Which texts contain ``word``: a plain substring of seed-cleaned (lowercase) text, else
    Arrow's case-insensitive search. The one definition both the page and the CLI use."""
    import pyarrow.compute as pc

    seed = cleaning == "seed"
    return bool_numpy(pc.match_substring(texts, lower_text(word) if seed else word, ignore_case=not seed))


# -- features ------------------------------------------------------------------------------------
class Features:
    """Per-row arrays of one read of a dataset (one cleaning mode), computed when first needed.

    Rows are the ones ``read_rows`` kept (all of them when the read had no minimum lengths);
    token counts are kept per tokenizer, -1 where not counted yet.
    """

    def __init__(self, data: CleanRows) -> None:
        self.data = data
        self.n = len(data.rows)
        self.title_len = data.title_len
        self.content_len = data.content_len
        self.empty = (self.title_len == 0) | (self.content_len == 0)
        self._dup: np.ndarray | None = None
        self.tokens: dict[str, np.ndarray] = {}
        self._keyword_cache: dict[str, np.ndarray] = {}
        # the page shares one Features between sessions (st.cache_resource): fill caches one at a time
        self.lock = threading.RLock()

    @property
    def report(self) -> LoadReport:
        return self.data.report

    @property
    def cache_key(self) -> str:
        """Identifies the cleaned texts: file fingerprint, mapped columns, cleaning mode."""
        plan = self.data.plan
        return f"{self.report.fingerprint}|{plan.title_column}|{plan.content_column}|{plan.cleaning}"

    def covers(self, config: CurationConfig) -> bool:
        """True when this read kept every row the config could keep (its minimums are not lower)."""
        plan = self.data.plan
        return (config.cleaning == plan.cleaning and config.title_column == plan.title_column
                and config.content_column == plan.content_column
                and config.min_title_chars >= plan.min_title_chars
                and config.min_content_chars >= plan.min_content_chars)

    def duplicates(self, subset: np.ndarray | None = None) -> np.ndarray:
        """True for rows whose (title, content) equals an earlier row's (all rows, or among ``subset``).

        Rows with different digests differ; inside a group of equal digests (almost always true
        duplicates) the texts are compared exactly, so the flags are exact."""
        if self._dup is not None and subset is None:
            return self._dup
        with self.lock:
            return self._duplicates(subset)

    def _duplicates(self, subset: np.ndarray | None) -> np.ndarray:
        dup = np.zeros(self.n, dtype=bool)
        where = np.arange(self.n) if subset is None else np.flatnonzero(subset)
        if len(where):
            digests = np.ascontiguousarray(self.data.digest[where]).view("V16").ravel()
            _, inverse, sizes = np.unique(digests, return_inverse=True, return_counts=True)
            rows = where[sizes[inverse] > 1]  # ascending
            seen: set[tuple[str, str]] = set()
            pairs = zip(take_texts(self.data.title, rows), take_texts(self.data.content, rows))
            for i, pair in zip(rows.tolist(), pairs):
                if pair in seen:
                    dup[i] = True
                else:
                    seen.add(pair)
        if subset is None:
            self._dup = dup
        return dup

    def keyword_hits(self, keywords: list[str], mode: str) -> np.ndarray:
        """Rows where the keywords occur in title or content (all / any), case-insensitively.

        With seed cleaning the text is already lowercase: the keyword, lowercased the same way,
        is a plain substring, exactly the notebook's ``k in title or k in content``; otherwise
        Arrow's case-insensitive search. Cached per keyword."""
        if not keywords:
            return np.ones(self.n, dtype=bool)
        with self.lock:
            return self._keyword_hits(keywords, mode)

    def _keyword_hits(self, keywords: list[str], mode: str) -> np.ndarray:
        result = None
        for word in keywords:
            hits = self._keyword_cache.get(word)
            if hits is None:
                hits = np.zeros(self.n, dtype=bool)
                for column in (self.data.title, self.data.content):
                    hits |= keyword_match(column, word, self.data.plan.cleaning)
                self._keyword_cache[word] = hits
            result = hits if result is None else (result & hits if mode == "all" else result | hits)
        assert result is not None
        return result

    def uncounted(self, tokenizer: str, needed: np.ndarray) -> int:
        """How many ``needed`` rows have no ``tokenizer`` count yet; -1 when it never counted here."""
        counts = self.tokens.get(tokenizer)
        return -1 if counts is None else int(np.count_nonzero(needed & (counts < 0)))

    def ensure_tokens(self, tokenizer: str, needed: np.ndarray, *, cache: TokenCache | None = None,
                      progress: Progress | None = None) -> np.ndarray:
        """Token counts (title + content) of every ``needed`` row, counting only rows never counted."""
        with self.lock:
            return self._ensure_tokens(tokenizer, needed, cache, progress)

    def _ensure_tokens(self, tokenizer: str, needed: np.ndarray, cache: TokenCache | None,
                       progress: Progress | None) -> np.ndarray:
        counts = self.tokens.get(tokenizer)
        if counts is None:
            counts = np.full(self.n, -1, dtype=np.int32)
            if cache is not None:
                rows, values = cache.load(self, tokenizer)
                if len(rows):
                    position = np.searchsorted(self.data.rows, rows)
                    ok = (position < self.n) & (self.data.rows[np.minimum(position, self.n - 1)] == rows)
                    counts[position[ok]] = values[ok]
            self.tokens[tokenizer] = counts
        missing = np.flatnonzero(needed & (counts < 0))
        if len(missing):
            from core.tokens import get_counter

            counter = get_counter(tokenizer)
            for start in range(0, len(missing), COUNT_BATCH):
                part = missing[start: start + COUNT_BATCH]
                titles = counter.count(take_texts(self.data.title, part))
                contents = counter.count(take_texts(self.data.content, part))
                counts[part] = titles + contents
                if cache is not None:  # batch by batch: a reload in the middle keeps what was counted
                    cache.save(self, tokenizer, self.data.rows[part], counts[part])
                if progress:
                    progress(min(1.0, (start + len(part)) / len(missing)),
                             f"{start + len(part):,} / {len(missing):,} rows tokenized")
        return counts


class TokenCache:
    """Token counts kept in DuckDB per (dataset fingerprint, columns, cleaning, tokenizer)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load(self, features: Features, tokenizer: str) -> tuple[np.ndarray, np.ndarray]:
        from core.store.curation import load_token_counts

        return load_token_counts(self.store, features.cache_key, tokenizer)

    def save(self, features: Features, tokenizer: str, rows: np.ndarray, counts: np.ndarray) -> None:
        from core.store.curation import save_token_counts

        save_token_counts(self.store, features.cache_key, tokenizer, rows, counts)


# -- evaluating a config ---------------------------------------------------------------------------
@dataclass
class CurationResult:
    """The funnel and the split of one config over one Features (indices into its arrays)."""

    config: CurationConfig
    report: LoadReport
    funnel: dict[str, int]
    masks: dict[str, np.ndarray]
    train: np.ndarray
    test: np.ndarray
    tokens: np.ndarray
    train_tokens: int
    test_tokens: int

    def summary(self) -> dict[str, Any]:
        return {"funnel": self.funnel, "counts": {
            "train": len(self.train), "test": len(self.test),
            "train_tokens": self.train_tokens, "test_tokens": self.test_tokens}}


def _between(values: np.ndarray, low: int, high: int | None) -> np.ndarray:
    mask = values >= low
    if high is not None:
        mask &= values <= high
    return mask


def stage_masks(features: Features, config: CurationConfig, tokens: np.ndarray | None,
                keywords: np.ndarray | None, dup: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Rows left after each stage (cumulative); stops at the first stage whose inputs are missing.
    ``dup`` defaults to the duplicate flags of all rows (see Features.duplicates)."""
    masks: dict[str, np.ndarray] = {"loaded": np.ones(features.n, dtype=bool)}
    mask = _between(features.title_len, config.min_title_chars, config.max_title_chars)
    mask &= _between(features.content_len, config.min_content_chars, config.max_content_chars)
    masks["chars"] = mask
    masks["not_empty"] = mask = mask & ~features.empty if config.drop_empty else mask
    if config.dedup:
        mask = mask & ~(features.duplicates() if dup is None else dup)
    masks["deduplicated"] = mask
    if tokens is None:
        return masks
    masks["tokens"] = mask = mask & _between(tokens, config.min_tokens, config.max_tokens)
    if keywords is None:
        return masks
    masks["keywords"] = mask & keywords
    return masks


def token_rows(features: Features, config: CurationConfig) -> np.ndarray:
    """Rows whose token counts the config needs: those left after the length, empty and duplicate stages."""
    return stage_masks(features, config, None, None)["deduplicated"]


def evaluate(features: Features, config: CurationConfig, tokens: np.ndarray,
             keywords: np.ndarray, dup: np.ndarray | None = None) -> CurationResult:
    """The funnel and split for a config, given token counts and keyword hits (vectorized, fast)."""
    masks = stage_masks(features, config, tokens, keywords, dup)
    report = features.report
    funnel = {"bad_lines": report.bad_lines, "loaded": report.rows}
    for stage in STAGES[1:]:
        funnel[stage] = int(np.count_nonzero(masks[stage]))
    kept = np.flatnonzero(masks["keywords"])
    if config.shuffle_seed is not None:
        kept = kept[np.random.default_rng(config.shuffle_seed).permutation(len(kept))]
    train = kept[: config.train_size]
    test = kept[config.train_size: config.train_size + config.test_size]
    funnel["train"], funnel["test"] = len(train), len(test)
    return CurationResult(config, report, funnel, masks, train, test, tokens,
                          int(tokens[train].sum()), int(tokens[test].sum()))


def prepare(features: Features, config: CurationConfig, *, cache: TokenCache | None = None,
            progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Token counts and keyword hits the config needs, computing only what is missing."""
    if not features.covers(config):
        raise ValueError("these features were read with higher minimum lengths than the config asks")
    tokens = features.ensure_tokens(config.tokenizer, token_rows(features, config), cache=cache, progress=progress)
    keywords = features.keyword_hits(config.keywords, config.keyword_mode)
    return tokens, keywords


@dataclass
class CuratedSplit:
    """A finished curation, ready to write: what ``curate --out`` and "save" store."""

    config: CurationConfig
    report: LoadReport
    funnel: dict[str, int]
    train: list[dict[str, str]]
    test: list[dict[str, str]]
    train_tokens: int
    test_tokens: int

    def counts(self) -> dict[str, int]:
        return {"train": len(self.train), "test": len(self.test),
                "train_tokens": self.train_tokens, "test_tokens": self.test_tokens}


def split_of(features: Features, result: CurationResult) -> CuratedSplit:
    """The train/test rows (texts, in split order) of an evaluated config."""
    def rows(indices: np.ndarray) -> list[dict[str, str]]:
        order = indices.argsort(kind="stable")  # take_texts wants ascending indices
        titles = take_texts(features.data.title, indices[order])
        contents = take_texts(features.data.content, indices[order])
        out: list[dict[str, str]] = [{}] * len(indices)
        for position, title, content in zip(order.tolist(), titles, contents):
            out[position] = {"title": title, "content": content}
        return out

    return CuratedSplit(result.config, result.report, result.funnel, rows(result.train), rows(result.test),
                        result.train_tokens, result.test_tokens)


def config_from_dict(data: dict[str, Any]) -> CurationConfig:
    """A config from stored JSON, ignoring fields a newer version added (forward compatible)."""
    names = {f.name for f in dataclasses.fields(CurationConfig)}
    return CurationConfig(**{k: v for k, v in data.items() if k in names})
