"""Which metric to trust: how often each automatic metric, and the LLM judge, picks the same
winner as a person did.

Human pairs come from the arena's votes (page 4: two answers to one prompt, a person chose) and
from ratings imported with comparison sheets (``Nota <model>`` columns, core/compare/human_ratings.py:
every two rated answers of a row, the higher rating wins). For each pair:

- a human tie or "both bad" says no winner: the pair is left out of the agreement (it still counts,
  as half a win each, in the human ranking of the models, as in the arena's Bradley–Terry);
- a metric picks the answer it scores better (length_ratio: nearer 1; repetition: lower); equal
  scores are a metric tie and count half; a metric needs the reference, so pairs whose prompt did
  not come from a test example count for the judge only — ``n`` says how many pairs each number rests on;
- the judge is asked in both orders (core/compare/pairwise_judge.py); only a consistent verdict picks
  a winner, an inconsistent one is a tie (half). Position bias = share of pairs whose verdict changed
  when A and B were swapped; ``first_wins`` = share of verdicts that chose the answer shown first.

Agreement = mean credit (1 same winner, ½ tie, 0 the other one) with a percentile bootstrap interval
(pairs resampled). Kendall τ-b compares the metric's ranking of the models (mean metric per model over
the answers in the pairs) with the human one (Bradley–Terry strengths of every human pair); it is
empty with fewer than 3 models or when a ranking has no variation. The best metric is the one with
the highest agreement among those resting on at least ``MIN_PAIRS`` pairs.

    python -m core agreement [--judge local:smollm2] [--bootstrap 1000] [--xlsx FILE]
    report = metric_agreement(store, judge_model="local:smollm2")
    report.table; report.best; report.verdict.text
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import pandas as pd

from core.compare.metrics import (
    DEFAULT_METRICS,
    HIGHER_IS_BETTER,
    EmbeddingModelMissingError,
    bootstrap_ci,
    score_answers,
)
from core.compare.pairwise_judge import Ask, PairItem, PairVerdict, judge_pairs
from core.errors import UserFacingError
from core.store import Store
from core.store import ratings as db

MIN_PAIRS = 10
SHEET_COLUMNS = ["metric", "n", "agreement_%", "low_%", "high_%", "kendall_tau", "n_models", "position_bias_%",
                 "first_wins_%"]
COLUMNS = ["metric", "n", "agreement", "low", "high", "kendall_tau", "n_models", "position_bias", "first_wins"]
Progress = Callable[[str, int, int], None]  # (phase: scoring | judge, done, total)

# English text of each note; the UI has its own words for the same keys (locales/confianca.py).
NOTE_TEXT = {
    "best": "{metric} agrees best with the people on this task: {agreement:.0%} of {n} pairs.",
    "best_overlap": "{metric} agrees best with the people on this task ({agreement:.0%} of {n} pairs), but its "
                    "interval overlaps {other}'s: more votes would tell them apart.",
    "too_few": "Too few votes to tell which metric agrees best (n={n}, need {need}).",
    "ties": "{k} human ties or 'both bad' are left out of the agreement (no winner to agree with).",
    "no_reference": "{k} pairs have no reference (their prompt was typed, not a test example): only the judge "
                    "rates them.",
    "missing_answer": "{k} votes have no stored answer and are left out.",
    "no_semantic": "The semantic metric is left out: the offline embedding model is not installed.",
    "judge_unread": "{k} pairs lack a readable verdict in one order or both (the judge named neither A nor B): "
                    "they are left out of its row.",
    "judge_cached": "The judge row rests on the pairs asked so far ({k} of {total}): ask the judge for the rest.",
}


class AgreementError(UserFacingError):
    """A setting of the agreement that cannot work (a bootstrap of 0 resamples)."""


@dataclass(frozen=True)
class Note:
    """Something the reader should know, as a key and values (English: ``text``; UI: locales)."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return NOTE_TEXT[self.key].format(**self.values)


@dataclass(frozen=True)
class HumanPair:
    """Two answers to one prompt and the person's choice: x | y | tie | both_bad."""

    source: str  # vote | rating
    title: str
    reference: str | None
    model_x: str
    model_y: str
    answer_x: str
    answer_y: str
    human: str

    @property
    def decided(self) -> bool:
        return self.human in ("x", "y")

    @property
    def human_score(self) -> float:
        """x's share, for the Bradley–Terry ranking: tie and both bad are half each."""
        return {"x": 1.0, "y": 0.0}.get(self.human, 0.5)


