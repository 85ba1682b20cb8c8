"""The study recipe as data: one dataclass per TOML section and ``Recipe`` (its steps' names, and
``to_dict``, the TOML-ready plain data that ``core.study.recipe.dump_recipe`` writes). Reading and
checking a recipe's text is ``core/study/recipe.py``.

    recipe.step_names()   # ['data', 'curation', 'format:openai-chat-train', 'train:smollm2-lora', ...]
    recipe.run("smollm2-lora").train_config("seed-sample@v1")     # the TrainConfig that step launches
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.study.recipe_text import toml_value
from core.training.config import HOSTED_BACKENDS


@dataclass
class StudySection:
    name: str
    title: str = ""
    description: str = ""


@dataclass
class DataSection:
    path: str
    fingerprint: str = ""


@dataclass
class CurationSection:
    name: str
    preset: str = "seed-notebook"
    allow_no_test: bool = False
    settings: dict[str, Any] = field(default_factory=dict)  # CurationConfig fields that differ from the preset

    def config(self) -> Any:
        from core.data.curation import BUILTIN_PRESETS, CurationConfig

        return CurationConfig(**{**BUILTIN_PRESETS[self.preset], **self.settings})


@dataclass
class FormatSection:
    format: str
    split: str = "train"
    template: str = "seed-openai"
    system_prompt: str | None = None
    user_template: str | None = None
    assistant_template: str | None = None
    tokenizer: str = "smollm2"
    out: str = ""

    @property
    def step(self) -> str:
        return f"format:{self.format}-{self.split}"

    def template_config(self) -> Any:
        from core.formats.render import get_preset

        changes = {k: getattr(self, k) for k in ("system_prompt", "user_template", "assistant_template")
                   if getattr(self, k) is not None}
        return dataclasses.replace(get_preset(self.template), **changes)


@dataclass
class RunSection:
    name: str
    backend: str = "local"
    preset: str = "custom"
    data: str = ""                                          # empty: the [curation] dataset
    settings: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields that differ from the preset

    def train_config(self, data: str) -> Any:
        from core.training.config import TrainConfig

        return TrainConfig.from_preset(self.preset, **{**run_defaults(self.backend), "data": self.data or data,
                                                        **self.settings})


@dataclass
class EvaluationSection:
    settings: dict[str, Any]                                # every EvalConfig field but data (defaults filled)
    data: str = ""                                          # empty: the [curation] dataset (seed-study without one)
    checkpoints: bool = False
    checkpoint_limit: int = 10

    @property
    def models(self) -> list[str]:
        return list(self.settings["models"])

    def eval_config(self, data: str, models: list[str]) -> Any:
        from core.compare.evaluate import EvalConfig

        return EvalConfig(**{**self.settings, "models": models, "data": self.data or data})


@dataclass
class ReportSection:
    xlsx: str = ""                                          # empty: <results dir>/<study>.xlsx


@dataclass
class Recipe:
    study: StudySection
    data: DataSection | None = None
    curation: CurationSection | None = None
    formats: list[FormatSection] = field(default_factory=list)
    runs: list[RunSection] = field(default_factory=list)
    evaluation: EvaluationSection | None = None
    report: ReportSection | None = None
    base_dir: Path = field(default=Path("."), compare=False)
    source: str = field(default="<recipe>", compare=False)
    sha: str = field(default="", compare=False)             # of the file's text: which recipe made a step

    @property
    def name(self) -> str:
        return self.study.name

    def data_path(self) -> Path | None:
        if self.data is None:
            return None
        path = Path(self.data.path).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)

    def run(self, name: str) -> RunSection:
        return next(r for r in self.runs if r.name == name)

    def step_names(self) -> list[str]:
        names = (["data"] if self.data else []) + (["curation"] if self.curation else [])
        names += [f.step for f in self.formats] + [f"train:{r.name}" for r in self.runs]
        if self.evaluation is not None and self.evaluation.checkpoints:
            names += [f"checkpoints:{r.name}" for r in self.runs if r.backend == "local"]
        return names + (["evaluation"] if self.evaluation else []) + (["report"] if self.report else [])

    def to_dict(self) -> dict[str, Any]:
        """The recipe as TOML-ready plain data (None written as "none" or ""), sections in order."""
        from core.compare.evaluate import EvalConfig
        from core.data.curation import CurationConfig
        from core.training.config import TrainConfig

        out: dict[str, Any] = {"study": {k: v for k, v in dataclasses.asdict(self.study).items() if v or k == "name"}}
        if self.data:
            out["data"] = {k: v for k, v in dataclasses.asdict(self.data).items() if v or k == "path"}
        if self.curation:
            c = self.curation
            out["curation"] = {"name": c.name, "preset": c.preset, "allow_no_test": c.allow_no_test,
                               **{k: toml_value(v, annotation_of(CurationConfig, k)) for k, v in c.settings.items()}}
        if self.formats:
            out["formats"] = [{k: v for k, v in dataclasses.asdict(f).items() if v not in (None, "")}
                              for f in self.formats]
        if self.runs:
            out["runs"] = [{"name": r.name, "backend": r.backend, "preset": r.preset,
                            **({"data": r.data} if r.data else {}),
                            **{k: toml_value(v, annotation_of(TrainConfig, k)) for k, v in r.settings.items()}}
                           for r in self.runs]
        if self.evaluation:
            e = self.evaluation
            settings = {k: toml_value(v, annotation_of(EvalConfig, k)) for k, v in e.settings.items()
                        if not (k == "judge_rubric" and v == eval_defaults()[k])
                        and not (k == "system_prompt" and v is None)}
            out["evaluation"] = {**settings, **({"data": e.data} if e.data else {}), "checkpoints": e.checkpoints,
                                 "checkpoint_limit": e.checkpoint_limit}
        if self.report is not None:
            out["report"] = {"xlsx": self.report.xlsx} if self.report.xlsx else {}
        return out


def annotation_of(cls: type, name: str) -> str:
    return str(cls.__dataclass_fields__[name].type) if name in cls.__dataclass_fields__ else "Any"


def field_defaults(cls: type) -> dict[str, Any]:
    return {f.name: (f.default if f.default is not dataclasses.MISSING else f.default_factory())  # type: ignore[misc]
            for f in dataclasses.fields(cls)}


def eval_defaults() -> dict[str, Any]:
    from core.compare.evaluate import EvalConfig

    return field_defaults(EvalConfig)


def run_defaults(backend: str) -> dict[str, Any]:
    """What a run's backend implies (hosted runs send the openai-chat format, as the CLI does)."""
    return {"backend": backend, **({"format": "openai-chat"} if backend in HOSTED_BACKENDS else {})}
