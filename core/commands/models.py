"""``python -m core models``: the model registry (list, add-endpoint, add-local, set-price, retire,
deploy).

    python -m core models list [--json] [--all]
    python -m core models add-endpoint --name ollama --base-url http://localhost:11434/v1 --model llama3
    python -m core models add-local /path/to/model-folder --price-per-hour 0.35
    python -m core models set-price local:smollm2 --per-hour 0.10
    python -m core models deploy fireworks:accounts/me/models/ft-run --yes   # costs money: says how much first
"""
from __future__ import annotations

import argparse
import json
import sys

from core.commands import open_store
from core.errors import UserFacingError
from core.models.registry import (
    Prices,
    add_endpoint,
    add_local_model,
    available_models,
    get_registered,
    retire_model,
    set_prices,
)
from core.store.compare import list_models


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("models", help="List and add models (local, OpenAI, OpenAI-compatible endpoints).")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    show = actions.add_parser("list", help="Every registered model with its kind and prices.")
    show.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    show.add_argument("--all", action="store_true", help="Include retired models.")
    show.set_defaults(func=run_list)

    endpoint = actions.add_parser("add-endpoint", help="Register an OpenAI-compatible server (Ollama, vLLM, "
                                  "llama.cpp server); its key, if any, comes from $FTDASH_ENDPOINT_API_KEY.")
    endpoint.add_argument("--name", required=True, help="Short name; the model id becomes endpoint:<name>.")
    endpoint.add_argument("--base-url", required=True, help="The server's base URL, e.g. http://localhost:11434/v1.")
    endpoint.add_argument("--model", required=True, help="The model name the server serves, e.g. llama3.")
    endpoint.add_argument("--price-input", type=float, default=0.0, help="USD per 1M input tokens (default 0).")
    endpoint.add_argument("--price-output", type=float, default=0.0, help="USD per 1M output tokens (default 0).")
    endpoint.set_defaults(func=run_add_endpoint)

    local = actions.add_parser("add-local", help="Register a local base model (folder or Hugging Face id).")
    local.add_argument("spec", help="smollm2, a transformers model folder, or a Hugging Face id.")
    local.add_argument("--name", help="Display name.")
    local.add_argument("--price-per-hour", type=float, help="USD per hour of this machine (answers cost time × this).")
    local.set_defaults(func=run_add_local)

    price = actions.add_parser("set-price", help="Change a model's prices.")
    price.add_argument("model_id")
    price.add_argument("--input", type=float, help="USD per 1M input tokens.")
    price.add_argument("--output", type=float, help="USD per 1M output tokens.")
    price.add_argument("--per-hour", type=float, help="USD per hour (local models).")
    price.set_defaults(func=run_set_price)

    retire = actions.add_parser("retire", help="Hide a model from the pickers (its answers and votes stay).")
    retire.add_argument("model_id")
    retire.set_defaults(func=run_retire)

    deploy = actions.add_parser("deploy", help="Deploy a Fireworks fine-tune so it can answer (costs money: the "
                                "cost is stated first, and nothing happens without --yes or a typed yes).")
    deploy.add_argument("model_id", help="The registry id (fireworks:accounts/<you>/models/<id>) or the Fireworks "
                                         "model name.")
    deploy.add_argument("--deployment", help="A dedicated deployment's resource name to load the LoRA onto "
                                             "(default: where Fireworks puts it).")
    deploy.add_argument("--per-hour", type=float, help="USD per GPU-hour of the dedicated deployment, to state "
                                                       "in the cost sentence.")
    deploy.add_argument("--yes", action="store_true", help="Deploy without asking (you accept the cost).")
    deploy.set_defaults(func=run_deploy)


class DeployNotConfirmedError(UserFacingError):
    """Deploying costs money and was not confirmed."""


def _price_text(row: dict) -> str:
    if row["kind"].startswith("local"):
        return "-" if row["price_per_hour"] is None else f"${row['price_per_hour']:g}/h"
    if row["price_input_per_m"] is None and row["price_output_per_m"] is None:
        return "-"
    return f"${row['price_input_per_m'] or 0:g} / ${row['price_output_per_m'] or 0:g} per 1M"


def run_list(args: argparse.Namespace) -> int:
    with open_store() as store:
        available_models(store)  # registers the defaults
        rows = list_models(store, include_retired=args.all)
    if args.json:
        print(json.dumps(rows, default=str, ensure_ascii=False, indent=1))
        return 0
    width = max([len(r["id"]) for r in rows] + [2])
    print(f"{'id':<{width}}  {'kind':<18}  {'price':<26}  name")
    for row in rows:
        retired = " (retired)" if row["retired"] else ""
        print(f"{row['id']:<{width}}  {row['kind']:<18}  {_price_text(row):<26}  {row['display_name']}{retired}")
    return 0


def run_add_endpoint(args: argparse.Namespace) -> int:
    with open_store() as store:
        model_id = add_endpoint(store, args.name, args.base_url, args.model, Prices(args.price_input, args.price_output))
    print(f"registered {model_id}")
    return 0


def run_add_local(args: argparse.Namespace) -> int:
    with open_store() as store:
        model_id = add_local_model(store, args.spec, args.name, args.price_per_hour)
    print(f"registered {model_id}")
    return 0


def run_set_price(args: argparse.Namespace) -> int:
    with open_store() as store:
        row = get_registered(store, args.model_id)
        prices = Prices(row["price_input_per_m"] if args.input is None else args.input,
                        row["price_output_per_m"] if args.output is None else args.output,
                        row["price_per_hour"] if args.per_hour is None else args.per_hour)
        set_prices(store, args.model_id, prices)
    print(f"updated {args.model_id}")
    return 0


def run_retire(args: argparse.Namespace) -> int:
    with open_store() as store:
        retire_model(store, args.model_id)
    print(f"retired {args.model_id}")
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    """State the cost, ask (or take --yes), deploy through Fireworks' API with FIREWORKS_API_KEY."""
    from core.hosted import fireworks

    model_id = args.model_id if args.model_id.startswith("fireworks:") else f"fireworks:{args.model_id}"
    with open_store() as store:
        row = get_registered(store, model_id)
        if row["kind"] != "fireworks-finetune":
            raise UserFacingError(f"{model_id} is a {row['kind']} model: only Fireworks fine-tunes are deployed here.")
        remote = str(row["remote_model"])
        as_of = _fireworks_price_date(store, row.get("base_model"))
    sentence = fireworks.deploy_cost_sentence(remote, per_hour=args.per_hour, input_per_m=row.get("price_input_per_m"),
                                              output_per_m=row.get("price_output_per_m"), as_of=as_of)
    print(sentence)
    if not args.yes:
        if not sys.stdin.isatty():
            raise DeployNotConfirmedError("Deploying costs money: nothing was deployed; run it again with --yes to "
                                          "accept the cost.")
        answer = input(f"Deploy {remote} now? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("not deployed")
            return 1
    account, _ = fireworks.split_model(remote)
    fireworks.deploy(fireworks.make_client(None, account), remote, args.deployment)
    print(f"deployed {remote}: {model_id} answers through Fireworks now (undeploy it on Fireworks' dashboard when "
          "you are done)")
    return 0


def _fireworks_price_date(store: object, base_model: str | None) -> str | None:
    from core.costs.prices import UnknownPriceError, get_price

    if not base_model:
        return None
    try:
        price = get_price(store, base_model, provider="fireworks")  # type: ignore[arg-type]
    except UnknownPriceError:
        return None
    return str(price.as_of) if price.as_of else None
