"""The recipe of what was made by clicking: the current curated dataset (or a named one), the
training files exported from it, the runs trained on it and the latest evaluation on it, written as
a study recipe (core/study/recipe.py's TOML) that ``python -m core study run`` re-runs, reusing every
step whose inputs have not changed.

    text = export_recipe(store)                    # the current dataset (page 1's), else the latest saved
    text = export_recipe(store, "livros@v2")
    python -m core study export --out livros.toml [--dataset livros@v2]     # the same from the CLI

Where each table comes from:
  [data]        the curated dataset's raw file (its path, made absolute) and its bytes' fingerprint
  [curation]    its saved config: the built-in preset it differs least from, and the fields that differ
  [[formats]]   export manifests under <data dir>/export naming this dataset as their source (newest per
                format and split), each written back to its own file
  [[runs]]      runs trained on it (succeeded or still going; one per distinct config): the TrainConfig
                fields that differ from the run's preset, hosted sections without prices or masked values
  [evaluation]  the latest evaluation on it; a fine-tune whose run is in the recipe becomes run:<name>
  [report]      written when there is an evaluation (the default workbook)
Keys never appear: configs are stored masked, and masked values are left out here.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import UserFacingError
from core.study.recipe_model import annotation_of, field_defaults, run_defaults
from core.study.recipe_text import toml_value
from core.training.config import HOSTED_BACKENDS

if TYPE_CHECKING:
    from core.store import Store

_DROP_RUN_KEYS = ("backend", "preset", "data", "data_path", "curated_name", "curated_version",
                  "price_per_hour")  # price_per_hour: filled in at launch from the registry
_DROP_SECTION_KEYS = ("training_file", "format", "prompt_template")


class NothingToExportError(UserFacingError):
    """No curated dataset to build a recipe around."""


def _slug(text: str, fallback: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")[:48]
    return slug if slug and slug[0].isalnum() else fallback


# -- the dataset -----------------------------------------------------------------------------------
def _dataset_row(store: Store, dataset: str | None) -> dict[str, Any]:
    from core.selection import get_current
    from core.store.curation import find_curated, list_curated

    def find(source: str) -> dict[str, Any] | None:
        match = re.fullmatch(r"(.+?)(?:@v(\d+))?", source)
        return find_curated(store, match.group(1), int(match.group(2)) if match.group(2) else None) if match else None

    if dataset:
        row = find(dataset)
        if row is None:
            raise NothingToExportError(f"There is no saved curated dataset {dataset!r}: save one on page 1 (Dados) "
                                       "or give the name@vN of one listed there.")
        return row
    current = get_current(store, "dataset")
    row = find(current) if current else None
    if row is None:
        saved = sorted(list_curated(store), key=lambda r: (str(r.get("created_at")), r["version"]))
        row = saved[-1] if saved else None
    if row is None:
        raise NothingToExportError("Nothing was made by clicking yet: save a curated dataset on page 1 (Dados), "
                                   "then export, train and evaluate on it, and export its recipe.")
    return row


def _data_section(row: dict[str, Any], recipe_dir: Path | None = None) -> dict[str, Any]:
    from core.paths import PROJECT_ROOT
    from core.study.steps import content_fingerprint

    path = Path(str(row.get("input_path") or "")).expanduser()
    if not path.is_absolute():  # the app and the CLI run from the project's root
        path = PROJECT_ROOT / path
    path = path.resolve()
    written = str(path)
    root = PROJECT_ROOT.resolve()
    if recipe_dir is not None and path.is_relative_to(root) and recipe_dir.expanduser().resolve().is_relative_to(root):
        # a file of this project (the bundled sample, a file under dados/) in a recipe kept in this project
        # is written relative to the recipe, like the bundled ones, so another clone runs it as it is
        written = os.path.relpath(path, recipe_dir.expanduser().resolve())
    # the runner checks [data].fingerprint against the bytes' hash (the database's input_fingerprint also
    # hashes the file's mtime, which a copy or a clone changes)
    return {"path": written, **({"fingerprint": content_fingerprint(path)} if path.is_file() else {})}


def _curation_section(row: dict[str, Any]) -> dict[str, Any]:
    from core.data.curation import BUILTIN_PRESETS, CurationConfig

    config = CurationConfig.from_json(row["config_json"]).to_dict()

    def differing(preset: str) -> dict[str, Any]:
        base = CurationConfig(**BUILTIN_PRESETS[preset]).to_dict()
        return {k: v for k, v in config.items() if v != base[k]}

    preset = min(BUILTIN_PRESETS, key=lambda name: len(differing(name)))  # ties: the first, seed-notebook
    return {"name": row["name"], "preset": preset, "allow_no_test": not row.get("test_rows"),
            **{k: toml_value(v, annotation_of(CurationConfig, k)) for k, v in differing(preset).items()}}


# -- formats ---------------------------------------------------------------------------------------
def _names_dataset(manifest: dict[str, Any], row: dict[str, Any], latest: bool) -> bool:
    full = f"{row['name']}@v{row['version']}"
    recorded = (((manifest.get("lineage") or {}).get("inputs") or {}).get("data") or {}).get("dataset")
    if recorded:
        return recorded == full
    return manifest.get("source") == full or (latest and manifest.get("source") == row["name"])


def _format_sections(row: dict[str, Any], latest: bool) -> list[dict[str, Any]]:
    from core.formats.export import read_export_manifest
    from core.formats.render import PRESETS
    from core.paths import data_dir

    found: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    root = data_dir() / "export"
    for manifest_path in sorted(root.rglob("*.manifest.json")) if root.is_dir() else []:
        file = manifest_path.with_name(manifest_path.name[: -len(".manifest.json")] + ".jsonl")
        manifest = read_export_manifest(file)
        if not file.is_file() or not manifest.get("format") or not _names_dataset(manifest, row, latest):
            continue
        key = (str(manifest["format"]), str(manifest.get("split") or "train"))
        stamp = str(manifest.get("created_at") or "")
        if key not in found or stamp >= found[key][0]:
            found[key] = (stamp, {**manifest, "_file": str(file.resolve())})
    sections = []
    for (fmt, split), (_, manifest) in sorted(found.items()):
        template = manifest.get("template") or {}
        preset = min(PRESETS, key=lambda name: sum(template.get(k) != v for k, v in PRESETS[name].to_dict().items()))
        base = PRESETS[preset].to_dict()
        section = {"format": fmt, "split": split, "template": preset,
                   **{k: v for k, v in template.items() if k in base and v != base[k]}}
        if manifest.get("local_model"):
            section["tokenizer"] = manifest["local_model"]
        section["out"] = manifest["_file"]
        sections.append(section)
    return sections


# -- runs ------------------------------------------------------------------------------------------
def _run_settings(record: dict[str, Any]) -> dict[str, Any]:
    """The TrainConfig fields of a stored run config that differ from its preset (as a recipe writes them)."""
    from core.training.config import LOCAL_PRESETS, PRESETS, TrainConfig

    backend = str(record.get("backend") or "local")
    preset = str(record.get("preset") or "custom")
    preset = preset if preset in PRESETS else "custom"
    base = {**field_defaults(TrainConfig), **LOCAL_PRESETS.get(preset, {}), **run_defaults(backend)}
    settings: dict[str, Any] = {}
    for key, value in sorted(record.items()):
        if key in _DROP_RUN_KEYS or key not in base:
            continue
        if key in HOSTED_BACKENDS:
            value = {k: v for k, v in (value or {}).items()
                     if v is not None and v != "***" and k not in _DROP_SECTION_KEYS and not k.startswith("price_")}
            if key != backend or not value:
                continue
        if value != base.get(key) and value != "***":
            settings[key] = toml_value(value, annotation_of(TrainConfig, key))
    return {"backend": backend, "preset": preset, **settings}


def _run_sections(store: Store, row: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The [[runs]] tables and {run id: recipe name} of the runs trained on this dataset."""
    from core.store import runs as run_table

    runs = [r for r in run_table.list_runs(store)
            if r.get("curated_name") == row["name"] and r.get("curated_version") == row["version"]
            and r["status"] not in ("failed", "cancelled", "lost")]
    runs.sort(key=lambda r: (str(r.get("created_at")), r["id"]))
    sections: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    seen: dict[str, str] = {}
    folder = str(Path(str(row.get("folder") or "")).resolve())
    for run in runs:
        record = json.loads(run.get("config_json") or "{}")
        settings = _run_settings(record)
        data_path = str(run.get("data_path") or "")
        if data_path and Path(data_path).is_file() and str(Path(data_path).resolve()) != folder:
            settings["data"] = data_path  # trained on an exported training file, not the folder
        key = json.dumps(settings, sort_keys=True, default=str)
        if key in seen:  # the same config launched again: one table, the latest run's name kept for both
            names[run["id"]] = seen[key]
            continue
        model = Path(str(run.get("base_model") or "model")).name
        name = base_name = _slug(f"{settings['backend']}-{model}", "run")
        n = 2
        while any(s["name"] == name for s in sections):
            name, n = f"{base_name}-{n}", n + 1
        sections.append({"name": name, **settings})
        names[run["id"]] = seen[key] = name
    return sections, names


