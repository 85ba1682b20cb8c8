"""The study recipe: one TOML file that names the raw data, the curation, the formats, the training
runs, the evaluation and the report, read into the dataclasses of core/study/recipe_model.py and
checked by the real configs; and written back (``dump_recipe``).

    recipe = load_recipe("dados/estudos/seed-study.toml")     # RecipeError: one sentence, key and line
    recipe.step_names()          # ['data', 'curation', 'format:openai-chat-train', 'train:smollm2-lora', ...]
    text = dump_recipe(recipe.to_dict())                      # TOML again; load(dump(r.to_dict())) == r

The schema (every key, its meaning and default) is documented in dados/estudos/README.md. Values
are checked by the configs the pages and the CLI use (CurationConfig, TemplateConfig, TrainConfig,
EvalConfig): their one-sentence errors are re-worded to name the recipe key (``runs[2].lora_r``,
counting tables from 1) and its line, found by scanning the text (``Locator``). Unknown keys are
errors with a "did you mean". Optional numbers are written ``"none"`` (no limit), optional texts
``""``. Nothing here opens the database: a recipe is self-contained (built-in presets only).
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

from core.errors import UserFacingError
from core.study.recipe_model import (
    CurationSection,
    DataSection,
    EvaluationSection,
    FormatSection,
    Recipe,
    ReportSection,
    RunSection,
    StudySection,
    field_defaults,
    run_defaults,
)
from core.study.recipe_text import Locator, Path_, coerce, key_name, type_words, write_toml
from core.training.config import HOSTED_BACKENDS

STUDY_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
RUN_REF = "run:"
SECTIONS = ("study", "data", "curation", "formats", "runs", "evaluation", "report")
ARRAYS = ("formats", "runs")


class RecipeError(UserFacingError):
    """A recipe that cannot be read or does not follow the schema (one sentence: file, line, key)."""


# -- reading ---------------------------------------------------------------------------------------
def load_recipe(path: str | Path) -> Recipe:
    """Read and check a recipe file (RecipeError, one sentence, for every problem)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise RecipeError(f"The recipe {p} does not exist.")
    if not p.is_file():
        raise RecipeError(f"{p} is not a file: give the path of a recipe (.toml).")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RecipeError(f"The recipe {p} is not UTF-8 text.") from None
    except OSError as exc:
        raise RecipeError(f"The recipe {p} cannot be read ({exc.strerror or exc}).") from None
    return parse_recipe(text, p.resolve().parent, str(p))


def parse_recipe(text: str, base_dir: Path, source: str) -> Recipe:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)", message)
        problem = re.sub(r"\s*\(at [^)]*\)\s*$", "", message).rstrip(".")
        problem = problem[:1].lower() + problem[1:]
        if where:
            at = f"line {where.group(1)}, column {where.group(2)}"
        else:
            at = f"line {max(1, len(text.splitlines()))} (the end of the file)"
        raise RecipeError(f"{source}, {at}: this is not valid TOML ({problem}).") from None
    return _Reader(text, data, base_dir, source).recipe()


