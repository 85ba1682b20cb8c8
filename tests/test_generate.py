"""Generation: settings, batched == one-at-a-time on the tiny model, streaming, storage, the bundled model."""
from __future__ import annotations

import pytest
from fake_openai import FAKE_KEY, fake_openai_fixture  # noqa: F401 - the fixture

from core.config import ConfigError, field_help
from core.models.answers import Answer, GenerationSettings
from core.models.generate import clear_model_cache, generate_batch, record_answer, stream_answer, stream_many
from core.models.registry import UnknownModelError, add_local_model
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


@pytest.fixture(scope="module")
def lively_model_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model with larger random weights. The fixture's own weights (std 0.02) answer a
    string of newlines to everything, and empty answers would make 'batched == one at a time' true
    for nothing; these give varied answers of varied lengths."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tmp_path_factory.mktemp("lively_model")
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() > 1:
                parameter.normal_(0.0, 0.3)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(folder)
    return folder


@pytest.fixture
def tiny(store, lively_model_dir) -> str:
    return add_local_model(store, str(lively_model_dir), price_per_hour=3.6)


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
    assert sum(bool(a.text) for a in batched) >= len(prompts) - 1 and len({a.text for a in batched}) > 3
    assert [a.text for a in batched] == [a.text for a in single]
    assert [a.tokens_out for a in batched] == [a.tokens_out for a in single]
    assert [a.tokens_in for a in batched] == [a.tokens_in for a in single]
    assert progress == [(4, 9), (8, 9), (9, 9)]
    for answer in batched:
        assert answer.error is None and answer.total_s > 0 and answer.latency_first_token_s is not None
        assert answer.tokens_out <= 12
        assert answer.cost_usd == pytest.approx(answer.total_s * 3.6 / 3600)


def test_shared_prefix_batches_equal_one_at_a_time(store, tiny, seed_rows) -> None:
    from core.models.generate import MIN_SHARED_PREFIX, _shared_prefix, load_local, prompt_text
    from core.models.registry import get_registered

    # A long system prompt: every row of the batch starts with the same tokens, computed once.
    settings = GenerationSettings(max_new_tokens=10, system_prompt="You are a librarian. Describe the book "
                                  "whose title follows, in the style of a publisher's blurb.",
                                  user_template="Title: {title}")
    prompts = [r["title"] for r in seed_rows["test"][10:16]] + ["X"]
    local = load_local(get_registered(store, tiny))
    rows = [local.tokenizer(prompt_text(local.tokenizer, p, settings), add_special_tokens=False)["input_ids"]
            for p in prompts]
    assert _shared_prefix(rows) >= MIN_SHARED_PREFIX
    batched = generate_batch(store, tiny, prompts, settings, batch_size=7)
    single = [_collect(stream_answer(store, tiny, p, settings))[1] for p in prompts]
    assert sum(bool(a.text) for a in batched) >= len(prompts) - 1 and len({a.text for a in batched}) > 3
    assert [a.text for a in batched] == [a.text for a in single]
    assert [a.tokens_in for a in batched] == [len(r) for r in rows]


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
    import torch
    from peft import LoraConfig, get_peft_model

    from core.bundled import load_model
    from core.models.registry import add_local_finetune

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


def test_openai_stream_and_batch_against_the_fake_server(store, fake_openai) -> None:
    model_id = "openai:gpt-4o-mini-2024-07-18"
    text, answer = _collect(stream_answer(store, model_id, "Dune", GenerationSettings(max_new_tokens=50)))
    assert text == answer.text == "gpt-4o-mini-2024-07-18 says: Dune"
    assert answer.error is None and answer.latency_first_token_s is not None
    assert (answer.tokens_in, answer.tokens_out) == (1 + 3 + 3, 3)  # the fake's word counts
    assert answer.cost_usd == pytest.approx((7 * 0.30 + 3 * 1.20) / 1e6)
    sent = fake_openai.calls("POST", "/chat/completions")[-1].json()
    assert sent["max_completion_tokens"] == 50 and sent["stream"] is True and sent["temperature"] == 0.0

    fake_openai.fail("POST", "/chat/completions", 429, times=2)  # backoff: retried, then answered
    prompts = [f"Title {i}" for i in range(6)]
    done: list[int] = []
    answers = generate_batch(store, model_id, prompts, GenerationSettings(system_prompt="Be brief."),
                             on_progress=lambda d, t: done.append(d))
    assert [a.text for a in answers] == [f"gpt-4o-mini-2024-07-18 says: {p}" for p in prompts]
    assert all(a.error is None and a.cost_usd > 0 for a in answers)
    assert sorted(done) == [1, 2, 3, 4, 5, 6]


