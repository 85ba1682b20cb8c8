"""The steps of a study recipe: what each one takes as inputs, how it runs, when what it made can be
reused. core/study/runner.py runs them in order; each is one class here.

    data               fingerprint the raw file (blake2b of its bytes), check it against [data].fingerprint
    curation           core.data.curation_stream.curate + curation_io.save_curated (or an equal saved version)
    format:<fmt>-<sp>  core.formats.export.export_training_file
    train:<run>        core.training.jobs.launch + follow (or follow / resume the run a killed runner left)
    checkpoints:<run>  core.compare.checkpoints.score_checkpoints   (these three: core/study/steps_compare.py)
    evaluation         core.compare.evaluate.run_evaluation (resumable by itself: same config, same id)
    report             core.compare.xlsx.write_report

A step's inputs are its own settings plus what the steps it depends on produced (a curated
dataset's name@vN, a run id), so a change upstream reaches every step below it and nothing else.
A step that needs an API key that is not set raises ``Skip`` (one line, not a failure).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import mask_secrets
from core.errors import UserFacingError
from core.training.config import PROVIDER_NAMES

if TYPE_CHECKING:
    from core.store import Store
    from core.study.recipe_model import Recipe, RunSection

ProgressFn = Callable[[int, int, str], None]
PROVIDER_KEYS = {"openai": "OPENAI_API_KEY", "together": "TOGETHER_API_KEY", "fireworks": "FIREWORKS_API_KEY"}


class Skip(Exception):  # noqa: N818 - control flow, not an error: the step is skipped with its reason
    """The step cannot run here (a key is missing, what it needs was skipped): its one-line reason, and
    for the plan a code with the values that fill it (page 6 says it in the user's language)."""

    def __init__(self, message: str, why: str = "", **values: str) -> None:
        super().__init__(message)
        self.why = why
        self.values = values


class DataChangedError(UserFacingError):
    """The raw file is not the one the recipe was written for."""


class StepFailedError(UserFacingError):
    """A step ran and did not succeed (a run failed, an evaluation was cancelled)."""


@dataclass
class Context:
    """What the steps share while one recipe runs (or is planned)."""

    store: Store
    recipe: Recipe
    accept_changed_data: bool = False
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # step -> what it made (done or reused)
    skipped: dict[str, str] = field(default_factory=dict)             # step -> why
    notes: list[str] = field(default_factory=list)                    # lines to print (models dropped...)
    progress: ProgressFn = lambda done, total, message: None          # noqa: E731
    step_id: int | None = None                                        # the running step's row

    def dataset(self) -> str:
        """The curated dataset the runs and the evaluation use: what [curation] produced."""
        if self.recipe.curation is None:
            return "seed-study"
        return str(self.outputs["curation"]["dataset"])


def inputs_hash(step: str, inputs: dict[str, Any]) -> str:
    text = json.dumps({"step": step, "inputs": inputs}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def content_fingerprint(path: Path) -> str:
    """blake2b of the file's bytes: the same on every machine and checkout (the raw-file
    fingerprint of core.data.rawfiles also hashes the modification time, which a clone changes)."""
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "blake2b:" + digest.hexdigest()


def missing_key(backend: str, section: dict[str, Any] | None = None) -> str | None:
    """The environment variable a hosted backend needs and lacks, or None."""
    name = PROVIDER_KEYS.get(backend)
    if name and not os.environ.get(name):
        return name
    if backend == "fireworks" and not (section or {}).get("account_id") and not os.environ.get("FIREWORKS_ACCOUNT_ID"):
        return "FIREWORKS_ACCOUNT_ID"
    return None


# model ids of the evaluation whose provider needs a key, by prefix
MODEL_KEY_PREFIXES = {"openai:": "OPENAI_API_KEY", "together:": "TOGETHER_API_KEY", "fireworks:": "FIREWORKS_API_KEY"}
# what page 6 may hand to the study's process (its environment only: never a file, never the database)
KEY_VARIABLES = (*PROVIDER_KEYS.values(), "FIREWORKS_ACCOUNT_ID")


def needed_keys(recipe: Recipe) -> list[str]:
    """The environment variables this recipe's hosted runs, hosted models and judge need and this
    process lacks (page 6 asks for them; a run started without them skips those steps)."""
    wanted: list[str] = []

    def want(name: str) -> None:
        if not os.environ.get(name) and name not in wanted:
            wanted.append(name)

    for run in recipe.runs:
        if run.backend in PROVIDER_KEYS:
            want(PROVIDER_KEYS[run.backend])
        if run.backend == "fireworks" and not (run.settings.get("fireworks") or {}).get("account_id"):
            want("FIREWORKS_ACCOUNT_ID")
    models = list(recipe.evaluation.models) if recipe.evaluation else []
    if recipe.evaluation and recipe.evaluation.settings.get("judge_model"):
        models.append(str(recipe.evaluation.settings["judge_model"]))
    for model in models:
        for prefix, name in MODEL_KEY_PREFIXES.items():
            if model.startswith(prefix):
                want(name)
    return wanted


def relative_path(recipe: Recipe, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else recipe.base_dir / p


class Step:
    """One step: ``inputs`` (or Skip), ``valid`` (its outputs still exist), ``run``, and the lines."""

    kind = ""
    depends: tuple[str, ...] = ()

    def __init__(self, name: str) -> None:
        self.name = name

    def early_skip(self) -> Skip | None:
        """Why this step will be skipped, when that is known before anything runs (a missing key)."""
        return None

    def inputs(self, ctx: Context) -> dict[str, Any]:
        raise NotImplementedError

    def valid(self, ctx: Context, outputs: dict[str, Any]) -> bool:
        raise NotImplementedError

    def run(self, ctx: Context, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        raise NotImplementedError

    def reused(self, outputs: dict[str, Any]) -> str:
        return f"reused {self.name} (inputs unchanged)"


# -- data and curation ---------------------------------------------------------------------------
class DataStep(Step):
    kind = "data"

    def inputs(self, ctx: Context) -> dict[str, Any]:
        from core.data.rawfiles import check_path, fingerprint
        from core.store.study import last_done

        path = check_path(ctx.recipe.data_path())
        quick = fingerprint(path)  # size + mtime + head/tail: when unchanged, the last full hash stands
        last = last_done(ctx.store, ctx.recipe.name, "data")
        if last and last["outputs"].get("quick") == quick and last["outputs"].get("path") == str(path):
            digest = str(last["outputs"]["fingerprint"])
        else:
            digest = content_fingerprint(path)
        wanted = ctx.recipe.data.fingerprint if ctx.recipe.data else ""
        if wanted and wanted != digest and not ctx.accept_changed_data:
            raise DataChangedError(
                f"The raw file {path} is not the one {ctx.recipe.source} was written for (its fingerprint is "
                f"{digest}, the recipe's [data] says {wanted}): check the file, then run again with "
                "--accept-changed-data or put the new fingerprint in the recipe.")
        return {"path": str(path), "fingerprint": digest, "quick": quick}

    def valid(self, ctx: Context, outputs: dict[str, Any]) -> bool:
        return Path(outputs.get("path", "")).is_file()

    def run(self, ctx: Context, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        path = Path(inputs["path"])
        wanted = ctx.recipe.data.fingerprint if ctx.recipe.data else ""
        check = ("matches the recipe" if wanted == inputs["fingerprint"] else
                 "changed, accepted" if wanted else "the recipe gives none to check")
        size = path.stat().st_size
        return ({**inputs, "size": size},
                f"data: {path.name}, {size / 1e6:.1f} MB, fingerprint {inputs['fingerprint']} ({check})")

    def reused(self, outputs: dict[str, Any]) -> str:
        return f"reused data: {Path(outputs['path']).name} (fingerprint unchanged)"


class CurationStep(Step):
    kind = "curation"
    depends = ("data",)

    def inputs(self, ctx: Context) -> dict[str, Any]:
        c = ctx.recipe.curation
        assert c is not None
        return {"name": c.name, "config": c.config().to_dict(), "allow_no_test": c.allow_no_test,
                "data": ctx.outputs["data"]["fingerprint"]}

    def valid(self, ctx: Context, outputs: dict[str, Any]) -> bool:
        from core.store.curation import find_curated

        row = find_curated(ctx.store, str(outputs.get("name")), outputs.get("version"))
        return row is not None and Path(row["folder"]).is_dir()

    def run(self, ctx: Context, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        from core.data.rawfiles import check_text_columns, fingerprint
        from core.selection import set_current

        c = ctx.recipe.curation
        assert c is not None
        config = c.config()
        path = Path(ctx.outputs["data"]["path"])
        same = ctx.store.fetch_dicts(
            "SELECT * FROM curated_datasets WHERE name = ? AND config_json = ? AND input_fingerprint = ? "
            "ORDER BY version DESC LIMIT 1", [c.name, config.to_json(), fingerprint(path)])
        if same and Path(same[0]["folder"]).is_dir():  # saved before (page 1, the CLI): no new version
            row = same[0]
            set_current(ctx.store, "dataset", f"{c.name}@v{row['version']}")
            return (self._outputs(c.name, row["version"], row["folder"], row["train_rows"], row["test_rows"]),
                    f"curation: {c.name} v{row['version']} was already saved with these settings and data "
                    f"({row['train_rows']} train / {row['test_rows']} test rows)")
        from core.data.curation_io import save_curated
        from core.data.curation_stream import curate

        started = time.monotonic()
        check_text_columns(path, config.read_plan())
        split = curate(path, config, progress=lambda fraction, message: ctx.progress(
            int(fraction * 100), 100, message))
        saved = save_curated(ctx.store, c.name, split, allow_no_test=c.allow_no_test)
        set_current(ctx.store, "dataset", f"{saved['name']}@v{saved['version']}")  # the pages open with it
        return (self._outputs(c.name, saved["version"], saved["folder"], saved["train"], saved["test"]),
                f"curation: saved {c.name} v{saved['version']} ({saved['train']} train / {saved['test']} test "
                f"rows of {split.funnel.get('loaded', 0):,}) in {time.monotonic() - started:.1f} s")

    @staticmethod
    def _outputs(name: str, version: int, folder: str, train: int, test: int) -> dict[str, Any]:
        return {"dataset": f"{name}@v{version}", "name": name, "version": int(version), "folder": str(folder),
                "train": train, "test": test}

    def reused(self, outputs: dict[str, Any]) -> str:
        return f"reused curation: {outputs['name']} v{outputs['version']} (inputs unchanged)"


# -- formats -------------------------------------------------------------------------------------
class FormatStep(Step):
    kind = "format"
    depends = ("curation",)

    def __init__(self, name: str, index: int) -> None:
        super().__init__(name)
        self.index = index

    def out_path(self, ctx: Context) -> Path:
        from core.paths import data_dir

        f = ctx.recipe.formats[self.index]
        if f.out:
            return relative_path(ctx.recipe, f.out)
        return data_dir() / "export" / ctx.recipe.name / f"{f.format}_{f.split}.jsonl"

    def inputs(self, ctx: Context) -> dict[str, Any]:
        f = ctx.recipe.formats[self.index]
        return {"format": f.format, "split": f.split, "template": f.template_config().to_dict(),
                "tokenizer": f.tokenizer, "out": str(self.out_path(ctx)), "dataset": ctx.dataset()}

    def valid(self, ctx: Context, outputs: dict[str, Any]) -> bool:
        from core.formats.export import read_export_manifest

        path = Path(outputs.get("path", ""))
        if not path.is_file():
            return False
        try:
            return read_export_manifest(path).get("sha256") == outputs.get("sha256")
        except (UserFacingError, OSError, ValueError):
            return False

    def run(self, ctx: Context, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        from core.data.curated import read_split, resolve_source
        from core.formats.export import export_training_file

        f = ctx.recipe.formats[self.index]
        rows = read_split(resolve_source(inputs["dataset"], ctx.store), f.split)
        result = export_training_file(rows, f.format, f.template_config(), inputs["out"], tokenizer_spec=f.tokenizer,
                                      source=inputs["dataset"], split=f.split)
        m = result.manifest
        return ({"path": str(result.path), "manifest": str(result.manifest_path), "examples": m["examples"],
                 "sha256": m["sha256"]},
                f"{self.name}: wrote {result.path} ({m['examples']} examples, {m['tokens'].get('total', 0):,} tokens)")

    def reused(self, outputs: dict[str, Any]) -> str:
        return f"reused {self.name}: {outputs['path']} (inputs unchanged)"


# -- training ------------------------------------------------------------------------------------
class TrainStep(Step):
    kind = "train"

    def __init__(self, name: str, run: RunSection) -> None:
        super().__init__(name)
        self.section = run
        self.depends = ("curation",)

    def config(self, ctx: Context) -> Any:
        return self.section.train_config(ctx.dataset())

    def early_skip(self) -> Skip | None:
        backend = self.section.backend
        key = missing_key(backend, self.section.settings.get(backend))
        if key is None:
            return None
        provider = PROVIDER_NAMES.get(backend, backend)
        return Skip(f"skipped {self.name}: {key} is not set (the {provider} fine-tune needs it)", "no_key",
                    step=self.name, variable=key, backend=provider)

    def inputs(self, ctx: Context) -> dict[str, Any]:
        skip = self.early_skip()
        if skip:
            raise skip
        config = self.config(ctx)
        return {"config": mask_secrets(config.to_dict()), "dataset": ctx.dataset() if not self.section.data else None}

    def valid(self, ctx: Context, outputs: dict[str, Any]) -> bool:
        from core.store import runs as run_table

        run = run_table.get_run(ctx.store, str(outputs.get("run_id")))
        if run is None or run["status"] != "succeeded":
            return False
        return final_model(ctx.store, run["id"]) is not None

    def run(self, ctx: Context, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        from core.selection import remember_launch
        from core.store import runs as run_table
        from core.store.study import last_attempt, set_outputs
        from core.training import jobs

        config = self.config(ctx)
        run_id, how = None, "started"
        earlier = last_attempt(ctx.store, ctx.recipe.name, self.name, inputs_hash(self.name, inputs), ctx.step_id)
        earlier_id = (earlier or {}).get("outputs", {}).get("run_id")
        row = run_table.get_run(ctx.store, str(earlier_id)) if earlier_id else None
        if row is not None:  # a runner killed while this run trained: follow it, or resume it
            row = jobs.check_run(ctx.store, row)
            if row["status"] == "succeeded" or (row["status"] not in run_table.TERMINAL and jobs.process_alive(row)):
                run_id, how = row["id"], "picked up"
            elif jobs.resume_blocker(row) is None:
                run_id, how = jobs.resume_run(ctx.store, row["id"]), "resumed"
        if run_id is None:  # the same examples, format, template, model and hyperparameters trained before
            # (by clicking, or by another recipe): that run is this step's result, not a second copy of it
            from core.study.lineage import matching_run
            from core.training.run_data import resolve_data

            run_id = matching_run(ctx.store, config, resolve_data(ctx.store, config))
            how = "reused (the same inputs trained before)" if run_id else how
        if run_id is None:
            run_id = jobs.launch(ctx.store, config)
            remember_launch(ctx.store, run_id, config.backend, config.base_model)  # pages 3-5 open with it
        if ctx.step_id is not None:
            set_outputs(ctx.store, ctx.step_id, {"run_id": run_id})  # a kill from here on resumes this run

        def update(run: dict[str, Any]) -> None:
            ctx.progress(int(run.get("step") or 0), int(run.get("total_steps") or 0), f"run {run['id']}: {run['status']}")

        run = jobs.follow(ctx.store, run_id, update)
        if run["status"] != "succeeded":
            raise StepFailedError(f"{self.name}: run {run_id} {run['status']}: "
                                  f"{run.get('status_message') or 'see its log on page 3'}".rstrip(": ") + ".")
        model_id = final_model(ctx.store, run_id)
        loss = run.get("final_loss")
        details = [f"{config.backend}, {config.remote_model()}"]
        if loss is not None:
            details.append(f"loss {loss:.4f}")
        if run.get("wall_s"):
            details.append(f"{run['wall_s']:.0f} s")
        return ({"run_id": run_id, "model_id": model_id, "backend": config.backend},
                f"{self.name}: run {run_id} {how}, succeeded ({', '.join(details)}); model {model_id}")

    def reused(self, outputs: dict[str, Any]) -> str:
        return f"reused {self.name}: run {outputs['run_id']} (inputs unchanged)"


def final_model(store: Store, run_id: str) -> str | None:
    """The model a run registered at its end (not a checkpoint), or None."""
    from core.compare.arena import is_checkpoint
    from core.store.compare import list_models

    made = [m["id"] for m in list_models(store) if m.get("run_id") == run_id and not is_checkpoint(m)]
    return made[-1] if made else None
