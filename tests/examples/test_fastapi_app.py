"""examples/fastapi_app against FakeGu1Server, through httpx's ASGI transport (no socket
between the test and the app; the app talks to the fake gu1 on loopback)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gu1_async import Plan, Quota
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server
from gu1_async.webhooks import SIGNATURE_HEADER, sign_payload

from ._load import load_example

example = load_example("fastapi_app/app.py")
SECRET = "whsec_fastapi_example"
LIMIT = 3  # requests an hour: small enough to spend in a test, with time_scale 1


@pytest.fixture
async def server() -> AsyncIterator[FakeGu1Server]:
    async with FakeGu1Server(plan=[(LIMIT, 3600.0)]) as fake:
        yield fake


@pytest.fixture
async def http(server: FakeGu1Server) -> AsyncIterator[httpx.AsyncClient]:
    settings = example.Settings(
        api_key=DEFAULT_KEY,
        base_url=server.url,
        plan=Plan.custom(Quota(LIMIT, 3600.0)),
        webhook_secret=SECRET,
    )
    app = example.create_app(settings)
    # httpx's ASGI transport sends no lifespan events: run the app's lifespan around it.
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def test_routes_share_one_client_and_reach_gu1(
    http: httpx.AsyncClient, server: FakeGu1Server
) -> None:
    body = {"name": "Ada Lovelace", "countryCode": "GB"}
    first = await http.put("/customers/cust-42", json=body)
    again = await http.put("/customers/cust-42", json=body)
    assert first.status_code == again.status_code == 200, first.text
    assert (first.json()["action"], again.json()["action"]) == ("created", "updated")
    got = await http.get("/customers/cust-42")
    assert got.status_code == 200 and got.json()["name"] == "Ada Lovelace"
    assert [e["externalId"] for e in server.entities.values()] == ["cust-42"]
    # One client per process: the three requests were paced by one governor.
    assert http.app.state.gu1.governor.stats().granted == 3  # type: ignore[attr-defined]
    assert (await http.get("/healthz")).json() == {"ok": True, "remaining": 0}


async def test_quota_exhausted_becomes_our_own_503_with_retry_after(
    http: httpx.AsyncClient, server: FakeGu1Server
) -> None:
    for i in range(LIMIT):
        assert (
            await http.put(f"/customers/c-{i}", json={"name": "X", "countryCode": "AR"})
        ).status_code == 200
    # The hour's quota is spent: the governor refuses at once (max_wait 2 s < an hour).
    refused = await http.get("/customers/c-0")
    assert refused.status_code == 503
    retry_after = int(refused.headers["Retry-After"])
    assert 1 < retry_after <= 3600 and refused.json()["retry_after"] == retry_after
    # ...and so with a caller's shorter deadline; gu1 itself never saw a refused request.
    shorter = await http.get("/customers/c-0", headers={"X-Max-Wait": "0"})
    assert shorter.status_code == 503
    assert server.stats().rate_limited == 0 and server.stats().requests == LIMIT


async def test_unknown_customer_is_a_404(http: httpx.AsyncClient) -> None:
    assert (await http.get("/customers/nobody")).status_code == 404


def delivery(event: str = "kyc.validation_approved", **payload: Any) -> bytes:
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    body = {"event": event, "timestamp": now, "payload": {"id": "val-1", **payload}}
    return json.dumps(body).encode()


async def test_webhook_checks_the_signature_and_acknowledges_redeliveries_once(
    http: httpx.AsyncClient,
) -> None:
    raw = delivery(status="approved")
    signed = {SIGNATURE_HEADER: sign_payload(raw, SECRET)}
    first = await http.post("/webhooks/gu1", content=raw, headers=signed)
    again = await http.post("/webhooks/gu1", content=raw, headers=signed)
    assert first.json() == {"received": True}
    assert again.json() == {"received": True, "duplicate": True}
    forged = await http.post(
        "/webhooks/gu1", content=raw, headers={SIGNATURE_HEADER: sign_payload(raw, "wrong")}
    )
    unsigned = await http.post("/webhooks/gu1", content=raw)
    tampered = await http.post(
        "/webhooks/gu1", content=raw.replace(b"approved", b"rejected"), headers=signed
    )
    assert forged.status_code == unsigned.status_code == tampered.status_code == 401
    inbox = http.app.state.inbox  # type: ignore[attr-defined]
    assert [e.event for e in inbox.events] == ["kyc.validation_approved"]


async def test_the_app_refuses_to_start_without_a_webhook_secret(server: FakeGu1Server) -> None:
    settings = example.Settings(api_key=DEFAULT_KEY, base_url=server.url, webhook_secret="")
    app = example.create_app(settings)
    with pytest.raises(RuntimeError, match="GU1_WEBHOOK_SECRET"):
        async with app.router.lifespan_context(app):
            pass


async def test_gu1_refusing_the_data_is_the_callers_422(http: httpx.AsyncClient) -> None:
    refused = await http.put("/customers/cust-1", json={"name": "No Country"})
    assert refused.status_code == 422 and refused.json()["code"] == "VALIDATION_ERROR"
