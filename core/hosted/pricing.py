"""The estimate of a Together or Fireworks fine-tune before launch: training tokens x epochs x the
price table's row for the model (core/costs/prices.py, provider column), as an ``Estimate``
(core/costs/estimates.py) that page 3, ``python -m core train`` and the run row keep.

    estimate = estimate_hosted(store, config, data)    # config: a TrainConfig with backend together|fireworks
    estimate.billable_tokens, estimate.train_cost_usd  # None cost: no published price in the table

Both providers bill the tokens of the dataset times the epochs (Together adds n_evals x the
validation tokens). Their models' own tokenizers are not bundled, so the tokens are counted with
o200k_base and the estimate says so; Together's own quote (estimate-price, needs the uploaded file)
is logged by the backend at launch and shown beside the billed figure after the run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from core.hosted.common import PROVIDERS

ENCODING = "o200k_base"   # stands in for the models' own tokenizers (Llama, Qwen: within ~10-20 %)


def _records(config: Any, data: Any) -> tuple[list[dict[str, Any]], str | None]:
    """The training records the job will get (openai-chat or completion), as the backend writes them."""
    if data.kind == "curated":
        from core.data.curated import read_split
        from core.formats.render import DEFAULT_PRESET, TemplateConfig, get_preset, to_records

        template = TemplateConfig.from_dict(config.template) if config.template else get_preset(DEFAULT_PRESET)
        return to_records(read_split(Path(data.path), "train"), "openai-chat", template), None
    from core.costs.estimates import read_jsonl

    return read_jsonl(data.path), str(data.path)


def _tokens(records: list[dict[str, Any]]) -> int:
    from core.formats.openai_tokens import count_texts, openai_batch_tokens

    chats = [r["messages"] for r in records if isinstance(r.get("messages"), list)]
    texts = [f"{r.get('prompt', '')}{r.get('completion', '')}" for r in records if "messages" not in r]
    total = int(openai_batch_tokens(chats, ENCODING).sum()) if chats else 0
    return total + (int(count_texts(ENCODING)(texts).sum()) if texts else 0)


def estimate_hosted(store: Any, config: Any, data: Any) -> Any:
    """The estimate of ``config``'s Together / Fireworks job on ``data`` (a run_data.DataChoice)."""
    from core.costs.estimates import Estimate
    from core.costs.prices import UnknownPriceError, get_price

    hosted = config.hosted_config()
    provider = PROVIDERS[config.backend]
    records, path = _records(config, data)
    limit = hosted.max_train_examples or config.max_train_examples
    records = records[:limit] if limit else records
    per_epoch = _tokens(records)
    billable = per_epoch * int(hosted.n_epochs)
    try:
        price = get_price(store, hosted.model, provider=config.backend)
    except UnknownPriceError:
        price = None
    rate = hosted.price_training_per_m if hosted.price_training_per_m is not None else (price.training if price else None)
    cost = billable / 1e6 * rate if rate is not None else None
    estimate = Estimate(kind=config.backend, model=hosted.model, n_examples=len(records), epochs=int(hosted.n_epochs),
                        tokens_per_epoch=per_epoch, billable_tokens=billable, format=hosted.format, data_path=path,
                        train_cost_usd=cost, total_cost_usd=cost,
                        price_as_of=str(price.as_of) if price and price.as_of else None,
                        price_source=price.source if price else "")
    estimate.note("hosted-tokens", f"Tokens counted with {ENCODING}, not {hosted.model}'s own tokenizer: "
                                   f"the count at {provider.name} may differ by 10-20 %.")
    if rate is None:
        estimate.note("hosted-no-price", f"The price table has no training price for {hosted.model}: check the "
                                         f"pricing page of {provider.name} and add it on page 2.")
    return estimate