class _Reader:
    """Turns the parsed TOML into a Recipe, naming the key and line of the first problem."""

    def __init__(self, text: str, data: dict[str, Any], base_dir: Path, source: str) -> None:
        self.data, self.base_dir, self.source = data, Path(base_dir), source
        self.locator = Locator(text)
        self.sha = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    def fail(self, path: Path_, problem: str) -> RecipeError:
        line = self.locator.line(path)
        where = f"{self.source}, line {line}" if line else self.source
        key = key_name(path)
        return RecipeError(f"{where}: `{key}` {problem}" if key else f"{where}: {problem}")

    def table(self, path: Path_, value: Any, known: list[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "must be a table ([" + key_name(path) + "]).")
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(known)}."
                raise self.fail((*path, key), f"is not a key of [{_table_name(path)}]: {hint}")
        for key in required:
            if key not in value:
                raise self.fail(path, f"needs `{key}` (see dados/estudos/README.md).")
        return dict(value)

    def typed(self, path: Path_, values: dict[str, Any], annotations: dict[str, str]) -> dict[str, Any]:
        out = {}
        for key, value in values.items():
            ok, coerced = coerce(value, annotations.get(key, "Any"))
            if not ok:
                raise self.fail((*path, key), f"must be {type_words(annotations[key])}, not {value!r}.")
            out[key] = coerced
        return out

    def config_error(self, path: Path_, exc: UserFacingError, sections: dict[str, str] | None = None) -> RecipeError:
        """A config's "Class.field problem (got x)." as "`section.field` problem (got x)."."""
        match = re.match(r"^(\w+)\.(\w+) (.*)$", str(exc), re.S)
        if not match:
            return self.fail(path, f"is not accepted: {str(exc)[:1].lower()}{str(exc)[1:]}")
        cls, name, problem = match.groups()
        inner = (*path, sections[cls], name) if sections and cls in sections else (*path, name)
        return self.fail(inner, problem if problem.endswith(".") else problem + ".")

    # -- sections ----------------------------------------------------------------------------------
    def recipe(self) -> Recipe:
        top = self.table((), self.data, list(SECTIONS), required=("study",))
        for name in ARRAYS:
            if name in top and not (isinstance(top[name], list) and all(isinstance(t, dict) for t in top[name])):
                raise self.fail((name,), f"must be tables written [[{name}]].")
        recipe = Recipe(study=self.study(top["study"]), base_dir=self.base_dir, source=self.source, sha=self.sha)
        recipe.data = self.data_section(top["data"]) if "data" in top else None
        if "curation" in top:
            if recipe.data is None:
                raise self.fail(("curation",), "needs a [data] table naming the raw file to curate.")
            recipe.curation = self.curation(top["curation"])
        recipe.formats = [self.format_section(i, t) for i, t in enumerate(top.get("formats", []))]
        self.unique([(f.format, f.split) for f in recipe.formats], "formats", "format",
                    "exports the same format and split as an earlier [[formats]] table")
        produced = recipe.curation.name if recipe.curation else ""
        recipe.runs = [self.run(i, t, produced) for i, t in enumerate(top.get("runs", []))]
        self.unique([r.name for r in recipe.runs], "runs", "name", "is already the name of an earlier run")
        if "evaluation" in top:
            recipe.evaluation = self.evaluation(top["evaluation"], recipe, produced)
        if "report" in top:
            report = self.typed(("report",), self.table(("report",), top["report"], ["xlsx"]), {"xlsx": "str"})
            if report.get("xlsx") and not str(report["xlsx"]).lower().endswith(".xlsx"):
                raise self.fail(("report", "xlsx"), "must end in .xlsx (an Excel workbook).")
            recipe.report = ReportSection(**report)
        return recipe

    def unique(self, keys: list[Any], array: str, key: str, problem: str) -> None:
        seen: set[Any] = set()
        for i, value in enumerate(keys):
            if value in seen:
                raise self.fail((array, i, key), f"{problem} ({value if isinstance(value, str) else '-'.join(value)}).")
            seen.add(value)

    def study(self, value: Any) -> StudySection:
        path: Path_ = ("study",)
        values = self.typed(path, self.table(path, value, ["name", "title", "description"], ("name",)),
                            {"name": "str", "title": "str", "description": "str"})
        if not STUDY_NAME.fullmatch(values["name"]):
            raise self.fail((*path, "name"), "must be lowercase letters, digits, '-' or '_' (up to 64, starting "
                            f"with a letter or digit), not {values['name']!r}.")
        return StudySection(**values)

    def data_section(self, value: Any) -> DataSection:
        path: Path_ = ("data",)
        values = self.typed(path, self.table(path, value, ["path", "fingerprint"], ("path",)),
                            {"path": "str", "fingerprint": "str"})
        if not values["path"].strip():
            raise self.fail((*path, "path"), "must name the raw data file.")
        return DataSection(**values)

    def curation(self, value: Any) -> CurationSection:
        from core.config import ConfigError
        from core.data.curation import BUILTIN_PRESETS, CurationConfig
        from core.data.curation_io import check_name

        path: Path_ = ("curation",)
        fields = {f.name: str(f.type) for f in dataclasses.fields(CurationConfig)}
        known = ["name", "preset", "allow_no_test", *fields]
        values = self.typed(path, self.table(path, value, known, ("name",)),
                            {"name": "str", "preset": "str", "allow_no_test": "bool", **fields})
        try:
            check_name(values["name"])
        except UserFacingError as exc:
            raise self.fail((*path, "name"), f"cannot name a curated dataset: {_after_colon(exc)}") from None
        preset = values.pop("preset", "seed-notebook")
        if preset not in BUILTIN_PRESETS:
            raise self.fail((*path, "preset"), f"must be a built-in preset ({', '.join(BUILTIN_PRESETS)}), not "
                            f"{preset!r}: a recipe carries its own settings, so write the preset's fields here.")
        section = CurationSection(name=values.pop("name"), preset=preset,
                                  allow_no_test=values.pop("allow_no_test", False))
        base = CurationConfig(**BUILTIN_PRESETS[preset]).to_dict()
        try:
            config = CurationConfig(**{**BUILTIN_PRESETS[preset], **values})
        except ConfigError as exc:
            raise self.config_error(path, exc) from None
        section.settings = {k: v for k, v in config.to_dict().items() if v != base[k]}
        return section

    def format_section(self, index: int, value: Any) -> FormatSection:
        from core.formats.render import FORMATS, PRESETS

        path: Path_ = ("formats", index)
        annotations = {f.name: str(f.type) for f in dataclasses.fields(FormatSection)}
        values = self.typed(path, self.table(path, value, list(annotations), ("format",)), annotations)
        if values["format"] not in FORMATS:
            raise self.fail((*path, "format"), f"must be one of {', '.join(FORMATS)}, not {values['format']!r}.")
        if values.get("split", "train") not in ("train", "test"):
            raise self.fail((*path, "split"), f"must be train or test, not {values['split']!r}.")
        if values.get("template", "seed-openai") not in PRESETS:
            raise self.fail((*path, "template"), f"must be a template preset ({', '.join(PRESETS)}), not "
                            f"{values['template']!r}.")
        section = FormatSection(**values)
        try:
            section.template_config()
        except UserFacingError as exc:
            raise self.config_error(path, exc) from None
        return section

    def run(self, index: int, value: Any, produced: str) -> RunSection:
        from core.config import ConfigError
        from core.training.config import BACKENDS, LOCAL_PRESETS, PRESETS, TrainConfig

        path: Path_ = ("runs", index)
        fields = {f.name: str(f.type) for f in dataclasses.fields(TrainConfig)}
        values = self.typed(path, self.table(path, value, ["name", *fields], ("name",)), {"name": "str", **fields})
        name = values.pop("name")
        if not STUDY_NAME.fullmatch(name):
            raise self.fail((*path, "name"), f"must be lowercase letters, digits, '-' or '_', not {name!r}.")
        backend = values.pop("backend", "local")
        if backend not in BACKENDS:
            raise self.fail((*path, "backend"), f"must be one of {', '.join(BACKENDS)}, not {backend!r}.")
        preset = values.pop("preset", "custom")
        if preset not in PRESETS:
            raise self.fail((*path, "preset"), f"must be one of {', '.join(PRESETS)}, not {preset!r}.")
        for section in (*HOSTED_BACKENDS, "template"):
            if section in values:
                self.check_section(path, section, values[section], backend)
        data = values.pop("data", "")
        if not data and not produced:
            raise self.fail(path, "needs `data` (a curated dataset or a training file) when the recipe has no "
                            "[curation].")
        run = RunSection(name=name, backend=backend, preset=preset, data=data, settings=values)
        try:
            run.train_config(produced or "placeholder").validate()
        except ConfigError as exc:
            raise self.config_error(path, exc, {"OpenAITrainConfig": "openai", "TogetherTrainConfig": "together",
                                                "FireworksTrainConfig": "fireworks",
                                                "TemplateConfig": "template"}) from None
        except UserFacingError as exc:
            raise self.fail(path, f"is not accepted: {str(exc)[:1].lower()}{str(exc)[1:]}") from None
        base = {**field_defaults(TrainConfig), **LOCAL_PRESETS.get(preset, {}), **run_defaults(backend)}
        run.settings = {k: v for k, v in values.items() if v != base.get(k)}
        return run

    def check_section(self, path: Path_, section: str, value: Any, backend: str) -> None:
        if section in HOSTED_BACKENDS and section != backend:
            raise self.fail((*path, section), f"is for backend = \"{section}\", and this run's backend is {backend}.")
        if section == "template":
            from core.formats.render import TemplateConfig as cls
        elif section == "openai":
            from core.hosted.openai_finetune import OpenAITrainConfig as cls
        elif section == "together":
            from core.training.backends.together_backend import TogetherTrainConfig as cls
        else:
            from core.training.backends.fireworks_backend import FireworksTrainConfig as cls
        known = [f.name for f in dataclasses.fields(cls) if f.name not in ("training_file", "format")]
        self.table((*path, section), value, known)
        if section == "template":
            from core.config import ConfigError

            try:
                cls(**value)
            except (ConfigError, TypeError) as exc:
                raise self.config_error((*path, section), exc) from None

    def evaluation(self, value: Any, recipe: Recipe, produced: str) -> EvaluationSection:
        from core.compare.evaluate import EvalConfig
        from core.config import ConfigError

        path: Path_ = ("evaluation",)
        fields = {f.name: str(f.type) for f in dataclasses.fields(EvalConfig)}
        extra = {"checkpoints": "bool", "checkpoint_limit": "int"}
        values = self.typed(path, self.table(path, value, [*fields, *extra], ("models",)), {**fields, **extra})
        names = {r.name for r in recipe.runs}
        for model in values["models"]:
            if model.startswith(RUN_REF) and model[len(RUN_REF):] not in names:
                known = ", ".join(sorted(names)) or "none"
                raise self.fail((*path, "models"), f"names {model!r}, but no [[runs]] table is named "
                                f"{model[len(RUN_REF):]!r} (runs: {known}).")
        section = EvaluationSection(settings={}, data=values.pop("data", ""),
                                    checkpoints=values.pop("checkpoints", False),
                                    checkpoint_limit=values.pop("checkpoint_limit", 10))
        if section.checkpoint_limit < 1:
            raise self.fail((*path, "checkpoint_limit"), "must be at least 1.")
        try:
            config = EvalConfig(**values, data=section.data or produced or "seed-study")
        except ConfigError as exc:
            raise self.config_error(path, exc) from None
        section.settings = {k: v for k, v in config.to_dict().items() if k != "data"}
        return section


def _table_name(path: Path_) -> str:
    names = [p for p in path if isinstance(p, str)]
    if len(names) == 1 and names[0] in ARRAYS:
        return f"[{names[0]}]"  # shows as [[runs]]
    return ".".join(names) or "the recipe's top level"


def _after_colon(exc: Exception) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if ": " in text else text


# -- writing ---------------------------------------------------------------------------------------
HEADER = ("# A study recipe: run it with `python -m core study run FILE`.\n"
          "# Every key, its meaning and default: dados/estudos/README.md.\n")


def dump_recipe(data: dict[str, Any]) -> str:
    """TOML text of a recipe's plain data (``Recipe.to_dict()`` or the same shape): sections in the
    schema's order, ``[[formats]]`` / ``[[runs]]`` as tables (not inline arrays), provider sections
    as ``[runs.openai]``, a short header comment. A small writer of our own (core/study/recipe_text.py):
    tomli-w writes short arrays of tables inline, which reads badly in a file people edit and diff."""
    return write_toml(data, SECTIONS, HEADER + "\n")
