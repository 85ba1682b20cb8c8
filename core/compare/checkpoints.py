"""Every checkpoint of a run scored: the base model (step 0), each saved checkpoint and the final
model, evaluated together on the held-out split of the run's own curated dataset, so "it learned" is
a curve with intervals and a paired test, not an assumption.

    eval_id = score_checkpoints(store, run_id, limit=10)      # resumable: the same call again adds nothing
    curve = checkpoint_curve(store, run_id)                   # step, value, low, high, model_id, n
    print(learned(curve).sentence())                          # "semantic rose from 0.41 to 0.52 (...): it learned"
    python -m core eval --checkpoints RUN --limit 10          # the same from the CLI

How it works:
- The models are the run's registry rows (``local-ft:<run>@<step>`` for local checkpoints,
  ``openai:ft:...:ckpt-step-N`` for OpenAI's, the final fine-tune at the run's last step) plus its
  base model (``local:smollm2``, ``local:<spec>``, ``openai:<model>``) at step 0 when it can answer.
- They become one ordinary ``EvalConfig`` (core/compare/evaluate.py): same examples for every step,
  same metrics, the evaluation id a hash of it, so a second call resumes and reuses every answer.
  ``start_checkpoints`` runs it in the app's background thread like any evaluation (its progress
  lives in the evaluations row, so a page reload keeps the bar).
- Which evaluation belongs to which run, and each model's step, is kept in the settings table
  (``checkpoints.<run id>``); ``checkpoint_curve`` reads it back.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from core.compare.evaluate import EvalConfig, run_evaluation, start_evaluation
from core.compare.metrics import DEFAULT_METRICS, HIGHER_IS_BETTER, bootstrap_ci, paired_test
from core.errors import UserFacingError

if TYPE_CHECKING:
    from core.compare.evaluate import ProgressFn
    from core.store import Store

CURVE_COLUMNS = ["step", "value", "low", "high", "model_id", "n"]
SETTING_PREFIX = "checkpoints."
_LOCAL_STEP = re.compile(r"@(\d+)$")
_OPENAI_STEP = re.compile(r":ckpt-step-(\d+)$")


class CheckpointError(UserFacingError):
    """A run whose checkpoints cannot be scored (unknown, still training, no model, no test split)."""


@dataclass(frozen=True)
class StepModel:
    """One point of the curve: the model that answers for a step (``role``: base, checkpoint or final)."""

    step: int
    model_id: str
    role: str


# -- which models, on which data -------------------------------------------------------------------
def find_run(store: Store, run_id: str) -> dict[str, Any]:
    """The run row (a unique prefix of the id is enough, as on the command line)."""
    from core.store.runs import find_run as find

    found = find(store, run_id.strip())
    if not found:
        raise CheckpointError(f"There is no run {run_id!r}; `python -m core runs` lists them.")
    if len(found) > 1:
        raise CheckpointError(f"{run_id!r} matches {len(found)} runs; give more of the id.")
    return found[0]


def _step_of(model: dict[str, Any]) -> int | None:
    """The training step of a checkpoint model; None for a final model."""
    local = _LOCAL_STEP.search(str(model["id"]))
    if model["kind"] == "local-finetune" and local:
        return int(local.group(1))
    remote = _OPENAI_STEP.search(str(model.get("remote_model") or ""))
    return int(remote.group(1)) if remote else None


def _base_model(store: Store, run: dict[str, Any]) -> str | None:
    """The registry id of the run's base model, registered now if it is a local one; None when the
    base cannot answer here (Together's and Fireworks' base models are not in the registry)."""
    from core.models.registry import UnknownModelError, add_local_model, get_registered

    backend, base = str(run["backend"]), str(run["base_model"] or "")
    if not base:
        return None
    if backend == "local":
        from core.selection import base_model_id
        from core.store.compare import get_model

        known = base_model_id("local", base)
        if get_model(store, known) is not None:  # the usual case: no write (the page asks on every rerun)
            return known
        try:
            return add_local_model(store, base)
        except UserFacingError:  # the base folder is gone: the curve starts at the first checkpoint
            return None
    if backend == "openai":
        try:
            return str(get_registered(store, f"openai:{base}")["id"])
        except UnknownModelError:
            return None
    return None


def step_models(store: Store, run: dict[str, Any]) -> list[StepModel]:
    """Base (step 0), checkpoints and final model of a run, by step; the final model wins a step it
    shares with a checkpoint (OpenAI's last checkpoint is the final model)."""
    from core.store.compare import list_models

    mine = [m for m in list_models(store, include_retired=True) if m.get("run_id") == run["id"]]
    checkpoints = {step: m["id"] for m in mine if (step := _step_of(m)) is not None}
    finals = [m for m in mine if _step_of(m) is None]
    output = str(run.get("output_model") or "")
    finals.sort(key=lambda m: (m.get("remote_model") != output and m.get("adapter_path") != output, m["id"]))
    points: dict[int, StepModel] = {step: StepModel(step, model_id, "checkpoint")
                                    for step, model_id in sorted(checkpoints.items())}
    if finals:
        last = max([int(run.get("step") or 0), int(run.get("total_steps") or 0), *points], default=0) or 1
        points[last] = StepModel(last, finals[0]["id"], "final")
    if not points:
        return []
    base = _base_model(store, run)
    if base is not None:
        points[0] = StepModel(0, base, "base")
    return [points[s] for s in sorted(points)]


def run_dataset(store: Store, run: dict[str, Any]) -> str:
    """The ``data`` of the evaluation: the run's own curated dataset (``name@vN``, ``name`` or its
    folder), the first spelling that resolves to a dataset with a test split."""
    from core.data.curated import CuratedNotFoundError, EmptyTestSplitError, read_test_split, resolve_source

    name, version = run.get("curated_name"), run.get("curated_version")
    candidates = [f"{name}@v{int(version)}" if name and version is not None else None, name, run.get("data_path")]
    for source in dict.fromkeys(c for c in candidates if c):
        try:
            folder = resolve_source(str(source), store)
        except CuratedNotFoundError:
            continue
        try:
            read_test_split(folder, str(source))
        except EmptyTestSplitError:
            raise CheckpointError(f"The run's dataset {source} has no test split to score the checkpoints on: save it "
                                  "again on page 1 with Test rows above 0.") from None
        return str(source)
    raise CheckpointError(f"The curated dataset run {run['id']} trained on ({name or run.get('data_path')}) is no "
                          "longer there, so its held-out split cannot be read.")


# -- scoring ---------------------------------------------------------------------------------------
def checkpoint_config(store: Store, run_id: str, *, limit: int = 10, seed: int = 0, metrics: list[str] | None = None,
                      max_new_tokens: int = 64) -> tuple[EvalConfig, list[StepModel], dict[str, Any]]:
    """The evaluation of a run's checkpoints, checked: config, steps, run row (a local base model not in
    the registry yet is registered; nothing else is written)."""
    run = find_run(store, run_id)
    from core.store.runs import TERMINAL

    if run["status"] not in TERMINAL:
        raise CheckpointError(f"Run {run['id']} is still {run['status']}: score its checkpoints once it has finished.")
    points = step_models(store, run)
    if not any(p.role != "base" for p in points):
        raise CheckpointError(f"Run {run['id']} ({run['status']}) registered no model or checkpoint to score.")
    chosen = list(metrics) if metrics else list(DEFAULT_METRICS)
    data = run_dataset(store, run)
    try:  # the config checks itself when made: a bad metric or limit is its one sentence
        config = EvalConfig(models=[p.model_id for p in points], data=data, split="test", limit=limit or None,
                            seed=seed, variants=["default"], metrics=chosen, max_new_tokens=max_new_tokens,
                            main_metric="semantic" if "semantic" in chosen else chosen[0])
    except UserFacingError as exc:
        raise CheckpointError(str(exc)) from None
    return config, points, run


def _remember(store: Store, run: dict[str, Any], eval_id: str, points: list[StepModel]) -> None:
    from core.store.base import set_setting
    from core.store.compare import get_evaluation, update_evaluation

    record = {"eval_id": eval_id, "steps": {p.model_id: p.step for p in points},
              "roles": {p.model_id: p.role for p in points}}
    set_setting(store, SETTING_PREFIX + str(run["id"]), json.dumps(record))
    row = get_evaluation(store, eval_id)
    if row is not None and not str(row["title"] or "").startswith("checkpoints"):
        update_evaluation(store, eval_id, title=f"checkpoints · {run['id']} · {row['title']}")


def prepare_checkpoints(store: Store, run_id: str, *, limit: int = 10, seed: int = 0,
                        metrics: list[str] | None = None, max_new_tokens: int = 64) -> tuple[EvalConfig, str]:
    """Create (or find) the run's checkpoint evaluation and record it for the run: (config, eval id)."""
    from core.compare.evaluate import prepare_evaluation

    config, points, run = checkpoint_config(store, run_id, limit=limit, seed=seed, metrics=metrics,
                                            max_new_tokens=max_new_tokens)
    eval_id = prepare_evaluation(store, config)
    _remember(store, run, eval_id, points)
    return config, eval_id


def score_checkpoints(store: Store, run_id: str, *, limit: int = 10, seed: int = 0, metrics: list[str] | None = None,
                      max_new_tokens: int = 64, on_progress: ProgressFn | None = None) -> str:
    """Score base, every checkpoint and the final model of a run in this thread (resumable); the eval id."""
    config, eval_id = prepare_checkpoints(store, run_id, limit=limit, seed=seed, metrics=metrics,
                                          max_new_tokens=max_new_tokens)
    return run_evaluation(store, config, eval_id, on_progress=on_progress)


def start_checkpoints(store: Store, run_id: str, *, limit: int = 10, seed: int = 0, metrics: list[str] | None = None,
                      max_new_tokens: int = 64, api_key: str | None = None) -> str:
    """The same in a background thread of the app process (errors raise here, in one sentence)."""
    config, eval_id = prepare_checkpoints(store, run_id, limit=limit, seed=seed, metrics=metrics,
                                          max_new_tokens=max_new_tokens)
    return start_evaluation(store, config, eval_id, api_key=api_key)


# -- reading the curve -----------------------------------------------------------------------------
def checkpoint_record(store: Store, run_id: str) -> dict[str, Any] | None:
    """What ``_remember`` stored for the run ({eval_id, steps, roles}), when its evaluation still exists."""
    from core.store.base import get_setting
    from core.store.compare import get_evaluation

    raw = get_setting(store, SETTING_PREFIX + run_id)
    try:
        record = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(record, dict) or get_evaluation(store, str(record.get("eval_id"))) is None:
        return None  # deleted on page 5: the run has no checkpoint evaluation any more
    return record


def checkpoint_eval_id(store: Store, run_id: str) -> str | None:
    record = checkpoint_record(store, run_id)
    return str(record["eval_id"]) if record else None


def checkpoint_curve(store: Store, run_id: str, metric: str | None = None) -> pd.DataFrame:
    """Mean metric per step with its 95% bootstrap interval (step, value, low, high, model_id, n); empty
    when the run has no checkpoint evaluation. ``attrs`` carry the metric, the eval id and each model's
    per-example scores (for ``learned``)."""
    from core.compare.results import main_metric
    from core.store.compare import eval_scores_df

    record = checkpoint_record(store, run_id)
    curve = pd.DataFrame(columns=CURVE_COLUMNS)
    if record is None:
        return curve
    eval_id = str(record["eval_id"])
    metric = main_metric(store, eval_id, metric)
    scores = eval_scores_df(store, eval_id)
    scores = scores[(scores["variant"] == "default") & (scores["metric"] == metric)]
    examples = sorted(int(i) for i in scores["idx"].unique())
    per_model: dict[str, list[float | None]] = {}
    rows = []
    for model_id, step in sorted(record["steps"].items(), key=lambda item: item[1]):
        mine = scores[scores["model_id"] == model_id].set_index("idx")["value"]
        values = [float(v) if pd.notna(v) else None for v in mine.tolist()]
        est = bootstrap_ci(values)
        per_model[model_id] = [float(mine[i]) if i in mine.index and pd.notna(mine[i]) else None for i in examples]
        rows.append({"step": int(step), "value": est.mean, "low": est.low, "high": est.high, "model_id": model_id,
                     "n": est.n})
    curve = pd.DataFrame(rows, columns=CURVE_COLUMNS)
    curve.attrs.update(metric=metric, eval_id=eval_id, run_id=run_id, scores=per_model,
                       roles=dict(record.get("roles") or {}))
    return curve


@dataclass(frozen=True)
class Verdict:
    """Did the final step score significantly better than the first (step 0, the base model)?
    ``outcome``: learned | worse | no_change | too_few."""

    outcome: str
    metric: str
    start: float
    end: float
    diff: float
    p: float
    n: int
    start_step: int
    end_step: int

    def sentence(self) -> str:
        """The verdict in one English sentence (the page writes it in its language)."""
        if self.outcome == "too_few":
            return "Too few scored steps or examples to tell whether it learned (score at least two steps)."
        moved = "rose" if self.diff > 0 else "fell" if self.diff < 0 else "stayed"
        head = (f"{self.metric} {moved} from {self.start:.3g} at step {self.start_step} to {self.end:.3g} at step "
                f"{self.end_step} ({self.diff:+.3g}, p={self.p:.3g}, n={self.n})")
        tail = {"learned": "it learned", "worse": "it got worse",
                "no_change": "no significant change"}[self.outcome]
        return f"{head}: {tail}."


def learned(curve: pd.DataFrame) -> Verdict:
    """Paired test (same examples) of the last step against the first, in the metric's direction."""
    metric = str(curve.attrs.get("metric") or "semantic")
    scored = curve[curve["n"] > 0].sort_values("step") if not curve.empty else curve
    scores = curve.attrs.get("scores") or {}
    if len(scored) < 2:
        return Verdict("too_few", metric, math.nan, math.nan, math.nan, math.nan, 0, 0, 0)
    first, last = scored.iloc[0], scored.iloc[-1]
    test = paired_test(scores.get(last["model_id"], []), scores.get(first["model_id"], []))
    higher = HIGHER_IS_BETTER.get(metric, True)
    if test.n < 2:
        outcome = "too_few"
    elif not test.significant:
        outcome = "no_change"
    else:
        outcome = "learned" if (test.mean_diff > 0) == higher else "worse"
    return Verdict(outcome, metric, float(first["value"]), float(last["value"]), float(last["value"] - first["value"]),
                   float(test.p_bootstrap), int(test.n), int(first["step"]), int(last["step"]))


def render_curve(curve: pd.DataFrame) -> str:
    """The curve as a plain-text table (step | metric | low | high | n | model) for the command line."""
    metric = str(curve.attrs.get("metric") or "value")
    roles = curve.attrs.get("roles") or {}
    table = pd.DataFrame({"step": curve["step"], metric: curve["value"], "low": curve["low"], "high": curve["high"],
                          "n": curve["n"],
                          "model": [f"{m} ({roles[m]})" if m in roles else m for m in curve["model_id"]]})
    return table.to_string(index=False, float_format=lambda v: f"{v:.4g}")
