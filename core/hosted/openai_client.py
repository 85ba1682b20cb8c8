"""Making OpenAI clients, and telling a person in one sentence what went wrong with a call.

    from core.hosted.openai_client import make_client, explain
    client = make_client()                       # OPENAI_API_KEY / OPENAI_BASE_URL from the env
    client = make_client(api_key=key, base_url="http://localhost:11434/v1")   # Ollama, vLLM, ...
    try:
        client.models.list()
    except Exception as exc:
        print(explain(exc))                      # "OpenAI did not accept the API key (401) ..."

The client retries 408/409/429/5xx answers, timeouts and dropped connections itself, with
exponential back-off that honours ``Retry-After`` (``max_retries`` times), so ``explain`` only
ever sees what is left after those retries. ``as_user_error(exc)`` wraps the sentence in a
``UserFacingError`` for the CLI (exit 2) and the pages (``st.error``).

No function here ever puts the key in a message: OpenAI's own 401 text quotes part of the key,
so it is never repeated.
"""
from __future__ import annotations

import os
import re
from typing import Any

import httpx2
import openai

from core.errors import UserFacingError

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 3
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"

# The wind-down of self-serve fine-tuning (../shared/DESIGN.md, "OpenAI, as it stands").
WIND_DOWN = {
    "never_fine_tuned_blocked_from": "2026-05-07",
    "inactive_blocked_from": "2026-07-02",
    "no_new_jobs_after": "2027-01-06",
}
WIND_DOWN_SENTENCE = (
    "OpenAI is winding down self-serve fine-tuning: organisations that never fine-tuned are blocked from "
    f"{WIND_DOWN['never_fine_tuned_blocked_from']}, inactive ones from {WIND_DOWN['inactive_blocked_from']}, "
    f"and no new jobs are accepted at all after {WIND_DOWN['no_new_jobs_after']}; fine-tuned models you "
    "already have keep answering. Together (--backend together) and Fireworks (--backend fireworks) still take "
    "fine-tuning jobs, and the local open-weights backend (--backend local) always will."
)


class OpenAIUserError(UserFacingError):
    """A failed OpenAI call, explained in one sentence."""


class MissingKeyError(OpenAIUserError):
    """No API key was given and OPENAI_API_KEY is not set."""


class FileRejectedError(OpenAIUserError):
    """OpenAI (or our own check before upload) refused a training or validation file."""


class JobFailedError(OpenAIUserError):
    """The fine-tuning job ended as failed; the message carries OpenAI's own reason."""


def resolve_base_url(base_url: str | None = None) -> str:
    """The base URL in use: the argument, else OPENAI_BASE_URL, else api.openai.com."""
    return (base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_BASE_URL).rstrip("/")


def is_openai_host(base_url: str | None = None) -> bool:
    return "api.openai.com" in resolve_base_url(base_url)


def make_client(
    api_key: str | None = None,
    base_url: str | None = None,
    http_client: httpx2.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_retries: int = DEFAULT_MAX_RETRIES,
    require_key: bool = True,
) -> openai.OpenAI:
    """An ``openai.OpenAI`` client; ``api_key`` and ``base_url`` default to OPENAI_API_KEY and
    OPENAI_BASE_URL. Local OpenAI-compatible servers (Ollama, vLLM, llama.cpp) usually need no
    key: pass ``require_key=False`` and a placeholder is sent instead."""
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if not key:
        if require_key:
            raise MissingKeyError(
                "No OpenAI API key: set the OPENAI_API_KEY environment variable or type the key in the API key field."
            )
        key = "not-needed"  # the client insists on some key; local servers ignore it
    return openai.OpenAI(
        api_key=key,
        base_url=resolve_base_url(base_url),
        http_client=http_client,
        timeout=timeout,
        max_retries=max_retries,
    )


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None)


