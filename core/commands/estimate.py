"""``python -m core estimate --data FILE --format FMT --model M``: cost and time before launching.

OpenAI models (in the price table, or any gpt-* name): billable tokens by the cookbook's count
and epoch rule × the training price, plus answering the test split (``--test``, or the source
named in FILE's manifest) with the fine-tuned model. Local models: tokens × epochs ÷ tokens/s
from ``--tokens-per-s``, ``--hardware NAME`` (the editable hardware table) or a calibration on
this machine (``--calibrate`` measures one now). The estimate is saved in the database.

    python -m core estimate --data dados/seed/trn_gpt4_formatted.jsonl --format openai-chat --model gpt-4o-mini-2024-07-18 --test seed-study
    python -m core estimate --data x_chat-template_train.jsonl --format chat-template --model smollm2 --calibrate --seq-len 128
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.commands import open_store
from core.commands.export import resolve_curated
from core.costs.estimates import EstimateInputError, estimate_local, estimate_openai, read_jsonl, save_estimate
from core.costs.prices import is_openai_model
from core.data.curated import read_split
from core.errors import UserFacingError
from core.formats.export import read_export_manifest
from core.formats.render import FORMATS, TemplateConfig


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("estimate", help="Estimate the cost and time of a fine-tune (OpenAI or local LoRA).")
    parser.add_argument("--data", required=True, help="Training file (JSONL) in --format.")
    parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt", help="The training file's format.")
    parser.add_argument("--model", required=True, help="OpenAI model (gpt-4o-mini-2024-07-18, ...) or local model spec.")
    parser.add_argument("--epochs", type=int, default=None, help="Epochs (OpenAI default: the cookbook rule; local: 1).")
    parser.add_argument("--test", default=None,
                        help="Test data for the inference cost: an openai-chat JSONL or a curated source (its test split).")
    parser.add_argument("--hardware", default=None, help="Local: a row of the hardware table (name).")
    parser.add_argument("--tokens-per-s", type=float, default=None, help="Local: throughput to assume.")
    parser.add_argument("--usd-per-hour", type=float, default=None, help="Local: hourly price of the machine.")
    parser.add_argument("--seq-len", type=int, default=512, help="Local: training sequence length (longer is truncated).")
    parser.add_argument("--batch-size", type=int, default=4, help="Local: examples per step (padded to the longest).")
    parser.add_argument("--calibrate", action="store_true", help="Local: measure throughput on this machine first.")
    parser.add_argument("--no-save", action="store_true", help="Do not keep the estimate in the database.")
    parser.set_defaults(func=run)


def _test_rows(args: argparse.Namespace, manifest: dict[str, Any]) -> tuple[list[dict[str, Any]] | None, str]:
    if args.test:
        if Path(args.test).is_file():
            return read_jsonl(args.test), args.test
        folder, name = resolve_curated(args.test)
        return read_split(folder, "test"), f"{name} (test split)"
    if manifest.get("source") and manifest.get("split", "train") == "train":
        try:
            folder, name = resolve_curated(manifest["source"])
            return read_split(folder, "test"), f"{name} (test split, from the manifest)"
        except UserFacingError:  # the source moved or is gone: no inference estimate, not a failure
            return None, ""
    return None, ""


def run(args: argparse.Namespace) -> int:
    if not Path(args.data).is_file():
        raise EstimateInputError(f"{args.data} does not exist.")
    manifest = read_export_manifest(args.data)
    template = TemplateConfig.from_dict(manifest["template"]) if isinstance(manifest.get("template"), dict) else None
    with open_store() as store:
        if is_openai_model(args.model, store):
            if args.fmt != "openai-chat":
                raise EstimateInputError("OpenAI fine-tunes take the openai-chat format: export one with --format openai-chat.")
            test_rows, test_name = _test_rows(args, manifest)
            est = estimate_openai(store, args.model, args.data, test_rows, epochs=args.epochs, template=template)
            if test_name:
                print(f"test data: {test_name}")
        else:
            if args.calibrate:
                from core.costs.calibrate import CalibrationConfig, calibrate

                def progress(done: int, total: int) -> None:
                    print(f"calibrating: step {done}/{total}", file=sys.stderr, flush=True)

                cal = calibrate(CalibrationConfig(model=args.model, seq_len=args.seq_len, batch_size=args.batch_size),
                                store, force=True, progress=progress)
                print(f"calibration: {cal.tokens_per_s:,.1f} tokens/s on {cal.device} "
                      f"({cal.step_s:.2f} s/step, batch {cal.batch_size} x {cal.seq_len})")
            est = estimate_local(store, args.model, args.data, args.fmt, epochs=args.epochs or 1, template=template,
                                 seq_len=args.seq_len, batch_size=args.batch_size, hardware=args.hardware,
                                 tokens_per_s=args.tokens_per_s, usd_per_hour=args.usd_per_hour)
        print(est.summary())
        if not args.no_save:
            print(f"saved as estimate #{save_estimate(store, est)}")
    return 0
