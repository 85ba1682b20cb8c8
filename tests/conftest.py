"""Shared fixtures: a throwaway database and results folder, the seed data, and a tiny random
model with its own tokenizer built in-process (no network, a second to build).

Slow tests (the real bundled model, big generated files) are marked ``@pytest.mark.slow``;
they run in CI too. ``-m "not slow"`` skips them locally.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "dados" / "seed"
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@pytest.fixture(autouse=True)
def isolated_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own results folder and database; the model cache is shared."""
    results = tmp_path / "resultados"
    results.mkdir()
    monkeypatch.setenv("FTDASH_RESULTS", str(results))
    monkeypatch.setenv("FTDASH_DB", str(results / "estudo.duckdb"))
    monkeypatch.setenv("FTDASH_DATA", str(tmp_path / "dados"))  # curated/ and export/ land here, not in the repo
    monkeypatch.setenv("FTDASH_MODELS", str(ROOT / "resultados" / "models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    return results


@pytest.fixture
def store():
    from core.store import Store

    with Store(":memory:") as s:
        yield s


@pytest.fixture(scope="session")
def seed_rows() -> dict[str, list[dict]]:
    return {
        split: [json.loads(line) for line in (SEED / f"{split}.jsonl").open(encoding="utf-8")]
        for split in ("train", "test")
    }


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, seed_rows) -> Path:
    """A 2-layer Llama with a 600-token BPE tokenizer trained on seed text, with a ChatML template."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny_model")
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    texts = [r["title"] + " " + r["content"] for r in seed_rows["train"][:300]]
    bpe.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=600, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None,
        unk_token=None,
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def kill_runs(store, runs) -> None:
    """SIGKILL the process group of every run given that still has one: no test leaves a trainer behind."""
    import contextlib
    import os
    import signal

    from core.store import runs as run_table

    for run in runs:
        if run.get("pid") and run["status"] not in run_table.TERMINAL:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(run["pid"]), signal.SIGKILL)


@pytest.fixture
def db_store(isolated_results: Path):
    """A Store on the test's own database file; training processes still running at the end are killed."""
    from core.store import Store
    from core.store import runs as run_table

    store = Store()
    yield store
    kill_runs(store, run_table.list_runs(store))
    store.close()


def run_page(page: str, lang: str = "en"):
    """An AppTest of ``paginas/<page>`` in ``lang``, run once. The app's Store (and cached data) live per
    process: cleared first, so the page opens this test's database."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "paginas" / page), default_timeout=120)
    at.session_state["lang"] = lang
    return at.run()

