"""The blind arena: two models drawn at random answer the same prompt with their names hidden, a
person votes (left / right / tie / both bad), and the votes become ratings.

Ratings use the Bradley–Terry model: P(i beats j) = p_i / (p_i + p_j), fitted by Hunter's MM
algorithm (each step is a closed form that never lowers the likelihood). A tie counts as half a win
for each side, and so does "both bad" (neither was preferred; it still says they are alike). A small
prior — ``prior`` virtual games, half won, against a fixed average player — keeps a model that won
(or lost) every vote at a finite rating. Confidence intervals come from bootstrapping the votes.
Ratings are shown on the familiar Elo-like scale: 1000 + 400·log10(p / geometric mean of p).

    pair = draw_pair(["local:smollm2", "openai:gpt-4o-mini-2024-07-18", "local-ft:run1"], rng)
    record_vote(store, pair[0], pair[1], "a", prompt, ...)
    for row in leaderboard(list_votes(store)):
        print(row.model_id, row.rating, row.ci_low, row.ci_high)
"""
from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import UserFacingError

if TYPE_CHECKING:
    from core.store import Store

WINNERS = ("a", "b", "tie", "both_bad")
SCALE, BASE_RATING = 400.0, 1000.0


class ArenaError(UserFacingError):
    """The arena cannot do what was asked (too few models, an unknown vote)."""


@dataclass
class Rating:
    """One row of the leaderboard."""

    model_id: str
    rating: float
    ci_low: float
    ci_high: float
    games: int
    wins: int
    ties: int
    losses: int
    rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_of(winner: str) -> float:
    """Model a's share of a vote: 1 win, 0 loss, ½ tie or both bad."""
    if winner not in WINNERS:
        raise ArenaError(f"A vote must be one of {', '.join(WINNERS)}, not {winner!r}.")
    return {"a": 1.0, "b": 0.0}.get(winner, 0.5)


def matches_from_votes(votes: Sequence[dict[str, Any]]) -> list[tuple[str, str, float]]:
    """(model_a, model_b, a's score) per stored vote (rows of the arena_votes table)."""
    return [(v["model_a"], v["model_b"], score_of(v["winner"])) for v in votes if v["model_a"] != v["model_b"]]


def fit_bradley_terry(matches: Sequence[tuple[str, str, float]], prior: float = 1.0, max_iter: int = 10_000,
                      tol: float = 1e-10) -> dict[str, float]:
    """Bradley–Terry strengths p (geometric mean 1) from (a, b, a's score) matches, by MM."""
    models = sorted({m for a, b, _ in matches for m in (a, b)})
    if not models:
        return {}
    index = {m: i for i, m in enumerate(models)}
    n = len(models)
    games = np.zeros((n, n))
    wins = np.zeros(n)
    for a, b, score in matches:
        i, j = index[a], index[b]
        games[i, j] += 1
        games[j, i] += 1
        wins[i] += score
        wins[j] += 1 - score
    # The prior: `prior` games against a fixed opponent of strength 1, half of them won.
    wins = wins + prior / 2
    p = np.ones(n)
    for _ in range(max_iter):
        denominator = (games / (p[:, None] + p[None, :])).sum(axis=1) + prior / (p + 1.0)
        new = wins / denominator
        if prior == 0:  # without the anchor only ratios are defined: pin the geometric mean
            new = new / math.exp(float(np.log(new).mean()))
        if np.max(np.abs(np.log(new) - np.log(p))) < tol:
            p = new
            break
        p = new
    p = p / math.exp(float(np.log(p).mean()))
    return {m: float(p[index[m]]) for m in models}


def to_rating(strength: float) -> float:
    return BASE_RATING + SCALE * math.log10(strength)


def win_probability(strength_a: float, strength_b: float) -> float:
    return strength_a / (strength_a + strength_b)


