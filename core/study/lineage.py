"""Lineage: the recipe step that made a run, an evaluation or an export, and the fingerprints of
its inputs, recorded with it (``runs.lineage_json``, ``evaluations.lineage_json``, the export
manifest's ``"lineage"``).

    with recipe_step("seed-study", "train:smollm2-lora", recipe_sha="ab12..."):
        run_id = launch(store, config)       # the run's lineage names the study and the step
    current_step()                           # {"study", "step", "recipe_sha"} inside, None outside
    record(run_inputs(store, config, data))  # {"study": ..., "step": ..., "recipe_sha": ..., "inputs": {...}}

What the inputs hold (secrets never: configs pass through core.config.mask_secrets):
  dataset     name@vN (or folder), the raw file's path and fingerprint (core.data.rawfiles), the curation
              config and its hash, sha256 of train.jsonl and test.jsonl; for a training file exported on
              page 2, its sha256, format and template, and the dataset its manifest names as source
  run         the dataset, format, template (+ hash), backend, base model, the hyperparameters (+ hash)
  evaluation  the dataset, split, the models (with the run each came from), the hash of its identity
  export      the source dataset, format, split, template (+ hash), tokenizer
Made by clicking, study and step are null. ``core.study.diff`` puts two of these side by side.

The step lives in a context variable, so it follows the code that runs inside ``recipe_step`` (a
thread started there starts without it: the runner runs its steps in its own thread).
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import mask_secrets

if TYPE_CHECKING:
    from core.store import Store

_STEP: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("study_step", default=None)
# Fields of a run that do not change what it learns: how long a cancel waits, the price used for its
# cost, the hardware row of its estimate, the preset's name (its values are the fields themselves).
NOT_HYPERPARAMETERS = ("backend", "base_model", "data", "format", "template", "preset", "grace_s",
                       "price_per_hour", "hardware", "data_path", "curated_name", "curated_version")
_SHA_CACHE: dict[tuple[str, int, int], str] = {}


# -- the step ----------------------------------------------------------------------------------------
@contextlib.contextmanager
def recipe_step(study: str, step: str, recipe_sha: str | None = None) -> Iterator[dict[str, Any]]:
    """Everything launched, evaluated or exported inside records ``study`` and ``step``."""
    value = {"study": study, "step": step, "recipe_sha": recipe_sha}
    token = _STEP.set(value)
    try:
        yield value
    finally:
        _STEP.reset(token)


def current_step() -> dict[str, Any] | None:
    """The recipe step we are inside (a copy), or None when the user made this by clicking."""
    step = _STEP.get()
    return dict(step) if step else None


def record(inputs: dict[str, Any]) -> dict[str, Any]:
    """The lineage to store: the current step (nulls outside one) and the inputs, secrets masked."""
    step = current_step() or {"study": None, "step": None, "recipe_sha": None}
    return {**step, "inputs": mask_secrets(inputs)}


def to_json(lineage: dict[str, Any]) -> str:
    return json.dumps(lineage, ensure_ascii=False, sort_keys=True, default=str)


def parse(text: str | None) -> dict[str, Any]:
    """A stored lineage_json ({} when empty or unreadable: rows made before lineage existed)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# -- fingerprints ----------------------------------------------------------------------------------
