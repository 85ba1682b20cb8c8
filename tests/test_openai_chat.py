"""core/hosted/openai_chat.py: streamed and whole answers with usage, retries, and OpenAI-compatible servers,
against the fake OpenAI server (tests/fake_openai.py) and, for odd servers, a MockTransport."""
from __future__ import annotations

import json

import httpx2
import openai
import pytest
from fake_openai import FakeOpenAI, fake_openai_fixture  # noqa: F401 - the fixture

from core.hosted.openai_chat import ChatResult, ChatUsage, build_messages, complete_chat, list_models, stream_chat
from core.hosted.openai_client import explain, make_client

MODEL = "gpt-4o-mini-2024-07-18"


def _collect(pieces) -> tuple[str, ChatUsage]:
    items = list(pieces)
    assert isinstance(items[-1], ChatUsage) and all(isinstance(p, str) for p in items[:-1])
    return "".join(items[:-1]), items[-1]


def test_stream_yields_text_then_usage(fake_openai: FakeOpenAI) -> None:
    client = make_client()
    messages = build_messages("Dune by Frank Herbert", system="Describe the book.")
    pieces = list(stream_chat(client, MODEL, messages, temperature=0))
    assert len(pieces) > 3  # really streamed, one word per chunk
    text, usage = _collect(pieces)
    assert text == f"{MODEL} says: Dune by Frank Herbert"
    assert usage.usage_reported and usage.completion_tokens == 6 and usage.prompt_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.finish_reason == "stop" and 0 <= usage.ttft_s <= usage.total_s
    sent = fake_openai.calls("POST", "/chat/completions")[-1].json()
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["messages"][0] == {"role": "system", "content": "Describe the book."}
    assert sent["temperature"] == 0


def test_complete_chat_matches_the_stream(fake_openai: FakeOpenAI) -> None:
    client = make_client()
    messages = build_messages("Dune by Frank Herbert")
    result = complete_chat(client, MODEL, messages, max_tokens=3)
    assert isinstance(result, ChatResult)
    assert result.text == f"{MODEL} says: Dune" and result.usage.finish_reason == "length"
    assert result.usage.completion_tokens == 3
    text, usage = _collect(stream_chat(client, MODEL, messages, max_tokens=3))
    assert text == result.text and usage.completion_tokens == 3 and usage.finish_reason == "length"


def test_cost_of_an_answer() -> None:
    usage = ChatUsage(model=MODEL, prompt_tokens=1_000_000, completion_tokens=500_000)
    assert usage.cost_usd(0.30, 1.20) == pytest.approx(0.90)
    assert usage.cost_usd(None, 1.20) is None
    assert ChatUsage(model=MODEL).cost_usd(0.3, 1.2) is None


def test_time_to_first_token_is_measured(fake_openai: FakeOpenAI) -> None:
    fake_openai.stream_delay_s = 0.05
    _, usage = _collect(stream_chat(make_client(), MODEL, build_messages("one two three")))
    assert usage.ttft_s >= 0.04 and usage.total_s >= usage.ttft_s + 0.15


def test_stream_and_completion_retry_429_and_500(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail("POST", "/chat/completions", 429, times=2, code="rate_limit_exceeded")
    fake_openai.fail("POST", "/chat/completions", 500, times=1, type_="server_error")
    text, _ = _collect(stream_chat(make_client(max_retries=3), MODEL, build_messages("hi")))
    assert text == f"{MODEL} says: hi"
    assert len(fake_openai.calls("POST", "/chat/completions")) == 4
    fake_openai.fail("POST", "/chat/completions", 503, times=1, type_="server_error")
    assert complete_chat(make_client(max_retries=1), MODEL, build_messages("hi")).text == f"{MODEL} says: hi"


def test_errors_are_explained(fake_openai: FakeOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        list(stream_chat(make_client(), "ft:gpt-4o-mini-2024-07-18:org::nope", build_messages("x")))
    assert "404" in explain(info.value) and "does not exist" in explain(info.value)
    fake_openai.delay("/chat/completions", 1.5, times=5)
    with pytest.raises(openai.APITimeoutError) as info:
        list(stream_chat(make_client(timeout=0.2, max_retries=0), MODEL, build_messages("x"), retries=1))
    assert "timed out" in explain(info.value)


def test_local_openai_compatible_server_without_a_key(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAI(api_key=None) as server:   # like Ollama / vLLM / llama.cpp: no auth at all
        client = make_client(base_url=server.url, require_key=False)
        assert MODEL in list_models(client)
        text, usage = _collect(stream_chat(client, MODEL, build_messages("hello")))
        assert text.endswith("hello") and usage.usage_reported


def _sse(chunks: list[dict]) -> bytes:
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


def test_server_that_rejects_stream_options_is_asked_again_without_it() -> None:
    seen: list[dict] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        seen.append(body)
        if "stream_options" in body:
            return httpx2.Response(400, json={"error": {"message": "Unrecognized request argument supplied: "
                                                                   "stream_options", "type": "invalid_request_error"}})
        base = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "llama3"}
        chunks = [{**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
                  for w in ("Hello", " there")]
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        return httpx2.Response(200, content=_sse(chunks), headers={"content-type": "text/event-stream"})

    client = make_client(api_key="x", base_url="http://old-server.test/v1",
                         http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    text, usage = _collect(stream_chat(client, "llama3", build_messages("hi")))
    assert text == "Hello there" and not usage.usage_reported and usage.prompt_tokens is None
    assert len(seen) == 2 and "stream_options" not in seen[1]


def test_a_stream_that_breaks_before_any_text_is_started_again() -> None:
    attempts = {"n": 0}

    class Broken(httpx2.SyncByteStream):
        def __iter__(self):
            raise httpx2.ReadError("connection dropped")

    def handler(request: httpx2.Request) -> httpx2.Response:
        attempts["n"] += 1
        if attempts["n"] == 1:
            return httpx2.Response(200, stream=Broken(), headers={"content-type": "text/event-stream"})
        base = {"id": "c2", "object": "chat.completion.chunk", "created": 0, "model": MODEL}
        chunks = [{**base, "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]},
                  {**base, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}]
        return httpx2.Response(200, content=_sse(chunks), headers={"content-type": "text/event-stream"})

    client = make_client(api_key="x", base_url="http://flaky.test/v1", max_retries=0,
                         http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    text, usage = _collect(stream_chat(client, MODEL, build_messages("hi")))
    assert text == "ok" and usage.total_tokens == 6 and attempts["n"] == 2