def leaderboard(votes: Sequence[dict[str, Any]], n_bootstrap: int = 200, confidence: float = 0.95,
                seed: int = 0, prior: float = 1.0) -> list[Rating]:
    """Ratings with bootstrap confidence intervals, best first, from stored votes."""
    matches = matches_from_votes(votes)
    strengths = fit_bradley_terry(matches, prior)
    if not strengths:
        return []
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {m: [] for m in strengths}
    for _ in range(n_bootstrap if len(matches) > 1 else 0):
        picked = [matches[k] for k in rng.integers(0, len(matches), len(matches))]
        fitted = fit_bradley_terry(picked, prior, max_iter=2000, tol=1e-8)
        for model in strengths:
            # A model absent from a resample has only the prior: it sits at the average.
            samples[model].append(to_rating(fitted.get(model, 1.0)))
    tail = (1 - confidence) / 2 * 100
    counts = {m: [0, 0, 0, 0] for m in strengths}  # games, wins, ties, losses
    for a, b, score in matches:
        for model, mine in ((a, score), (b, 1 - score)):
            c = counts[model]
            c[0] += 1
            c[1 if mine == 1 else 2 if mine == 0.5 else 3] += 1
    rows = []
    for model, strength in strengths.items():
        rating = to_rating(strength)
        low, high = (np.percentile(samples[model], [tail, 100 - tail]) if samples[model] else (rating, rating))
        rows.append(Rating(model, rating, float(min(low, rating)), float(max(high, rating)), *counts[model]))
    rows.sort(key=lambda r: -r.rating)
    for rank, row in enumerate(rows, start=1):
        row.rank = rank
    return rows


def draw_pair(model_ids: Sequence[str], rng: random.Random | None = None) -> tuple[str, str]:
    """Two different models in random order (left, right)."""
    unique = list(dict.fromkeys(model_ids))
    if len(unique) < 2:
        raise ArenaError("The arena needs at least two models: register another one (an endpoint, OpenAI, a fine-tune).")
    left, right = (rng or random.Random()).sample(unique, 2)
    return left, right


def is_checkpoint(model: dict[str, Any]) -> bool:
    """An intermediate checkpoint of a fine-tune (``local-ft:<run>@<step>``, OpenAI ``…:ckpt-step-N``)."""
    model_id = str(model.get("id") or "")
    remote = str(model.get("remote_model") or "")
    return (model_id.startswith("local-ft:") and "@" in model_id) or ":ckpt-step-" in remote or ":ckpt-step-" in model_id


def pool_options(models: Sequence[dict[str, Any]], include_checkpoints: bool = False) -> list[str]:
    """The models the arena may draw from: checkpoints only when asked for (a run saves many; left in,
    most pairs would be one run's steps against each other)."""
    return [m["id"] for m in models if include_checkpoints or not is_checkpoint(m)]


def default_pool(models: Sequence[dict[str, Any]], local_kinds: Sequence[str] = ("local-base", "local-finetune"),
                 ) -> list[str]:
    """The arena's starting pool: every local model but checkpoints when there are two, else the first two."""
    options = pool_options(models)
    local = [m["id"] for m in models if m["id"] in options and m["kind"] in local_kinds]
    return local if len(local) >= 2 else options[:2]


def dataset_version(source: str, store: Store | None = None) -> str:
    """A version tag for a curated dataset: ``vN`` for a saved curation, else a hash of its test split
    (so a vote keeps saying which data its prompt came from, even for a plain folder)."""
    from core.data.curated import resolve_source
    from core.store.curation import find_curated

    if store is not None and "@v" in source:
        return "v" + source.rsplit("@v", 1)[1]
    if store is not None and not Path(source).expanduser().exists():
        found = find_curated(store, source)
        if found is not None:
            return f"v{found['version']}"
    folder = resolve_source(source, store)
    digest = hashlib.sha256((folder / "test.jsonl").read_bytes() if (folder / "test.jsonl").exists() else b"")
    return "sha256:" + digest.hexdigest()[:12]


def record_vote(store: Store, model_a: str, model_b: str, winner: str, prompt: str, *,
                generation_a: int | None = None, generation_b: int | None = None,
                curated_source: str | None = None, curated_version: str | None = None,
                example_index: int | None = None, settings_json: str | None = None) -> int:
    """Store one vote with its prompt and the curated dataset version; returns its id."""
    from core.store.compare import insert_vote

    score_of(winner)  # validates
    if model_a == model_b:
        raise ArenaError("A vote compares two different models.")
    return insert_vote(store, model_a=model_a, model_b=model_b, winner=winner, prompt=prompt,
                       generation_a=generation_a, generation_b=generation_b, curated_source=curated_source,
                       curated_version=curated_version, example_index=example_index, settings_json=settings_json)


def arena_leaderboard(store: Store, n_bootstrap: int = 200, seed: int = 0) -> list[Rating]:
    """The leaderboard of every stored vote."""
    from core.store.compare import list_votes

    return leaderboard(list_votes(store), n_bootstrap=n_bootstrap, seed=seed)