@dataclass
class AgreementReport:
    """The table (one row per metric, then the judge), the verdict and what it rests on."""

    table: pd.DataFrame
    best: str | None
    pairs: int  # human pairs with a winner
    votes: int
    rating_pairs: int
    ties: int
    verdict: Note
    notes: list[Note]
    judge_model: str | None = None
    human_ranking: pd.DataFrame = field(default_factory=pd.DataFrame)
    min_pairs: int = MIN_PAIRS


def human_pairs(store: Store) -> tuple[list[HumanPair], int]:
    """Every human pair (votes, then rating pairs) and how many votes had no stored answer."""
    pairs: list[HumanPair] = []
    missing = 0
    for v in db.vote_answers(store):
        if v["answer_a"] is None or v["answer_b"] is None or v["model_a"] == v["model_b"]:
            missing += 1
            continue
        human = {"a": "x", "b": "y"}.get(v["winner"], v["winner"])
        pairs.append(HumanPair("vote", v["prompt"], v["reference"] or None, v["model_a"], v["model_b"],
                               v["answer_a"], v["answer_b"], human))
    rows: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in db.rated_answers(store):
        rows.setdefault((r["eval_id"], r["idx"]), []).append(r)
    for rated in rows.values():
        for x, y in combinations(rated, 2):
            human = "x" if x["rating"] > y["rating"] else "y" if y["rating"] > x["rating"] else "tie"
            pairs.append(HumanPair("rating", x["title"], x["reference"] or None, x["model_id"], y["model_id"],
                                   x["answer"] or "", y["answer"] or "", human))
    return pairs, missing


def goodness(metric: str, value: float) -> float:
    """A metric's value turned so that higher is better (length_ratio: nearer 1)."""
    if metric == "length_ratio":
        return -abs(value - 1.0)
    return value if HIGHER_IS_BETTER.get(metric, True) else -value


def credit(pick: str | None, human: str) -> float:
    """1 when the pick is the human's winner, ½ for a tie, 0 for the other answer."""
    return 0.5 if pick == "tie" else float(pick == human)


def metric_pick(good_x: float, good_y: float, tolerance: float = 1e-9) -> str:
    return "tie" if abs(good_x - good_y) <= tolerance else ("x" if good_x > good_y else "y")


def kendall_tau(human: dict[str, float], other: dict[str, float]) -> tuple[float | None, int]:
    """Kendall τ-b between two rankings of the models they share; None with fewer than 3 models or
    when either has no variation."""
    from scipy.stats import kendalltau

    common = sorted(set(human) & set(other))
    if len(common) < 3:
        return None, len(common)
    a, b = [human[m] for m in common], [other[m] for m in common]
    if len(set(a)) < 2 or len(set(b)) < 2:
        return None, len(common)
    tau = float(kendalltau(a, b)[0])
    return (None if math.isnan(tau) else tau), len(common)


def _strengths(matches: Sequence[tuple[str, str, float]]) -> dict[str, float]:
    from core.compare.arena import fit_bradley_terry

    return fit_bradley_terry(list(matches)) if matches else {}


def _row(metric: str, credits: Sequence[float], n_bootstrap: int, seed: int, tau: float | None, n_models: int,
         bias: float | None = None, first_wins: float | None = None) -> dict[str, Any]:
    est = bootstrap_ci(list(credits), resamples=max(1, n_bootstrap), seed=seed)
    nan = float("nan")
    return {"metric": metric, "n": est.n, "agreement": est.mean, "low": est.low, "high": est.high,
            "kendall_tau": nan if tau is None else tau, "n_models": n_models,
            "position_bias": nan if bias is None else bias, "first_wins": nan if first_wins is None else first_wins}


