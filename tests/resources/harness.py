"""Table-driven request-shape tests: one `Case` per resource method, run via aioresponses.

Each case calls one SDK method against a real `Gu1Client` whose HTTP is patched by
aioresponses, then asserts the method, path, query, JSON body (or multipart form) that
reached aiohttp, and checks the decoded result.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import attrs
from aioresponses import aioresponses

from gu1_async import Gu1Client
from gu1_async.pagination import AsyncPaginator

BASE = "https://api.gu1.ai"
FAKE_KEY = "gk_test_resourcesKEY01"
ANY_GU1_URL = re.compile(r"^https://api\.gu1\.ai/.*$")


Api = Gu1Client
"""The tests call resources as users do: `client.entities.create(...)`."""


@attrs.frozen
class Case:
    """One SDK call and what must reach the wire."""

    id: str
    call: Callable[[Api], Any]
    method: str
    path: str
    response: Any
    check: Callable[[Any], object]
    query: Mapping[str, str] = attrs.field(factory=dict)
    json: Any = None
    form: Mapping[str, str] | None = None
    status: int = 200


@attrs.frozen
class Sent:
    """What aiohttp was asked to send."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    form: dict[str, str] | None


def sent_requests(mocked: aioresponses) -> list[Sent]:
    """Every request aioresponses intercepted, decoded into plain values."""
    out = []
    for (method, url), calls in mocked.requests.items():
        for call in calls:
            data = call.kwargs.get("data")
            form = None
            if isinstance(data, aiohttp.FormData):
                # FormData keeps its parts in `_fields`: (options, headers, value).
                form = {
                    opts["name"]: (
                        value if isinstance(value, str) else f"<file {opts.get('filename')}>"
                    )
                    for opts, _headers, value in data._fields
                }
            out.append(Sent(method, url.raw_path, dict(url.query), call.kwargs.get("json"), form))
    return out


async def run_case(case: Case, api: Api, mocked: aioresponses) -> None:
    """Run one case and assert the request shape and the decoded result."""
    if isinstance(case.response, (bytes, str)):
        body = case.response if isinstance(case.response, bytes) else case.response.encode()
        mocked.add(ANY_GU1_URL, case.method, status=case.status, body=body)
    else:
        mocked.add(ANY_GU1_URL, case.method, status=case.status, payload=case.response)
    outcome = case.call(api)
    if isinstance(outcome, AsyncPaginator):
        result: Any = await outcome.collect()
    else:
        assert isinstance(outcome, Awaitable)
        result = await outcome
    [request] = sent_requests(mocked)
    assert request.method == case.method
    assert request.path == case.path
    assert request.query == dict(case.query)
    if case.form is not None:
        assert request.form == dict(case.form)
        assert request.json is None
    else:
        assert request.json == case.json
    # A check either asserts (and returns None) or returns a truth value.
    verdict = case.check(result)
    assert verdict is None or verdict is True, f"{case.id}: unexpected result {result!r}"


def client() -> Gu1Client:
    """A client for the request-shape tests (a roomy plan: no governor waits)."""
    return Gu1Client(api_key=FAKE_KEY, base_url=BASE, plan="professional")
