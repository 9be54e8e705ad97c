"""The API key never appears in any repr, str, log record, exception or traceback."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback

import pytest
from aioresponses import aioresponses

from gu1_async import ApiKey, Gu1Client, Gu1Error, RetryPolicy

SECRET = "gk_test_REDACTmeREDACTme7777"
SECRET_PARTS = ("REDACTmeREDACTme", SECRET)  # the masked form keeps only "7777"
BASE = "https://api.gu1.ai"
HEADERS = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "50", "Retry-After": "0"}


def assert_hidden(*texts: str) -> None:
    for text in texts:
        for part in SECRET_PARTS:
            assert part not in text, f"secret leaked into: {text[:300]!r}"


def exception_texts(exc: BaseException) -> list[str]:
    return [
        str(exc),
        repr(exc),
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        repr(vars(exc)),
    ]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": "bad"}),
        (401, {"error": {"code": "INVALID_API_KEY", "message": "Invalid API key"}}),
        (401, {"error": {"code": "EXPIRED_API_KEY", "message": "API key expired"}}),
        (403, {"error": {"code": "FORBIDDEN", "message": "Missing permission entities:read"}}),
        (404, {"error": "Entity not found"}),
        (409, {"error": "duplicate"}),
        (422, {"error": "cannot"}),
        (429, {"error": "slow down"}),
        (500, {"error": "oops"}),
        (502, "<html>bad gateway</html>"),
    ],
)
async def test_status_error_paths(
    caplog: pytest.LogCaptureFixture, status: int, body: object
) -> None:
    caplog.set_level(logging.DEBUG)
    retry = RetryPolicy(max_retries=1, max_rate_limit_retries=1, backoff_base=0.001)
    with aioresponses() as mocked:
        kwargs = {"payload": body} if isinstance(body, dict) else {"body": body}
        mocked.get(f"{BASE}/x", status=status, headers=HEADERS, repeat=True, **kwargs)
        async with Gu1Client(SECRET, retry=retry) as client:
            with pytest.raises(Gu1Error) as info:
                await client.request("GET", "/x")
            assert_hidden(repr(client), str(client.governor), repr(client.api_key))
    assert_hidden(*exception_texts(info.value))
    assert_hidden(*(record.getMessage() for record in caplog.records))
    assert_hidden(caplog.text)


async def test_connection_and_timeout_paths(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    retry = RetryPolicy(max_retries=1, backoff_base=0.001)
    errors: list[BaseException] = []
    async with Gu1Client(SECRET, base_url=f"http://127.0.0.1:{port}", retry=retry) as client:
        with pytest.raises(Gu1Error) as refused:
            await client.request("GET", "/x")
        errors.append(refused.value)
    with aioresponses() as mocked:
        mocked.get(f"{BASE}/t", exception=asyncio.TimeoutError(), repeat=True)
        mocked.get(f"{BASE}/j", status=200, body=b"not json", headers=HEADERS)
        async with Gu1Client(SECRET, retry=retry) as client:
            with pytest.raises(Gu1Error) as timed_out:
                await client.request("GET", "/t")
            with pytest.raises(Gu1Error) as not_json:
                await client.request("GET", "/j")
        errors += [timed_out.value, not_json.value]
    for error in errors:
        assert_hidden(*exception_texts(error))
    assert_hidden(caplog.text)


def test_construction_errors_hide_the_key() -> None:
    for bad in (SECRET + " ", SECRET + "\n", " " + SECRET):
        with pytest.raises(Gu1Error) as info:
            ApiKey(bad)
        assert_hidden(*exception_texts(info.value))
    with pytest.raises(Gu1Error) as info:
        Gu1Client(SECRET, base_url="http://example.com")
    assert_hidden(*exception_texts(info.value))