def _metric_rows(pairs: list[HumanPair], human_rank: dict[str, float], n_bootstrap: int, seed: int,
                 notes: list[Note], on_progress: Progress | None) -> list[dict[str, Any]]:
    with_ref = [p for p in pairs if p.reference]
    answers = list(dict.fromkeys((m, a, p.reference) for p in with_ref
                                 for m, a in ((p.model_x, p.answer_x), (p.model_y, p.answer_y))))
    metrics = list(DEFAULT_METRICS)
    if on_progress:
        on_progress("scoring", 0, len(answers))
    try:
        scored = score_answers([a for _, a, _ in answers], [r or "" for _, _, r in answers], metrics)
    except EmbeddingModelMissingError:
        metrics.remove("semantic")
        notes.append(Note("no_semantic"))
        scored = score_answers([a for _, a, _ in answers], [r or "" for _, _, r in answers], metrics)
    if on_progress:
        on_progress("scoring", len(answers), len(answers))
    scores = dict(zip(answers, scored))
    rows = []
    for metric in metrics:
        credits = [credit(metric_pick(goodness(metric, scores[(p.model_x, p.answer_x, p.reference)][metric]),
                                      goodness(metric, scores[(p.model_y, p.answer_y, p.reference)][metric])), p.human)
                   for p in with_ref if p.decided]
        per_model: dict[str, list[float]] = {}
        for (model, _, _), values in scores.items():
            per_model.setdefault(model, []).append(goodness(metric, values[metric]))
        tau, n_models = kendall_tau(human_rank, {m: sum(v) / len(v) for m, v in per_model.items()})
        rows.append(_row(metric, credits, n_bootstrap, seed, tau, n_models))
    return rows


def _judge_row(store: Store, pairs: list[HumanPair], human_rank: dict[str, float], judge_model: str, *,
               n_bootstrap: int, seed: int, cached_only: bool, ask: Ask | None, notes: list[Note],
               on_progress: Progress | None, api_key: str | None) -> dict[str, Any] | None:
    items = [PairItem(p.title, p.reference, p.answer_x, p.answer_y) for p in pairs]
    verdicts: list[PairVerdict] = judge_pairs(store, judge_model, items, ask=ask, cached_only=cached_only,
                                              on_progress=on_progress, api_key=api_key)
    complete = [(p, v) for p, v in zip(pairs, verdicts) if v.complete]
    asked = sum(1 for v in verdicts if v.asked)
    if asked < len(pairs):  # cached_only, or calls that failed (not cached: asking again retries them)
        notes.append(Note("judge_cached", {"k": asked, "total": len(pairs)}))
    if not asked:
        return None
    if len(complete) < asked:
        notes.append(Note("judge_unread", {"k": asked - len(complete)}))
    credits = [credit(v.pick, p.human) for p, v in complete if p.decided]
    bias = (sum(1 for _, v in complete if not v.consistent) / len(complete)) if complete else None
    first = (sum(v.first_wins for _, v in complete) / (2 * len(complete))) if complete else None
    judge_rank = _strengths([(p.model_x, p.model_y, {"x": 1.0, "y": 0.0}.get(v.pick or "", 0.5))
                             for p, v in complete])
    tau, n_models = kendall_tau(human_rank, judge_rank)
    return _row("judge", credits, n_bootstrap, seed, tau, n_models, bias, first)


def choose_best(table: pd.DataFrame, min_pairs: int = MIN_PAIRS) -> tuple[str | None, Note]:
    """The metric with the highest agreement among those resting on ``min_pairs`` pairs or more."""
    ready = table[(table["n"] >= min_pairs) & table["agreement"].notna()] if not table.empty else table
    if ready.empty:
        n = int(table["n"].max()) if not table.empty and table["n"].notna().any() else 0
        return None, Note("too_few", {"n": n, "need": min_pairs})
    ranked = ready.sort_values(["agreement", "n"], ascending=[False, False])
    top = ranked.iloc[0]
    values = {"metric": str(top["metric"]), "agreement": float(top["agreement"]), "n": int(top["n"])}
    overlapping = ranked.iloc[1:][ranked.iloc[1:]["high"] >= top["low"]]
    if not overlapping.empty:
        return str(top["metric"]), Note("best_overlap", {**values, "other": str(overlapping.iloc[0]["metric"])})
    return str(top["metric"]), Note("best", values)


