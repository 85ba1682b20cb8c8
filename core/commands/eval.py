"""``python -m core eval``: evaluate registry models on the held-out split of a curated dataset.

    python -m core eval --models local:smollm2 --data seed-study --limit 20
    python -m core eval --models local:smollm2,openai:gpt-4o-mini-2024-07-18 --data dados/curated/x/v1 \\
        --limit 50 --variants default,question,pt-br,summary --xlsx resultados/eval.xlsx

Running the same command again resumes it (answers already stored are kept); ``--id`` resumes a
given evaluation. A model given as a folder is registered as a local model first.

    python -m core eval --checkpoints RUN --limit 10     # every checkpoint of a run: metric vs step, "did it learn?"
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.commands import open_store
from core.compare.evaluate import EvalConfig, load_config, run_evaluation
from core.compare.prompt_variants import VARIANTS
from core.config import field_help


def _csv(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("eval", help="Evaluate models on a curated dataset's held-out split (resumable).")
    parser.add_argument("--models", help=field_help(EvalConfig, "models") + " A model folder is registered first.")
    parser.add_argument("--data", default="seed-study", help=field_help(EvalConfig, "data"))
    parser.add_argument("--split", default="test", choices=["test", "train"], help=field_help(EvalConfig, "split"))
    parser.add_argument("--limit", type=int, default=None, help=field_help(EvalConfig, "limit")
                        + " Default: 20 (10 with --checkpoints).")
    parser.add_argument("--seed", type=int, default=0, help=field_help(EvalConfig, "seed"))
    parser.add_argument("--variants", default="default",
                        help=f"{field_help(EvalConfig, 'variants')} Comma-separated: {', '.join(VARIANTS)}.")
    parser.add_argument("--metrics", default=None, help=field_help(EvalConfig, "metrics") + " Comma-separated.")
    parser.add_argument("--main-metric", default="semantic", help=field_help(EvalConfig, "main_metric"))
    parser.add_argument("--max-new-tokens", type=int, default=None, help=field_help(EvalConfig, "max_new_tokens")
                        + " Default: 96 (64 with --checkpoints).")
    parser.add_argument("--temperature", type=float, default=0.0, help=field_help(EvalConfig, "temperature"))
    parser.add_argument("--batch-size", type=int, default=16, help=field_help(EvalConfig, "batch_size"))
    parser.add_argument("--judge", default=None, help=field_help(EvalConfig, "judge_model"))
    parser.add_argument("--rubric-file", default=None, help="A text file with the judge's rubric "
                        "({title}, {reference}, {answer}); default: the built-in rubric.")
    parser.add_argument("--id", default=None, help="Resume this evaluation id (its own settings are used).")
    parser.add_argument("--xlsx", default=None, help="Also write the workbook (same as `report --xlsx`).")
    parser.add_argument("--checkpoints", default=None, metavar="RUN",
                        help="Score the base model, every checkpoint and the final model of this run on its own "
                             "dataset's test split (resumable); prints metric vs step and whether it learned.")
    parser.set_defaults(func=run)


def _model_ids(store: object, given: list[str]) -> list[str]:
    from core.models.registry import add_local_model

    ids = []
    for spec in given:
        ids.append(add_local_model(store, spec) if Path(spec).expanduser().is_dir() else spec)  # type: ignore[arg-type]
    return ids


def _config_from_args(args: argparse.Namespace) -> EvalConfig:
    from core.compare.evaluate import EvaluationError

    if not _csv(args.models):
        raise EvaluationError("Give the models to evaluate with --models A,B (see `python -m core models list`).")
    extra = {}
    if args.metrics:
        extra["metrics"] = _csv(args.metrics)
    if args.rubric_file:
        try:
            extra["judge_rubric"] = Path(args.rubric_file).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise EvaluationError(f"The rubric file {args.rubric_file} cannot be read "
                                  f"({getattr(exc, 'strerror', None) or exc}).") from None
    config = EvalConfig(
        models=_csv(args.models), data=args.data, split=args.split,
        limit=20 if args.limit is None else (args.limit or None), seed=args.seed, variants=_csv(args.variants) or ["default"],
        main_metric=args.main_metric, max_new_tokens=args.max_new_tokens or 96, temperature=args.temperature,
        batch_size=args.batch_size, judge_model=args.judge, **extra)
    config.validate()
    return config


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from core.compare.results import leaderboard

    if args.checkpoints:
        return _run_checkpoints(args)
    if args.xlsx:
        from core.compare.xlsx import check_report_path

        check_report_path(args.xlsx)
    given = None if args.id else _config_from_args(args)  # bad options are named before any database work
    with open_store() as store:
        if given is None:
            config = load_config(store, args.id)
        else:
            config = dataclasses.replace(given, models=_model_ids(store, given.models))

        shown = []

        def progress(done: int, total: int, message: str) -> None:
            shown.append(done)
            print(f"\r[{done}/{total}] {message[:90]:<90}", end="", file=sys.stderr, flush=True)

        try:
            eval_id = run_evaluation(store, config, args.id, on_progress=progress)
        finally:
            if shown:  # end the progress line, so an error message starts on its own line
                print(file=sys.stderr)
        board = leaderboard(store, eval_id, config.main_metric)
        print(f"evaluation: {eval_id}")
        columns = [c for c in ("rank", "model_id", "n", "errors", "main", "main_low", "main_high", "rougeL", "chrf",
                               "bleu", "length_ratio", "repetition", "latency_s", "inference_cost_per_1k")
                   if c in board.columns]
        if not board.empty:
            print(f"main metric: {board['main_metric'].iloc[0]}")
            print(board[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        if args.xlsx:
            from core.compare.xlsx import write_report

            print(f"workbook: {write_report(store, args.xlsx, eval_id)}")
    return 0


def _run_checkpoints(args: argparse.Namespace) -> int:
    from core.compare.checkpoints import checkpoint_curve, find_run, learned, render_curve, score_checkpoints

    with open_store() as store:
        run_id = find_run(store, args.checkpoints)["id"]
        shown = []

        def progress(done: int, total: int, message: str) -> None:
            shown.append(done)
            print(f"\r[{done}/{total}] {message[:90]:<90}", end="", file=sys.stderr, flush=True)

        try:
            eval_id = score_checkpoints(store, run_id, limit=10 if args.limit is None else args.limit, seed=args.seed,
                                        metrics=_csv(args.metrics) or None, max_new_tokens=args.max_new_tokens or 64,
                                        on_progress=progress)
        finally:
            if shown:
                print(file=sys.stderr)
        curve = checkpoint_curve(store, run_id, args.main_metric)
        print(f"evaluation: {eval_id} (checkpoints of {run_id})")
        print(render_curve(curve))
        print(learned(curve).sentence())
    return 0
