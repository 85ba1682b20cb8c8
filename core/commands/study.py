"""``python -m core study run|export|diff``: the whole study as one re-runnable recipe.

    python -m core study run dados/estudos/seed-study.toml            # the steps in order, one line each
    python -m core study run RECIPE --progress progress.jsonl         # + JSON lines for page 6
    python -m core study export --out mine.toml [--dataset NAME]      # the recipe of what was clicked
    python -m core study diff RUN_OR_RECIPE RUN_OR_RECIPE [--all]     # what differs, side by side

``run`` reuses every step whose inputs are unchanged (a second run does no work and says so) and
goes on from the last finished step after a kill; steps that need a missing API key are skipped
with one line. The recipe's schema: dados/estudos/README.md. Like every command it works beside
the running app (its SQL goes through the app; files and computation stay here). A bad recipe is
one sentence and exit status 2; a step that runs and fails (a training run, an evaluation) exit 1.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("study", help="Run, export or compare a study recipe (the whole study in one file).",
                            description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="study_command", required=True, metavar="SUBCOMMAND")
    run = steps.add_parser("run", help="Run a recipe's steps in order, reusing what is unchanged.")
    run.add_argument("recipe", metavar="RECIPE", help="The recipe file (.toml), e.g. dados/estudos/seed-study.toml.")
    run.add_argument("--progress", metavar="FILE", help="Also append progress events to FILE as JSON lines.")
    run.add_argument("--accept-changed-data", action="store_true",
                     help="Go on when the raw file's fingerprint differs from the recipe's [data] fingerprint.")
    run.add_argument("--plan", action="store_true", help="Only say what each step would do (reuse, run, skip).")
    run.set_defaults(func=run_command)
    export = steps.add_parser("export", help="Write the recipe of what was made by clicking (the current dataset).")
    export.add_argument("--out", required=True, metavar="RECIPE", help="The recipe file to write (- for stdout).")
    export.add_argument("--dataset", help="The curated dataset (name or name@vN) to start from; default the current.")
    export.set_defaults(func=export_command)
    diff = steps.add_parser("diff", help="What differs between two runs or two recipes, side by side.")
    diff.add_argument("a", metavar="A", help="A run id (or the start of one) or a recipe file.")
    diff.add_argument("b", metavar="B", help="Another run id or recipe file.")
    diff.add_argument("--all", action="store_true", help="Show the values that are the same too.")
    diff.set_defaults(func=diff_command)


class _Progress:
    """The CLI's view of the runner's events: one line per step on stdout, a progress line on a
    terminal's stderr, every event as a JSON line in the --progress file."""

    def __init__(self, path: str | None) -> None:
        self.file = None
        if path:
            target = Path(path).expanduser()
            target.parent.mkdir(parents=True, exist_ok=True)
            self.file = target.open("a", encoding="utf-8")
        self.live = sys.stderr.isatty()
        self.open_line = False

    def __call__(self, event: dict[str, Any]) -> None:
        if self.file is not None:
            self.file.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
            self.file.flush()
        if event["event"] == "plan":
            print(f"study {event['study']}: {len(event['steps'])} steps", flush=True)
        elif event["event"] == "step":
            where = f"[{event['index']}/{event['total']}]"
            if event["status"] == "progress" and "done" in event:
                if self.live:
                    of = f"/{event['of']}" if event.get("of") else ""
                    print(f"\r{where} {event['step']} {event['done']}{of} {event['message'][:70]:<70}", end="",
                          file=sys.stderr, flush=True)
                    self.open_line = True
                return
            if event["status"] == "started":
                return
            self._end_line()
            print(f"{where} {event['message']}", flush=True)
        elif event["event"] == "end":
            self._end_line()
            if event["status"] == "succeeded":
                print(event["message"], flush=True)

    def _end_line(self) -> None:
        if self.open_line:
            print(file=sys.stderr)
            self.open_line = False

    def close(self) -> None:
        self._end_line()
        if self.file is not None:
            self.file.close()


def run_command(args: argparse.Namespace) -> int:
    from core.commands import open_store
    from core.study.recipe import load_recipe
    from core.study.runner import plan_recipe, run_recipe
    from core.study.steps import StepFailedError

    recipe = load_recipe(args.recipe)  # a bad recipe is named before any database work
    with open_store() as store:
        if args.plan:
            for row in plan_recipe(store, recipe):
                print(f"{row['state']:<6} {row['step']}: {row['reason']}")
            return 0
        progress = _Progress(args.progress)
        try:
            run_recipe(store, recipe, on_event=progress, accept_changed_data=args.accept_changed_data)
        except StepFailedError as exc:
            progress.close()
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            progress.close()
    return 0


def export_command(args: argparse.Namespace) -> int:
    from core.commands import open_store
    from core.errors import UserFacingError

    out = None if args.out == "-" else Path(args.out).expanduser()
    if out is not None and not out.parent.is_dir():
        raise UserFacingError(f"The folder {out.parent} does not exist.")
    from core.study.export import export_recipe

    with open_store() as store:
        text = export_recipe(store, args.dataset, out.parent if out is not None else None)
    if out is None:
        sys.stdout.write(text)
        return 0
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    print(f"wrote {out} (run it with `python -m core study run {out}`)")
    return 0


def diff_command(args: argparse.Namespace) -> int:
    from core.commands import open_store
    from core.study.diff import diff_targets, render_diff

    with open_store() as store:
        rows = diff_targets(store, args.a, args.b)
    print(render_diff(rows, show_all=args.all, labels=(args.a, args.b)))
    return 0
