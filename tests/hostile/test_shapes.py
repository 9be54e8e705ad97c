"""Bodies outside the expected tree: deep nesting and wrong shapes end in APIResponseError."""

from __future__ import annotations

import pytest

from gu1_async import APIResponseError, BadRequestError, Gu1Client

from .server import HostileServer, json_body, raw

DEEP = b"[" * 100_000


async def test_deep_nesting_is_a_response_error_not_a_recursion_error(
    client: Gu1Client, hostile: HostileServer
) -> None:
    hostile.on("/entities/e1", raw(DEEP)).on("/anything", raw(DEEP))
    with pytest.raises(APIResponseError, match=r"entities\.get"):
        await client.entities.get("e1")
    with pytest.raises(APIResponseError, match="nested"):
        await client.request("GET", "/anything")


async def test_a_deep_but_complete_document_is_refused_too(
    client: Gu1Client, hostile: HostileServer
) -> None:
    depth = 50_000
    hostile.on("/anything", raw(b"[" * depth + b"]" * depth))
    with pytest.raises(APIResponseError):
        await client.request("GET", "/anything")


async def test_a_deep_error_body_still_gives_the_status_error(
    client: Gu1Client, hostile: HostileServer
) -> None:
    hostile.on("/entities/e1", raw(DEEP, status=400))
    with pytest.raises(BadRequestError):
        await client.entities.get("e1")


@pytest.mark.parametrize(
    ("body", "content_type", "got"),
    [
        (b'[{"id": "e1"}]', "application/json", "array"),
        (b'"e1"', "application/json", "string"),
        (b"null", "application/json", "null"),
        (b"", "application/json", "empty"),
        (b"42", "application/json", "number"),
        (b'{"id": "e1"}', "text/plain", "string"),  # text is returned as a string
    ],
)
async def test_entities_get_names_the_endpoint_and_the_expected_shape(
    client: Gu1Client, hostile: HostileServer, body: bytes, content_type: str, got: str
) -> None:
    hostile.on("/entities/e1", raw(body, content_type=content_type))
    with pytest.raises(APIResponseError) as caught:
        await client.entities.get("e1")
    error = caught.value
    assert error.operation == "entities.get"
    assert error.expected is not None and "JSON object" in error.expected
    assert (error.method, error.path) == ("GET", "/entities/e1")
    message = str(error)
    assert "entities.get" in message and "JSON object" in message and got in message


async def test_a_list_endpoint_names_its_items(client: Gu1Client, hostile: HostileServer) -> None:
    hostile.on("/entities", json_body({"entities": [{"id": "e1"}, "e2", 3]}))
    with pytest.raises(APIResponseError) as caught:
        await client.entities.list()
    assert caught.value.operation == "entities.list"
    assert "Entity" in str(caught.value)


async def test_a_paginated_endpoint_names_itself(client: Gu1Client, hostile: HostileServer) -> None:
    hostile.on("/events/user", json_body({"events": [{"id": "ev1"}, ["not", "an", "event"]]}))
    with pytest.raises(APIResponseError) as caught:
        await client.events.list().collect()
    assert caught.value.operation == "events.list"


async def test_lenient_reading_is_unchanged(client: Gu1Client, hostile: HostileServer) -> None:
    # Unknown keys, wrong field types and envelopes are still read leniently: only a body
    # whose *shape* is wrong is an error.
    hostile.on(
        "/entities/e1",
        json_body({"entity": {"id": "e1", "riskScore": "high", "createdAt": "nope", "new": 1}}),
    )
    entity = await client.entities.get("e1")
    assert entity.id == "e1"
    assert entity.extra == {"riskScore": "high", "createdAt": "nope", "new": 1}
