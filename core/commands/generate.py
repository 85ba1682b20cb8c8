"""``python -m core generate``: one model's answer to one prompt, streamed to stdout, and stored.

    python -m core generate --model local:smollm2 --prompt "The Hobbit" --max-new-tokens 64
    python -m core generate --model openai:gpt-4o-mini-2024-07-18 --data seed-study --example 3
    python -m core generate --model local-ft:RUN --prompt "Dune" --template "Describe the book: {title}"

The answer goes to stdout as it arrives; latency, tokens and cost go to stderr afterwards (so
stdout can be piped). With ``--data``/``--example`` the prompt is that test example's title.
"""
from __future__ import annotations

import argparse
import sys

from core.commands import open_store
from core.config import field_help
from core.errors import UserFacingError
from core.models.answers import Answer, GenerationSettings
from core.models.generate import record_answer, stream_answer


class PromptMissingError(UserFacingError):
    """Neither --prompt nor --example was given."""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("generate", help="Stream one model's answer to a prompt (stored in the database).")
    parser.add_argument("--model", required=True, help="Registry id (see `python -m core models list`).")
    parser.add_argument("--prompt", help="The prompt (a book title in the seed study).")
    parser.add_argument("--data", default="seed-study", help="Curated dataset for --example (default seed-study).")
    parser.add_argument("--example", type=int, help="Use this test example's title as the prompt (0-based).")
    defaults = GenerationSettings()
    parser.add_argument("--temperature", type=float, default=defaults.temperature,
                        help=field_help(GenerationSettings, "temperature"))
    parser.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens,
                        help=field_help(GenerationSettings, "max_new_tokens"))
    parser.add_argument("--top-p", type=float, default=defaults.top_p, help=field_help(GenerationSettings, "top_p"))
    parser.add_argument("--system", help=field_help(GenerationSettings, "system_prompt"))
    parser.add_argument("--template", default=defaults.user_template,
                        help=field_help(GenerationSettings, "user_template").replace("%", "%%"))
    parser.add_argument("--seed", type=int, default=defaults.seed, help=field_help(GenerationSettings, "seed"))
    parser.add_argument("--no-save", action="store_true", help="Do not store the generation.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = GenerationSettings(temperature=args.temperature, max_new_tokens=args.max_new_tokens, top_p=args.top_p,
                                  system_prompt=args.system, user_template=args.template, seed=args.seed)
    if not args.prompt and args.example is None:  # named before any database work
        raise PromptMissingError("Give a prompt with --prompt, or a test example with --example N.")
    with open_store() as store:
        prompt, reference, version = args.prompt, None, None
        if args.example is not None:
            from core.compare.arena import dataset_version
            from core.data.curated import read_test_split, resolve_source

            rows = read_test_split(resolve_source(args.data, store), args.data)
            if not 0 <= args.example < len(rows):
                raise PromptMissingError(f"--example must be from 0 to {len(rows) - 1} for {args.data}.")
            prompt, reference = rows[args.example]["title"], rows[args.example]["content"]
            version = dataset_version(args.data, store)
        if not prompt:
            raise PromptMissingError("Give a prompt with --prompt, or a test example with --example N.")
        answer: Answer | None = None
        for item in stream_answer(store, args.model, prompt, settings):
            if isinstance(item, Answer):
                answer = item
            else:
                sys.stdout.write(item)
                sys.stdout.flush()
        assert answer is not None
        sys.stdout.write("\n")
        if not args.no_save:
            record_answer(store, answer, settings, source="cli", example_index=args.example, reference=reference,
                          curated_source=args.data if args.example is not None else None, curated_version=version)
    first = "-" if answer.latency_first_token_s is None else f"{answer.latency_first_token_s:.2f}s"
    cost = "-" if answer.cost_usd is None else f"${answer.cost_usd:.6f}"
    print(f"[{answer.model_id}] first token {first} · total {answer.total_s:.2f}s · tokens in {answer.tokens_in} "
          f"· out {answer.tokens_out} · cost {cost}", file=sys.stderr)
    if answer.error:
        print(f"error: {answer.error}", file=sys.stderr)
        return 1
    return 0