def test_remote_errors_become_one_sentence_answers(store, fake_openai, monkeypatch) -> None:
    from core.models.registry import add_openai_finetune

    missing = add_openai_finetune(store, "ft:gpt-4o-mini-2024-07-18:org::gone", "gpt-4o-mini-2024-07-18")
    _, answer = _collect(stream_answer(store, missing, "Dune"))
    assert answer.text == "" and "could not find" in answer.error and answer.cost_usd is None
    (batch_answer,) = generate_batch(store, missing, ["Dune"])
    assert "404" in batch_answer.error
    fake_openai.api_key = FAKE_KEY
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-0000000000")
    _, answer = _collect(stream_answer(store, "openai:gpt-4o-mini-2024-07-18", "Dune"))
    assert "did not accept the API key" in answer.error and "sk-wrong" not in answer.error
    _, answer = _collect(stream_answer(store, "openai:gpt-4o-mini-2024-07-18", "Dune", api_key=FAKE_KEY))
    assert answer.error is None


def test_endpoint_model_uses_its_own_url_and_no_openai_key(store, fake_openai, monkeypatch) -> None:
    from core.models.registry import Prices, add_endpoint

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # must not be used for the endpoint
    fake_openai.api_key = None  # a keyless server, like Ollama
    model_id = add_endpoint(store, "local-vllm", fake_openai.url, "gpt-4.1-mini-2025-04-14", Prices(1.0, 2.0))
    answers = generate_batch(store, model_id, ["Emma", "Dune"], GenerationSettings(max_new_tokens=3))
    assert [a.text for a in answers] == ["gpt-4.1-mini-2025-04-14 says: Emma", "gpt-4.1-mini-2025-04-14 says: Dune"]
    request = fake_openai.calls("POST", "/chat/completions")[-1]
    assert request.json()["max_tokens"] == 3
    assert FAKE_KEY not in str(request.headers)  # our OpenAI key never goes to another server
    fake_openai.api_key = "sk-endpoint-only-key-42"
    monkeypatch.setenv("FTDASH_ENDPOINT_API_KEY", "sk-endpoint-only-key-42")
    _, answer = _collect(stream_answer(store, model_id, "Emma"))
    assert answer.error is None and answer.cost_usd > 0


def test_cli_generate_streams_and_stores(tiny_model_dir, tmp_path, capsys) -> None:
    from core.cli import main
    from core.store import Store

    db = str(tmp_path / "cli.duckdb")
    assert main(["--db", db, "models", "add-local", str(tiny_model_dir), "--price-per-hour", "1"]) == 0
    model_id = capsys.readouterr().out.split()[-1]
    assert main(["--db", db, "generate", "--model", model_id, "--example", "2", "--max-new-tokens", "5"]) == 0
    out, err = capsys.readouterr()
    assert "tokens in" in err and "cost $" in err
    assert main(["--db", db, "generate", "--model", model_id]) == 2
    assert "--prompt" in capsys.readouterr().err
    assert main(["--db", db, "generate", "--model", "local:nope", "--prompt", "x"]) == 2
    with Store(db) as store:
        (row,) = list_generations(store)
    assert row["source"] == "cli" and row["example_index"] == 2 and row["curated_source"] == "seed-study"
    assert row["answer"] == out.strip() and row["reference"]


@pytest.mark.slow
def test_bundled_model_batched_equals_single(store, seed_rows) -> None:
    prompts = [r["title"] for r in seed_rows["test"][:6]]
    settings = GenerationSettings(max_new_tokens=24)
    batched = generate_batch(store, "local:smollm2", prompts, settings, batch_size=6)
    single = [_collect(stream_answer(store, "local:smollm2", p, settings))[1] for p in prompts]
    assert [a.text for a in batched] == [a.text for a in single]
    assert all(a.text for a in batched)
