"""Batch evaluation: any set of registry models on the held-out split of a curated dataset,
under one or more prompt variants, every answer scored against the reference and stored.

    config = EvalConfig(models=["local:smollm2"], data="seed-study", limit=20, variants=["default", "pt-br"])
    eval_id = run_evaluation(store, config, on_progress=lambda done, total, msg: print(done, total, msg))
    python -m core eval --models local:smollm2 --data seed-study --limit 20     # the same from the CLI

How it works:
- The evaluation id is a hash of what decides the answers (models, data, split, N, seed, variants,
  generation settings), so running the same evaluation again *resumes* it: answers already stored
  are kept, only the missing ones are generated (a failed answer is retried). Metrics and the
  judge are not part of the id: adding one later scores the stored answers without regenerating.
- Answers are generated per (model, variant) through ``core.models.generate.generate_batch`` (real
  batches for local models, concurrent requests for remote ones) in chunks of ``batch_size``;
  each chunk is stored and scored as soon as it is made, so an interruption loses at most one chunk.
- Progress (done / total, phase, heartbeat) lives in the ``evaluations`` row: the page's progress
  bar reads it, so it survives a page reload; ``start_evaluation`` runs the same work in a
  background thread of the app process (the only process that may write the database).
- Flexibility (the seed study's fourth criterion) is the same evaluation under ``VARIANTS``
  (core/compare/prompt_variants.py):
  other phrasings of the question, the question in pt-BR, a one-line summary. Each variant says
  which reference it is scored against; the spread of a model's scores across variants is its
  flexibility (core/compare/results.py).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.compare.metrics import (
    ALL_METRICS,
    DEFAULT_METRICS,
    DEFAULT_RUBRIC,
    check_rubric,
    judge_answers,
    score_answers,
)
from core.compare.prompt_variants import VARIANTS, PromptVariant, variant_reference
from core.config import ConfigBase, option
from core.errors import UserFacingError
from core.store import compare as db
from core.study import lineage

if TYPE_CHECKING:
    from core.store import Store

ProgressFn = Callable[[int, int, str], None]


class EvaluationError(UserFacingError):
    """An evaluation that cannot start (no models, unknown variant, empty split...)."""


class EvaluationCancelled(Exception):
    """Raised inside the worker when the user cancels; the answers made so far are kept."""


# -- the config ------------------------------------------------------------------------------------
@dataclass
class EvalConfig(ConfigBase):
    """What to evaluate, on which examples, how to ask, and how to score."""

    models: list[str] = option([], "Registry ids of the models to evaluate (base models and fine-tunes), "
                                   "e.g. local:smollm2, openai:gpt-4o-mini-2024-07-18.")
    data: str = option("seed-study", "Curated dataset: a folder with train.jsonl/test.jsonl, a saved curation's "
                                     "name (name or name@v2), or seed-study (the seed study's own split).")
    split: str = option("test", "The held-out split to evaluate on (test), or train to check memorisation.")
    limit: int | None = option(20, "How many examples (drawn at random with the seed); empty or 0 for all of them.")
    seed: int = option(0, "Seed of the random draw of examples (the same seed gives the same examples).")
    variants: list[str] = option(["default"], "Prompt variants: other phrasings, pt-BR, a one-line summary. "
                                              "Flexibility is the spread of scores across them.")
    metrics: list[str] = option(list(DEFAULT_METRICS), "Metrics per answer: rougeL, chrf, bleu, semantic "
                                                       "(MiniLM), length_ratio, repetition.")
    main_metric: str = option("semantic", "The metric the leaderboard, the cost chart and the criteria rank by.")
    temperature: float = option(0.0, "Sampling temperature; 0 (greedy) makes the evaluation repeatable.")
    max_new_tokens: int = option(96, "The most tokens per answer (the seed's descriptions are ~150-250 tokens; "
                                     "fewer is faster).")
    top_p: float = option(1.0, "Nucleus sampling (only with temperature above 0).")
    system_prompt: str | None = option(None, "A system message for every model (empty: the model's own, if any).")
    batch_size: int = option(16, "Answers generated together (local models) and stored at once; an interruption "
                                 "loses at most one batch.")
    judge_model: str | None = option(None, "Registry id of an LLM judge (any OpenAI or OpenAI-compatible model); "
                                           "empty for no judge.")
    judge_rubric: str = option(DEFAULT_RUBRIC, "What the judge reads: {title}, {reference} and {answer} are filled "
                                               "in; it must end with a line 'SCORE: n' (1 to 5).")

    def validate(self) -> None:
        self.check(isinstance(self.models, list) and len(self.models) > 0, "models", "needs at least one model")
        self.check(self.split in ("train", "test"), "split", "must be train or test")
        self.check(self.limit is None or (isinstance(self.limit, int) and self.limit >= 0), "limit",
                   "must be a whole number ≥ 0 (0 = all)")
        self.check(isinstance(self.variants, list) and len(self.variants) > 0, "variants", "needs at least one variant")
        unknown = [v for v in self.variants if v not in VARIANTS]
        self.check(not unknown, "variants", f"has unknown names {unknown}; choose from {', '.join(VARIANTS)}")
        bad = [m for m in self.metrics if m not in ALL_METRICS or m == "judge"]
        self.check(not bad, "metrics", f"has unknown names {bad}; choose from {', '.join(DEFAULT_METRICS)}")
        self.check(self.main_metric in ALL_METRICS, "main_metric", f"must be one of {', '.join(ALL_METRICS)}")
        self.check(isinstance(self.batch_size, int) and 1 <= self.batch_size <= 256, "batch_size", "must be 1 to 256")
        self.check(isinstance(self.max_new_tokens, int) and 1 <= self.max_new_tokens <= 4096, "max_new_tokens",
                   "must be 1 to 4096")
        self.check(isinstance(self.temperature, (int, float)) and 0 <= self.temperature <= 2, "temperature",
                   "must be between 0 and 2")
        if self.judge_model:
            try:
                check_rubric(self.judge_rubric)
            except UserFacingError as exc:
                self.check(False, "judge_rubric", str(exc).rstrip("."))
        self.models = list(dict.fromkeys(m.strip() for m in self.models if m and m.strip()))
        self.check(len(self.models) > 0, "models", "needs at least one model")
        if self.main_metric == "judge" and not self.judge_model:
            self.main_metric = "semantic"

    def identity(self) -> dict[str, Any]:
        """What decides the answers; its hash is the evaluation id (metrics and judge are not in it)."""
        return {"models": sorted(self.models), "data": self.data, "split": self.split, "limit": self.limit or 0,
                "seed": self.seed, "variants": sorted(self.variants), "temperature": self.temperature,
                "max_new_tokens": self.max_new_tokens, "top_p": self.top_p, "system_prompt": self.system_prompt}

    def eval_id(self) -> str:
        digest = hashlib.sha1(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:10]
        return f"ev-{digest}"


# -- preparing -------------------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def select_examples(rows: list[dict[str, str]], limit: int | None, seed: int) -> list[tuple[int, str, str]]:
    """(index in the split, title, content) of N rows drawn with ``seed`` (all when limit is 0/None), in split order."""
    indexes = list(range(len(rows)))
    if limit and limit < len(rows):
        indexes = sorted(random.Random(seed).sample(indexes, limit))
    return [(i, rows[i]["title"], rows[i]["content"]) for i in indexes]


def _model_entry(store: Store, model_id: str) -> dict[str, Any]:
    from core.models.registry import FINETUNE_KINDS, get_registered

    model = get_registered(store, model_id)
    finetuned = model["kind"] in FINETUNE_KINDS
    return {"model_id": model_id, "display_name": model.get("display_name") or model_id, "kind": model["kind"],
            "finetuned": finetuned, "base_model": model.get("base_model"), "run_id": model.get("run_id")}


def prepare_evaluation(store: Store, config: EvalConfig, eval_id: str | None = None) -> str:
    """Check everything, then create the evaluation row with its examples (kept if it exists: resume)."""
    from core.data.curated import read_split, read_test_split, resolve_source

    eval_id = eval_id or config.eval_id()
    existing = db.get_evaluation(store, eval_id)
    if existing is not None and existing["source"] != "eval":
        raise EvaluationError(f"{eval_id} is an imported sheet, not an evaluation that can run.")
    models = [_model_entry(store, m) for m in config.models]
    if existing is None:
        folder = resolve_source(config.data, store)
        rows = read_test_split(folder, config.data) if config.split == "test" else read_split(folder, config.split)
        if not rows:
            raise EvaluationError(f"The {config.split} split of {config.data} has no rows to evaluate on.")
        examples = select_examples(rows, config.limit, config.seed)
        title = f"{config.data} · {config.split} · {len(examples)} ex. · {', '.join(config.variants)}"
        db.create_evaluation(store, eval_id, "eval", title, config.to_json(), "queued", examples, models)
    else:
        # Same answers, maybe new metrics or judge: remember the latest scoring choices.
        db.create_evaluation(store, eval_id, "eval", existing["title"], existing["config_json"], existing["status"], [],
                             models)
        db.update_evaluation(store, eval_id, config_json=config.to_json())
    if existing is None or not existing.get("lineage_json"):  # the answers' lineage is the first run's
        db.update_evaluation(store, eval_id, lineage_json=lineage.to_json(
            lineage.record(lineage.evaluation_inputs(store, config, models))))
    return eval_id


def load_config(store: Store, eval_id: str) -> EvalConfig:
    row = db.get_evaluation(store, eval_id)
    if row is None:
        raise EvaluationError(f"There is no evaluation {eval_id!r}; see the list on page 5 or `python -m core report`.")
    if row["source"] != "eval":
        raise EvaluationError(f"{eval_id} is an imported sheet, not an evaluation that can run.")
    data = json.loads(row["config_json"])
    if data.get("judge_rubric") == "***":  # never a secret, but masked keys must not break a resume
        data["judge_rubric"] = DEFAULT_RUBRIC
    return EvalConfig.from_dict(data)


# -- running ---------------------------------------------------------------------------------------
def _settings_for(store: Store, config: EvalConfig, model_id: str, variant: PromptVariant) -> Any:
    from core.models.answers import GenerationSettings
    from core.models.registry import get_registered, training_template

    template = training_template(get_registered(store, model_id))
    user = variant.user_template or template.get("user_template") or template.get("user") or "{title}"
    if "{title}" not in user:
        user = "{title}"
    system = config.system_prompt or variant.system_prompt or template.get("system_prompt") or template.get("system")
    return GenerationSettings(temperature=float(config.temperature), max_new_tokens=config.max_new_tokens,
                              top_p=float(config.top_p), system_prompt=system, user_template=user, seed=config.seed)


class _Progress:
    """Counts answers, writes done/total/heartbeat to the DB (throttled) and calls the callback."""

    def __init__(self, store: Store, eval_id: str, total: int, done: int, callback: ProgressFn | None,
                 cancel: threading.Event | None) -> None:
        self.store, self.eval_id, self.total, self.done = store, eval_id, total, done
        self.callback, self.cancel, self._last = callback, cancel, 0.0

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise EvaluationCancelled
        row = db.get_evaluation(self.store, self.eval_id)
        if row is not None and row["status"] == "cancelling":  # asked from another thread / page session
            raise EvaluationCancelled

    def report(self, phase: str, message: str, added: int = 0, force: bool = False) -> None:
        self.done += added
        now = time.monotonic()
        if force or now - self._last > 0.5:
            db.update_evaluation(self.store, self.eval_id, done=self.done, total=self.total, phase=phase,
                                 heartbeat_at=_now())
            self._last = now
        if self.callback:
            self.callback(self.done, self.total, message)


def _score_rows(store: Store, eval_id: str, metrics: list[str], rows: list[dict[str, Any]]) -> None:
    if not rows or not metrics:
        return
    scored = score_answers([r["answer"] or "" for r in rows], [r["reference"] or "" for r in rows], metrics)
    db.save_scores(store, [(eval_id, r["model_id"], r["variant"], r["idx"], name, value, None)
                           for r, values in zip(rows, scored) for name, value in values.items()])


def _generate_missing(store: Store, eval_id: str, config: EvalConfig, progress: _Progress,
                      api_key: str | None) -> None:
    from core.models.generate import generate_batch

    examples = {e["idx"]: e for e in db.eval_examples(store, eval_id)}
    for variant_name in config.variants:
        variant = VARIANTS[variant_name]
        for model_id in config.models:
            missing = sorted(set(examples) - db.answered_indexes(store, eval_id, model_id, variant_name))
            if not missing:
                continue
            settings = _settings_for(store, config, model_id, variant)
            for start in range(0, len(missing), config.batch_size):
                progress.check_cancel()
                chunk = missing[start:start + config.batch_size]
                titles = [examples[i]["title"] for i in chunk]
                answers = generate_batch(store, model_id, titles, settings, batch_size=config.batch_size,
                                         api_key=api_key)
                rows = [{"eval_id": eval_id, "model_id": model_id, "variant": variant_name, "idx": i,
                         "prompt": settings.user_message(examples[i]["title"]),
                         "reference": variant_reference(variant, examples[i]["reference"]), "answer": a.text,
                         "latency_first_token_s": a.latency_first_token_s, "total_s": a.total_s,
                         "tokens_in": a.tokens_in, "tokens_out": a.tokens_out, "cost_usd": a.cost_usd,
                         "error": a.error} for i, a in zip(chunk, answers)]
                db.save_answers(store, rows)
                _score_rows(store, eval_id, config.metrics, [r for r in rows if r["error"] is None])
                good = sum(1 for r in rows if r["error"] is None)
                progress.report("generating", f"{model_id} · {variant_name}: {start + len(chunk)}/{len(missing)}",
                                added=good, force=True)


def _score_missing(store: Store, eval_id: str, config: EvalConfig, progress: _Progress) -> None:
    """Scores that a crash between 'answer stored' and 'answer scored' left out, or new metrics."""
    for metric in config.metrics:
        rows = db.answers_missing_metric(store, eval_id, metric)
        for start in range(0, len(rows), 256):
            progress.check_cancel()
            chunk = rows[start:start + 256]
            _score_rows(store, eval_id, [metric], chunk)
            progress.report("scoring", f"{metric}: {start + len(chunk)}/{len(rows)}")


def _judge_missing(store: Store, eval_id: str, config: EvalConfig, progress: _Progress, api_key: str | None) -> None:
    if not config.judge_model:
        return
    rows = db.answers_missing_metric(store, eval_id, "judge")
    for start in range(0, len(rows), 16):
        progress.check_cancel()
        chunk = rows[start:start + 16]
        graded = judge_answers(store, config.judge_model, config.judge_rubric,
                               [{"title": r["title"], "reference": r["reference"], "answer": r["answer"]} for r in chunk],
                               api_key=api_key)
        db.save_scores(store, [(eval_id, r["model_id"], r["variant"], r["idx"], "judge", score, text[:2000])
                               for r, (score, text) in zip(chunk, graded) if not text.startswith("error:")])
        progress.report("judging", f"judge: {start + len(chunk)}/{len(rows)}", force=True)


def run_evaluation(store: Store, config: EvalConfig, eval_id: str | None = None,
                   on_progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                   api_key: str | None = None) -> str:
    """Run (or resume) an evaluation to the end in this thread; returns its id.

    ``on_progress(done, total, message)`` follows the answers; setting ``cancel`` (or status
    'cancelling' in the DB) stops it after the current batch with everything made so far kept.
    ``api_key`` (OpenAI models and judge) overrides OPENAI_API_KEY; it is never stored.
    """
    eval_id = prepare_evaluation(store, config, eval_id)
    examples = db.eval_examples(store, eval_id)
    total = len(examples) * len(config.models) * len(config.variants)
    done = db.count_answers(store, eval_id)
    # wall_s is the time spent on this evaluation in all its sittings: a resume (or a rerun that reuses
    # every answer) adds its own seconds instead of replacing the first sitting's
    earlier_s = float((db.get_evaluation(store, eval_id) or {}).get("wall_s") or 0.0)
    started = time.monotonic() - earlier_s
    db.update_evaluation(store, eval_id, status="running", status_message=None, started_at=_now(),
                         ended_at=None, done=done, total=total, phase="generating", heartbeat_at=_now())
    progress = _Progress(store, eval_id, total, done, on_progress, cancel)
    try:
        _generate_missing(store, eval_id, config, progress, api_key)
        _score_missing(store, eval_id, config, progress)
        _judge_missing(store, eval_id, config, progress, api_key)
    except EvaluationCancelled:
        db.update_evaluation(store, eval_id, status="cancelled", ended_at=_now(), done=progress.done,
                             wall_s=time.monotonic() - started)
        return eval_id
    except UserFacingError as exc:
        db.update_evaluation(store, eval_id, status="failed", status_message=str(exc), ended_at=_now())
        raise
    except Exception as exc:
        db.update_evaluation(store, eval_id, status="failed", ended_at=_now(),
                             status_message=f"The evaluation stopped on an unexpected error ({type(exc).__name__}: {exc}).")
        raise
    failed = total - db.count_answers(store, eval_id)
    message = (f"{failed} answer(s) failed (see the error column); run the evaluation again to retry them."
               if failed else None)
    db.update_evaluation(store, eval_id, status="succeeded", status_message=message, ended_at=_now(),
                         done=total - failed, phase=None, wall_s=time.monotonic() - started)
    return eval_id


# -- in the background (the page) ------------------------------------------------------------------
_threads: dict[str, tuple[threading.Thread, threading.Event]] = {}
_threads_lock = threading.Lock()


def start_evaluation(store: Store, config: EvalConfig, eval_id: str | None = None, api_key: str | None = None) -> str:
    """Prepare now (errors raise here, in one sentence), then run in a daemon thread of this
    process. Starting an evaluation that is already running just returns its id."""
    eval_id = prepare_evaluation(store, config, eval_id)
    with _threads_lock:
        current = _threads.get(eval_id)
        if current is not None and current[0].is_alive():
            return eval_id
        cancel = threading.Event()
        db.update_evaluation(store, eval_id, status="queued", status_message=None, heartbeat_at=_now())

        def work() -> None:
            # A failure is already recorded on the evaluation row, where the page shows it.
            with contextlib.suppress(Exception):
                run_evaluation(store, config, eval_id, cancel=cancel, api_key=api_key)

        thread = threading.Thread(target=work, daemon=True, name=f"eval-{eval_id}")
        _threads[eval_id] = (thread, cancel)
        thread.start()
    return eval_id


def cancel_evaluation(store: Store, eval_id: str) -> None:
    """Ask a running evaluation to stop after its current batch (answers made so far are kept)."""
    with _threads_lock:
        current = _threads.get(eval_id)
    if current is not None:
        current[1].set()
    row = db.get_evaluation(store, eval_id)
    if row is not None and row["status"] in ("queued", "running"):
        db.update_evaluation(store, eval_id, status="cancelling")


def is_running_here(eval_id: str) -> bool:
    with _threads_lock:
        current = _threads.get(eval_id)
    return current is not None and current[0].is_alive()


def evaluation_state(store: Store, eval_id: str) -> dict[str, Any]:
    """The row plus ``state``: its status, or 'interrupted' when it says running but nothing runs
    it any more (the app restarted mid-way); an interrupted evaluation resumes with run/start."""
    row = db.get_evaluation(store, eval_id)
    if row is None:
        raise EvaluationError(f"There is no evaluation {eval_id!r}.")
    state = row["status"]
    # Only this process can write the database, so nothing else can be running it.
    if state in ("queued", "running", "cancelling") and not is_running_here(eval_id):
        state = "interrupted"
    return {**row, "state": state, "fraction": (row["done"] or 0) / row["total"] if row["total"] else 0.0}
