"""Fuzz: status x headers x body x framing through the whole client against a real server.

Every answer must end in a result or a Gu1Error, within the timeout, with memory bounded by
the size cap. One client (one connection pool) sees every answer in turn, as a long-lived
application would; each example uses a view with its own key, so one example's 429 pause
does not silence the next.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gu1_async import Gu1Client, Gu1Error, RetryPolicy

from .conftest import LoopHarness
from .server import MiB, chunked_zeros

CAP = 64 * 1024
TIMEOUT = 2.0

_statuses = st.sampled_from(
    [200, 201, 202, 204, 299, 300, 301, 302, 303, 304, 307, 308, 399, 400, 401, 403, 404,
     405, 409, 410, 413, 422, 429, 499, 500, 502, 503, 504, 599]
)  # fmt: skip
_header_values = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=30),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True).map(str),
    st.sampled_from(["", "0", "-1", "1e309", "Thu, 01 Jan 1970 00:00:00 GMT", "/entities/e2"]),
    st.sampled_from(["//127.0.0.1/x", "http://example.invalid/", "/entities/%2e%2e/x", "/a/../b"]),
)
_header_names = st.sampled_from(
    ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "Date",
     "Location", "Content-Type", "X-Request-ID", "RateLimit-Policy", "Set-Cookie", "X-A"]
)  # fmt: skip
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    ),
    max_leaves=8,
)
_bodies = st.one_of(
    _json.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.sampled_from([b"", b"[" * 20_000, b'{"entity": {"id": "e1"}}', b'{"events": [1]}']),
)
_framing = st.sampled_from(["length", "chunked", "gzip", "gzip-lie", "huge", "huge-gzip"])

_CALLS: dict[str, Callable[[Gu1Client], Any]] = {
    "request GET": lambda c: c.request("GET", "/entities", params={"limit": 1}),
    "request POST": lambda c: c.request("POST", "/entities", json={"name": "Ana"}),
    "entities.get": lambda c: c.entities.get("e1"),
    "entities.create": lambda c: c.entities.create(type="person", name="Ana", country_code="AR"),
    "entities.list": lambda c: c.entities.list(),
    "events.list": lambda c: c.events.list(limit=5).collect(),
    "failures csv": lambda c: c.bulk_imports.entity_job_failures_csv("j1"),
}


def _behaviour(status: int, headers: dict[str, str], body: bytes, framing: str) -> Any:
    async def answer(request: web.Request) -> web.StreamResponse:
        if framing in ("huge", "huge-gzip"):
            if framing == "huge":
                return await chunked_zeros(4 * CAP, status=status)(request)
            data = gzip.compress(bytes(MiB))  # inflates to 16 caps
            return web.Response(status=status, body=data, headers={"Content-Encoding": "gzip"})
        out = dict(headers)
        data = body
        if framing == "gzip":
            data = gzip.compress(body)
            out["Content-Encoding"] = "gzip"
        elif framing == "gzip-lie":
            out["Content-Encoding"] = "gzip"  # says gzip, is not
        response = web.StreamResponse(status=status, headers=out)
        if framing == "chunked":
            response.enable_chunked_encoding()
        else:
            response.content_length = len(data)
        await response.prepare(request)
        await response.write(data)
        await response.write_eof()
        return response

    return answer


_keys = itertools.count()


@pytest.fixture
def fuzz() -> Any:
    running = LoopHarness(
        max_response_size=CAP,
        timeout=TIMEOUT,
        follow_redirects=True,
        max_wait=0.2,
        retry=RetryPolicy(
            max_retries=1, max_rate_limit_retries=1, backoff_base=0.001, backoff_max=0.002
        ),
    )
    tracemalloc.start()
    try:
        yield running
        peak = tracemalloc.get_traced_memory()[1]
        # Bounded by the cap: the largest body read is 4 caps streamed or 16 caps inflated,
        # and neither may be held past the cap. (The constant is the server, Hypothesis
        # and the client's own state.)
        assert peak < 32 * MiB, f"peak traced memory {peak / MiB:.1f} MiB"
    finally:
        tracemalloc.stop()
        running.close()


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,  # the same examples every run: the suite stays deterministic
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    status=_statuses,
    headers=st.dictionaries(_header_names, _header_values, max_size=5),
    body=_bodies,
    framing=_framing,
    call=st.sampled_from(sorted(_CALLS)),
)
def test_any_answer_ends_in_a_result_or_a_gu1_error(
    fuzz: LoopHarness,
    status: int,
    headers: dict[str, str],
    body: bytes,
    framing: str,
    call: str,
) -> None:
    fuzz.server.default = _behaviour(status, headers, body, framing)
    view = fuzz.client.with_options(api_key=f"gk_test_fuzz{next(_keys):010d}")

    async def once() -> None:
        try:
            # The total timeout, plus one fast retry, must end every call well before this.
            await asyncio.wait_for(_CALLS[call](view), 3 * TIMEOUT)
        except Gu1Error as exc:
            event(f"raised {type(exc).__name__}")
        else:
            event("returned a result")

    fuzz.run(once())
