"""Writing a curation: train.jsonl / test.jsonl / curation.json, and saving it as a named,
versioned curated dataset in the database.

The folder format is the one core/data/curated.py reads (``resolve_source``, ``read_split``): one
``{"title", "content"}`` object per line, in split order, text exactly as the pipeline left it,
plus curation.json with the config, the input's fingerprint, the funnel and the counts. Files are
written under temporary names and renamed into place, so a failure never leaves half a dataset.

    write_curated(Path("out"), split)                 # what `curate --out` does (split: CuratedSplit)
    saved = save_curated(store, "livros", split)      # dados/curated/livros/v<N>/ + a database row

Saving refuses a split with no train rows, and one with no test rows unless asked (``allow_no_test``):
pages 3-5 cannot evaluate on an empty test split, so keeping one is an explicit choice.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.data.curated import curated_folder
from core.data.curation import CuratedSplit
from core.errors import UserFacingError

if TYPE_CHECKING:
    from core.store import Store

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class OutputError(UserFacingError):
    """The output folder or dataset name cannot be used."""


class NothingToSaveError(UserFacingError):
    """The split to save has no train rows."""


class NoTestSplitError(UserFacingError):
    """The split to save has no test rows and saving it that way was not asked for."""


def manifest(split: CuratedSplit, *, name: str | None = None, version: int | None = None) -> dict[str, Any]:
    report = split.report
    return {
        "name": name,
        "version": version,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": report.path,
        "input": {k: getattr(report, k) for k in ("path", "format", "fingerprint", "size_bytes", "rows",
                                                  "lines", "bad_lines", "bad_line_numbers")},
        "config": split.config.to_dict(),
        "tokenizer": split.config.tokenizer,
        "funnel": split.funnel,
        "counts": split.counts(),
    }


def _write_files(folder: Path, split: CuratedSplit, info: dict[str, Any]) -> None:
    for name, rows in (("train", split.train), ("test", split.test)):
        with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (folder / "curation.json").write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_curated(folder: Path, split: CuratedSplit, *, name: str | None = None,
                  version: int | None = None) -> Path:
    """Write the three files into ``folder`` all or nothing (a temporary folder, then renames)."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} exists and is not a folder: choose another --out.")
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    except OSError as exc:
        raise OutputError(f"Cannot write into {parent} ({exc.strerror}).") from None
    try:
        _write_files(tmp, split, manifest(split, name=name, version=version))
        if not folder.exists():
            os.replace(tmp, folder)
        else:  # keep whatever else the folder holds; replace only our three files
            for file in ("train.jsonl", "test.jsonl", "curation.json"):
                os.replace(tmp / file, folder / file)
    except OSError as exc:
        raise OutputError(f"Cannot write the curated files into {folder} ({exc.strerror}).") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise OutputError(f"{name!r} cannot name a curated dataset: use letters, digits, '.', '_' or '-' "
                          "(up to 64, starting with a letter or digit).")
    return name


def check_savable(split: CuratedSplit, *, allow_no_test: bool = False) -> None:
    """A split worth a name: some train rows, and test rows unless ``allow_no_test``."""
    from core.data.curation_split import ratio_split

    if not split.train:
        raise NothingToSaveError("No row passes every filter, so there is nothing to save: loosen a filter first.")
    if not split.test and not allow_no_test:
        c = split.config
        train, test = ratio_split(len(split.train), c.train_size, c.test_size) if c.test_size else (0, 0)
        fix = f"use {train} train / {test} test rows" if test else "ask for some test rows"
        raise NoTestSplitError(
            f"This split has no test rows, so pages 3-5 could not evaluate on it: {fix}, or save it without a "
            "test split on purpose (page 1's checkbox, or --allow-no-test).")


def save_curated(store: Store, name: str, split: CuratedSplit, *, allow_no_test: bool = False) -> dict[str, Any]:
    """Save as the next version of ``name``: files in dados/curated/<name>/v<N>/ and a database row.
    The row and the folder appear together or not at all. No train rows, or no test rows unless
    ``allow_no_test``, is refused (check_savable) before anything is written."""
    from core.store.curation import insert_curated, next_curated_version

    check_name(name)
    check_savable(split, allow_no_test=allow_no_test)
    counts = split.counts()
    with store.transaction() as cur:
        version = next_curated_version(cur, name)
        folder = curated_folder(name, version)
        if folder.exists():  # a folder left by a crash before its row was written
            shutil.rmtree(folder)
        write_curated(folder, split, name=name, version=version)
        try:
            insert_curated(cur, {
                "name": name, "version": version, "input_path": split.report.path,
                "input_fingerprint": split.report.fingerprint, "config_json": split.config.to_json(),
                "funnel_json": json.dumps(split.funnel), "tokenizer": split.config.tokenizer,
                "train_rows": counts["train"], "test_rows": counts["test"],
                "train_tokens": counts["train_tokens"], "test_tokens": counts["test_tokens"],
                "folder": str(folder),
            })
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return {"name": name, "version": version, "folder": str(folder), **counts}
