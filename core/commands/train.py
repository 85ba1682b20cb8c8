"""``python -m core train``: launch a fine-tune and follow it in the foreground with a progress bar.

    python -m core train --backend local --model smollm2 --data seed-study --format chat-template \\
        --preset cpu-demo --max-steps 20
    python -m core train --data dados/export/seed_alpaca_train.jsonl --format alpaca --lora-r 8 --detach
    python -m core train --backend openai --model gpt-4o-mini-2024-07-18 --data train.jsonl \\
        --format openai-chat --n-epochs 3 --suffix seed     # key from OPENAI_API_KEY (or --openai KEY=VALUE)
    python -m core train --backend together --model meta-llama/Meta-Llama-3.1-8B-Instruct-Reference \\
        --data seed-study --epochs 3 --lora-rank 16 --learning-rate 1e-5 --suffix seed   # TOGETHER_API_KEY
    python -m core train --backend fireworks --model accounts/fireworks/models/llama-v3p1-8b-instruct \\
        --data seed-study --account-id my-account      # FIREWORKS_API_KEY (+ FIREWORKS_ACCOUNT_ID)

The run is recorded exactly as the training page records it (core.training.jobs.launch: the same run
folder, database row and subprocess); every TrainConfig field is an option whose help is the
field's help. Ctrl-C cancels the run (it saves a checkpoint; ``resume`` continues it). For the hosted
backends the shared options (--model, --epochs, --learning-rate, --lora-rank, --batch-size, --seed,
--suffix) fill the provider's section; --together/--fireworks KEY=VALUE set any other of its
fields. Keys come only from the environment, never from an option.
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
from core.selection import remember_launch
from core.training.config import (
    BACKENDS,
    DEVICES,
    LOSS_ON,
    PRECISIONS,
    PRESETS,
    PROVIDER_SECTIONS,
    SCHEDULES,
    TrainConfig,
)

ALIASES = {"base_model": ["--model"], "learning_rate": ["--lr"], "lora_r": ["--lora-rank"]}
CHOICES = {"backend": BACKENDS, "format": FORMATS, "lr_scheduler": SCHEDULES, "loss_on": LOSS_ON, "device": DEVICES,
           "precision": PRECISIONS}
SKIP = {"openai", "together", "fireworks", "template", "preset"}
# TrainConfig fields given on the command line -> the Together / Fireworks section's names
HOSTED_SHARED = {"base_model": "model", "epochs": "n_epochs", "learning_rate": "learning_rate", "lora_r": "lora_rank",
                 "seed": "seed", "max_train_examples": "max_train_examples"}
TOGETHER_ONLY = {"batch_size": "batch_size", "lora_alpha": "lora_alpha"}
# OpenAI's named options that mean the same for the other hosted backends
OPENAI_SHARED = {"n_epochs": "n_epochs", "suffix": "suffix", "validation_file": "validation_file",
                 "poll_interval_s": "poll_interval_s", "seed": "seed"}
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
    _add_hosted_options(parser)


def _add_hosted_options(parser: argparse.ArgumentParser) -> None:
    from core.config import field_help
    from core.training.backends.fireworks_backend import FireworksTrainConfig
    from core.training.backends.together_backend import TogetherTrainConfig

    group = parser.add_argument_group("Together and Fireworks backends (--backend together|fireworks)")
    group.add_argument("--from-checkpoint", help=field_help(TogetherTrainConfig, "from_checkpoint").replace("%", "%%"))
    group.add_argument("--account-id", help=field_help(FireworksTrainConfig, "account_id").replace("%", "%%"))
    group.add_argument("--output-model", help=field_help(FireworksTrainConfig, "output_model").replace("%", "%%"))
    group.add_argument("--warm-start-from", help=field_help(FireworksTrainConfig, "warm_start_from").replace("%", "%%"))
    for name in PROVIDER_SECTIONS:
        group.add_argument(f"--{name}", action="append", default=[], metavar="KEY=VALUE",
                           help=f"A {name.capitalize()} setting (any field of its config: n_checkpoints, n_evals, "
                                "base_url, max_retries, ...); repeat for several. The API key comes only from "
                                f"{name.upper()}_API_KEY.")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
                 if f.name not in SKIP and getattr(args, f.name, None) is not None}
    template = {n: getattr(args, n) for n in TEMPLATE_OPTIONS if getattr(args, n, None) is not None}
    if template:
        overrides["template"] = template
    from core.hosted.openai_finetune import settings_from_args

    named = settings_from_args(args)
    backend = overrides.get("backend")
    if backend in PROVIDER_SECTIONS:
        overrides[backend] = _provider_section(backend, args, overrides, named)
        overrides.setdefault("format", "openai-chat")
    elif args.openai or named or backend == "openai":
        section: dict[str, Any] = dict(named)
        section.update(_pairs("openai", args.openai))
        if overrides.get("base_model") and "model" not in section:
            section["model"] = overrides["base_model"]
        overrides["openai"] = section
        overrides.setdefault("format", "openai-chat")
    for name in PROVIDER_SECTIONS:
        if getattr(args, name, None) and backend != name:
            raise ConfigError(f"--{name} settings need --backend {name}.")
    return TrainConfig.from_preset(args.preset, **overrides)


def _pairs(option: str, items: list[str]) -> dict[str, Any]:
    section: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--{option} takes KEY=VALUE, not {item!r}.")
        section[key.strip()] = _value(value.strip())
    return section


def _provider_section(backend: str, args: argparse.Namespace, overrides: dict[str, Any],
                      named: dict[str, Any]) -> dict[str, Any]:
    """The Together / Fireworks section from the shared options, the named ones and KEY=VALUE pairs."""
    if args.openai:
        raise ConfigError(f"--openai settings are for --backend openai, not {backend}.")
    openai_only = sorted(set(named) - set(OPENAI_SHARED) - {"model"})
    if openai_only or named.get("model"):
        flags = {"batch_size": "--openai-batch-size", "learning_rate_multiplier": "--lr-multiplier",
                 "model": "--openai-model"}
        given = ", ".join(flags.get(n, n) for n in openai_only + (["model"] if named.get("model") else []))
        raise ConfigError(f"{given} are OpenAI options: use --model, --learning-rate, --batch-size with --backend "
                          f"{backend}.")
    section: dict[str, Any] = {OPENAI_SHARED[k]: v for k, v in named.items() if k in OPENAI_SHARED}
    shared = {**HOSTED_SHARED, **(TOGETHER_ONLY if backend == "together" else {})}
    for ours, theirs in shared.items():
        if overrides.get(ours) is not None:
            value = overrides[ours]
            section[theirs] = int(value) if ours == "epochs" and float(value).is_integer() else value
    named_hosted = {"from_checkpoint": "together", "account_id": "fireworks", "output_model": "fireworks",
                    "warm_start_from": "fireworks"}
    for name, owner in named_hosted.items():
        value = getattr(args, name, None)
        if value is not None:
            if owner != backend:
                raise ConfigError(f"--{name.replace('_', '-')} is a {owner.capitalize()} option, not {backend}'s.")
            section[name] = value
    section.update(_pairs(backend, getattr(args, backend, None) or []))
    return section


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
    costs = [(what, run.get(column)) for what, column in (("estimated", "estimated_cost_usd"),
                                                            ("provider's quote", "provider_quote_usd"),
                                                            ("cost", "actual_cost_usd"))]
    if any(value is not None for _, value in costs) and run.get("backend") != "local":
        parts.append(" / ".join(f"{what} {_usd(value)}" for what, value in costs))
    if run.get("output_model"):
        parts.append(f"model {run['output_model']}")
    return ", ".join(parts)


def _usd(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="Launch a fine-tune (local LoRA, or OpenAI, Together or Fireworks) and "
                                          "follow it.",
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
        remember_launch(store, run_id, config.backend, config.base_model)  # the app's pages 3-5 open with it
        print(f"run {run_id} started ({config.backend}, {config.remote_model()}, data {config.data}); "
              f"folder {jobs.runs_dir() / run_id}")
        if args.detach:
            return 0
        return follow_in_terminal(store, run_id)
