"""OpenAI's token count of chat examples, the cookbook's way: 3 per message + 1 per name + 3, plus the
tokens of every text value, counted in one batch with an exact offline tiktoken counter.

    from core.formats.openai_tokens import openai_example_tokens
    openai_example_tokens([{"role": "user", "content": "hi"}], "o200k_base")

Used by the format statistics, the validator and the cost estimates (which bill these counts).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np


def count_texts(encoding: Any) -> Any:
    """A ``texts -> counts`` function for an encoding name, a TokenCounter or a tiktoken.Encoding."""
    if isinstance(encoding, str):
        from core.tokens import get_counter

        return get_counter(encoding).count
    if hasattr(encoding, "count"):
        return encoding.count
    return lambda texts: np.asarray([len(encoding.encode_ordinary(t)) for t in texts], dtype=np.int64)


def _message_strings(message: dict[str, Any]) -> list[str]:
    # The cookbook encodes every value of the message (role too); a function_call object is
    # counted as its JSON text, numbers such as ``weight`` are not text and add nothing.
    out = []
    for value in message.values():
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            out.append(json.dumps(value, ensure_ascii=False))
    return out


def openai_example_tokens(messages: Sequence[dict[str, Any]], encoding: Any = "o200k_base") -> int:
    """The cookbook's count for one example: 3 per message + 1 per name + 3, plus its text tokens."""
    return int(openai_batch_tokens([messages], encoding)[0])


def openai_batch_tokens(examples: Sequence[Sequence[dict[str, Any]]], encoding: Any = "o200k_base") -> np.ndarray:
    """``openai_example_tokens`` for many examples with one batched count."""
    count = count_texts(encoding)
    texts: list[str] = []
    owners: list[int] = []
    framing = np.zeros(len(examples), dtype=np.int64)
    for index, messages in enumerate(examples):
        framing[index] = 3
        for message in messages:
            framing[index] += 3 + (1 if "name" in message else 0)
            strings = _message_strings(message)
            texts.extend(strings)
            owners.extend([index] * len(strings))
    totals = framing
    if texts:
        totals = totals + np.bincount(np.asarray(owners), weights=count(texts), minlength=len(examples)).astype(np.int64)
    return totals
