"""Metrics on pairs worked out by hand, the bootstrap and paired tests, and the judge's parser."""
from __future__ import annotations

import math

import pytest

from core.compare import metrics
from core.compare.metrics import (
    MetricError,
    bleu,
    bootstrap_ci,
    chrf,
    corpus_scores,
    lcs_length,
    length_ratio,
    paired_test,
    parse_judge_score,
    repetition_rate,
    rouge_l,
    score_answers,
    semantic_similarity,
)


def test_lcs_by_hand() -> None:
    # The textbook pair: ABCBDAB / BDCABA has LCS length 4 (BCBA, BDAB, ...).
    assert lcs_length("ABCBDAB", "BDCABA") == 4
    assert lcs_length([], ["a"]) == 0
    assert lcs_length(["a", "b"], ["a", "b"]) == 2
    assert lcs_length(["a", "b", "c"], ["c", "b", "a"]) == 1


def test_rouge_l_by_hand() -> None:
    # LCS(the cat sat on the mat, a cat sat on a mat) = cat sat on mat = 4; P = R = 4/6.
    assert rouge_l("the cat sat on the mat", "a cat sat on a mat") == pytest.approx(2 / 3)
    # cand "a b c d", ref "a c e d": LCS a c d = 3, P = 3/4, R = 3/4.
    assert rouge_l("a b c d", "a c e d") == pytest.approx(0.75)
    # P = 2/2, R = 2/4 -> F = 2 * 1 * 0.5 / 1.5 = 2/3; case and punctuation ignored.
    assert rouge_l("The Cat!", "the cat sat down") == pytest.approx(2 / 3)
    assert rouge_l("", "x") == 0.0
    assert rouge_l("totally different", "nothing shared") == 0.0


def test_bleu_by_hand() -> None:
    # 1-gram 4/6, 2-gram 2/5, 3-gram 1/4, 4-gram 0/3 -> exp smoothing 1/(2*3); BP = 1.
    expected = 100 * ((4 / 6) * (2 / 5) * (1 / 4) * (1 / 6)) ** 0.25
    assert bleu("the cat sat on the mat", "a cat sat on a mat") == pytest.approx(expected, abs=1e-6)
    assert bleu("the same words here", "the same words here") == pytest.approx(100.0)
    assert bleu("", "anything") == 0.0


def test_chrf_bounds_and_order() -> None:
    assert chrf("identical sentence", "identical sentence") == pytest.approx(100.0)
    assert chrf("", "x") == 0.0
    close, far = chrf("a cat sat on a mat", "the cat sat on the mat"), chrf("quantum physics", "the cat sat on the mat")
    assert 0 < far < close < 100


def test_corpus_scores() -> None:
    pair = ["the cat sat on the mat today", "hello world from a short test"]
    scores = corpus_scores(pair, pair)
    assert scores["bleu"] == pytest.approx(100.0) and scores["chrf"] == pytest.approx(100.0)
    assert corpus_scores([], []) == {"bleu": 0.0, "chrf": 0.0}


def test_length_ratio_and_repetition_by_hand() -> None:
    assert length_ratio("one two three", "one two three four five six") == pytest.approx(0.5)
    assert length_ratio("x", "") == 0.0
    # 7 trigrams (abc bca cab abc bca cab abc), the last 4 repeat earlier ones.
    assert repetition_rate("a b c a b c a b c") == pytest.approx(4 / 7)
    assert repetition_rate("no loop in this answer at all") == 0.0
    assert repetition_rate("too short") == 0.0
    # The seed's Llama loop: the same sentence over and over tends to 1.
    loop = "The book is about plants and how they power the planet. " * 20
    assert repetition_rate(loop) > 0.9


def test_semantic_similarity_offline() -> None:
    sims = semantic_similarity(
        ["A history of the crusades for beginners.", "A history of the crusades for beginners.", ""],
        ["An introduction to the medieval crusades.", "Chocolate cake recipes for children.", "anything"])
    assert sims[0] > 0.5 > sims[1]
    assert sims[2] == 0.0  # an empty answer means nothing
    assert metrics.embedder() is metrics.embedder()  # loaded once per process


def test_score_answers_all_metrics_and_unknown() -> None:
    rows = score_answers(["the cat sat on the mat"], ["a cat sat on a mat"])
    assert set(rows[0]) == {"rougeL", "chrf", "bleu", "semantic", "length_ratio", "repetition"}
    assert rows[0]["rougeL"] == pytest.approx(2 / 3)
    with pytest.raises(MetricError, match="Unknown metric"):
        score_answers(["a"], ["b"], ["rouge-2"])


def test_bootstrap_ci() -> None:
    est = bootstrap_ci([0.1, 0.5, 0.9, 0.3, 0.7], seed=1)
    assert est.mean == pytest.approx(0.5) and est.n == 5
    assert est.low < est.mean < est.high
    assert bootstrap_ci([0.4, 0.4, 0.4]).low == pytest.approx(0.4)
    assert math.isnan(bootstrap_ci([]).mean)
    assert bootstrap_ci([1.0, None, float("nan")]).n == 1  # type: ignore[list-item]


def test_paired_test_detects_a_real_difference() -> None:
    base = [0.1 * (i % 7) for i in range(40)]
    better = [v + 0.05 for v in base]
    result = paired_test(better, base)
    assert result.mean_diff == pytest.approx(0.05)
    assert result.wins_a == 40 and result.significant
    assert result.p_wilcoxon < 0.001
    same = paired_test(base, base)
    assert same.p_wilcoxon == 1.0 and not same.significant and same.ties == 40
    noisy = paired_test([0.5, 0.6, 0.4, 0.55], [0.52, 0.58, 0.41, 0.56])
    assert noisy.p_bootstrap > 0.05


@pytest.mark.parametrize(("text", "expected"), [
    ("The answer is on topic. SCORE: 4", 0.75),
    ("**Score**: 5/5", 1.0),
    ("score = 4.5", 0.875),
    ('{"score": 2, "reason": "generic"}', 0.25),
    ("Nota final: 3 de 5", 0.5),
    ("I'd say 4 out of 5", 0.75),
    ("3", 0.5),
    ("Score: 8/10", 0.8),
    ("Scale 1 to 5 where 5 is best... Final score: **1**", 0.0),
    ("SCORE: 7", None),
    ("I cannot grade this.", None),
    ("", None),
])
def test_parse_judge_score(text: str, expected: float | None) -> None:
    assert parse_judge_score(text) == (pytest.approx(expected) if expected is not None else None)


def test_judge_prompt_fills_and_keeps_braces() -> None:
    text = metrics.judge_prompt("T={title} R={reference} A={answer}", "a {b}", "ref", "")
    assert text == "T=a {b} R=ref A=(empty)"
    with pytest.raises(metrics.JudgeConfigError, match="{answer}"):
        metrics.check_rubric("only {reference}")
