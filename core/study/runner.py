"""``python -m core study run RECIPE``: the recipe's steps in order, reusing what is unchanged.

    recipe = load_recipe("dados/estudos/seed-study.toml")
    result = run_recipe(store, recipe, on_event=print)    # events: plan, step (started/progress/done/
                                                          # reused/skipped/failed), end
    plan_recipe(store, recipe)    # per step: reuse | run | skip, and why (page 6 shows it before a run)

How reuse works: each step's inputs are its settings plus what the steps it depends on made
(core/study/steps.py); their hash is stored with the step (core/store/study.py). A step whose last
finished attempt has the same hash and whose outputs still exist is reused, so a second run does no
work and says so. A step interrupted by a kill is taken up where it was: a training run still
running is followed, a stopped one resumed from its checkpoint; an evaluation resumes by itself.
Steps that need a missing API key are skipped with one line, and the models they would have made
are dropped from the evaluation with one line. Each step runs inside
``core.study.lineage.recipe_step`` so the runs, evaluations and exports it makes record it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.study.steps import Context, CurationStep, DataStep, FormatStep, Skip, Step, TrainStep, inputs_hash
from core.study.steps_compare import CheckpointsStep, EvaluationStep, ReportStep

if TYPE_CHECKING:
    from core.store import Store
    from core.study.recipe_model import Recipe

EventFn = Callable[[dict[str, Any]], None]
PROGRESS_EVERY_S = 0.5  # progress events at most this often (the page polls the file)
HEARTBEAT_S = 15.0      # an unchanged progress is repeated this often, so a reader sees the runner alive


@dataclass
class StudyResult:
    study: str
    status: str = "succeeded"                               # succeeded | failed
    steps: list[dict[str, Any]] = field(default_factory=list)  # step, status, message
    message: str = ""

    def count(self, status: str) -> int:
        return sum(1 for s in self.steps if s["status"] == status)


def _summary(result: StudyResult) -> str:
    reused, skipped, ran = result.count("reused"), result.count("skipped"), result.count("done")
    if not ran:
        return f"nothing to do: {reused} steps reused, {skipped} skipped" if skipped else \
            f"nothing to do: all {reused} steps reused"
    parts = [f"{ran} ran", f"{reused} reused"] + ([f"{skipped} skipped"] if skipped else [])
    return f"study {result.study} finished: {', '.join(parts)}"


def run_recipe(store: Store, recipe: Recipe, on_event: EventFn | None = None,
               accept_changed_data: bool = False) -> StudyResult:
    """Run every step of ``recipe`` (see the module docstring). A step that fails raises its
    one-sentence error after the ``failed`` and ``end`` events; the steps before it stay done."""
    from core.store import study as db
    from core.study.lineage import recipe_step

    emit = on_event or (lambda event: None)
    steps = build_steps(recipe)
    result = StudyResult(recipe.name)
    ctx = Context(store, recipe, accept_changed_data=accept_changed_data)
    emit({"t": time.time(), "event": "plan", "study": recipe.name, "steps": [s.name for s in steps]})
    for index, step in enumerate(steps, start=1):
        base = {"event": "step", "step": step.name, "index": index, "total": len(steps)}

        def send(status: str, message: str, done: int | None = None, of: int | None = None,
                 base: dict[str, Any] = base) -> None:
            event = {"t": time.time(), **base, "status": status, "message": message}
            if done is not None:
                event.update(done=done, of=of)
            emit(event)

        try:
            status, message = _one_step(store, recipe, ctx, step, send, recipe_step, db)
        except BaseException as exc:
            message = _failure(step.name, exc)
            result.steps.append({"step": step.name, "status": "failed", "message": message})
            result.status, result.message = "failed", message
            send("failed", message)
            emit({"t": time.time(), "event": "end", "status": "failed", "message": message})
            raise
        result.steps.append({"step": step.name, "status": status, "message": message})
    result.message = _summary(result)
    emit({"t": time.time(), "event": "end", "status": "succeeded", "message": result.message})
    return result


def _one_step(store: Store, recipe: Recipe, ctx: Context, step: Step, send: Callable[..., None],
              recipe_step: Any, db: Any) -> tuple[str, str]:
    """Reuse, skip or run one step; returns (status, message) after its events."""
    try:
        inputs = step.inputs(ctx)
    except Skip as skip:
        reason = str(skip)
        ctx.skipped[step.name] = reason
        _flush_notes(ctx, send)
        db.record_skipped(store, recipe.name, step.name, "", reason, recipe_sha=recipe.sha,
                          recipe_path=recipe.source)
        send("skipped", reason)
        return "skipped", reason
    _flush_notes(ctx, send)
    digest = inputs_hash(step.name, inputs)
    done = db.last_done(store, recipe.name, step.name)
    if done is not None and done["inputs_hash"] == digest and step.valid(ctx, done["outputs"]):
        ctx.outputs[step.name] = done["outputs"]
        message = step.reused(done["outputs"])
        send("reused", message)
        return "reused", message
    send("started", f"{step.name}: started")
    last: list[Any] = [0.0, None]  # when the last progress event went out, and what it said

    def progress(done: int, total: int, message: str) -> None:
        now, said = time.monotonic(), (done, total, message)
        # a change at most every PROGRESS_EVERY_S; the same news again only as a heartbeat
        if (said != last[1] and now - last[0] >= PROGRESS_EVERY_S) or now - last[0] >= HEARTBEAT_S:
            last[0], last[1] = now, said
            send("progress", message, done, total)

    ctx.progress = progress
    ctx.step_id = db.start_step(store, recipe.name, step.name, digest, recipe_sha=recipe.sha,
                                recipe_path=recipe.source)
    try:
        with recipe_step(recipe.name, step.name, recipe.sha):
            outputs, message = step.run(ctx, inputs)
    except Skip as skip:  # found out only while running (an optional part missing)
        db.end_step(store, ctx.step_id, "skipped", {}, str(skip))
        ctx.skipped[step.name] = str(skip)
        send("skipped", str(skip))
        return "skipped", str(skip)
    except BaseException as exc:
        db.end_step(store, ctx.step_id, "failed", None, _failure(step.name, exc))
        raise
    finally:
        ctx.progress = lambda done, total, message: None
    db.end_step(store, ctx.step_id, "done", outputs, message)
    ctx.step_id = None
    ctx.outputs[step.name] = outputs
    send("done", message)
    return "done", message


def _failure(step: str, exc: BaseException) -> str:
    from core.errors import UserFacingError

    if isinstance(exc, UserFacingError):
        return str(exc)
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return f"{step} was interrupted; run the recipe again to go on from there."
    return f"{step} stopped on an unexpected error ({type(exc).__name__}: {exc})."


def _flush_notes(ctx: Context, send: Callable[..., None]) -> None:
    for note in ctx.notes:
        send("progress", note)
    ctx.notes.clear()


def plan_recipe(store: Store, recipe: Recipe) -> list[dict[str, Any]]:
    """What ``run_recipe`` would do now, without doing it: per step ``step``, ``kind``, ``state``
    (reuse | run | skip), ``reason`` (one sentence) and, where the reason is one of the fixed ones,
    ``why`` (its code) with the ``values`` that fill it, so a page can say it in its own language.
    A step below one that runs runs too."""
    from core.errors import UserFacingError
    from core.store import study as db

    ctx = Context(store, recipe)
    rows: list[dict[str, Any]] = []
    pending: set[str] = set()

    def add(of: Step, state: str, why: str, reason: str, **values: str) -> None:
        rows.append({"step": of.name, "kind": of.kind, "state": state, "reason": reason, "why": why,
                     "values": values})

    def skipped(of: Step, skip: Skip) -> None:
        ctx.skipped[of.name] = str(skip)
        add(of, "skip", skip.why, str(skip)[:1].upper() + str(skip)[1:] + ".", **skip.values)

    for step in build_steps(recipe):
        waiting = [d for d in step.depends if d in pending]
        early = step.early_skip()
        if early:  # known before the steps it waits for have run (page 6 says so at once)
            skipped(step, early)
            continue
        if waiting:
            pending.add(step.name)
            add(step, "run", "after", f"{waiting[0]} runs first, so this step runs after it.", step=waiting[0])
            continue
        try:
            inputs = step.inputs(ctx)
        except Skip as skip:
            skipped(step, skip)
            continue
        except UserFacingError as exc:
            pending.add(step.name)
            add(step, "run", "", str(exc))
            continue
        except KeyError:
            pending.add(step.name)
            add(step, "run", "needs", "It needs a step that has not run yet.")
            continue
        finally:
            ctx.notes.clear()
        last = db.last_done(store, recipe.name, step.name)
        digest = inputs_hash(step.name, inputs)
        if last is not None and last["inputs_hash"] == digest and step.valid(ctx, last["outputs"]):
            ctx.outputs[step.name] = last["outputs"]
            add(step, "reuse", "unchanged", "Its inputs are unchanged and what it made is there.")
            continue
        pending.add(step.name)
        attempt = db.last_attempt(store, recipe.name, step.name, digest)
        if last is None and attempt is None:
            add(step, "run", "new", "It has not run yet.")
        elif attempt is not None and attempt["status"] in ("running", "failed"):
            add(step, "run", "resume", "It was interrupted or failed last time: it goes on from where it stopped.")
        elif last is not None and last["inputs_hash"] == digest:
            add(step, "run", "gone", "What it made last time is gone.")
        else:
            add(step, "run", "changed", "Its inputs changed since it last ran.")
    return rows


def build_steps(recipe: Recipe) -> list[Step]:
    """The recipe's steps in the order of ``Recipe.step_names()``."""
    steps: list[Step] = []
    for name in recipe.step_names():
        kind, _, rest = name.partition(":")
        if kind == "data":
            steps.append(DataStep(name))
        elif kind == "curation":
            steps.append(CurationStep(name))
        elif kind == "format":
            steps.append(FormatStep(name, [f.step for f in recipe.formats].index(name)))
        elif kind == "train":
            steps.append(TrainStep(name, recipe.run(rest)))
        elif kind == "checkpoints":
            steps.append(CheckpointsStep(name, rest))
        elif kind == "evaluation":
            steps.append(EvaluationStep(name, recipe))
        else:
            steps.append(ReportStep(name))
    return steps