def short_hash(value: Any) -> str:
    """16 hex digits of the sha256 of ``value`` as canonical JSON: equal configs, equal hashes."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def file_sha256(path: str | Path) -> str | None:
    """sha256 of a file (None when it is not there); cached per (path, size, mtime)."""
    p = Path(path)
    try:
        stat = p.stat()
    except OSError:
        return None
    key = (str(p.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        try:
            with p.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            return None
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]


def _export_manifest(path: Path) -> dict[str, Any]:
    # core.formats.export.manifest_path_for's naming (x.jsonl -> x.manifest.json); not imported, since
    # that module records its lineage through this one
    target = path.with_name(path.name.rsplit(".", 1)[0] + ".manifest.json")
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _name_version(source: str) -> tuple[str, int | None]:
    match = re.fullmatch(r"(.+?)@v(\d+)", source)
    return (match.group(1), int(match.group(2))) if match else (source, None)


def _curated_folder(store: Store | None, source: str) -> Path | None:
    """The folder of a curated dataset, found without the database when it can be (an export has none)."""
    from core.data.curated import CuratedNotFoundError, curated_folder, curated_root, is_curated_folder, resolve_source

    with contextlib.suppress(CuratedNotFoundError, OSError):
        return resolve_source(source, store)
    name, version = _name_version(source)
    if version is not None:
        folder = curated_folder(name, version)
        return folder if is_curated_folder(folder) else None
    versions = sorted((int(p.name[1:]), p) for p in (curated_root() / name).glob("v*")
                      if p.name[1:].isdigit() and is_curated_folder(p)) if (curated_root() / name).is_dir() else []
    return versions[-1][1] if versions else None


def dataset_inputs(store: Store | None, data: str) -> dict[str, Any]:
    """The fingerprints of a run's or evaluation's data: a curated dataset or an exported training file."""
    path = Path(str(data)).expanduser()
    if path.is_file():
        manifest = _export_manifest(path)
        found: dict[str, Any] = {"kind": "file", "file": str(path.resolve()), "file_sha256": file_sha256(path),
                                 "format": manifest.get("format"), "split": manifest.get("split")}
        if isinstance(manifest.get("template"), dict):
            found["template"] = manifest["template"]
            found["template_sha"] = short_hash(manifest["template"])
        if manifest.get("source"):
            found["source"] = curated_inputs(store, str(manifest["source"]))
        return found
    return curated_inputs(store, str(data))


def curated_inputs(store: Store | None, source: str) -> dict[str, Any]:
    """name@vN, raw file path + fingerprint, curation config + hash, split sha256s of a curated dataset."""
    from core.data.curated import read_manifest

    folder = _curated_folder(store, source)
    manifest = read_manifest(folder) if folder is not None else {}
    name, version = _name_version(source)
    name = str(manifest.get("name") or name)
    version = manifest.get("version") if manifest.get("version") is not None else version
    row = None
    if store is not None and version is not None:
        with contextlib.suppress(Exception):  # an older database, a remote store that cannot answer
            from core.store.curation import find_curated

            row = find_curated(store, name, int(version))
    given = manifest.get("input") if isinstance(manifest.get("input"), dict) else {}
    config = json.loads(row["config_json"]) if row else manifest.get("config")
    return {
        "kind": "curated",
        "dataset": f"{name}@v{version}" if version is not None else name,
        "folder": str(folder.resolve()) if folder is not None else None,
        "input_path": row["input_path"] if row else given.get("path"),
        "input_fingerprint": row["input_fingerprint"] if row else given.get("fingerprint"),
        "curation": config or None,
        "curation_sha": short_hash(config) if config else None,
        "train_sha256": file_sha256(folder / "train.jsonl") if folder is not None else None,
        "test_sha256": file_sha256(folder / "test.jsonl") if folder is not None else None,
    }


def template_fields(template: dict[str, Any] | None) -> dict[str, Any]:
    """A run's or export's template with the defaults filled in ({} = the seed study's title -> content)."""
    from core.formats.render import TemplateConfig

    names = {f.name for f in dataclasses.fields(TemplateConfig)}
    base = TemplateConfig().to_dict()
    return {**base, **{k: v for k, v in (template or {}).items() if k in names}}


def hyperparameters(record: dict[str, Any]) -> dict[str, Any]:
    """A run record's training settings, flat: provider sections as ``openai.n_epochs``; the prices a
    launch fills in and masked values left out (they say nothing about what the run learns)."""
    flat: dict[str, Any] = {}
    for key, value in sorted(record.items()):
        if key in NOT_HYPERPARAMETERS:
            continue
        if isinstance(value, dict):  # a provider's section (openai, together, fireworks)
            for sub, item in sorted((value or {}).items()):
                if not str(sub).startswith("price_") and item is not None and item != "***":
                    flat[f"{key}.{sub}"] = item
            continue
        flat[key] = value
    return flat


def run_inputs(store: Store | None, config: Any, data: Any) -> dict[str, Any]:
    """The inputs of a run about to launch: ``config`` a TrainConfig (after for_launch), ``data`` the
    launcher's DataChoice (core.training.run_data.resolve_data)."""
    record = mask_secrets(config.run_record())
    template = template_fields(config.template)
    params = hyperparameters(record)
    return {
        "data": dataset_inputs(store, str(data.path)),
        "format": config.format,
        "template": template,
        "template_sha": short_hash(template),
        "backend": config.backend,
        "base_model": config.remote_model(),
        "preset": config.preset,
        "hyperparameters": params,
        "hyperparameters_sha": short_hash(params),
    }


def evaluation_inputs(store: Store | None, config: Any, models: list[dict[str, Any]]) -> dict[str, Any]:
    """The inputs of an evaluation: ``config`` an EvalConfig, ``models`` its eval_models entries."""
    identity = config.identity()
    return {
        "data": dataset_inputs(store, config.data),
        "split": config.split,
        "models": [{"model_id": m["model_id"], "run_id": m.get("run_id"), "kind": m.get("kind"),
                    "base_model": m.get("base_model")} for m in models],
        "identity": identity,
        "identity_sha": short_hash(identity),
    }


def export_inputs(source: str, fmt: str, split: str, template: dict[str, Any], tokenizer: str | None) -> dict[str, Any]:
    """The inputs of an exported training file (no database: the page and the CLI write it alone)."""
    fields = template_fields(template)
    return {
        "data": curated_inputs(None, source) if source else None,
        "format": fmt,
        "split": split,
        "template": fields,
        "template_sha": short_hash(fields),
        "tokenizer": tokenizer,
    }


def lineage_of(row: dict[str, Any]) -> dict[str, Any]:
    """The lineage stored on a runs / evaluations row ({} for rows made before lineage existed)."""
    return parse(row.get("lineage_json"))


# -- finding what was made before --------------------------------------------------------------------
def run_identity(inputs: dict[str, Any]) -> tuple[Any, ...] | None:
    """What decides what a run learns, from its recorded inputs: the bytes of its examples, the
    format, template, backend, base model and hyperparameters (None for a run with no lineage)."""
    data = inputs.get("data") or {}
    if not data or not inputs.get("hyperparameters_sha"):
        return None
    examples = (data.get("file_sha256"),) if data.get("kind") == "file" else (data.get("train_sha256"),
                                                                              data.get("test_sha256"))
    return (*examples, *(inputs.get(k) for k in ("format", "template_sha", "backend", "base_model",
                                                   "hyperparameters_sha")))


def matching_run(store: Store, config: Any, data: Any) -> str | None:
    """The newest succeeded run that launching ``config`` (a TrainConfig) on ``data`` (its
    core.training.run_data.resolve_data) now would repeat: the same examples (sha256 of the splits or
    file), format, template, base model and hyperparameters. A recipe exported from clicks
    (core/study/export.py) can reuse the runs it names through this."""
    from core.store import runs as run_table

    wanted = run_identity(run_inputs(store, config.for_launch(store), data))
    for run in run_table.list_runs(store):  # newest first
        if run["status"] == "succeeded" and run_identity(lineage_of(run).get("inputs") or {}) == wanted:
            return str(run["id"])
    return None
