"""Bradley–Terry ratings on synthetic votes with a known order, bootstrap intervals, stored votes."""
from __future__ import annotations

import math
import random

import pytest

from core.compare.arena import (
    ArenaError,
    arena_leaderboard,
    dataset_version,
    draw_pair,
    fit_bradley_terry,
    leaderboard,
    record_vote,
    score_of,
    win_probability,
)
from core.store.compare import list_votes

TRUE = {"strong": 4.0, "good": 2.0, "fair": 1.0, "weak": 0.25}


def _synthetic_votes(n: int, seed: int = 0) -> list[dict]:
    """Votes drawn from known strengths; 10% of close calls become ties or 'both bad'."""
    rng = random.Random(seed)
    votes = []
    for _ in range(n):
        a, b = rng.sample(list(TRUE), 2)
        p = win_probability(TRUE[a], TRUE[b])
        roll = rng.random()
        if abs(p - 0.5) < 0.2 and roll < 0.1:
            winner = rng.choice(["tie", "both_bad"])
        else:
            winner = "a" if rng.random() < p else "b"
        votes.append({"model_a": a, "model_b": b, "winner": winner})
    return votes


def test_exact_fit_on_a_small_case() -> None:
    # a beats b 2 of 3 → p_a / p_b = 2 exactly (no prior); a tie is half a win each.
    fitted = fit_bradley_terry([("a", "b", 1.0), ("a", "b", 1.0), ("b", "a", 1.0)], prior=0)
    assert fitted["a"] / fitted["b"] == pytest.approx(2.0, rel=1e-6)
    assert math.prod(fitted.values()) == pytest.approx(1.0)
    tied = fit_bradley_terry([("a", "b", 0.5), ("a", "b", 0.5)], prior=0)
    assert tied["a"] == pytest.approx(tied["b"])


def test_known_order_is_recovered_with_intervals() -> None:
    board = leaderboard(_synthetic_votes(1500), n_bootstrap=100, seed=1)
    assert [r.model_id for r in board] == ["strong", "good", "fair", "weak"]
    assert [r.rank for r in board] == [1, 2, 3, 4]
    by_model = {r.model_id: r for r in board}
    # Strength ratios become rating gaps of 400·log10(ratio): strong vs weak is 16× ≈ 482 points.
    gap = by_model["strong"].rating - by_model["weak"].rating
    assert gap == pytest.approx(400 * math.log10(16), abs=60)
    for r in board:
        assert r.ci_low <= r.rating <= r.ci_high
        assert r.games == r.wins + r.ties + r.losses
    assert sum(r.games for r in board) == 2 * 1500
    assert by_model["strong"].ci_low > by_model["fair"].ci_high  # clearly separated with this many votes


def test_intervals_shrink_with_more_votes() -> None:
    few = {r.model_id: r for r in leaderboard(_synthetic_votes(80, seed=2), n_bootstrap=100)}
    many = {r.model_id: r for r in leaderboard(_synthetic_votes(2000, seed=2), n_bootstrap=100)}
    width = lambda r: r.ci_high - r.ci_low  # noqa: E731
    assert all(width(many[m]) < width(few[m]) for m in TRUE)


def test_undefeated_model_stays_finite() -> None:
    board = leaderboard([{"model_a": "x", "model_b": "y", "winner": "a"}] * 5, n_bootstrap=20)
    assert board[0].model_id == "x" and math.isfinite(board[0].rating)
    assert board[0].wins == 5 and board[1].losses == 5


def test_votes_and_pairs(store) -> None:
    assert score_of("both_bad") == 0.5
    with pytest.raises(ArenaError):
        score_of("left")
    rng = random.Random(3)
    pairs = {draw_pair(["m1", "m2", "m3"], rng) for _ in range(60)}
    assert all(a != b for a, b in pairs) and len(pairs) == 6  # every ordered pair shows up
    with pytest.raises(ArenaError, match="at least two"):
        draw_pair(["only", "only"])
    version = dataset_version("seed-study", store)
    assert version.startswith("sha256:") and version == dataset_version("seed-study", store)
    record_vote(store, "m1", "m2", "a", "Dune", curated_source="seed-study", curated_version=version, example_index=4)
    record_vote(store, "m2", "m3", "both_bad", "Emma")
    with pytest.raises(ArenaError):
        record_vote(store, "m1", "m1", "a", "x")
    votes = list_votes(store)
    assert [v["winner"] for v in votes] == ["a", "both_bad"]
    assert votes[0]["curated_version"] == version and votes[0]["prompt"] == "Dune"
    assert [r.model_id for r in arena_leaderboard(store, n_bootstrap=10)][0] == "m1"
