"""KYC sessions with sandbox outcomes, and webhook deliveries signed with HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gu1_async.testing import FakeGu1Server

from .conftest import WallClock, auth

SECRET = "whsec_test_fake"


class Receiver:
    """A tiny webhook receiver on loopback that records what it gets."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), request.headers["X-Webhook-Signature"]))
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    rec.url = f"http://{host}:{port}/hook"
    yield rec
    await runner.cleanup()


async def call(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None
) -> tuple[int, Any]:
    async with session.request(method, url, json=body, headers=auth()) as response:
        return response.status, await response.json()


async def _person(session: aiohttp.ClientSession, url: str, tax_id: str) -> str:
    body = {"type": "person", "name": "Kyc Person", "countryCode": "AR", "taxId": tax_id}
    _, created = await call(session, "POST", f"{url}/entities", body)
    entity_id: str = created["entity"]["id"]
    return entity_id


async def _start(session: aiohttp.ClientSession, url: str, entity_id: str) -> dict[str, Any]:
    body = {"entityId": entity_id, "integrationCode": "global_gueno_validation_kyc"}
    status, validation = await call(session, "POST", f"{url}/api/kyc/validations", body)
    assert status == 201
    assert validation["status"] == "pending"
    assert validation["isCurrent"] is True
    assert validation["providerSessionUrl"].startswith("https://")
    return dict(validation)


@pytest.mark.parametrize(
    ("tax_id", "outcome"),
    [("111.111.111-11", "approved"), ("22222222222", "rejected"), ("33333333333", "cancelled")],
)
async def test_sandbox_outcome_over_scaled_time(
    server: FakeGu1Server,
    session: aiohttp.ClientSession,
    clock: WallClock,
    tax_id: str,
    outcome: str,
) -> None:
    entity_id = await _person(session, server.url, tax_id)
    validation = await _start(session, server.url, entity_id)
    url = f"{server.url}/api/kyc/validations/{validation['id']}"
    clock.advance(2)
    assert (await call(session, "GET", url))[1]["status"] == "in_progress"
    clock.advance(3)
    assert (await call(session, "GET", url))[1]["status"] == outcome
    _, entity = await call(session, "GET", f"{server.url}/entities/{entity_id}")
    assert entity["kycVerified"] is (outcome == "approved")


async def test_in_review_then_manual_approve(
    server: FakeGu1Server, session: aiohttp.ClientSession, clock: WallClock
) -> None:
    entity_id = await _person(session, server.url, "44444444444")
    validation = await _start(session, server.url, entity_id)
    base = f"{server.url}/api/kyc/validations/{validation['id']}"
    status, _ = await call(session, "POST", f"{base}/approve", {"reason": "looks fine"})
    assert status == 400  # not in review yet
    clock.advance(5)
    status, _ = await call(session, "POST", f"{base}/approve", {"reason": "ok"})
    assert status == 400  # reason too short
    status, approved = await call(session, "POST", f"{base}/approve", {"reason": "looks fine"})
    assert (status, approved["status"]) == (200, "approved")


async def test_cancel_is_a_delete_with_a_body(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    entity_id = await _person(session, server.url, "98765432100")  # not in the sandbox set
    validation = await _start(session, server.url, entity_id)
    url = f"{server.url}/api/kyc/validations/{validation['id']}/cancel"
    status, cancelled = await call(session, "DELETE", url, {"reason": "user gave up"})
    assert (status, cancelled["status"]) == (200, "cancelled")
    status, _ = await call(session, "DELETE", url, {"reason": "again please"})
    assert status == 400


async def test_history_current_and_complete_hook(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    entity_id = await _person(session, server.url, "98765432100")
    first = await _start(session, server.url, entity_id)
    second = await _start(session, server.url, entity_id)
    _, history = await call(
        session, "GET", f"{server.url}/api/kyc/entities/{entity_id}/validations"
    )
    assert [v["id"] for v in history["validations"]] == [second["id"], first["id"]]
    assert history["total"] == 2
    _, current = await call(session, "GET", f"{server.url}/api/kyc/entities/{entity_id}/current")
    assert current["id"] == second["id"]
    server.complete_kyc(second["id"], "rejected")
    _, got = await call(session, "GET", f"{server.url}/api/kyc/validations/{second['id']}")
    assert got["status"] == "rejected"
    assert got["decision"]["status"] == "Rejected"


async def test_kyc_needs_a_person(server: FakeGu1Server, session: aiohttp.ClientSession) -> None:
    body = {"type": "company", "name": "Co", "countryCode": "AR"}
    _, created = await call(session, "POST", f"{server.url}/entities", body)
    status, _ = await call(
        session,
        "POST",
        f"{server.url}/api/kyc/validations",
        {"entityId": created["entity"]["id"], "integrationCode": "global_gueno_validation_kyc"},
    )
    assert status == 400


async def test_webhooks_are_signed_and_recorded(
    server: FakeGu1Server, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    server.add_webhook(receiver.url, SECRET, events=("entity.*", "kyc.*"))
    entity_id = await _person(session, server.url, "11111111111")
    await call(session, "PATCH", f"{server.url}/entities/{entity_id}", {"name": "Renamed"})
    await call(
        session,
        "PATCH",
        f"{server.url}/entities/{entity_id}",
        {"status": "blocked", "reason": "fraud ring"},
    )
    validation = await _start(session, server.url, entity_id)
    server.complete_kyc(validation["id"])
    await server.drain_webhooks()

    assert len(receiver.received) == 6
    for raw, signature in receiver.received:
        expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert signature == f"sha256={expected}"
    events = sorted(json.loads(raw)["event"] for raw, _ in receiver.received)
    assert events == [
        "entity.created",
        "entity.status_changed",
        "entity.updated",
        "kyc.validation_approved",
        "kyc.validation_created",
        "kyc.validation_in_progress",
    ]
    approved = next(d for d in server.webhook_deliveries if d.event == "kyc.validation_approved")
    envelope = approved.envelope
    assert set(envelope) == {"event", "timestamp", "organizationId", "payload"}
    assert envelope["payload"]["entity"]["id"] == entity_id
    assert all(d.status == 200 for d in server.webhook_deliveries)


async def test_unreachable_webhook_is_recorded_not_raised(
    clock: WallClock, session: aiohttp.ClientSession
) -> None:
    async with FakeGu1Server(clock=clock) as server:
        server.add_webhook("http://127.0.0.1:9/unreachable", SECRET)
        await _person(session, server.url, "12312312312")
        await server.drain_webhooks()
        (delivery,) = server.webhook_deliveries
        assert delivery.status is None
        assert delivery.error
