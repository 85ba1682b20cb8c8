"""Token counters: quicktok's counts are tiktoken's, offline; HF tokenizers count without specials."""
from __future__ import annotations

import pytest

from core.tokens import counter_for_model, encoding_name_for_model, get_counter, get_tiktoken


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_fast_counts_equal_tiktoken_on_seed_rows(encoding, seed_rows) -> None:
    texts = [r["title"] for r in seed_rows["train"]] + [r["content"] for r in seed_rows["train"]]
    texts += ["", " ", "<|endoftext|> is plain text here", "olá, ação! 日本語 🙂", "a" * 5000]
    reference = get_tiktoken(encoding)
    expected = [len(reference.encode_ordinary(t)) for t in texts]
    assert get_counter(encoding).count(texts).tolist() == expected


def test_model_names_map_to_encodings() -> None:
    assert encoding_name_for_model("gpt-4o-mini-2024-07-18") == "o200k_base"
    assert encoding_name_for_model("ft:gpt-4o-mini-2024-07-18:org:suffix:abc123") == "o200k_base"
    assert encoding_name_for_model("gpt-3.5-turbo") == "cl100k_base"
    assert counter_for_model("gpt-4.1-mini").name == "o200k_base"


def test_hf_counter_on_a_local_tokenizer(tiny_model_dir) -> None:
    from transformers import AutoTokenizer

    counter = get_counter(f"hf:{tiny_model_dir}")
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    texts = ["hello world", "the author wrote it", ""]
    assert counter.count(texts).tolist() == [len(tok.encode(t, add_special_tokens=False)) for t in texts]
