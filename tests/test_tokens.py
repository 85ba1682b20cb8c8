"""Token counters: gigatoken's counts are tiktoken's, offline; HF tokenizers count without specials."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.data.cleaning import clean_texts
from core.tokens import counter_for_model, encoding_name_for_model, get_counter, get_tiktoken

MAKER = Path(__file__).resolve().parent.parent.parent / "shared" / "tools" / "make_raw_dataset.py"
AWKWARD = ["", " ", "<|endoftext|> is plain text here", "<|endofprompt|><|fim_prefix|>", "olá, ação! 日本語 🙂",
           "a" * 5000, "1234567890 12 3", "  \n\n\t x  ", "\u00a0\u2028\u3000 wide spaces", "İstanbul straße ǅ",
           "don't you're I'LL", "lone \ud800 surrogate", "\udfff\ud800", "x" + "\U0001F600" * 40, "\x00\x01 ctl"]


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_fast_counts_equal_tiktoken_on_seed_rows(encoding, seed_rows) -> None:
    texts = [r["title"] for r in seed_rows["train"]] + [r["content"] for r in seed_rows["train"]] + AWKWARD
    reference = get_tiktoken(encoding)
    expected = [len(reference.encode_ordinary(t)) for t in texts]
    counter = get_counter(encoding)
    assert counter.count(texts).tolist() == expected
    assert [len(reference.encode_ordinary(t)) for t in AWKWARD] == [len(counter.encode(t)) for t in AWKWARD]
    assert counter.encode("hello world") == reference.encode_ordinary("hello world")


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_fast_counts_equal_tiktoken_on_a_generated_raw_file(encoding, tmp_path: Path) -> None:
    """Raw, HTML-entity and seed-cleaned text of 3000 generated trn.json rows, as curation counts it."""
    raw = tmp_path / "raw.json"
    subprocess.run([sys.executable, str(MAKER), "--rows", "3000", "--out", str(raw), "--seed", "7"], check=True,
                   capture_output=True)
    values = []
    for line in raw.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        values += [v for v in (row.get("title"), row.get("content")) if isinstance(v, str) and v]
    texts = values + clean_texts(values, "seed") + clean_texts(values, "html")
    reference = get_tiktoken(encoding)
    assert get_counter(encoding).count(texts).tolist() == [len(reference.encode_ordinary(t)) for t in texts]


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
