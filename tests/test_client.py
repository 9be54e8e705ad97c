from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aioresponses import CallbackResult, aioresponses
from yarl import URL

from gu1_async import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    Gu1Client,
    MissingApiKeyError,
    NotFoundError,
    PermissionDeniedError,
    Priority,
    RateLimitError,
    RetryPolicy,
    ServerError,
    Timeout,
    UnprocessableEntityError,
)
from gu1_async._clock import FakeClock

FAKE_KEY = "gk_test_clientKEY0001"

BASE = "https://api.gu1.ai"
HEADERS = {
    "X-RateLimit-Limit": "100",
    "X-RateLimit-Remaining": "99",
    "X-RateLimit-Reset": "2030-01-01T01:00:00Z",
    "Date": "Tue, 01 Jan 2030 00:00:00 GMT",
}


def sent(mocked: aioresponses, method: str, url: str) -> list[Any]:
    """Calls recorded for method + URL, whatever their query string."""
    target = URL(url).with_query(None)
    return [
        call
        for (m, u), calls in mocked.requests.items()
        if m == method and u.with_query(None) == target
        for call in calls
    ]


async def test_missing_key_says_how_to_supply_one() -> None:
    with pytest.raises(MissingApiKeyError, match="GU1_API_KEY"):
        Gu1Client()


async def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GU1_API_KEY", FAKE_KEY)
    async with Gu1Client() as client:
        assert client.api_key.reveal() == FAKE_KEY


@pytest.mark.parametrize(
    "url", ["http://api.gu1.ai", "http://10.0.0.5:8080", "ftp://x", "api.gu1.ai", "https://x/?q=1"]
)
async def test_unsafe_or_bad_base_url_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        Gu1Client(FAKE_KEY, base_url=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"])
async def test_plain_http_allowed_on_loopback(url: str) -> None:
    async with Gu1Client(FAKE_KEY, base_url=url) as client:
        assert client.base_url == url


async def test_request_shape_and_decoding(mock_api: aioresponses) -> None:
    mock_api.post(
        f"{BASE}/entities?type=person&flag=true",
        status=201,
        payload={"success": True, "entity": {"id": "e1"}},
        headers=HEADERS,
    )
    async with Gu1Client(FAKE_KEY, organization_id="org-1") as client:
        body = await client.request(
            "post",
            "/entities",
            params={"type": "person", "flag": True, "skip": None},
            json={"name": "Ada"},
            headers={"X-Trace": "t1"},
        )
    assert body == {"success": True, "entity": {"id": "e1"}}
    [call] = sent(mock_api, "POST", f"{BASE}/entities")
    kwargs = call.kwargs
    assert kwargs["params"] == [("type", "person"), ("flag", "true")]
    assert kwargs["json"] == {"name": "Ada"}
    assert kwargs["headers"]["Authorization"] == f"Bearer {FAKE_KEY}"
    assert kwargs["headers"]["X-Organization-ID"] == "org-1"
    assert kwargs["headers"]["X-Trace"] == "t1"
    # (Accept and User-Agent are the session's own headers: see test_headers_on_the_wire.)
    snapshot = client.rate_limit
    assert snapshot is not None
    assert (snapshot.limit, snapshot.remaining) == (100, 99)


async def test_empty_body_is_none(mock_api: aioresponses) -> None:
    mock_api.get(f"{BASE}/x", status=204, body=b"", headers=HEADERS)
    async with Gu1Client(FAKE_KEY) as client:
        assert await client.request("GET", "/x") is None


async def test_2xx_non_json_is_a_clear_error(mock_api: aioresponses) -> None:
    mock_api.get(f"{BASE}/x", status=200, body=b"<html>oops</html>", headers=HEADERS)
    async with Gu1Client(FAKE_KEY) as client:
        with pytest.raises(APIResponseError, match="not JSON") as info:
            await client.request("GET", "/x")
    assert info.value.body_excerpt == "<html>oops</html>"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (500, ServerError),
    ],
)
async def test_status_errors(mock_api: aioresponses, status: int, cls: type[Exception]) -> None:
    mock_api.post(
        f"{BASE}/entities",
        status=status,
        payload={"success": False, "error": {"code": "X", "message": "nope"}},
        headers={**HEADERS, "X-Request-Id": "rid-9"},
    )
    async with Gu1Client(FAKE_KEY) as client:
        with pytest.raises(cls) as info:
            await client.request("POST", "/entities", json={})
    error = info.value
    assert getattr(error, "request_id", None) == "rid-9"
    assert getattr(error, "path", None) == "/entities"


