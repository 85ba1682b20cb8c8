"""``python -m core train``: launch a fine-tune and follow it in the foreground with a progress bar.

    python -m core train --backend local --model smollm2 --data seed-study --format chat-template \\
        --preset cpu-demo --max-steps 20
    python -m core train --data dados/export/seed_alpaca_train.jsonl --format alpaca --lora-r 8 --detach
    python -m core train --backend openai --model gpt-4o-mini-2024-07-18 --data train.jsonl \\
        --format openai-chat --n-epochs 3 --suffix seed     # key from OPENAI_API_KEY (or --openai KEY=VALUE)

The run is recorded exactly as the training page records it (core.training.jobs.launch: the same run
folder, database row and subprocess); every TrainConfig field is an option whose help is the
field's help. Ctrl-C cancels the run (it saves a checkpoint; ``resume`` continues it).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from core.commands import open_store
from core.config import ConfigError
from core.formats.render import FORMATS
from core.training.config import BACKENDS, DEVICES, LOSS_ON, PRECISIONS, PRESETS, SCHEDULES, TrainConfig

ALIASES = {"base_model": ["--model"], "learning_rate": ["--lr"]}
CHOICES = {"backend": BACKENDS, "format": FORMATS, "lr_scheduler": SCHEDULES, "loss_on": LOSS_ON, "device": DEVICES,
           "precision": PRECISIONS}
SKIP = {"openai", "template", "preset"}
TEMPLATE_OPTIONS = ("system_prompt", "user_template", "assistant_template")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field, its help the field's help; unset options keep the preset."""
    for field in dataclasses.fields(TrainConfig):
        if field.name in SKIP:
            continue
        flags = [_flag(field.name), *ALIASES.get(field.name, [])]
        help_text = str(field.metadata.get("help", "")).replace("%", "%%")
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        kwargs: dict[str, Any] = {"dest": field.name, "default": None, "help": help_text}
        if isinstance(default, bool):
            kwargs["action"] = argparse.BooleanOptionalAction
        elif isinstance(default, list):
            kwargs["type"] = lambda text: [t.strip() for t in text.split(",") if t.strip()]
            kwargs["metavar"] = "A,B,..."
        elif field.name == "price_per_hour":
            kwargs["type"] = float
        elif isinstance(default, (int, float)):
            kwargs["type"] = type(default)
        if field.name in CHOICES:
            kwargs["choices"] = CHOICES[field.name]
        parser.add_argument(*flags, **kwargs)
    parser.add_argument("--preset", choices=PRESETS, default="custom",
                        help="Start from a preset (seed-study: the seed notebook's LoRA; cpu-demo: about a minute "
                             "on the CPU); options given here override it.")
    for name in TEMPLATE_OPTIONS:
        from core.config import field_help
        from core.formats.render import TemplateConfig

        parser.add_argument(_flag(name), dest=name, default=None,
                            help=field_help(TemplateConfig, name).replace("%", "%%"))
    from core.hosted.openai_finetune import add_cli_arguments

    add_cli_arguments(parser)  # --openai-model, --n-epochs, --suffix, ... (the OpenAI teammate's)
    parser.add_argument("--openai", action="append", default=[], metavar="KEY=VALUE",
                        help="An OpenAI setting (model, n_epochs, batch_size, learning_rate_multiplier, suffix, seed, "
                             "validation_file); repeat for several. The API key comes only from OPENAI_API_KEY.")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
                 if f.name not in SKIP and getattr(args, f.name, None) is not None}
    template = {n: getattr(args, n) for n in TEMPLATE_OPTIONS if getattr(args, n, None) is not None}
    if template:
        overrides["template"] = template
    from core.hosted.openai_finetune import settings_from_args

    named = settings_from_args(args)
    if args.openai or named or overrides.get("backend") == "openai":
        section: dict[str, Any] = dict(named)
        for item in args.openai:
            key, sep, value = item.partition("=")
            if not sep:
                raise ConfigError(f"--openai takes KEY=VALUE, not {item!r}.")
            section[key.strip()] = _value(value.strip())
        if overrides.get("base_model") and "model" not in section:
            section["model"] = overrides["base_model"]
        overrides["openai"] = section
        overrides.setdefault("format", "openai-chat")
    return TrainConfig.from_preset(args.preset, **overrides)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def follow_in_terminal(store: Any, run_id: str) -> int:
    """Progress bar until the run ends; 0 when it succeeded, 1 otherwise (with its sentence)."""
    from tqdm import tqdm

    from core.training import jobs
    bar = tqdm(total=None, unit="step", dynamic_ncols=True, file=sys.stderr)

    def update(run: dict[str, Any]) -> None:
        if run.get("total_steps") and bar.total != run["total_steps"]:
            bar.total = run["total_steps"]
            bar.refresh()
        step = run.get("step") or 0
        if step > bar.n:
            bar.update(step - bar.n)
        loss = run.get("final_loss")
        details = {"status": run["status"]}
        if run.get("tokens_per_s"):
            details["tok/s"] = f"{run['tokens_per_s']:.0f}"
        if loss is not None:
            details["loss"] = f"{loss:.4f}"
        bar.set_postfix(details, refresh=True)

    try:
        run = jobs.follow(store, run_id, update)
    finally:
        bar.close()
    print(summary(store, run))
    if run["status"] != "succeeded":
        print(f"run {run['id']} {run['status']}: {run.get('status_message') or ''}".rstrip(), file=sys.stderr)
        return 1
    return 0


def summary(store: Any, run: dict[str, Any]) -> str:
    from core.store.runs import metrics_df

    curves = metrics_df(store, [run["id"]], ("train_loss",))
    losses = curves["value"].tolist() if not curves.empty else []
    parts = [f"run {run['id']}: {run['status']}"]
    if losses:
        parts.append(f"train loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    if run.get("best_loss") is not None:
        parts.append(f"best {run['best_loss']:.4f}")
    if run.get("trained_tokens"):
        parts.append(f"{run['trained_tokens']:,} tokens")
    if run.get("tokens_per_s"):
        parts.append(f"{run['tokens_per_s']:.0f} tokens/s")
    if run.get("wall_s"):
        parts.append(f"{run['wall_s']:.0f} s")
    if run.get("output_model"):
        parts.append(f"model {run['output_model']}")
    return ", ".join(parts)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="Launch a fine-tune (local LoRA or OpenAI) and follow it.",
                            description=__doc__.split("\n\n")[0])
    add_config_options(parser)
    parser.add_argument("--detach", action="store_true", help="Start the run and return at once (watch it with "
                                                              "`runs`, or on the training page).")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.training import jobs
    config = config_from_args(args)
    config.validate()  # bad options are named before any database work (launch checks again)
    with open_store() as store:
        run_id = jobs.launch(store, config)
        print(f"run {run_id} started ({config.backend}, {config.base_model}, data {config.data}); "
              f"folder {jobs.runs_dir() / run_id}")
        if args.detach:
            return 0
        return follow_in_terminal(store, run_id)
