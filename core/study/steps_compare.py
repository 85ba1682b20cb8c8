"""The study steps that compare (core/study/steps.py has the base class and the steps before them):

    checkpoints:<run>  core.compare.checkpoints.score_checkpoints (metric vs step of a local run)
    evaluation         core.compare.evaluate.run_evaluation (resumable by itself: same config, same id)
    report             core.compare.xlsx.write_report

A ``run:<name>`` model is the final model its training step registered; a run that was skipped (no
key) is dropped from the evaluation with one line, and so is a hosted base model without its key.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import mask_secrets
from core.study.steps import Context, ProgressFn, Skip, Step, StepFailedError, missing_key, relative_path

if TYPE_CHECKING:
    from core.store import Store
    from core.study.recipe_model import Recipe


# -- evaluation ----------------------------------------------------------------------------------
def _evaluation_done(store: Store, eval_id: Any) -> bool:
    from core.store.compare import get_evaluation

    row = get_evaluation(store, str(eval_id))
    return row is not None and row["status"] == "succeeded"


def _run_evaluation(ctx: Context, name: str, work: Callable[[ProgressFn], str]) -> str:
    from core.store.compare import get_evaluation

    eval_id = work(ctx.progress)
    row = get_evaluation(ctx.store, eval_id) or {}
    if row.get("status") != "succeeded":
        raise StepFailedError(f"{name}: evaluation {eval_id} {row.get('status', 'is gone')}"
                              f"{': ' + row['status_message'] if row.get('status_message') else ''}; run the recipe "
                              "again to resume it.")
    return eval_id


class CheckpointsStep(Step):
    kind = "checkpoints"

    def __init__(self, name: str, run_name: str) -> None:
        super().__init__(name)
        self.train = f"train:{run_name}"
        self.depends = (self.train,)

    def inputs(self, ctx: Context) -> dict[str, Any]:
        if self.train in ctx.skipped:
            raise Skip(f"skipped {self.name}: its run was skipped", "run_skipped", step=self.name)
        e = ctx.recipe.evaluation
        assert e is not None
        return {"run_id": ctx.outputs[self.train]["run_id"], "limit": e.checkpoint_limit,
                "seed": e.settings["seed"], "metrics": e.settings["metrics"],
                "max_new_tokens": e.settings["max_new_tokens"]}

    def valid(self, ctx: Context, outputs: dict[str, Any]) -> bool:
        return _evaluation_done(ctx.store, outputs.get("eval_id"))

    def run(self, ctx: Context, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        from core.compare.checkpoints import score_checkpoints

        eval_id = _run_evaluation(ctx, self.name, lambda progress: score_checkpoints(
            ctx.store, inputs["run_id"], limit=inputs["limit"], seed=inputs["seed"], metrics=inputs["metrics"],
            max_new_tokens=inputs["max_new_tokens"], on_progress=progress))
        return {"eval_id": eval_id}, f"{self.name}: scored run {inputs['run_id']}'s checkpoints ({eval_id})"

    def reused(self, outputs: dict[str, Any]) -> str:
        return f"reused {self.name}: {outputs['eval_id']} (inputs unchanged)"


class EvaluationStep(Step):
    kind = "evaluation"

    def __init__(self, name: str, recipe: Recipe) -> None:
        super().__init__(name)
        runs = [m[4:] for m in (recipe.evaluation.models if recipe.evaluation else []) if m.startswith("run:")]
        self.depends = ("curation", *[f"train:{r}" for r in runs])

    def models(self, ctx: Context) -> list[str]:
        e = ctx.recipe.evaluation
        assert e is not None
        models = []
        for model in e.models:
            if model.startswith("run:"):
                step = f"train:{model[4:]}"
                if step in ctx.skipped:
                    ctx.notes.append(f"evaluation: dropped {model} (its run was skipped)")
                else:
                    models.append(str(ctx.outputs[step]["model_id"]))
                continue
            key = missing_key(model.split(":", 1)[0]) if ":" in model else None
            if key and key != "FIREWORKS_ACCOUNT_ID":
                ctx.notes.append(f"evaluation: dropped {model} ({key} is not set)")
            else:
                models.append(model)
        return models

    def inputs(self, ctx: Context) -> dict[str, Any]:
        e = ctx.recipe.evaluation
        assert e is not None
        models = self.models(ctx)
        if not models:
            raise Skip("skipped evaluation: no model is left to evaluate", "no_models")
        config = self.config(ctx, models)
        return {"config": mask_secrets(config.to_dict()), "eval_id": config.eval_id()}

    def config(self, ctx: Context, models: list[str]) -> Any:
        """The EvalConfig; a judge whose provider key is not set is left out with one line."""
        import dataclasses

        e = ctx.recipe.evaluation
        assert e is not None
        config = e.eval_config(ctx.dataset(), models)
        judge = str(config.judge_model or "")
        key = missing_key(judge.split(":", 1)[0]) if ":" in judge else None
        if key and key != "FIREWORKS_ACCOUNT_ID":
            ctx.notes.append(f"evaluation: no judge ({judge} needs {key}, which is not set)")
            config = dataclasses.replace(config, judge_model=None)
        return config

    def valid(self, ctx: Context, outputs: dict[str, Any]) -> bool:
        return _evaluation_done(ctx.store, outputs.get("eval_id"))

    def run(self, ctx: Context, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        from core.compare.evaluate import run_evaluation
        from core.compare.results import leaderboard
        from core.models.registry import ensure_default_models

        e = ctx.recipe.evaluation
        assert e is not None
        ensure_default_models(ctx.store)  # local:smollm2 and the OpenAI base models, as the pages do
        config = self.config(ctx, inputs["config"]["models"])
        ctx.notes.clear()  # said once, when the inputs were read
        eval_id = _run_evaluation(ctx, self.name, lambda progress: run_evaluation(ctx.store, config,
                                                                                   on_progress=progress))
        message = f"evaluation {eval_id}: {len(config.models)} model(s) on {config.data}"
        board = leaderboard(ctx.store, eval_id, config.main_metric)
        if not board.empty:
            best = board.iloc[0]
            message += f"; best by {best['main_metric']}: {best['display_name']} ({best['main']:.3f})"
        return {"eval_id": eval_id, "models": list(config.models)}, message

    def reused(self, outputs: dict[str, Any]) -> str:
        return f"reused evaluation: {outputs['eval_id']} (inputs unchanged)"


class ReportStep(Step):
    kind = "report"
    depends = ("evaluation",)

    def path(self, ctx: Context) -> Path:
        from core.paths import results_dir

        report = ctx.recipe.report
        if report is not None and report.xlsx:
            return relative_path(ctx.recipe, report.xlsx)
        return results_dir() / f"{ctx.recipe.name}.xlsx"

    def inputs(self, ctx: Context) -> dict[str, Any]:
        return {"eval_id": ctx.outputs.get("evaluation", {}).get("eval_id"), "xlsx": str(self.path(ctx))}

    def valid(self, ctx: Context, outputs: dict[str, Any]) -> bool:
        return Path(outputs.get("path", "")).is_file()

    def run(self, ctx: Context, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        from core.compare.xlsx import check_report_path, write_report

        path = check_report_path(inputs["xlsx"])
        written = write_report(ctx.store, path, inputs["eval_id"])
        return {"path": str(written), "eval_id": inputs["eval_id"]}, f"report: wrote {written}"

    def reused(self, outputs: dict[str, Any]) -> str:
        return f"reused report: {outputs['path']} (inputs unchanged)"