def metric_agreement(store: Store, *, judge_model: str | None = None, n_bootstrap: int = 1000, seed: int = 0,
                     on_progress: Progress | None = None, cached_only: bool = False, ask: Ask | None = None,
                     min_pairs: int = MIN_PAIRS, api_key: str | None = None) -> AgreementReport:
    """Each metric's (and the judge's, with ``judge_model``) agreement with the human pairs.
    ``cached_only``: the judge row from verdicts asked before, never calling a model (the xlsx);
    ``ask``: a stand-in for the judge model (tests)."""
    pairs, missing = human_pairs(store)
    notes: list[Note] = []
    decided = [p for p in pairs if p.decided]
    ties = len(pairs) - len(decided)
    if ties:
        notes.append(Note("ties", {"k": ties}))
    no_ref = sum(1 for p in decided if not p.reference)
    if no_ref:
        notes.append(Note("no_reference", {"k": no_ref}))
    if missing:
        notes.append(Note("missing_answer", {"k": missing}))
    human_rank = _strengths([(p.model_x, p.model_y, p.human_score) for p in pairs])
    rows = _metric_rows(pairs, human_rank, n_bootstrap, seed, notes, on_progress)
    if judge_model:
        row = _judge_row(store, pairs, human_rank, judge_model, n_bootstrap=n_bootstrap, seed=seed,
                         cached_only=cached_only, ask=ask, notes=notes, on_progress=on_progress, api_key=api_key)
        if row is not None:
            rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS)
    best, verdict = choose_best(table, min_pairs)
    ranking = pd.DataFrame(sorted(human_rank.items(), key=lambda kv: -kv[1]), columns=["model_id", "strength"])
    return AgreementReport(table, best, len(decided), sum(1 for p in pairs if p.source == "vote"),
                           sum(1 for p in pairs if p.source == "rating"), ties, verdict, notes, judge_model,
                           ranking, min_pairs)


def cached_judge(store: Store) -> str | None:
    """The judge with the most cached verdicts (what the xlsx shows without asking anyone)."""
    judges = db.judges_with_verdicts(store)
    return judges[0][0] if judges else None


def format_table(report: AgreementReport) -> str:
    """The table as the CLI prints it: metric | n | agreement % [low, high] | Kendall τ (models ranked) |
    position bias; τ is — with fewer than 3 models or no variation."""
    def pct(v: Any) -> str:
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v * 100:.0f}%"

    labels = [f"judge ({report.judge_model})" if m == "judge" else str(m) for m in report.table["metric"]]
    width = max([14, *(len(label) + 2 for label in labels)])
    lines = [f"{'metric':<{width}}{'n':>5}  {'agreement % [95% interval]':<28}{'Kendall τ (models)':>19}  {'position bias':>13}"]
    for label, r in zip(labels, report.table.itertuples(index=False)):
        interval = "—" if r.n == 0 else f"{pct(r.agreement)} [{pct(r.low)}, {pct(r.high)}]"
        tau = f"— ({r.n_models})" if math.isnan(r.kendall_tau) else f"{r.kendall_tau:+.2f} ({r.n_models})"
        bias = "—" if math.isnan(r.position_bias) else f"{pct(r.position_bias)}"
        lines.append(f"{label:<{width}}{r.n:>5}  {interval:<28}{tau:>19}  {bias:>13}")
    return "\n".join(lines)


def report_for_workbook(store: Store, n_bootstrap: int = 1000) -> AgreementReport | None:
    """The agreement for the study's workbook: the judge row only from cached verdicts (writing a
    workbook never calls a model); None when there is no human pair at all."""
    if not human_pairs(store)[0]:
        return None
    return metric_agreement(store, judge_model=cached_judge(store), cached_only=True, n_bootstrap=n_bootstrap)


def sheet_rows(report: AgreementReport) -> list[list[Any]]:
    """The "agreement" sheet: the table (percent columns), a blank row, the best metric, the verdict,
    what the numbers rest on and the notes."""
    def pct(v: Any) -> float | None:
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v) * 100, 1)

    rows: list[list[Any]] = [list(SHEET_COLUMNS)]
    for r in report.table.itertuples(index=False):
        label = f"judge ({report.judge_model})" if r.metric == "judge" else r.metric
        tau = None if math.isnan(r.kendall_tau) else round(float(r.kendall_tau), 3)
        rows.append([label, int(r.n), pct(r.agreement), pct(r.low), pct(r.high), tau, int(r.n_models),
                     pct(r.position_bias), pct(r.first_wins)])
    rows += [[], ["best", report.best or ""], ["verdict", report.verdict.text],
             ["human pairs with a winner", report.pairs], ["votes", report.votes],
             ["rating pairs", report.rating_pairs], ["ties or both bad (left out)", report.ties],
             ["how ties count", "Human ties and 'both bad' are left out of the agreement; a metric's tie (equal "
                                "scores) or an inconsistent judge counts half."]]
    rows += [["note", note.text] for note in report.notes]
    return rows
