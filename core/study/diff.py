"""What differs between two runs, or two study recipes, side by side: the data (raw file and its
fingerprint, the curated splits' sha256), the curation (every CurationConfig field), the format and
template, the base model and the hyperparameters (TrainConfig fields; a hosted provider's section
flattened as ``openai.n_epochs``); two recipes also compare their runs, evaluation and report.

    rows = diff_targets(store, "20261201-120000-smollm2-ab12", "20261201-130000-smollm2-cd34")
    print(render_diff(rows))              # the differing rows, aligned, under a one-line summary
    print(render_diff(rows, show_all=True))
    python -m core study diff RUN_OR_RECIPE RUN_OR_RECIPE [--all]     # the same from the CLI

A run's side comes from what it recorded at launch (``runs.lineage_json``, core/study/lineage.py);
a run launched before lineage existed is described from its row and its dataset as they are now.
A recipe's side is what it would make (presets applied, defaults filled: core/study/recipe.py).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import UserFacingError
from core.study import lineage

if TYPE_CHECKING:
    from core.store import Store

SECTIONS = ("data", "curation", "format", "base model", "hyperparameters", "runs", "evaluation", "report")
MISSING = "—"


class DiffTargetError(UserFacingError):
    """Something to compare that is neither a run nor a readable recipe."""


@dataclass
class DiffRow:
    section: str
    key: str
    a: Any
    b: Any
    same: bool


# -- what each side is -----------------------------------------------------------------------------
Sides = dict[str, dict[str, Any]]


def _curation_fields() -> list[str]:
    from core.data.curation import CurationConfig

    return [f.name for f in dataclasses.fields(CurationConfig)]


def _data_rows(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(data section, curation section) of a dataset's lineage inputs."""
    file = data if data.get("kind") == "file" else {}
    curated = (data.get("source") or {}) if file else data
    section = {"dataset": curated.get("dataset"), "raw file": curated.get("input_path"),
               "raw fingerprint": curated.get("input_fingerprint"), "train.jsonl sha256": curated.get("train_sha256"),
               "test.jsonl sha256": curated.get("test_sha256")}
    if file:
        section.update({"training file": file.get("file"), "training file sha256": file.get("file_sha256")})
    config = curated.get("curation") or {}
    return section, {name: config.get(name) for name in _curation_fields()}


def run_sides(store: Store, run: dict[str, Any]) -> Sides:
    """The sections of one run (a runs row)."""
    record = json.loads(run.get("config_json") or "{}")
    inputs = lineage.lineage_of(run).get("inputs") or {}
    data = inputs.get("data") or lineage.dataset_inputs(store, str(run.get("data_path") or record.get("data") or ""))
    data_section, curation = _data_rows(data)
    template = inputs.get("template") or lineage.template_fields(record.get("template"))
    return {
        "data": data_section,
        "curation": curation,
        "format": {"format": run.get("format") or record.get("format"),
                   **{f"template.{k}": v for k, v in template.items()}},
        "base model": {"backend": run.get("backend"), "base_model": run.get("base_model")},
        "hyperparameters": inputs.get("hyperparameters") or lineage.hyperparameters(record),
    }


def recipe_sides(recipe: Any) -> Sides:
    """The sections of a recipe (core.study.recipe.Recipe): what each of its steps would use."""
    sides: Sides = {name: {} for name in SECTIONS}
    if recipe.data is not None:
        path = recipe.data_path()
        fingerprint = recipe.data.fingerprint
        if not fingerprint and path is not None and path.is_file():
            from core.study.steps import content_fingerprint  # what the runner checks [data].fingerprint with

            fingerprint = content_fingerprint(path)
        sides["data"] = {"raw file": str(path.resolve()) if path else None, "raw fingerprint": fingerprint or None}
    if recipe.curation is not None:
        c = recipe.curation
        sides["curation"] = {"name": c.name, "preset": c.preset, "allow_no_test": c.allow_no_test,
                             **c.config().to_dict()}
    produced = recipe.curation.name if recipe.curation else "seed-study"
    for f in recipe.formats:
        key = f"{f.format}-{f.split}"
        sides["format"].update({f"{key}.tokenizer": f.tokenizer, f"{key}.out": f.out or None,
                                **{f"{key}.template.{k}": v for k, v in f.template_config().to_dict().items()}})
    for r in recipe.runs:
        config = r.train_config(produced)
        record = config.run_record()
        sides["runs"][f"{r.name}.data"] = r.data or produced
        sides["runs"][f"{r.name}.preset"] = r.preset
        sides["format"][f"{r.name}.format"] = config.format
        sides["format"].update({f"{r.name}.template.{k}": v for k, v in lineage.template_fields(config.template).items()})
        sides["base model"].update({f"{r.name}.backend": config.backend, f"{r.name}.base_model": config.remote_model()})
        sides["hyperparameters"].update({f"{r.name}.{k}": v for k, v in lineage.hyperparameters(record).items()})
    sides["runs"]["names"] = [r.name for r in recipe.runs]
    if recipe.evaluation is not None:
        e = recipe.evaluation
        sides["evaluation"] = {**e.settings, "data": e.data or produced, "checkpoints": e.checkpoints,
                               "checkpoint_limit": e.checkpoint_limit}
    if recipe.report is not None:
        sides["report"] = {"xlsx": recipe.report.xlsx or None}
    return sides