def _body(exc: BaseException) -> dict[str, Any]:
    """The error object OpenAI sent ({"message", "type", "param", "code"}), or {}."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    return body if isinstance(body, dict) else {}


def _code(exc: BaseException) -> str:
    return str(getattr(exc, "code", None) or _body(exc).get("code") or "")


def _message(exc: BaseException) -> str:
    """OpenAI's own message, without the client's 'Error code: 4xx - ' prefix or a final period."""
    text = str(_body(exc).get("message") or "")
    if not text:
        text = str(getattr(exc, "message", "") or exc)
        if text.startswith("Error code:") and " - " in text:
            text = text.split(" - ", 1)[1]
    return " ".join(text.split()).rstrip(".")


def _where(exc: BaseException) -> str:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None) if request is not None else None
    if url is None:
        return "the OpenAI API"
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")


def explain(exc: BaseException) -> str:
    """One plain sentence for any error a user of the OpenAI features will meet."""
    if isinstance(exc, UserFacingError):
        return str(exc)
    status, code = _status(exc), _code(exc)
    if isinstance(exc, openai.APITimeoutError):
        return (f"The request to {_where(exc)} timed out, even after retrying: the service is slow or "
                "unreachable right now; try again in a minute.")
    if isinstance(exc, openai.APIConnectionError):
        return (f"Could not reach {_where(exc)}: check the network connection, any proxy, and OPENAI_BASE_URL "
                "if you set it.")
    if isinstance(exc, openai.AuthenticationError) or status == 401:
        return ("OpenAI did not accept the API key (401): check that it is complete, not revoked, and belongs to "
                "the right project.")
    if code == "training_not_available":
        return f"OpenAI refused to start the fine-tuning job (403 training_not_available). {WIND_DOWN_SENTENCE}"
    if isinstance(exc, openai.PermissionDeniedError) or status == 403:
        return (f"OpenAI refused the request (403): this key or project has no access to it "
                f"({_message(exc) or 'permission denied'}).")
    if isinstance(exc, openai.RateLimitError) or status == 429:
        if code == "insufficient_quota":
            return ("OpenAI says the account has run out of quota (429 insufficient_quota): add credit or raise the "
                    "limit in the billing settings, then try again.")
        return ("OpenAI kept answering 'too many requests' (429) even after waiting and retrying: wait a minute, "
                "lower the concurrency, or check the rate limits of your tier.")
    if isinstance(exc, openai.NotFoundError) or status == 404:
        return f"OpenAI could not find what was asked for (404): {_message(exc) or 'not found'}."
    if isinstance(exc, openai.BadRequestError) or status in (400, 422):
        param = _body(exc).get("param")
        if param in ("file", "training_file", "validation_file") or "file" in code:
            what = {"training_file": "training file", "validation_file": "validation file"}.get(str(param), "file")
            return f"OpenAI rejected the {what} ({status}): {_message(exc)}."
        return f"OpenAI rejected the request ({status}): {_message(exc) or 'bad request'}."
    if isinstance(exc, openai.InternalServerError) or (status is not None and status >= 500):
        return (f"OpenAI had a server error ({status}) and still failed after retrying: it is on their side; try "
                "again in a few minutes.")
    if isinstance(exc, openai.APIStatusError):
        return f"OpenAI answered with an error ({status}): {_message(exc) or 'no details'}."
    if isinstance(exc, openai.OpenAIError):
        text = _message(exc)
        if "api_key" in text or "credentials" in text.lower():
            return ("No OpenAI API key: set the OPENAI_API_KEY environment variable or type the key in the API key "
                    "field.")
        return f"The OpenAI client failed: {text}."
    return f"Unexpected error talking to OpenAI: {type(exc).__name__}: {_message(exc)}."


def as_user_error(exc: BaseException) -> UserFacingError:
    """``exc`` as a UserFacingError with the sentence from ``explain`` (itself if it already is one)."""
    if isinstance(exc, UserFacingError):
        return exc
    return OpenAIUserError(explain(exc))


def is_transient(exc: BaseException) -> bool:
    """Worth trying again later: connection problems, timeouts, 408/409/429 (not quota), 5xx."""
    if isinstance(exc, openai.APIConnectionError):
        return True
    status = _status(exc)
    if status == 429:
        return _code(exc) != "insufficient_quota"
    return status in (408, 409) or (status is not None and status >= 500)


_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-*]{3,}")


def scrub(text: str, secrets: list[str] | tuple[str, ...] | Any = ()) -> str:
    """``text`` with every secret value, and anything shaped like an OpenAI key (``sk-...``, also
    OpenAI's own half-masked ``sk-***abcd``), replaced by *** (a last guard before anything is written)."""
    for secret in secrets or ():
        if secret and len(secret) >= 6:
            text = text.replace(secret, "***")
    return _KEY_LIKE.sub("sk-***", text)
