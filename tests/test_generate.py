"""Generation: settings, batched == one-at-a-time on the tiny model, streaming, storage, the bundled model."""
from __future__ import annotations

import pytest

from core.config import ConfigError, field_help
from core.generate import (
    Answer,
    GenerationSettings,
    clear_model_cache,
    generate_batch,
    record_answer,
    stream_answer,
    stream_many,
)
from core.registry import UnknownModelError, add_local_model
from core.store.compare import list_generations


def _collect(stream) -> tuple[str, Answer]:
    chunks, final = [], None
    for item in stream:
        if isinstance(item, Answer):
            final = item
        else:
            chunks.append(item)
    assert final is not None
    return "".join(chunks), final


@pytest.fixture
def tiny(store, tiny_model_dir) -> str:
    return add_local_model(store, str(tiny_model_dir), price_per_hour=3.6)


def test_settings_validate_and_round_trip() -> None:
    settings = GenerationSettings(temperature=0.7, system_prompt="Be brief.", user_template="Describe: {title}")
    assert GenerationSettings.from_json(settings.to_json()) == settings
    assert settings.messages("Dune") == [{"role": "system", "content": "Be brief."},
                                         {"role": "user", "content": "Describe: Dune"}]
    assert GenerationSettings(user_template='{"q": "{title}"}').user_message("x") == '{"q": "x"}'
    assert "greedy" in field_help(GenerationSettings, "temperature")
    for bad in ({"temperature": -1}, {"max_new_tokens": 0}, {"top_p": 0}, {"user_template": "no slot"}):
        with pytest.raises(ConfigError):
            GenerationSettings(**bad)
    assert GenerationSettings(system_prompt="  ").system_prompt is None


def test_batched_greedy_equals_one_at_a_time(store, tiny, seed_rows) -> None:
    # Titles of very different lengths, so the batch really is left-padded.
    prompts = [r["title"] for r in seed_rows["test"][:7]] + ["Hi", "A much longer title " * 6]
    settings = GenerationSettings(max_new_tokens=12)
    progress: list[tuple[int, int]] = []
    batched = generate_batch(store, tiny, prompts, settings, batch_size=4, on_progress=lambda d, t: progress.append((d, t)))
    single = [_collect(stream_answer(store, tiny, p, settings))[1] for p in prompts]
    assert [a.prompt for a in batched] == prompts
    assert [a.text for a in batched] == [a.text for a in single]
    assert [a.tokens_out for a in batched] == [a.tokens_out for a in single]
    assert [a.tokens_in for a in batched] == [a.tokens_in for a in single]
    assert progress == [(4, 9), (8, 9), (9, 9)]
    for answer in batched:
        assert answer.error is None and answer.total_s > 0 and answer.latency_first_token_s is not None
        assert answer.tokens_out <= 12
        assert answer.cost_usd == pytest.approx(answer.total_s * 3.6 / 3600)


def test_stream_yields_chunks_then_answer(store, tiny) -> None:
    text, answer = _collect(stream_answer(store, tiny, "The Hobbit", GenerationSettings(max_new_tokens=10)))
    assert text.strip() == answer.text
    assert answer.model_id == tiny and answer.prompt == "The Hobbit"
    assert 0 < answer.latency_first_token_s <= answer.total_s
    assert answer.tokens_in > 5 and 0 < answer.tokens_out <= 10


def test_sampling_repeats_with_the_same_seed(store, tiny) -> None:
    settings = GenerationSettings(temperature=1.5, max_new_tokens=10, seed=7)
    first = generate_batch(store, tiny, ["Dune", "Emma"], settings)
    again = generate_batch(store, tiny, ["Dune", "Emma"], settings)
    assert [a.text for a in first] == [a.text for a in again]


def test_stream_many_runs_columns_and_records(store, tiny) -> None:
    jobs = [(tiny, GenerationSettings(max_new_tokens=6)), (tiny, GenerationSettings(max_new_tokens=3))]
    finals: dict[int, Answer] = {}
    for index, item in stream_many(store, jobs, "Emma"):
        if isinstance(item, Answer):
            finals[index] = item
    assert set(finals) == {0, 1}
    assert finals[1].tokens_out <= 3
    gen_id = record_answer(store, finals[0], jobs[0][1], source="playground", curated_source="seed-study",
                           curated_version="abc", example_index=3, reference="ref")
    (row,) = list_generations(store)
    assert row["id"] == gen_id and row["answer"] == finals[0].text and row["model_id"] == tiny
    assert row["tokens_out"] == finals[0].tokens_out and row["example_index"] == 3
    assert GenerationSettings.from_json(row["settings_json"]).max_new_tokens == 6


def test_unknown_model_is_one_sentence(store) -> None:
    with pytest.raises(UnknownModelError, match="not registered"):
        next(iter(stream_answer(store, "local:nope", "x")))
    with pytest.raises(UnknownModelError):
        generate_batch(store, "endpoint:nope", ["x"])


def test_local_finetune_loads_base_plus_adapter(store, tiny_model_dir, tmp_path) -> None:
    from peft import LoraConfig, get_peft_model

    from core.bundled import load_model
    from core.registry import add_local_finetune

    import torch

    torch.manual_seed(1)
    peft_model = get_peft_model(load_model(str(tiny_model_dir)), LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                                                              init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "adapter")
    ft = add_local_finetune(store, "run-1", str(tiny_model_dir), tmp_path / "adapter", step=10)
    base = add_local_model(store, str(tiny_model_dir))
    settings = GenerationSettings(max_new_tokens=8)
    (ft_answer,) = generate_batch(store, ft, ["Dune"], settings)
    (base_answer,) = generate_batch(store, base, ["Dune"], settings)
    assert ft_answer.error is None and ft_answer.model_id == "local-ft:run-1@10"
    assert ft_answer.text != base_answer.text  # the random adapter changes the weights
    clear_model_cache()


@pytest.mark.slow
def test_bundled_model_batched_equals_single(store, seed_rows) -> None:
    prompts = [r["title"] for r in seed_rows["test"][:6]]
    settings = GenerationSettings(max_new_tokens=24)
    batched = generate_batch(store, "local:smollm2", prompts, settings, batch_size=6)
    single = [_collect(stream_answer(store, "local:smollm2", p, settings))[1] for p in prompts]
    assert [a.text for a in batched] == [a.text for a in single]
    assert all(a.text for a in batched)