async def test_bad_method_and_path_rejected_before_sending(mock_api: aioresponses) -> None:
    async with Gu1Client(FAKE_KEY) as client:
        with pytest.raises(ConfigurationError, match="method"):
            await client.request("BREW", "/x")
        with pytest.raises(ConfigurationError, match="path"):
            await client.request("GET", "entities")
    assert not mock_api.requests


async def test_a_misspelled_keyword_is_refused_not_dropped(mock_api: aioresponses) -> None:
    # `request` takes its body keywords as `**body: Unpack[RequestBody]`: Python no longer
    # refuses an unknown one, so the client must, or `jsn=` would send no body at all.
    async with Gu1Client(FAKE_KEY) as client:
        with pytest.raises(TypeError, match=r"unexpected keyword argument 'jsn'.*'json'"):
            await client.request("POST", "/entities", jsn={"name": "x"})  # type: ignore[call-arg]
    assert not mock_api.requests


async def test_a_resource_methods_misspelled_option_is_refused(mock_api: aioresponses) -> None:
    # Options travel as `**options: Unpack[RequestOptions]`: the requester checks them.
    async with Gu1Client(FAKE_KEY) as client:
        with pytest.raises(
            TypeError,
            match=r"alerts\.acknowledge\(\) got an unexpected keyword argument 'timout'"
            r"; did you mean 'timeout'\?",
        ):
            await client.alerts.acknowledge("al_1", timout=5)  # type: ignore[call-arg]
    assert not mock_api.requests


async def test_get_retries_transient_then_succeeds(mock_api: aioresponses) -> None:
    url = f"{BASE}/entities/e1"
    mock_api.get(url, status=503, payload={"error": "busy"}, headers=HEADERS)
    mock_api.get(url, exception=asyncio.TimeoutError())
    mock_api.get(url, status=200, payload={"id": "e1"}, headers=HEADERS)
    retry = RetryPolicy(max_retries=3, backoff_base=0.001, backoff_max=0.002)
    async with Gu1Client(FAKE_KEY, retry=retry) as client:
        assert await client.request("GET", "/entities/e1") == {"id": "e1"}
    assert len(sent(mock_api, "GET", url)) == 3


async def test_post_is_not_retried_after_a_503(mock_api: aioresponses) -> None:
    mock_api.post(f"{BASE}/entities", status=503, payload={"error": "busy"}, headers=HEADERS)
    async with Gu1Client(FAKE_KEY) as client:
        with pytest.raises(ServerError):
            await client.request("POST", "/entities", json={})
    assert len(sent(mock_api, "POST", f"{BASE}/entities")) == 1


async def test_timeout_maps_to_api_timeout_error(mock_api: aioresponses) -> None:
    mock_api.get(f"{BASE}/slow", exception=asyncio.TimeoutError(), repeat=True)
    retry = RetryPolicy(max_retries=1, backoff_base=0.001, backoff_max=0.001)
    async with Gu1Client(FAKE_KEY, retry=retry) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.request("GET", "/slow")
    assert isinstance(info.value, TimeoutError)
    assert len(sent(mock_api, "GET", f"{BASE}/slow")) == 2


WALL_2030 = 1_893_456_000.0  # 2030-01-01T00:00:00Z, the Date of HEADERS


