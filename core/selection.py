"""The study's current selection: the dataset, run and models the user chose or made last.

Kept in the database's settings table (``current.dataset``, ``current.run``, ``current.models``), so
every page opens with them — after a reload, in a second tab, after an app restart — instead of
falling back to the bundled seed split. Page 1 saving a curated dataset makes it the current
dataset; page 3 launching a run makes it the current run, and its base model with the fine-tune it
will make (``run:<id>`` until the run registers a model) the current models.

    set_current(store, "dataset", "books@v2")
    pick(available_datasets(store), url=None, stored=get_current(store, "dataset"), default="seed-study")
    # -> Pick(value="books@v2", origin="stored", missing=None)
    set_current_models(store, ["local:smollm2", "run:20261201-120000-smollm2-ab12"])
    resolve_models(store, get_current_models(store), available=[...])  # -> (ids, notes)

The pages (ui/selection.py) read a URL query parameter first, then these, then a visible default;
a remembered choice that no longer exists is reported (``Pick.missing``), never dropped silently.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from core.store.base import get_setting, set_setting

if TYPE_CHECKING:
    from core.store import Store

Kind = Literal["dataset", "run", "models"]
KINDS: tuple[str, ...] = ("dataset", "run", "models")
DEFAULT_DATASET = "seed-study"
RUN_PREFIX = "run:"  # a model that a run will make: resolved to the run's registered model when it has one


def setting_key(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown selection kind {kind!r}")
    return f"current.{kind}"


def get_current(store: Store, kind: str) -> str | None:
    """The remembered dataset / run (None when nothing was chosen yet)."""
    return get_setting(store, setting_key(kind)) or None


def set_current(store: Store, kind: str, value: str | None) -> None:
    """Remember a choice (an empty value forgets it); read-only stores (a CLI peek) keep nothing."""
    if getattr(store, "read_only", False):
        return
    set_setting(store, setting_key(kind), value or "")


def get_current_models(store: Store) -> list[str]:
    raw = get_setting(store, setting_key("models"))
    try:
        ids = json.loads(raw) if raw else []
    except ValueError:  # written by hand or by an older version: start over
        return []
    return [str(i) for i in ids] if isinstance(ids, list) else []


def set_current_models(store: Store, model_ids: Sequence[str]) -> None:
    if getattr(store, "read_only", False):
        return
    set_setting(store, setting_key("models"), json.dumps(list(dict.fromkeys(model_ids))))


@dataclass
class Pick:
    """A selector's starting value and where it came from; ``missing`` is a wanted value that is gone
    (from ``missing_origin``: the link or the remembered choice), said on the page."""

    value: str | None
    origin: Literal["url", "stored", "default"]
    missing: str | None = None
    missing_origin: Literal["url", "stored"] | None = None


def pick(options: Sequence[str], *, url: str | None, stored: str | None, default: str | None) -> Pick:
    """The first of the URL's value, the remembered one and the default that is among ``options``."""
    missing: tuple[str, Literal["url", "stored"]] | None = None
    candidates: tuple[tuple[str | None, Literal["url", "stored"]], ...] = ((url, "url"), (stored, "stored"))
    for value, origin in candidates:
        if not value:
            continue
        if value in options:
            gone = missing or (None, None)
            return Pick(value, origin, gone[0], gone[1])
        missing = missing or (value, origin)
    fallback = default if default in options else (options[0] if options else None)
    gone = missing or (None, None)
    return Pick(fallback, "default", gone[0], gone[1])


def available_datasets(store: Store) -> list[str]:
    """``seed-study`` and every saved curation (``name@vN``, newest version first) whose folder is
    still on disk: a removed folder is not offered (and a remembered choice of it is reported)."""
    from core.data.curated import is_curated_folder
    from core.store.curation import list_curated

    return [DEFAULT_DATASET] + [f"{c['name']}@v{c['version']}" for c in list_curated(store)
                                if is_curated_folder(Path(c["folder"]))]


def base_model_id(backend: str, base_model: str) -> str:
    """The registry id of a run's base model (``local:smollm2``, ``local:<spec>``, ``openai:<model>``)."""
    from core.bundled import is_bundled
    from core.models.registry import BUNDLED_ID

    if backend == "openai":
        return f"openai:{base_model}"
    if is_bundled(base_model):
        return BUNDLED_ID
    path = Path(base_model).expanduser()
    return f"local:{path.resolve()}" if path.exists() else f"local:{base_model}"


def remember_launch(store: Store, run_id: str, backend: str, base_model: str) -> None:
    """A launched run becomes the current run, and its base model beside the model it will make the
    current models (pages 4 and 5 open with both)."""
    set_current(store, "run", run_id)
    set_current_models(store, [base_model_id(backend, base_model), RUN_PREFIX + run_id])


@dataclass
class ModelNote:
    """Why a remembered model is not selected: ``training`` (its run has not made it yet) or ``gone``."""

    reason: Literal["training", "gone"]
    model: str


@dataclass
class ResolvedModels:
    ids: list[str]
    notes: list[ModelNote] = field(default_factory=list)


def resolve_models(store: Store, wanted: Sequence[str], available: Sequence[str]) -> ResolvedModels:
    """The wanted models that can answer now (``run:<id>`` becomes the run's final model once it is
    registered), and a note for each one that cannot."""
    from core.compare.arena import is_checkpoint
    from core.store import runs as run_table
    from core.store.compare import list_models

    resolved = ResolvedModels([])
    for model in wanted:
        if model.startswith(RUN_PREFIX):
            run_id = model[len(RUN_PREFIX):]
            made = [m["id"] for m in list_models(store) if m.get("run_id") == run_id and not is_checkpoint(m)]
            if made and made[-1] in available:
                resolved.ids.append(made[-1])
                continue
            run = run_table.get_run(store, run_id)
            active = run is not None and run["status"] not in run_table.TERMINAL
            resolved.notes.append(ModelNote("training" if active else "gone", run_id))
        elif model in available:
            resolved.ids.append(model)
        else:
            resolved.notes.append(ModelNote("gone", model))
    resolved.ids = list(dict.fromkeys(resolved.ids))
    return resolved

