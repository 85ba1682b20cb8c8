"""Curated datasets as the rest of the product sees them: a folder with train.jsonl, test.jsonl
and curation.json (one ``{"title", "content"}`` object per line, in split order).

A curated dataset is named by either a folder (what ``python -m core curate --out DIR`` writes,
or ``dados/seed``) or a saved name from the database (``name`` = latest version, ``name@v2`` =
that version; the built-in ``seed-study`` is the bundled seed split).

    folder = resolve_source("seed-study")
    rows = read_split(folder, "train")
    rows = read_test_split(folder, "livros@v2")   # EmptyTestSplitError when there is nothing to evaluate on
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from core.data.jsonl import numbered_lines, too_long
from core.errors import UserFacingError
from core.paths import data_dir, seed_dir

if TYPE_CHECKING:
    from core.store import Store

SPLITS = ("train", "test")
BUILTIN = {"seed-study": seed_dir}


class CuratedNotFoundError(UserFacingError):
    """The source is neither a curated folder nor a saved curated dataset."""


class EmptyTestSplitError(UserFacingError):
    """The curated dataset has no test rows, so nothing can be evaluated on it."""


def curated_root() -> Path:
    return data_dir() / "curated"


def curated_folder(name: str, version: int) -> Path:
    return curated_root() / name / f"v{version}"


def is_curated_folder(path: Path) -> bool:
    return path.is_dir() and (path / "train.jsonl").exists()


def resolve_source(source: str, store: Store | None = None) -> Path:
    """The folder of a curated dataset given as a folder path, ``name`` or ``name@vN``."""
    path = Path(source).expanduser()
    if is_curated_folder(path):
        return path
    if source in BUILTIN:
        return BUILTIN[source]()
    match = re.fullmatch(r"(.+?)(?:@v(\d+))?", source)
    if store is not None and match:
        from core.store.curation import find_curated

        found = find_curated(store, match.group(1), int(match.group(2)) if match.group(2) else None)
        if found is not None and is_curated_folder(Path(found["folder"])):
            return Path(found["folder"])
    raise CuratedNotFoundError(
        f"{source!r} is not a curated dataset: give a folder with train.jsonl (from `curate --out`) "
        "or the name of a saved curation (see page 1)."
    )


def read_split(folder: Path, split: str = "train") -> list[dict[str, str]]:
    if split not in SPLITS:
        raise CuratedNotFoundError(f"The split must be one of {', '.join(SPLITS)}, not {split!r}.")
    path = folder / f"{split}.jsonl"
    if not path.exists():
        raise CuratedNotFoundError(f"{path} does not exist.")
    rows = []
    # bounded lines: a binary file, another encoding or a 2 GB line is one sentence (core/data/jsonl.py)
    for number, line in numbered_lines(path, CuratedNotFoundError):
        if line is None:
            raise CuratedNotFoundError(too_long(path, number))
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise CuratedNotFoundError(f"{path} line {number} is not valid JSON.") from None
        if not isinstance(row, dict) or not isinstance(row.get("title"), str) or not isinstance(row.get("content"), str):
            raise CuratedNotFoundError(f"{path} line {number} lacks string 'title' and 'content' fields.")
        rows.append({"title": row["title"], "content": row["content"]})
    return rows


def read_manifest(folder: Path) -> dict:
    path = folder / "curation.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def read_test_split(folder: Path, source: str) -> list[dict[str, str]]:
    """The test rows of a curated dataset, or one sentence saying where to make some: evaluation
    (page 5, ``eval``), the playground's test examples and ``generate --example`` need at least one."""
    rows = read_split(folder, "test") if (folder / "test.jsonl").exists() else []
    if not rows:
        raise EmptyTestSplitError(
            f"The curated dataset {source} has no test rows to evaluate on: go back to page 1 (Dados) and save it "
            "again with Test rows above 0 (or run `python -m core curate ... --test N --name NAME`).")
    return rows
