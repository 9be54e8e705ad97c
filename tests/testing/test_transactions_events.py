"""Transactions (create, get, batch with a job), user events and devices (offset pages)."""

from __future__ import annotations

from typing import Any

import aiohttp

from gu1_async.testing import FakeGu1Server

from .conftest import WallClock, auth

TX: dict[str, Any] = {"externalId": "tx-1", "type": "PAYMENT", "amount": 10.5, "currency": "USD"}


async def call(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None, key: str | None = None
) -> tuple[int, Any]:
    headers = auth(key) if key else auth()
    async with session.request(method, url, json=body, headers=headers) as response:
        return response.status, await response.json()


async def test_transaction_create_and_get(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    status, created = await call(session, "POST", f"{server.url}/transactions", TX)
    assert status == 201
    tx = created["transaction"]
    _, by_id = await call(session, "GET", f"{server.url}/transactions/{tx['id']}")
    _, by_ext = await call(session, "GET", f"{server.url}/transactions/external/tx-1")
    assert by_id["transaction"] == by_ext["transaction"] == tx
    assert by_id["baseCurrency"] == "USD"
    status, dup = await call(session, "POST", f"{server.url}/transactions", TX)
    assert (status, dup["error"]["code"]) == (409, "DUPLICATE_EXTERNAL_ID")
    status, bad = await call(session, "POST", f"{server.url}/transactions", {**TX, "amount": -1})
    assert (status, bad["error"]["code"]) == (400, "VALIDATION_ERROR")


async def test_transaction_read_needs_read_permission(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    server.add_key("gk_test_writer", permissions={"transactions:create"})
    status, body = await call(
        session, "GET", f"{server.url}/transactions/external/x", key="gk_test_writer"
    )
    assert (status, body["requiredPermission"]) == (403, "transactions:read")


async def test_small_batch_is_synchronous(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    batch = [{**TX, "externalId": f"tx-{i}"} for i in range(3)] + [TX]
    status, body = await call(
        session, "POST", f"{server.url}/transactions/batch", {"transactions": batch}
    )
    assert status == 200
    assert (body["created"], body["failed"]) == (3, 1)


async def test_large_batch_is_a_202_job(
    server: FakeGu1Server, session: aiohttp.ClientSession, clock: WallClock
) -> None:
    batch = [{**TX, "externalId": f"tx-{i}"} for i in range(101)]
    status, body = await call(
        session,
        "POST",
        f"{server.url}/transactions/batch",
        {"transactions": batch, "skipDuplicates": True},
    )
    assert status == 202
    clock.advance(60)
    _, job = await call(session, "GET", f"{server.url}/batch-import/jobs/{body['jobId']}")
    assert (job["job"]["kind"], job["job"]["status"]) == ("transaction_batch", "completed")
    assert job["job"]["succeeded"] == 101


async def test_events_pages_and_devices(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    for i in range(5):
        body = {
            "eventType": "LOGIN_SUCCESS",
            "taxId": "20-99999999-1",
            "userId": "u1",
            "deviceId": "phone-1",
            "deviceDetails": {"platform": "ios"},
            "timestamp": f"2026-01-01T00:00:0{i}.000Z",
        }
        status, created = await call(
            session, "POST", f"{server.url}/events/user?withAutoEntity=true", body
        )
        assert status == 201
    assert created["entity"]["wasCreated"] is False  # created by the first event only
    entity_id = created["entity"]["id"]
    _, page = await call(session, "GET", f"{server.url}/events/user?limit=2&offset=2")
    assert page["pagination"] == {"total": 5, "limit": 2, "offset": 2, "hasMore": True}
    assert [e["timestamp"][-7:] for e in page["events"]] == ["02.000Z", "01.000Z"]
    _, last = await call(session, "GET", f"{server.url}/events/user?limit=2&offset=4")
    assert last["pagination"]["hasMore"] is False
    _, by_entity = await call(session, "GET", f"{server.url}/events/user/entity/{entity_id}")
    assert by_entity["entity"]["tax_id"] == "20-99999999-1"
    _, devices = await call(session, "GET", f"{server.url}/devices/entity/{entity_id}")
    assert [d["deviceId"] for d in devices["devices"]] == ["phone-1"]
    assert devices["devices"][0]["platform"] == "ios"
    status, _ = await call(session, "GET", f"{server.url}/events/user?limit=1001")
    assert status == 400


async def test_event_without_entity_is_404_or_400(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    status, _ = await call(
        session, "POST", f"{server.url}/events/user", {"eventType": "LOGIN", "taxId": "1"}
    )
    assert status == 404
    status, _ = await call(session, "POST", f"{server.url}/events/user", {"eventType": "LOGIN"})
    assert status == 400