async def test_429_retried_after_the_shared_pause(mock_api: aioresponses) -> None:
    url = f"{BASE}/entities/e1"
    limited = {**HEADERS, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2030-01-01T00:00:02Z"}
    mock_api.get(url, status=429, payload={"error": "slow down"}, headers=limited)
    mock_api.get(url, status=200, payload={"id": "e1"}, headers=HEADERS)
    clock = FakeClock(wall_start=WALL_2030)
    async with Gu1Client(FAKE_KEY, clock=clock) as client:
        task = asyncio.create_task(client.request("GET", "/entities/e1"))
        await clock.advance(1.0)
        assert not task.done()  # paused until the window resets
        assert len(sent(mock_api, "GET", url)) == 1
        await clock.advance(1.5)
        assert await task == {"id": "e1"}
        assert client.governor.stats().rate_limited == 1
    assert len(sent(mock_api, "GET", url)) == 2


async def test_429_past_the_retry_limit_raises(mock_api: aioresponses) -> None:
    limited = {**HEADERS, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2030-01-01T00:00:01Z"}
    mock_api.get(f"{BASE}/x", status=429, payload={"error": "no"}, headers=limited, repeat=True)
    clock = FakeClock(wall_start=WALL_2030, autojump=False)
    retry = RetryPolicy(max_rate_limit_retries=1)
    async with Gu1Client(FAKE_KEY, retry=retry, clock=clock) as client:
        task = asyncio.create_task(client.request("GET", "/x"))
        for _ in range(5):
            await clock.advance(5.0)
        with pytest.raises(RateLimitError) as info:
            await task
    assert info.value.remaining == 0
    assert len(sent(mock_api, "GET", f"{BASE}/x")) == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused() -> None:
    port = free_port()  # nothing listens there any more
    retry = RetryPolicy(max_retries=1, backoff_base=0.001, backoff_max=0.001)
    async with Gu1Client(FAKE_KEY, base_url=f"http://127.0.0.1:{port}", retry=retry) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.request("POST", "/entities", json={})
    assert info.value.sent is False
    assert "cannot connect" in str(info.value)


@pytest.fixture
async def slow_server() -> AsyncIterator[str]:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("delay", "0")))
        return web.json_response({"ok": True})

    async def echo_headers(request: web.Request) -> web.Response:
        return web.json_response({name: request.headers.getall(name) for name in request.headers})

    app = web.Application()
    app.router.add_get("/slow", slow)
    app.router.add_get("/headers", echo_headers)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_per_call_timeout_over_real_http(slow_server: str) -> None:
    retry = RetryPolicy(max_retries=0)
    async with Gu1Client(FAKE_KEY, base_url=slow_server, retry=retry, timeout=5) as client:
        assert await client.request("GET", "/slow", params={"delay": 0}) == {"ok": True}
        with pytest.raises(APITimeoutError):
            await client.request("GET", "/slow", params={"delay": 2}, timeout=0.05)
        fast = client.with_options(timeout=Timeout(total=0.05, connect=0.05))
        with pytest.raises(APITimeoutError):
            await fast.request("GET", "/slow", params={"delay": 2})


async def test_headers_on_the_wire(slow_server: str) -> None:
    # What the server receives, whichever part of the stack adds each header: the pool's
    # (Accept, User-Agent), the view's (organization, key) and the call's extras.
    async with Gu1Client(FAKE_KEY, base_url=slow_server, organization_id="org-1") as client:
        seen = await client.request("GET", "/headers")
        assert seen["Accept"] == ["application/json"]
        assert seen["User-Agent"][0].startswith("gu1-async/")
        assert seen["Authorization"] == [f"Bearer {FAKE_KEY}"]
        assert seen["X-Organization-ID"] == ["org-1"]

        other_key = "gk_test_otherKEY0003"
        other = client.with_options(api_key=other_key, organization_id=None)
        seen = await other.request(
            "GET",
            "/headers",
            headers={"Accept": "text/csv", "X-T": "1"},
        )
        assert seen["Accept"] == ["text/csv"]  # a call's header replaces the pool's
        assert seen["Authorization"] == [f"Bearer {other_key}"]  # one, the view's own key
        assert "X-Organization-ID" not in seen  # nothing of the first view's leaks
        assert seen["X-T"] == ["1"]
        assert seen["User-Agent"][0].startswith("gu1-async/")


async def test_with_options_shares_pool_and_governor(mock_api: aioresponses) -> None:
    async with Gu1Client(FAKE_KEY) as client:
        batch = client.with_options(priority=Priority.BATCH, max_wait=1.0)
        other = client.with_options(api_key="gk_test_otherKEY0002")
        assert batch.governor is client.governor
        assert other.governor is not client.governor
        assert other.with_options(timeout=3).governor is other.governor
        assert client._pool is batch._pool is other._pool
        assert "otherKEY0002" not in repr(other)
    assert client._pool.transport.closed