def _looks_like_recipe(target: str) -> bool:
    path = Path(target).expanduser()
    return path.suffix.lower() in (".toml", ".tml") or path.is_file()


def target_sides(store: Store, target: str) -> tuple[str, Sides]:
    """(a short label, the sections) of a run id (or a unique start of one) or a recipe path."""
    from core.store import runs as run_table

    target = str(target).strip()
    if not target:
        raise DiffTargetError("Give two runs (their ids, see `python -m core runs`) or two recipe files to compare.")
    if _looks_like_recipe(target):
        from core.study.recipe import load_recipe

        recipe = load_recipe(target)  # RecipeError: one sentence naming the file, line and key
        return Path(target).name, recipe_sides(recipe)
    found = run_table.find_run(store, target)
    if not found:
        raise DiffTargetError(f"{target!r} is neither a run (see `python -m core runs` or page 3) nor a recipe file.")
    if len(found) > 1:
        raise DiffTargetError(f"{target!r} starts {len(found)} run ids ({', '.join(r['id'] for r in found[:3])}"
                              f"{', ...' if len(found) > 3 else ''}): give more of the id.")
    return found[0]["id"], run_sides(store, found[0])


def _same(a: Any, b: Any) -> bool:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    if numbers:  # 1 and 1.0 (a TOML integer against a stored float) are the same value
        return float(a) == float(b)
    return a == b


def diff_sides(a: Sides, b: Sides) -> list[DiffRow]:
    rows = []
    for section in SECTIONS:
        left, right = a.get(section, {}), b.get(section, {})
        for key in list(left) + [k for k in right if k not in left]:
            va, vb = left.get(key), right.get(key)
            rows.append(DiffRow(section, key, va, vb, _same(va, vb)))
    return rows


def diff_targets(store: Store, a: str, b: str) -> list[DiffRow]:
    """Every compared value of two runs or two recipes (``same`` tells which differ)."""
    return diff_sides(target_sides(store, a)[1], target_sides(store, b)[1])


# -- the text table --------------------------------------------------------------------------------
def show_value(value: Any, width: int = 44) -> str:
    """A value as the table shows it: hashes shortened, lists joined, long paths cut at the start."""
    if value is None or value == "" or value == []:
        return MISSING
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    text = text.replace("\n", "\\n")
    if len(text) >= 24 and all(c in "0123456789abcdef" for c in text):
        return text[:12]  # a sha256 / fingerprint: its start tells two apart
    return text if len(text) <= width else "…" + text[-(width - 1):]


def summary(rows: list[DiffRow]) -> str:
    """'3 differences: curation 1, hyperparameters 2' (or 'No differences ...')."""
    counts: dict[str, int] = {}
    for row in rows:
        if not row.same:
            counts[row.section] = counts.get(row.section, 0) + 1
    total = sum(counts.values())
    if not total:
        return f"No differences ({len(rows)} values compared)."
    parts = ", ".join(f"{section} {n}" for section, n in counts.items())
    return f"{total} difference{'s' if total != 1 else ''}: {parts}"


def render_diff(rows: list[DiffRow], show_all: bool = False, labels: tuple[str, str] = ("A", "B")) -> str:
    """The differing rows (every row with ``show_all``) as an aligned text table under the summary."""
    shown = [r for r in rows if show_all or not r.same]
    lines = [summary(rows)]
    if not shown:
        return lines[0]
    table = [("", "section", "key", labels[0], labels[1])]
    table += [("" if r.same else "≠", r.section, r.key, show_value(r.a), show_value(r.b)) for r in shown]
    if not show_all:
        table = [row[1:] for row in table]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines.append("")
    for row in table:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return "\n".join(lines)