# -- evaluation ------------------------------------------------------------------------------------
def _evaluation_section(store: Store, row: dict[str, Any], latest: bool, run_names: dict[str, str]) -> dict[str, Any] | None:
    from core.compare.arena import is_checkpoint
    from core.compare.evaluate import EvalConfig
    from core.store import compare as db

    full = f"{row['name']}@v{row['version']}"
    accepted = {full, str(Path(str(row.get("folder") or "")).resolve())} | ({row["name"]} if latest else set())
    for evaluation in db.list_evaluations(store, "eval"):  # newest first
        config = json.loads(evaluation["config_json"] or "{}")
        data = str(config.get("data") or "")
        if data not in accepted and str(Path(data).expanduser().resolve()) not in accepted:
            continue
        defaults = field_defaults(EvalConfig)
        models = []
        for m in db.eval_models(store, evaluation["id"]):
            final = m.get("run_id") in run_names and not is_checkpoint({"id": m["model_id"]})
            models.append(f"run:{run_names[m['run_id']]}" if final else m["model_id"])
        section: dict[str, Any] = {"models": models or config.get("models", [])}
        for key in ("split", "limit", "seed", "variants", "metrics", "main_metric", "max_new_tokens", "judge_model"):
            if key in config:
                section[key] = toml_value(config[key], annotation_of(EvalConfig, key))
        for key, value in config.items():
            if key in section or key in ("data", "models") or key not in defaults or value == defaults[key]:
                continue
            if value == "***" or (key == "system_prompt" and value is None):
                continue
            section[key] = toml_value(value, annotation_of(EvalConfig, key))
        return section
    return None


