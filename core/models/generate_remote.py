"""Answers of remote models (OpenAI, OpenAI fine-tunes, Together and Fireworks fine-tunes, any
OpenAI-compatible endpoint) for core.models.generate.

    for item in stream_remote(model, "The Hobbit", GenerationSettings()):   # text pieces, then an Answer
        ...
    answers = batch_remote(model, titles, GenerationSettings(), on_progress=None, api_key=None)

Requests go through core/hosted/openai_chat.py (streaming, usage, retries of a broken stream); the client
retries 408/429/5xx with backoff; a batch keeps REMOTE_CONCURRENCY requests in flight. A request
that fails comes back as an Answer with ``error`` set. Where the server sends no usage, tokens are
counted with the model's tokenizer (o200k_base for an unknown endpoint model), so every answer has
a cost. Our OpenAI key is never sent to an endpoint's server, nor to Together or Fireworks: a
Together / Fireworks fine-tune answers through its provider's OpenAI-compatible chat API with that
provider's key only (TOGETHER_API_KEY / FIREWORKS_API_KEY, or ``api_key={"together": KEY}``).
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from core.models.answers import Answer, GenerationSettings
from core.models.registry import answer_cost

REMOTE_CONCURRENCY = 4
HOSTED_KINDS = ("together-finetune", "fireworks-finetune")
# A key given as a plain string is the OpenAI key (the pages' password field); a mapping names the
# provider of each key: {"openai": ..., "together": ..., "fireworks": ...}.
ApiKey = str | Mapping[str, str] | None


def _key_for(provider: str, api_key: ApiKey) -> str | None:
    if isinstance(api_key, Mapping):
        return api_key.get(provider) or None
    return api_key if provider == "openai" else None


def _client(model: dict[str, Any], max_retries: int, api_key: ApiKey = None) -> Any:
    """An OpenAI client for the model (core/hosted/openai_client.py): OpenAI itself (OPENAI_API_KEY /
    OPENAI_BASE_URL), a Together / Fireworks fine-tune's provider (its chat base URL and its own
    key), or an endpoint's own base URL with $FTDASH_ENDPOINT_API_KEY or no key at all: our OpenAI
    key is never sent to another server."""
    from core.hosted.openai_client import make_client

    if model["kind"] in HOSTED_KINDS:
        from core.hosted.models import KINDS, chat_client

        return chat_client(model, api_key=_key_for(KINDS[model["kind"]], api_key), max_retries=max_retries)
    if model["kind"] == "endpoint":
        return make_client(api_key=os.environ.get("FTDASH_ENDPOINT_API_KEY") or "not-needed",
                           base_url=model["endpoint_url"], max_retries=max_retries, require_key=False)
    return make_client(api_key=_key_for("openai", api_key), max_retries=max_retries)


def _request_settings(model: dict[str, Any], settings: GenerationSettings) -> dict[str, Any]:
    request: dict[str, Any] = {"temperature": settings.temperature, "top_p": settings.top_p, "seed": settings.seed}
    # OpenAI's newer models reject max_tokens; OpenAI-compatible servers mostly know only max_tokens.
    plain = model["kind"] == "endpoint" or model["kind"] in HOSTED_KINDS
    request["max_tokens" if plain else "max_completion_tokens"] = settings.max_new_tokens
    return request


def _count_tokens(model: dict[str, Any], texts: Sequence[str]) -> int:
    from core.errors import UserFacingError
    from core.tokens import get_counter

    if model["kind"] in HOSTED_KINDS:  # their models' tokenizers are not here (and never fetched)
        return int(get_counter("o200k_base").count(list(texts)).sum())
    from core.tokens import counter_for_model

    try:
        counter = counter_for_model(model.get("remote_model") or "")
    except (UserFacingError, OSError, ValueError):
        counter = get_counter("o200k_base")  # an estimate beats no number for an unknown endpoint model
    return int(counter.count(list(texts)).sum())


def _remote_answer(model: dict[str, Any], prompt: str, settings: GenerationSettings, text: str,
                   usage: Any, total: float, error: str | None) -> Answer:
    if usage is not None and usage.prompt_tokens is not None:
        n_in, n_out = int(usage.prompt_tokens), int(usage.completion_tokens or 0)
    else:  # the server sent no usage (or the call failed): count with the model's tokenizer
        n_in = _count_tokens(model, [m["content"] for m in settings.messages(prompt)]) + 3 * 2
        n_out = _count_tokens(model, [text]) if text else 0
    ttft = usage.ttft_s if usage is not None else None
    cost = answer_cost(model, n_in, n_out, total) if error is None or text else None
    return Answer(model["id"], prompt, text.strip(), ttft, total, n_in, n_out, cost, error)


def _explain(model: dict[str, Any], exc: BaseException) -> str:
    """One sentence for a failed request, naming the model's provider."""
    if model["kind"] in HOSTED_KINDS:
        from core.hosted.models import explain_chat

        return explain_chat(model, exc)
    from core.hosted.openai_client import explain

    return explain(exc)


def stream_remote(model: dict[str, Any], prompt: str, settings: GenerationSettings,
                   api_key: ApiKey) -> Iterator[str | Answer]:
    from core.hosted.openai_chat import ChatUsage, stream_chat

    try:
        client = _client(model, max_retries=2, api_key=api_key)
    except Exception as exc:  # no key for that provider: the answer says so, in one sentence
        yield _remote_answer(model, prompt, settings, "", None, 0.0, _explain(model, exc))
        return
    start, parts, usage, error = time.perf_counter(), [], None, None
    try:
        for piece in stream_chat(client, model["remote_model"], settings.messages(prompt),
                                 **_request_settings(model, settings)):
            if isinstance(piece, ChatUsage):
                usage = piece
            else:
                parts.append(piece)
                yield piece
    except Exception as exc:  # what was shown is kept; the error is told in one sentence
        error = _explain(model, exc)
    yield _remote_answer(model, prompt, settings, "".join(parts), usage, time.perf_counter() - start, error)


def _complete_remote(client: Any, model: dict[str, Any], prompt: str, settings: GenerationSettings) -> Answer:
    from core.hosted.openai_chat import complete_chat

    start = time.perf_counter()
    try:
        result = complete_chat(client, model["remote_model"], settings.messages(prompt),
                               **_request_settings(model, settings))
    except Exception as exc:
        return _remote_answer(model, prompt, settings, "", None, time.perf_counter() - start, _explain(model, exc))
    return _remote_answer(model, prompt, settings, result.text, result.usage, result.usage.total_s, None)


def batch_remote(model: dict[str, Any], prompts: Sequence[str], settings: GenerationSettings,
                  on_progress: Callable[[int, int], None] | None, api_key: ApiKey) -> list[Answer]:
    from concurrent.futures import ThreadPoolExecutor

    # The client retries 408/429/5xx answers with exponential backoff (honouring Retry-After);
    # a few requests in flight at once keep well under the rate limits of the lowest tiers.
    client = _client(model, max_retries=6, api_key=api_key)
    answers: list[Answer | None] = [None] * len(prompts)
    lock = threading.Lock()
    done = 0

    def one(i: int) -> None:
        nonlocal done
        answers[i] = _complete_remote(client, model, prompts[i], settings)
        with lock:
            done += 1
            if on_progress:
                on_progress(done, len(prompts))

    with ThreadPoolExecutor(max_workers=REMOTE_CONCURRENCY) as pool:
        list(pool.map(one, range(len(prompts))))
    return [a for a in answers if a is not None]
