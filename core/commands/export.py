"""``python -m core export SOURCE --format FMT --out FILE``: a curated split as a training file.

SOURCE is a ``curate --out`` folder, ``seed-study`` (the bundled seed split) or a saved curated
dataset's name (``name`` or ``name@v2``). Writes FILE and ``FILE.manifest.json`` beside it
(template, counts, token statistics, sha256). The answer text is the curated content exactly.

    python -m core export seed-study --format openai-chat --out dados/export/seed_openai.jsonl
    python -m core export seed-study --format completion --preset seed-completion --out /tmp/c.jsonl
    python -m core export mydata@v2 --format chat-template --tokenizer smollm2 --split test --out t.jsonl
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from core.data.curated import CuratedNotFoundError, read_manifest, read_split, resolve_source
from core.formats.export import export_training_file
from core.formats.render import DEFAULT_PRESET, FORMATS, PRESETS, TemplateConfig, get_preset


def add_template_arguments(parser: argparse.ArgumentParser) -> None:
    """--preset / --system / --user-template / --assistant-template (shared with estimate)."""
    parser.add_argument("--preset", choices=list(PRESETS), default=DEFAULT_PRESET,
                        help=f"Template preset (default {DEFAULT_PRESET}); the options below override its fields.")
    parser.add_argument("--system", default=None, help=TemplateConfig.__dataclass_fields__["system_prompt"].metadata["help"])
    parser.add_argument("--user-template", default=None,
                        help=TemplateConfig.__dataclass_fields__["user_template"].metadata["help"])
    parser.add_argument("--assistant-template", default=None,
                        help=TemplateConfig.__dataclass_fields__["assistant_template"].metadata["help"])


def template_from_args(args: argparse.Namespace) -> TemplateConfig:
    base = get_preset(args.preset)
    changes = {k: v for k, v in (("system_prompt", args.system), ("user_template", args.user_template),
                                 ("assistant_template", args.assistant_template)) if v is not None}
    return dataclasses.replace(base, **changes)


def resolve_curated(source: str) -> tuple[Path, str]:
    """The folder of SOURCE and a name for it; opens the database only for saved names."""
    try:
        folder = resolve_source(source, None)
    except CuratedNotFoundError:
        from core.commands import open_store

        with open_store() as store:
            folder = resolve_source(source, store)
        return folder, source
    if Path(source).expanduser().is_dir():
        manifest = read_manifest(folder)
        name = manifest.get("name") or folder.name
        version = manifest.get("version")
        return folder, f"{name}@v{version}" if version else str(name)
    return folder, source


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export", help="Write a curated split as a training file of one format (+ manifest).")
    parser.add_argument("source", metavar="SOURCE", help="curate --out folder, seed-study, or a saved curated name[@vN].")
    parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt", help="Training format.")
    parser.add_argument("--out", required=True, help="File to write (JSONL); FILE.manifest.json is written beside it.")
    parser.add_argument("--split", choices=("train", "test"), default="train", help="Which split (default train).")
    parser.add_argument("--tokenizer", default="smollm2",
                        help="Local model whose chat template / tokenizer is used (chat-template, sharegpt stats).")
    add_template_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    template = template_from_args(args)
    folder, name = resolve_curated(args.source)
    rows = read_split(folder, args.split)
    result = export_training_file(rows, args.fmt, template, args.out, tokenizer_spec=args.tokenizer,
                                  source=name, split=args.split)
    tokens = result.manifest["tokens"]
    print(f"wrote {result.path} ({result.manifest['examples']} examples, {args.fmt}, "
          f"{tokens['total']:,} tokens with {result.manifest['tokenizer']}, mean {tokens['mean']}, max {tokens['max']})")
    print(f"manifest: {result.manifest_path}")
    return 0
