"""Property: any body given to any resource method ends in a result or a Gu1Error.

Every request-shape case of tests/resources (one or more per registered endpoint) is called
through a real client whose transport answers with a generated body: random JSON values
(wrapped in the envelope keys the decoders look for, so they reach the inner decoders) and
random bytes, under JSON and text content types.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gu1_async import APIResponseError, Gu1Client, Gu1Error
from gu1_async._transport import RawRequest, RawResponse
from gu1_async.pagination import AsyncPaginator
from tests.resources import (
    test_bulk_imports,
    test_enrichment_lists_schemas,
    test_entities,
    test_events_devices_kyc,
    test_rules_intelligence,
    test_transactions,
)
from tests.resources.harness import client

CALLS: list[Callable[[Gu1Client], Any]] = [
    case.call
    for module in (
        test_entities,
        test_bulk_imports,
        test_transactions,
        test_events_devices_kyc,
        test_rules_intelligence,
        test_enrichment_lists_schemas,
    )
    for case in module.CASES
] + [
    # CSV downloads have no request-shape case (they are tested with a fake requester).
    lambda api: api.bulk_imports.entity_job_failures_csv("j1"),
    lambda api: api.bulk_imports.entity_job_failures_csv_legacy("j1"),
    lambda api: api.bulk_imports.user_event_job_failures_csv("j1"),
]

# The keys the decoders unwrap or page through (gu1_async/resources), plus a few others.
ENVELOPE_KEYS = [
    "entity", "entities", "job", "mapping", "mappings", "data", "device", "devices",
    "validation", "validations", "rule", "rules", "riskMatrix", "riskMatrices", "alerts",
    "investigations", "schema", "schemas", "stats", "events", "items", "pagination",
    "hasMore", "total", "totalPages", "success", "id", "status", "results", "failures",
]  # fmt: skip

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(ENVELOPE_KEYS) | st.text(max_size=4), children, max_size=4
        )
    ),
    max_leaves=10,
)
_bodies = (
    _json.map(lambda value: json.dumps(value).encode())
    | st.binary(max_size=40)
    | st.sampled_from([b"", b"[" * 5000, b'{"a":' * 3000, b"\xff\xfe{", b"null", b"[]"])
)
_content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "text/csv", ""]
)


async def _call(
    call: Callable[[Gu1Client], Any], status: int, content_type: str, body: bytes
) -> None:
    async with client() as api:
        answers = [RawResponse.of(status, {"Content-Type": content_type}, body)]

        async def send(request: RawRequest) -> RawResponse:
            # Later requests (the next page) get an empty object: the walk ends there.
            return answers.pop() if answers else RawResponse.of(200, {}, b"{}")

        api._pool.transport.send = send  # type: ignore[method-assign]
        outcome = call(api)
        try:
            if isinstance(outcome, AsyncPaginator):
                await outcome.collect()
            else:
                await outcome
        except Gu1Error as exc:
            event(f"raised {type(exc).__name__}")
            error: Gu1Error | None = exc
        else:
            event("returned a result")
            error = None
    if isinstance(error, APIResponseError):
        # Raised by a resource method: it names the endpoint.
        assert error.operation is not None, error


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,  # the same examples every run: the suite stays deterministic
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    call=st.sampled_from(CALLS),
    status=st.sampled_from([200, 201, 202, 204]),
    content_type=_content_types,
    body=_bodies,
)
def test_any_body_into_any_method_is_a_result_or_a_gu1_error(
    call: Callable[[Gu1Client], Any], status: int, content_type: str, body: bytes
) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_call(call, status, content_type, body))
    finally:
        loop.close()


@settings(max_examples=150, deadline=None, derandomize=True)
@given(call=st.sampled_from(CALLS), value=_json)
def test_any_json_value_as_the_whole_body(call: Callable[[Gu1Client], Any], value: Any) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_call(call, 200, "application/json", json.dumps(value).encode()))
    finally:
        loop.close()
