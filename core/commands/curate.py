"""``python -m core curate INPUT``: curate a raw file with a preset and/or filter options.

    python -m core curate trn.json --preset seed-notebook --out dados/curado
    python -m core curate trn.json --keywords author --keyword-mode any --max-tokens 512 --name livros

Writes OUT/train.jsonl, OUT/test.jsonl and OUT/curation.json (config + funnel + counts) and
prints the funnel; ``--name`` also saves a versioned curated dataset in the database (which the
running app must not hold). Options left out keep the preset's values (default seed-notebook).
Bad input is one line on stderr and exit status 2, with nothing written.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from core.data.cleaning import CLEANING_MODES


def _optional_int(text: str) -> int | None:
    if text.strip().lower() in ("", "none", "off"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'none', not {text!r}") from None


def _keywords(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


# option name -> (config field, type, help)
OPTIONS: list[tuple[str, str, Any]] = [
    ("--title-column", "title_column", str),
    ("--content-column", "content_column", str),
    ("--cleaning", "cleaning", str),
    ("--min-title-chars", "min_title_chars", int),
    ("--max-title-chars", "max_title_chars", _optional_int),
    ("--min-content-chars", "min_content_chars", int),
    ("--max-content-chars", "max_content_chars", _optional_int),
    ("--tokenizer", "tokenizer", str),
    ("--min-tokens", "min_tokens", int),
    ("--max-tokens", "max_tokens", _optional_int),
    ("--keywords", "keywords", _keywords),
    ("--keyword-mode", "keyword_mode", str),
    ("--train", "train_size", int),
    ("--test", "test_size", int),
    ("--shuffle-seed", "shuffle_seed", _optional_int),
]


def register(sub: argparse._SubParsersAction) -> None:
    from core.config import field_help
    from core.data.curation import BUILTIN_PRESETS, CurationConfig

    parser = sub.add_parser(
        "curate", help="Curate a raw dataset (filters, presets) into train/test files.",
        description="Curate a raw dataset: JSON lines (trn.json shape), JSON array, CSV or Parquet, optionally .gz.")
    parser.add_argument("input", help="The raw data file.")
    parser.add_argument("--preset", default="seed-notebook",
                        help=f"Start from this preset ({', '.join(BUILTIN_PRESETS)} or one saved in the app).")
    parser.add_argument("--out", type=Path, help="Folder to write train.jsonl, test.jsonl and curation.json into.")
    parser.add_argument("--name", help="Also save as the next version of this curated dataset in the database.")
    parser.add_argument("--allow-no-test", action="store_true",
                        help="With --name: save even when the filters leave no test rows (pages 3-5 cannot "
                             "evaluate on such a split).")
    for flag, name, kind in OPTIONS:
        extra: dict[str, Any] = {}
        if name == "cleaning":
            extra["choices"] = CLEANING_MODES
        if name == "keyword_mode":
            extra["choices"] = ("all", "any")
        # SUPPRESS: an option left out is absent, so "--max-tokens none" (None) differs from no option
        parser.add_argument(flag, dest=name, type=kind, default=argparse.SUPPRESS,
                            help=field_help(CurationConfig, name).replace("%", "%%"), **extra)
    parser.add_argument("--no-dedup", dest="dedup", action="store_false", default=argparse.SUPPRESS,
                        help="Keep repeated (title, content) rows.")
    parser.add_argument("--keep-empty", dest="drop_empty", action="store_false", default=argparse.SUPPRESS,
                        help="Keep rows whose title or content is empty after cleaning.")
    parser.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def build_config(args: argparse.Namespace, store: Any = None) -> Any:
    from core.data.curation import BUILTIN_PRESETS, CurationConfig, preset

    if args.preset in BUILTIN_PRESETS or store is None:
        base = preset(args.preset, None if args.preset in BUILTIN_PRESETS else store)
    else:
        base = preset(args.preset, store)
    values = base.to_dict()
    given = vars(args)
    for name in [n for _, n, _ in OPTIONS] + ["dedup", "drop_empty"]:
        if name in given:
            values[name] = given[name]
    return CurationConfig(**values)


def command_line(path: str, config: Any) -> str:
    """The ``python -m core curate`` call that reproduces a config (options that differ from seed-notebook)."""
    import shlex

    from core.data.curation import preset

    base = preset("seed-notebook").to_dict()
    values = config.to_dict()
    parts = ["python -m core curate", shlex.quote(str(path))]
    for flag, name, _ in OPTIONS:
        value = values[name]
        if value == base[name]:
            continue
        if name == "keywords":
            value = ",".join(value)
        parts += [flag, shlex.quote("none" if value is None else str(value))]
    if not values["dedup"]:
        parts.append("--no-dedup")
    if not values["drop_empty"]:
        parts.append("--keep-empty")
    return " ".join(parts + ["--out", "DIR"])


def _print_funnel(split: Any, seconds: float) -> None:
    report = split.report
    config = split.config
    lines = f", {report.lines:,} lines" if report.lines is not None else ""
    print(f"input: {report.path} ({report.format}{lines}, {report.rows:,} rows) read and curated in {seconds:.1f} s")
    if report.bad_lines:
        first = ", ".join(map(str, report.bad_line_numbers[:10]))
        print(f"skipped {report.bad_lines:,} malformed line(s) (not JSON objects), first: {first}")
    limits = {
        "chars": f"title {config.min_title_chars}..{config.max_title_chars or ''} chars, "
                 f"content {config.min_content_chars}..{config.max_content_chars or ''} chars "
                 f"({config.cleaning} cleaning)",
        "not_empty": "drop empty" if config.drop_empty else "empty kept",
        "deduplicated": "drop repeated (title, content)" if config.dedup else "repeats kept",
        "tokens": f"{config.min_tokens}..{config.max_tokens or ''} tokens ({config.tokenizer})",
        "keywords": (f"{config.keyword_mode} of: {', '.join(config.keywords)}" if config.keywords else "no keywords"),
        "train": "file order" if config.shuffle_seed is None else f"shuffled, seed {config.shuffle_seed}",
    }
    print("funnel:")
    for stage, count in split.funnel.items():
        if stage == "bad_lines":
            continue
        note = limits.get(stage, "")
        print(f"  {stage:<13}{count:>12,}  {note}".rstrip())
    print(f"tokens: train {split.train_tokens:,} · test {split.test_tokens:,}")


def _warn_short_split(split: Any) -> None:
    """One line on stderr when the kept rows do not fill --train + --test (test is what goes short)."""
    from core.data.curation_split import split_shortfall

    kept = split.funnel["keywords"]
    if kept == 0:
        print("warning: no row passes every filter: loosen a filter to get a train split.", file=sys.stderr)
    short = split_shortfall(kept, split.config.train_size, split.config.test_size)
    if short is not None:
        print(f"warning: {short.sentence()}", file=sys.stderr)


def _store_for_preset(name: str) -> Any:
    """The database, to look up a preset saved in the app; an unknown name is named as such even
    when the database cannot be opened."""
    from core.commands import open_store
    from core.data.curation import BUILTIN_PRESETS, PresetNotFoundError
    from core.store import DatabaseLockedError

    try:
        return open_store()
    except DatabaseLockedError as exc:
        raise PresetNotFoundError(
            f"{name!r} is not a built-in preset ({', '.join(BUILTIN_PRESETS)}) and the presets saved in the app "
            f"cannot be read: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from core.data.curation import BUILTIN_PRESETS
    from core.data.curation_stream import curate
    from core.data.rawfiles import check_path

    check_path(args.input)  # bad arguments are reported as such, before any database work
    if args.name:
        from core.data.curation_io import check_name

        check_name(args.name)
    store = None
    if args.preset not in BUILTIN_PRESETS:
        store = _store_for_preset(args.preset)
    try:
        config = build_config(args, store)
    finally:
        if store is not None:
            store.close()
    if args.name:
        from core.commands import open_store

        open_store().close()  # fail now, not after the work, when no app answers for the held database
    from core.data.rawfiles import check_text_columns

    started = time.perf_counter()
    check_text_columns(args.input, config.read_plan())  # numbers mapped as title/content: one sentence
    split = curate(args.input, config, workers=args.workers)
    _print_funnel(split, time.perf_counter() - started)
    _warn_short_split(split)
    if args.name:  # refused before --out writes anything: all or nothing
        from core.data.curation_io import check_savable

        check_savable(split, allow_no_test=args.allow_no_test)
    if args.out:
        from core.data.curation_io import write_curated

        folder = write_curated(args.out, split)
        print(f"wrote {folder / 'train.jsonl'}, {folder / 'test.jsonl'}, {folder / 'curation.json'}")
    if args.name:
        from core.commands import open_store
        from core.data.curation_io import save_curated
        from core.selection import set_current

        with open_store() as db:
            saved = save_curated(db, args.name, split, allow_no_test=args.allow_no_test)
            set_current(db, "dataset", f"{saved['name']}@v{saved['version']}")  # the app's pages open with it
        print(f"saved {saved['name']} v{saved['version']} in {saved['folder']}")
    if not args.out and not args.name:
        print("nothing written (give --out DIR and/or --name NAME)", file=sys.stderr)
    return 0
