"""core/hosted/openai_client.py: clients honour the environment, retries happen, every error a user meets
becomes one plain sentence. Against the fake OpenAI server (tests/fake_openai.py) and, for the
unit cases, the real client with an httpx2.MockTransport."""
from __future__ import annotations

import socket

import httpx2
import openai
import pytest
from fake_openai import FAKE_KEY, FakeOpenAI, fake_openai_fixture  # noqa: F401 - the fixture

from core.errors import UserFacingError
from core.hosted.openai_client import (
    WIND_DOWN,
    MissingKeyError,
    as_user_error,
    explain,
    is_transient,
    make_client,
    resolve_base_url,
)


def test_client_uses_openai_base_url_and_key_from_the_environment(fake_openai: FakeOpenAI) -> None:
    client = make_client()
    assert str(client.base_url).rstrip("/") == fake_openai.url
    assert "gpt-4o-mini-2024-07-18" in [m.id for m in client.models.list()]
    assert fake_openai.requests[-1].headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_explicit_arguments_win_over_the_environment(fake_openai: FakeOpenAI, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-from-env")
    client = make_client(api_key=FAKE_KEY, base_url=fake_openai.url)
    assert client.models.list().data
    assert resolve_base_url() == "http://127.0.0.1:9/v1"


def test_no_key_is_one_sentence(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingKeyError) as info:
        make_client()
    assert "OPENAI_API_KEY" in str(info.value) and isinstance(info.value, UserFacingError)
    assert make_client(require_key=False, base_url="http://127.0.0.1:1/v1").api_key == "not-needed"


def test_wrong_key_401_never_repeats_the_key(fake_openai: FakeOpenAI) -> None:
    client = make_client(api_key="sk-wrong-key-that-must-not-leak-9876")
    with pytest.raises(openai.AuthenticationError) as info:
        client.models.list()
    sentence = explain(info.value)
    assert "401" in sentence and "API key" in sentence
    assert "9876" not in sentence and "sk-" not in sentence


def test_429_is_retried_with_backoff_then_succeeds(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail("GET", "^/models$", 429, times=3, code="rate_limit_exceeded", message="Rate limit reached")
    client = make_client(max_retries=3)
    assert client.models.list().data
    assert len(fake_openai.calls("GET", "^/models$")) == 4


def test_429_after_all_retries_and_quota(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail("GET", "^/models$", 429, times=3, code="rate_limit_exceeded")
    with pytest.raises(openai.RateLimitError) as info:
        make_client(max_retries=2).models.list()
    assert "429" in explain(info.value) and "retrying" in explain(info.value)
    assert len(fake_openai.calls("GET", "^/models$")) == 3

    fake_openai.fail("GET", "^/models$", 429, times=1, code="insufficient_quota", type_="insufficient_quota",
                     message="You exceeded your current quota")
    with pytest.raises(openai.RateLimitError) as info:
        make_client(max_retries=0).models.list()
    assert "quota" in explain(info.value) and "billing" in explain(info.value)
    assert not is_transient(info.value)


def test_403_training_not_available_explains_the_wind_down(fake_openai: FakeOpenAI) -> None:
    fake_openai.block_training()
    with pytest.raises(openai.PermissionDeniedError) as info:
        make_client().fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file="file-x")
    sentence = explain(info.value)
    for date in WIND_DOWN.values():
        assert date in sentence
    assert "training_not_available" in sentence and "local" in sentence and "keep answering" in sentence


def test_500_is_retried_and_explained_when_it_persists(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail("GET", "^/models$", 500, times=1, type_="server_error")
    assert make_client(max_retries=1).models.list().data
    fake_openai.fail("GET", "^/models$", 503, times=3, type_="server_error")
    with pytest.raises(openai.InternalServerError) as info:
        make_client(max_retries=1).models.list()
    assert "server error (503)" in explain(info.value)
    assert is_transient(info.value)


def test_slow_response_times_out(fake_openai: FakeOpenAI) -> None:
    fake_openai.delay("^/models$", 1.5)
    with pytest.raises(openai.APITimeoutError) as info:
        make_client(timeout=0.3, max_retries=0).models.list()
    assert "timed out" in explain(info.value)
    assert is_transient(info.value)


def test_network_unreachable(monkeypatch) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(api_key="sk-x", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout=2)
    with pytest.raises(openai.APIConnectionError) as info:
        client.models.list()
    sentence = explain(info.value)
    assert sentence.startswith(f"Could not reach http://127.0.0.1:{port}") and "OPENAI_BASE_URL" in sentence


def test_rejected_file_and_not_found_via_mock_transport() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/fine_tuning/jobs"):
            return httpx2.Response(400, json={"error": {
                "message": "File file-1 has 3 examples, but at least 10 are required.",
                "type": "invalid_request_error", "param": "training_file", "code": "invalid_training_file"}})
        return httpx2.Response(404, json={"error": {"message": "The model `nope` does not exist.",
                                                    "type": "invalid_request_error", "code": "model_not_found"}})

    client = make_client(api_key="sk-unit", base_url="http://fake.test/v1",
                         http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file="file-1")
    assert explain(info.value) == ("OpenAI rejected the training file (400): File file-1 has 3 examples, but at "
                                   "least 10 are required.")
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("nope")
    assert explain(info.value) == "OpenAI could not find what was asked for (404): The model `nope` does not exist."


def test_as_user_error_and_plain_errors() -> None:
    already = UserFacingError("Already one sentence.")
    assert as_user_error(already) is already and explain(already) == "Already one sentence."
    wrapped = as_user_error(openai.OpenAIError("something odd"))
    assert isinstance(wrapped, UserFacingError) and str(wrapped).endswith(".")
    assert "ValueError" in explain(ValueError("boom"))


def test_model_lookup_on_the_fake(fake_openai: FakeOpenAI) -> None:
    client = make_client()
    assert client.models.retrieve("gpt-4o-mini-2024-07-18").id == "gpt-4o-mini-2024-07-18"
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("ft:gpt-4o-mini-2024-07-18:org::none")
    assert explain(info.value).startswith("OpenAI could not find what was asked for (404)")