async def test_other_key_is_sent_by_its_view(mock_api: aioresponses) -> None:
    mock_api.get(f"{BASE}/x", status=200, payload={}, headers=HEADERS, repeat=True)
    async with Gu1Client(FAKE_KEY) as client:
        await client.with_options(api_key="gk_test_otherKEY0002").request("GET", "/x")
    [call] = sent(mock_api, "GET", f"{BASE}/x")
    assert call.kwargs["headers"]["Authorization"] == "Bearer gk_test_otherKEY0002"


async def test_unclosed_client_warns(mock_api: aioresponses) -> None:
    mock_api.get(f"{BASE}/x", status=200, payload={}, headers=HEADERS)
    client = Gu1Client(FAKE_KEY)
    await client.request("GET", "/x")
    session = client._pool.transport._session
    with pytest.warns(ResourceWarning, match="not closed"):
        del client  # CPython finalises at once: nothing else refers to the client
    assert session is not None
    await session.close()


async def test_closed_client_refuses_requests() -> None:
    client = Gu1Client(FAKE_KEY)
    await client.aclose()
    with pytest.raises(ConfigurationError, match="closed"):
        await client.request("GET", "/x")


async def test_multipart_files(mock_api: aioresponses) -> None:
    from gu1_async import FilePart

    seen: dict[str, object] = {}

    def capture(url: URL, **kwargs: object) -> CallbackResult:
        seen.update(kwargs)
        return CallbackResult(status=202, payload={"jobId": "j1"}, headers=HEADERS)

    mock_api.post(f"{BASE}/batch-import/import/entities", callback=capture)
    async with Gu1Client(FAKE_KEY) as client:
        body = await client.request(
            "POST",
            "/batch-import/import/entities",
            files={"file": FilePart("e.csv", b"a,b\n1,2\n", "text/csv"), "mode": "create"},
        )
    assert body == {"jobId": "j1"}
    assert "json" not in seen
    assert seen["data"].__class__.__name__ == "FormData"
    assert json.dumps(body)


async def test_csv_body_is_returned_as_text(mock_api: aioresponses) -> None:
    mock_api.get(
        f"{BASE}/batch-import/jobs/j1/failures.csv",
        status=200,
        body=b"row,code\n3,VALIDATION_ERROR\n",
        headers={**HEADERS, "Content-Type": "text/csv; charset=utf-8"},
    )
    async with Gu1Client(FAKE_KEY) as client:
        text = await client.request("GET", "/batch-import/jobs/j1/failures.csv")
    assert text == "row,code\n3,VALIDATION_ERROR\n"


async def test_several_files_under_one_field(mock_api: aioresponses) -> None:
    from gu1_async import FilePart

    seen: dict[str, Any] = {}

    def capture(url: URL, **kwargs: Any) -> CallbackResult:
        seen.update(kwargs)
        return CallbackResult(status=202, payload={"jobId": "j2"}, headers=HEADERS)

    mock_api.post(f"{BASE}/upload", callback=capture)
    parts = [FilePart(f"t{i}.csv", b"x\n", "text/csv") for i in range(3)]
    async with Gu1Client(FAKE_KEY) as client:
        await client.request("POST", "/upload", files={"files": parts, "kind": "tx"})
    fields = [(f[0]["name"], f[0].get("filename")) for f in seen["data"]._fields]
    assert fields == [("files", "t0.csv"), ("files", "t1.csv"), ("files", "t2.csv"), ("kind", None)]


def test_raw_response_headers_are_case_insensitive_whatever_they_were_built_from() -> None:
    from gu1_async._transport import RawResponse

    response = RawResponse.of(200, [("X-RateLimit-Limit", "100"), ("Set-Cookie", "a")], b"{}")
    assert response.header("x-ratelimit-limit") == "100"
    assert response.headers.get("X-RATELIMIT-LIMIT") == "100"
    assert response.header("Retry-After") is None
    assert "<2 bytes>" in repr(response)


def test_raw_request_repr_leaves_the_authorization_header_out() -> None:
    from gu1_async._transport import RawRequest

    secret = "gk_test_secret_in_header_0042"
    headers = {"Authorization": f"Bearer {secret}"}
    request = RawRequest("GET", "https://api.gu1.ai/entities", headers)
    assert secret not in repr(request) and secret not in str(request)
    assert repr(request) == "RawRequest(GET https://api.gu1.ai/entities)"
