"""Entities over real HTTP: create, get, list, 409 on duplicates, patch, attributes, upsert."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from gu1_async.testing import FakeGu1Server

from .conftest import auth

PERSON: dict[str, Any] = {
    "type": "person",
    "name": "Ada Lovelace",
    "countryCode": "AR",
    "taxId": "20-12345678-9",
    "externalId": "cust-1",
}


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    body: Any = None,
    key: str = "gk_test_fake_key_0001",
) -> tuple[int, Any]:
    async with session.request(method, url, json=body, headers=auth(key)) as response:
        return response.status, await response.json()


async def test_create_get_and_list(server: FakeGu1Server, session: aiohttp.ClientSession) -> None:
    status, body = await call(session, "POST", f"{server.url}/entities", PERSON)
    assert status == 201
    assert body["success"] is True
    entity = body["entity"]
    assert entity["status"] == "under_review"
    assert entity["createdAt"].endswith("Z")
    status, fetched = await call(session, "GET", f"{server.url}/entities/{entity['id']}")
    assert (status, fetched) == (200, entity)  # unwrapped
    _, by_ext = await call(session, "GET", f"{server.url}/entities/by-external-id/cust-1")
    _, by_tax = await call(session, "GET", f"{server.url}/entities/by-tax-id/20123456789")
    assert by_ext["id"] == by_tax["id"] == entity["id"]
    _, listed = await call(session, "GET", f"{server.url}/entities?type=person&country=AR")
    assert [e["id"] for e in listed["entities"]] == [entity["id"]]
    _, none = await call(session, "GET", f"{server.url}/entities?type=company")
    assert none == {"entities": []}


async def test_list_returns_at_most_100(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    server.add_key("gk_test_bulk", plan="professional")
    for i in range(105):
        body = {"type": "company", "name": f"Co {i}", "countryCode": "BR"}
        await call(session, "POST", f"{server.url}/entities", body, key="gk_test_bulk")
    _, listed = await call(session, "GET", f"{server.url}/entities", key="gk_test_bulk")
    assert len(listed["entities"]) == 100


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "device"}, "type"),
        ({"name": ""}, "name"),
        ({"countryCode": "ARG"}, "countryCode"),
        ({"attributes": []}, "attributes"),
        ({"status": "blocked"}, "reason"),
    ],
)
async def test_create_validates_like_gu1(
    server: FakeGu1Server, session: aiohttp.ClientSession, change: dict[str, Any], message: str
) -> None:
    status, body = await call(session, "POST", f"{server.url}/entities", {**PERSON, **change})
    assert status == 400
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert message in body["error"]["message"]


async def test_bad_json_is_400(server: FakeGu1Server, session: aiohttp.ClientSession) -> None:
    async with session.post(f"{server.url}/entities", data=b"{nope", headers=auth()) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "INVALID_JSON"


async def test_duplicate_tax_id_is_409(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    await call(session, "POST", f"{server.url}/entities", PERSON)
    twin = {**PERSON, "externalId": "cust-2", "taxId": "20123456789"}
    status, body = await call(session, "POST", f"{server.url}/entities", twin)
    assert status == 409
    assert body["error"]["code"] == "DUPLICATE_TAX_ID"
    assert len(server.entities) == 1


async def test_other_organizations_entities_are_404(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    _, created = await call(session, "POST", f"{server.url}/entities", PERSON)
    server.add_key("gk_prod_other", environment="production")
    url = f"{server.url}/entities/{created['entity']['id']}"
    status, body = await call(session, "GET", url, key="gk_prod_other")
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    # Same taxId in another organization is not a duplicate.
    status, _ = await call(session, "POST", f"{server.url}/entities", PERSON, key="gk_prod_other")
    assert status == 201


async def test_patch_merges_and_keeps_type(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    _, created = await call(session, "POST", f"{server.url}/entities", PERSON)
    entity_id = created["entity"]["id"]
    patch = {"name": "Ada K. Lovelace", "entityData": {"occupation": "analyst"}, "externalId": "x"}
    status, body = await call(session, "PATCH", f"{server.url}/entities/{entity_id}", patch)
    assert status == 200
    assert body["entity"]["name"] == "Ada K. Lovelace"
    assert body["entity"]["externalId"] == "cust-1"  # ignored: use change-external-id
    assert body["previousEntity"]["name"] == "Ada Lovelace"
    assert body["evaluation"]["decision"] == "PENDING"
    status, body = await call(
        session, "PATCH", f"{server.url}/entities/by-external-id/cust-1", {"type": "company"}
    )
    assert status == 400


async def test_attributes_merge_and_replace(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    _, created = await call(
        session, "POST", f"{server.url}/entities", {**PERSON, "attributes": {"a": 1}}
    )
    url = f"{server.url}/entities/{created['entity']['id']}/attributes"
    _, merged = await call(session, "PATCH", url, {"attributes": {"b": 2}})
    assert merged["data"]["attributes"] == {"a": 1, "b": 2}
    _, replaced = await call(session, "PATCH", url, {"attributes": {"c": 3}, "mode": "replace"})
    assert replaced["data"] == {
        "entityId": created["entity"]["id"],
        "mode": "replace",
        "attributes": {"c": 3},
    }


async def test_upsert_is_idempotent(server: FakeGu1Server, session: aiohttp.ClientSession) -> None:
    url = f"{server.url}/entities/upsert"
    status, first = await call(session, "PUT", url, {"entity": PERSON})
    assert (status, first["action"]) == (200, "created")
    assert first["previousEntity"] is None
    _, second = await call(session, "PUT", url, {"entity": {**PERSON, "name": "Ada L."}})
    assert second["action"] == "updated"
    assert second["entity"]["id"] == first["entity"]["id"]
    assert second["entity"]["name"] == "Ada L."
    _, third = await call(session, "PUT", url, {"entity": {**PERSON, "name": "Ada L."}})
    assert third["action"] == "updated"
    assert len(server.entities) == 1


async def test_upsert_falls_back_to_tax_id(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    await call(session, "POST", f"{server.url}/entities", PERSON)
    body = {"entity": {**PERSON, "externalId": None, "taxId": "20.12345678.9"}}
    _, upserted = await call(session, "PUT", f"{server.url}/entities/upsert", body)
    assert upserted["action"] == "updated"
    assert len(server.entities) == 1


async def test_change_external_id(server: FakeGu1Server, session: aiohttp.ClientSession) -> None:
    await call(session, "POST", f"{server.url}/entities", PERSON)
    url = f"{server.url}/entities/change-external-id"
    body = {"externalId": "cust-1", "newExternalId": "cust-9", "reason": "migrated CRM"}
    status, changed = await call(session, "POST", url, body)
    assert (status, changed["changed"], changed["entity"]["externalId"]) == (200, True, "cust-9")
    status, again = await call(session, "POST", url, {**body, "externalId": "cust-9"})
    assert (status, again["changed"]) == (200, False)
    status, bad = await call(session, "POST", url, {**body, "externalId": "cust-9", "reason": "x"})
    assert (status, bad["error"]["code"]) == (400, "VALIDATION_ERROR")
    status, _ = await call(session, "POST", url, {**body, "entityId": "x"})
    assert status == 400  # two lookups


async def test_create_automatic(server: FakeGu1Server, session: aiohttp.ClientSession) -> None:
    body = {"taxId": "30-71234567-1", "country": "AR", "type": "company"}
    status, created = await call(session, "POST", f"{server.url}/entities/automatic", body)
    assert status == 201
    assert created["data"]["taxId"] == "30-71234567-1"
    status, again = await call(session, "POST", f"{server.url}/entities/automatic", body)
    assert (status, again["error"]["code"]) == (409, "DUPLICATE_TAX_ID")


async def test_lookups_follow_changed_ids(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    _, created = await call(session, "POST", f"{server.url}/entities", PERSON)
    entity_id = created["entity"]["id"]
    body = {"entityId": entity_id, "newExternalId": "cust-new", "reason": "renumbered"}
    await call(session, "POST", f"{server.url}/entities/change-external-id", body)
    status, _ = await call(session, "GET", f"{server.url}/entities/by-external-id/cust-1")
    assert status == 404
    status, found = await call(session, "GET", f"{server.url}/entities/by-external-id/cust-new")
    assert (status, found["id"]) == (200, entity_id)
    await call(session, "PATCH", f"{server.url}/entities/{entity_id}", {"taxId": "27-1-0"})
    status, _ = await call(session, "GET", f"{server.url}/entities/by-tax-id/20-12345678-9")
    assert status == 404
    status, found = await call(session, "GET", f"{server.url}/entities/by-tax-id/2710")
    assert (status, found["id"]) == (200, entity_id)
    # The old tax id is free again.
    status, _ = await call(
        session, "POST", f"{server.url}/entities", {**PERSON, "externalId": "c2"}
    )
    assert status == 201


async def test_concurrent_upserts_make_one_entity(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    url = f"{server.url}/entities/upsert"
    calls = [call(session, "PUT", url, {"entity": PERSON}) for _ in range(20)]
    results = await asyncio.gather(*calls)
    actions = sorted(body["action"] for _, body in results)
    assert actions == ["created"] + ["updated"] * 19
    assert len(server.entities) == 1