# -- the recipe ------------------------------------------------------------------------------------
def recipe_data(store: Store, dataset: str | None = None, recipe_dir: Path | None = None) -> dict[str, Any]:
    """The recipe as plain data (the TOML's tables), before it is written; ``recipe_dir``: the folder
    the recipe will be kept in (paths of this project's files are written relative to it)."""
    from core.store.curation import find_curated

    row = _dataset_row(store, dataset)
    newest = find_curated(store, row["name"])
    latest = newest is not None and newest["version"] == row["version"]
    full = f"{row['name']}@v{row['version']}"
    data: dict[str, Any] = {
        "study": {"name": _slug(row["name"], "study"), "title": f"The study made by clicking around {full}",
                  "description": "Exported by `python -m core study export` from the database: the curated dataset, "
                                 "its training files, the runs trained on it and the latest evaluation on it."},
        "data": _data_section(row, recipe_dir),
        "curation": _curation_section(row),
    }
    formats = _format_sections(row, latest)
    if formats:
        data["formats"] = formats
    runs, names = _run_sections(store, row)
    if runs:
        data["runs"] = runs
    evaluation = _evaluation_section(store, row, latest, names)
    if evaluation is not None:
        # a fine-tune made on another dataset stays a registry id; run:<name> only for runs written here
        data["evaluation"] = evaluation
        data["report"] = {}
    return data


def export_recipe(store: Store, dataset: str | None = None, recipe_dir: Path | None = None) -> str:
    """The TOML text of the recipe of what was made by clicking around ``dataset`` (the current one),
    for a file kept in ``recipe_dir`` (None: every path absolute)."""
    from core.study.recipe import dump_recipe, parse_recipe

    text = dump_recipe(recipe_data(store, dataset, recipe_dir))
    parse_recipe(text, recipe_dir or Path.cwd(), "the exported recipe")  # what we write must load back (RecipeError if not)
    return text
