"""``python -m core validate FILE --format FMT [--model M] [--provider P]``: check a training file
before uploading.

Prints the report (problems with their line numbers) and exits 1 when there are errors, 0 when
there are none (warnings allowed); an unreadable file is exit 2 with one sentence. ``--provider``
checks against a hosted provider's rules (core.hosted.common.provider_report: OpenAI-only rules
become warnings, a format the provider does not take is an error).

    python -m core validate dados/seed/trn_gpt4_formatted.jsonl --format openai-chat
    python -m core validate FILE --format openai-chat --provider together
"""
from __future__ import annotations

import argparse

from core.formats.render import FORMATS
from core.formats.validate import validate_file
from core.hosted.common import PROVIDERS, provider_report


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="Check a training file (OpenAI cookbook checks for openai-chat).")
    parser.add_argument("file", metavar="FILE", help="JSONL training file.")
    parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt", help="The file's format.")
    parser.add_argument("--model", default=None, help="Target model, for its token limit (default gpt-4o-mini-2024-07-18).")
    parser.add_argument("--provider", choices=("openai", *PROVIDERS), default="openai",
                        help="Whose rules: openai (default; the cookbook's checks), together or fireworks.")
    parser.add_argument("--all", action="store_true", help="List every problem (default: the first 50).")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = validate_file(args.file, args.fmt, args.model)
    if args.provider != "openai":
        report = provider_report(report, args.provider)
    print(report.summary(limit=len(report.problems) if args.all else 50))
    return 0 if report.ok else 1
