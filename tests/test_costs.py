"""Prices as data, the cookbook's token count and epoch rule, OpenAI and local estimates, kept estimates."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from core.costs.estimates import (
    Estimate,
    EstimateInputError,
    NoThroughputError,
    estimate_local,
    estimate_openai,
    estimates_for_run,
    link_estimate_to_run,
    openai_epochs,
    padded_tokens,
    save_estimate,
)
from core.costs.prices import (
    PriceTableError,
    UnknownPriceError,
    get_price,
    list_hardware,
    list_prices,
    openai_example_limit,
    save_hardware,
    save_prices,
)
from core.formats.openai_tokens import openai_batch_tokens, openai_example_tokens
from core.formats.render import PRESETS, to_records
from core.tokens import get_tiktoken

SEED_FILE = Path(__file__).resolve().parent.parent / "dados" / "seed" / "trn_gpt4_formatted.jsonl"


# -- the epoch rule ----------------------------------------------------------------------------
@pytest.mark.parametrize("n, epochs", [
    (1, 25), (3, 25), (4, 25),      # 100 // n capped at 25
    (5, 20), (10, 10), (20, 5),
    (33, 3),                        # n*3 = 99 < 100: min(25, 100 // 33) = 3
    (34, 3),                        # n*3 = 102: the default
    (1500, 3),                      # the seed study
    (8333, 3),                      # n*3 = 24,999 <= 25,000: the default
    (8334, 2),                      # n*3 = 25,002 > 25,000: 25,000 // 8,334 = 2
    (12500, 2), (12501, 1), (25000, 1), (25001, 1), (1_000_000, 1),
])
def test_epoch_rule_at_its_boundaries(n, epochs) -> None:
    assert openai_epochs(n) == epochs


def test_requested_epochs_win_and_nonsense_is_refused() -> None:
    assert openai_epochs(10, requested=7) == 7
    with pytest.raises(EstimateInputError):
        openai_epochs(10, requested=0)
    with pytest.raises(EstimateInputError):
        openai_epochs(0)


# -- the cookbook's token count ----------------------------------------------------------------
def test_example_tokens_equal_the_cookbook_with_tiktoken(seed_rows) -> None:
    encoding = get_tiktoken("o200k_base")
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "olá <|endoftext|>", "name": "ana"},
                {"role": "assistant", "content": seed_rows["train"][0]["content"]}]
    expected = 3 + sum(3 + sum(len(encoding.encode_ordinary(v)) for v in m.values()) + ("name" in m) for m in messages)
    assert openai_example_tokens(messages, "o200k_base") == expected
    assert openai_example_tokens(messages, encoding) == expected  # a tiktoken.Encoding works too
    weighted = [dict(m, weight=1) for m in messages]
    assert openai_example_tokens(weighted, "o200k_base") == expected  # numbers are not text


def test_batch_count_equals_one_by_one(seed_rows) -> None:
    records = to_records(seed_rows["test"][:40], "openai-chat", PRESETS["describe"])
    batch = openai_batch_tokens([r["messages"] for r in records], "cl100k_base").tolist()
    assert batch == [openai_example_tokens(r["messages"], "cl100k_base") for r in records]


def test_example_limits() -> None:
    assert openai_example_limit("gpt-3.5-turbo-0125") == 16_385
    assert openai_example_limit("ft:gpt-4o-mini-2024-07-18:org:x:abc") == 65_536


# -- the price table ---------------------------------------------------------------------------
def test_seeded_prices_are_design_figures(store) -> None:
    prices = {r["model"]: r for r in list_prices(store)}
    mini = prices["gpt-4o-mini-2024-07-18"]
    assert (mini["training"], mini["input"], mini["output"], mini["retired"]) == (3.0, 0.3, 1.2, False)
    assert (prices["gpt-4.1-mini-2025-04-14"]["training"], prices["gpt-4.1-mini-2025-04-14"]["output"]) == (5.0, 3.2)
    nano = prices["gpt-4.1-nano-2025-04-14"]
    assert nano["retired"] and nano["shutdown_date"] == dt.date(2026, 10, 23) and nano["cached_input"] is None
    assert prices["gpt-3.5-turbo-0125"]["retired"] and prices["gpt-3.5-turbo-0125"]["training"] == 8.0
    assert all(r["as_of"] and r["source"] for r in prices.values())


@pytest.mark.parametrize("name, row", [
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18"),
    ("ft:gpt-4o-mini-2024-07-18:my-org:books:AbC123", "gpt-4o-mini-2024-07-18"),
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
    ("gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"),
    ("gpt-3.5-turbo", "gpt-3.5-turbo-0125"),
    ("ft:gpt-3.5-turbo-0125:org::x", "gpt-3.5-turbo-0125"),
])
def test_get_price_resolves_names(store, name, row) -> None:
    assert get_price(store, name).model == row


def test_unknown_model_is_one_sentence(store) -> None:
    with pytest.raises(UnknownPriceError, match="page 2"):
        get_price(store, "gpt-2")
    with pytest.raises(UnknownPriceError):
        get_price(store, "gpt-3.5-turbo-1106x")


def test_prices_are_editable_and_checked(store) -> None:
    rows = list_prices(store)
    rows[0]["training"] = 4.5
    rows.append({"model": "gpt-9-mini", "training": 1, "input": 0.1, "cached_input": None, "output": 0.2,
                 "as_of": "2026-11-01", "source": "test", "retired": None, "shutdown_date": None})
    rows.append({"model": None, "training": None})  # an empty editor row is ignored
    assert save_prices(store, rows) == len(rows) - 1  # every seeded row, the new one, not the empty one
    assert get_price(store, rows[0]["model"]).training == 4.5
    assert get_price(store, "gpt-9-mini").as_of == dt.date(2026, 11, 1)
    before = list_prices(store)
    for bad, message in [({"training": -1}, "zero or positive"), ({"input": "cheap"}, "must be a number"),
                         ({"as_of": "yesterday"}, "must be a date"), ({"model": ""}, "model name is empty")]:
        broken = [dict(r) for r in before]
        broken[1].update(bad)
        with pytest.raises(PriceTableError, match=message):
            save_prices(store, broken)
    with pytest.raises(PriceTableError, match="appears twice"):
        save_prices(store, before + [before[0]])
    assert list_prices(store) == before  # nothing written on error


def test_hardware_is_editable_and_checked(store) -> None:
    rows = list_hardware(store)
    assert {r["name"] for r in rows} >= {"Colab T4 (seed study)"}
    save_hardware(store, rows + [{"name": "A100", "model_size_b": 8, "tokens_per_s": 3000, "usd_per_hour": 1.2}])
    assert {r["name"] for r in list_hardware(store)} >= {"A100"}
    with pytest.raises(PriceTableError, match="above zero"):
        save_hardware(store, [{"name": "x", "tokens_per_s": 0}])



def test_this_cpu_costs_the_same_in_estimates_and_in_the_registry(store) -> None:
    from core.models.registry import DEFAULT_LOCAL_PRICE_PER_HOUR

    cpu = {r["name"]: r for r in list_hardware(store)}["CPU 2 cores (this project)"]
    assert cpu["usd_per_hour"] == DEFAULT_LOCAL_PRICE_PER_HOUR
    rows = [{**r, "usd_per_hour": 0.5} if r["name"] == cpu["name"] else r for r in list_hardware(store)]
    save_hardware(store, rows)  # a price the user set stays theirs, whatever later migrations do
    assert {r["name"]: r for r in list_hardware(store)}[cpu["name"]]["usd_per_hour"] == 0.5


# -- OpenAI estimates --------------------------------------------------------------------------
def test_openai_estimate_of_the_seed_file(store, seed_rows) -> None:
    est = estimate_openai(store, "gpt-4o-mini-2024-07-18", SEED_FILE, seed_rows["test"], today=dt.date(2026, 11, 25))
    assert (est.n_examples, est.epochs, est.tokens_per_epoch, est.billable_tokens) == (1500, 3, 333_169, 999_507)
    # The seed's job billed 990,507 tokens (~$3): the cookbook count is 0.9% above it.
    assert est.train_cost_usd == pytest.approx(999_507 / 1e6 * 3.0)
    encoding = get_tiktoken("o200k_base")
    prompts = to_records(seed_rows["test"], "openai-chat", PRESETS["seed-openai"])
    input_tokens = sum(3 + 3 + len(encoding.encode_ordinary("user")) + len(encoding.encode_ordinary(r["title"]))
                       for r in seed_rows["test"])
    output_tokens = sum(len(encoding.encode_ordinary(r["content"])) for r in seed_rows["test"])
    assert len(prompts) == est.inference_examples == 500
    assert (est.inference_input_tokens, est.inference_output_tokens) == (input_tokens, output_tokens)
    assert est.inference_cost_usd == pytest.approx(input_tokens / 1e6 * 0.30 + output_tokens / 1e6 * 1.20)
    assert est.total_cost_usd == pytest.approx(est.train_cost_usd + est.inference_cost_usd)
    assert any("2027-01-06" in n for n in est.notes)
    assert "billable training tokens: 999,507" in est.summary()


def test_openai_estimate_truncates_at_the_limit_and_warns_for_retired_models(store) -> None:
    long = {"messages": [{"role": "user", "content": "word " * 17_000}, {"role": "assistant", "content": "x"}]}
    short = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    est = estimate_openai(store, "gpt-3.5-turbo", [long] + [short] * 49)
    short_tokens = openai_example_tokens(short["messages"], "cl100k_base")
    assert est.epochs == 3 and est.n_over_limit == 1
    assert est.tokens_per_epoch == 16_385 + 49 * short_tokens
    assert est.inference_cost_usd is None and est.train_cost_usd == pytest.approx(est.billable_tokens / 1e6 * 8.0)
    assert any("retired" in n for n in est.notes)


def test_openai_estimate_from_curated_rows_uses_the_template(store, seed_rows) -> None:
    rows = seed_rows["train"][:30]
    est = estimate_openai(store, "gpt-4.1-mini", rows, epochs=2, template=PRESETS["describe"])
    records = to_records(rows, "openai-chat", PRESETS["describe"])
    assert est.tokens_per_epoch == sum(openai_example_tokens(r["messages"], "o200k_base") for r in records)
    assert est.epochs == 2 and est.model == "gpt-4.1-mini-2025-04-14"


def test_openai_estimate_refuses_other_formats(store, seed_rows) -> None:
    with pytest.raises(EstimateInputError, match="openai-chat"):
        estimate_openai(store, "gpt-4o-mini", to_records(seed_rows["train"][:20], "alpaca", PRESETS["seed-openai"]))


# -- local estimates ---------------------------------------------------------------------------
def test_padded_tokens() -> None:
    assert padded_tokens([10, 20, 5, 5, 7], seq_len=100, batch_size=2) == 2 * 20 + 2 * 5 + 7
    assert padded_tokens([10, 200], seq_len=50, batch_size=2) == 100


def test_local_estimate_with_hardware_and_hourly_price(store, seed_rows, tiny_model_dir) -> None:
    spec = str(tiny_model_dir)
    rows = seed_rows["train"][:40]
    save_hardware(store, [{"name": "rig", "model_size_b": None, "tokens_per_s": 1000.0, "usd_per_hour": 3.6}])
    est = estimate_local(store, spec, rows, "chat-template", epochs=2, seq_len=128, batch_size=4, hardware="rig")
    from core.costs.estimates import local_token_counts

    counts = local_token_counts(spec, to_records(rows, "chat-template", None, spec), "chat-template")
    assert est.billable_tokens == 2 * padded_tokens(counts, 128, 4)
    assert est.time_s == pytest.approx(est.billable_tokens / 1000.0)
    assert est.total_cost_usd == pytest.approx(est.time_s / 3600 * 3.6)
    assert est.n_over_limit == int((counts > 128).sum())
    with pytest.raises(NoThroughputError, match="no row"):
        estimate_local(store, spec, rows, "chat-template", hardware="nope")


def test_local_estimate_uses_a_cached_calibration(store, seed_rows, tiny_model_dir) -> None:
    from core.costs.calibrate import device_name
    from core.store.formats import save_calibration_row

    spec = str(tiny_model_dir)
    with pytest.raises(NoThroughputError, match="calibration"):
        estimate_local(store, spec, seed_rows["train"][:8], "alpaca")
    save_calibration_row(store, "k", spec, device_name(), 256, 4, 500.0, 2.0, {})
    est = estimate_local(store, spec, seed_rows["train"][:8], "alpaca", seq_len=200)
    assert est.tokens_per_s == 500.0 and "calibration" in est.throughput_source
    assert est.usd_per_hour is None and est.total_cost_usd is None


def test_estimates_are_kept_and_linked_to_runs(store, seed_rows) -> None:
    est = estimate_openai(store, "gpt-4o-mini", seed_rows["train"][:20])
    estimate_id = save_estimate(store, est)
    assert estimate_id == est.id and estimates_for_run(store, "run-1") == []
    link_estimate_to_run(store, estimate_id, "run-1")
    kept = estimates_for_run(store, "run-1")
    assert len(kept) == 1 and kept[0]["billable_tokens"] == est.billable_tokens
    details = json.loads(kept[0]["details_json"])
    assert Estimate(**{**details, "id": estimate_id}).summary() == est.summary()


def test_migrations_are_in_the_formats_range(store) -> None:
    names = [n for n in store.applied_migrations() if n.startswith("02")]
    assert names == ["0201_prices", "0202_seed_prices", "0203_hardware", "0204_estimates", "0205_calibrations",
                     "0206_hardware_h100", "0207_cpu_price", "0208_public_sources", "0209_provider_prices"]


def test_seeded_sources_name_public_pages_not_files_a_clone_lacks(tmp_path) -> None:
    """0208 rewrites the seeded sources that pointed at DESIGN.md (in ../shared/, outside the repo);
    a source the user wrote is kept."""
    from core.store import Store
    from core.store import formats as fdb

    with Store(":memory:") as fresh:
        sources = [r["source"] for r in list_prices(fresh)] + [r["source"] for r in list_hardware(fresh)]
        assert sources and not any("DESIGN.md" in s or "../shared" in s for s in sources)
        assert all("platform.openai.com/docs/pricing" in r["source"] for r in list_prices(fresh)
                   if r["provider"] == "openai")
        hosted = [r for r in list_prices(fresh) if r["provider"] != "openai"]
        assert hosted and all("https://" in r["source"] and r["as_of"] for r in hosted)
        # Together's rates could not be read: empty, with the page to check, never invented figures
        assert all(r["training"] is None and "pricing page" in r["source"] for r in hosted if r["provider"] == "together")
    path = tmp_path / "old.duckdb"
    with Store(path) as old:  # a database from before 0208: seeded text, one row edited by the user
        old.execute("DELETE FROM schema_migrations WHERE name = '0208_public_sources'")
        old.execute("UPDATE prices SET source = ? || ' (seeded)' WHERE model <> 'gpt-3.5-turbo-0125'",
                    [fdb._PRICE_SOURCE])
        old.execute("UPDATE prices SET source = 'my invoice, May 2026' WHERE model = 'gpt-3.5-turbo-0125'")
        old.execute("UPDATE hardware SET source = 'DESIGN.md: SmolLM2-135M LoRA r=8' "
                    "WHERE name = 'CPU 2 cores (this project)'")
    with Store(path) as reopened:
        prices = {r["model"]: r["source"] for r in list_prices(reopened)}
        assert prices["gpt-3.5-turbo-0125"] == "my invoice, May 2026"
        assert prices["gpt-4o-mini-2024-07-18"] == fdb.PRICE_SOURCE + " (seeded)"
        cpu = next(r for r in list_hardware(reopened) if r["name"] == "CPU 2 cores (this project)")
        assert cpu["source"] == "Project estimate, SmolLM2-135M LoRA r=8"
