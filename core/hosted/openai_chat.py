"""Chat completions for the playground and the evaluation, against OpenAI or any OpenAI-compatible
server (Ollama, vLLM, llama.cpp server: point ``base_url`` at it).

    from core.hosted.openai_client import make_client
    from core.hosted.openai_chat import build_messages, stream_chat, complete_chat, ChatUsage
    client = make_client()                                    # or make_client(base_url=..., require_key=False)
    for piece in stream_chat(client, "gpt-4o-mini-2024-07-18", build_messages("Title: ..."), max_tokens=200):
        if isinstance(piece, ChatUsage):
            print(piece.prompt_tokens, piece.completion_tokens, piece.ttft_s)
        else:
            print(piece, end="")
    result = complete_chat(client, model, messages, temperature=0)   # ChatResult(text, usage)

Retries: the client retries 429 / 5xx / timeouts on the request itself with back-off (see
core/hosted/openai_client.py); on top of that a stream that breaks *before* its first piece of text is
started again (``retries`` times), since nothing has been shown yet. A stream that breaks halfway
raises: the caller keeps what it showed. Servers that reject ``stream_options`` are asked again
without it, and then the usage record carries ``usage_reported=False`` and no token counts.
"""
from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai

from core.hosted.openai_client import is_transient

DEFAULT_STREAM_RETRIES = 2


@dataclass
class ChatUsage:
    """The last item of a stream (and part of every ChatResult)."""

    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    ttft_s: float | None = None        # seconds from the call to the first piece of text
    total_s: float = 0.0
    finish_reason: str | None = None   # stop | length | content_filter | ...
    usage_reported: bool = False       # False: the server sent no usage (count tokens yourself)

    def cost_usd(self, price_input_per_m: float | None, price_output_per_m: float | None) -> float | None:
        """Cost of this answer at the given prices per 1M tokens (None when either is unknown)."""
        if None in (self.prompt_tokens, self.completion_tokens, price_input_per_m, price_output_per_m):
            return None
        return (self.prompt_tokens * price_input_per_m + self.completion_tokens * price_output_per_m) / 1e6


@dataclass
class ChatResult:
    text: str
    usage: ChatUsage


def build_messages(prompt: str, system: str | None = None,
                   history: list[dict[str, str]] | None = None) -> list[dict[str, str]]:
    """[system?] + history + the user's prompt, in the chat format both OpenAI and local servers take."""
    messages = [{"role": "system", "content": system}] if system else []
    return messages + list(history or []) + [{"role": "user", "content": prompt}]


def _backoff(attempt: int) -> float:
    return min(8.0, 0.5 * 2 ** attempt) * (1 - 0.25 * random.random())


def _rejects_stream_options(exc: BaseException) -> bool:
    return isinstance(exc, openai.BadRequestError) and "stream_options" in str(exc)


def stream_chat(client: openai.OpenAI, model: str, messages: list[dict[str, Any]], *,
                retries: int = DEFAULT_STREAM_RETRIES, include_usage: bool = True,
                **settings: Any) -> Iterator[str | ChatUsage]:
    """Yield the answer's text pieces as they arrive, then one ChatUsage. ``settings`` go to
    ``chat.completions.create`` as they are (temperature, max_tokens, top_p, seed, stop, ...)."""
    start = time.perf_counter()
    attempt = 0
    while True:
        usage = ChatUsage(model=model)
        yielded = False
        try:
            extra = {"stream_options": {"include_usage": True}} if include_usage else {}
            stream = client.chat.completions.create(model=model, messages=messages, stream=True, **extra,
                                                    **settings)
            with stream:
                for chunk in stream:
                    if getattr(chunk, "usage", None):
                        usage.prompt_tokens = chunk.usage.prompt_tokens
                        usage.completion_tokens = chunk.usage.completion_tokens
                        usage.total_tokens = chunk.usage.total_tokens
                        usage.usage_reported = True
                    for choice in chunk.choices or ():
                        if choice.finish_reason:
                            usage.finish_reason = choice.finish_reason
                        text = choice.delta.content if choice.delta else None
                        if text:
                            if usage.ttft_s is None:
                                usage.ttft_s = time.perf_counter() - start
                            yielded = True
                            yield text
            usage.total_s = time.perf_counter() - start
            yield usage
            return
        except Exception as exc:
            if include_usage and not yielded and _rejects_stream_options(exc):
                include_usage = False   # an older OpenAI-compatible server: ask again without it
                continue
            if yielded or attempt >= retries or not is_transient(exc):
                raise
            time.sleep(_backoff(attempt))
            attempt += 1


def complete_chat(client: openai.OpenAI, model: str, messages: list[dict[str, Any]],
                  **settings: Any) -> ChatResult:
    """One whole answer (no streaming) with its usage and timing."""
    start = time.perf_counter()
    response = client.chat.completions.create(model=model, messages=messages, **settings)
    elapsed = time.perf_counter() - start
    choice = response.choices[0] if response.choices else None
    text = (choice.message.content if choice and choice.message else None) or ""
    usage = ChatUsage(model=model, total_s=elapsed, ttft_s=elapsed,
                      finish_reason=choice.finish_reason if choice else None)
    if response.usage is not None:
        usage.prompt_tokens = response.usage.prompt_tokens
        usage.completion_tokens = response.usage.completion_tokens
        usage.total_tokens = response.usage.total_tokens
        usage.usage_reported = True
    return ChatResult(text=text, usage=usage)


def list_models(client: openai.OpenAI) -> list[str]:
    """Model names the server offers (GET /models), sorted: for picking an endpoint's model."""
    return sorted(m.id for m in client.models.list())
