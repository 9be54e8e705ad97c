"""examples/aiohttp_app against FakeGu1Server, with aiohttp's own test client."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gu1_async import Plan, Quota
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server
from gu1_async.webhook_receiver import WEBHOOK_RECEIVER_KEY
from gu1_async.webhooks import SIGNATURE_HEADER, sign_payload

from ._load import load_example

example = load_example("aiohttp_app/app.py")
SECRET = "whsec_aiohttp_example"
LIMIT = 3


@pytest.fixture
async def server() -> AsyncIterator[FakeGu1Server]:
    async with FakeGu1Server(plan=[(LIMIT, 3600.0)]) as fake:
        yield fake


@pytest.fixture
async def http(server: FakeGu1Server) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    settings = example.Settings(
        api_key=DEFAULT_KEY,
        base_url=server.url,
        plan=Plan.custom(Quota(LIMIT, 3600.0)),
        webhook_secret=SECRET,
    )
    async with TestClient(TestServer(example.create_app(settings))) as client:
        yield client


async def test_routes_reach_gu1_and_quota_exhaustion_is_our_503(
    http: TestClient,  # type: ignore[type-arg]
    server: FakeGu1Server,
) -> None:
    body = {"name": "Ada Lovelace", "countryCode": "GB"}
    first = await http.put("/customers/cust-42", json=body)
    assert first.status == 200, await first.text()
    assert (await first.json())["action"] == "created"
    got = await http.get("/customers/cust-42")
    assert (await got.json())["name"] == "Ada Lovelace"
    assert (await http.get("/customers/nobody")).status == 404
    # Three requests spent the hour (the 404 was one): the fourth is refused here, at once.
    refused = await http.get("/customers/cust-42")
    assert refused.status == 503
    assert 1 < int(refused.headers["Retry-After"]) <= 3600
    assert (await http.get("/customers/x", headers={"X-Max-Wait": "zero"})).status == 400
    assert server.stats().rate_limited == 0 and server.stats().requests == LIMIT
    assert http.app[example.GU1].governor.stats().granted == LIMIT  # one client, one governor


async def test_bad_data_is_a_422(http: TestClient) -> None:  # type: ignore[type-arg]
    refused = await http.put("/customers/c-1", json={"name": "No Country"})
    assert refused.status == 422 and (await refused.json())["code"] == "VALIDATION_ERROR"


async def test_webhook_route_verifies_and_delivers_once(
    http: TestClient,  # type: ignore[type-arg]
) -> None:
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    raw = json.dumps(
        {"event": "entity.created", "timestamp": now, "payload": {"entity": {"id": "e-1"}}}
    ).encode()
    signed = {SIGNATURE_HEADER: sign_payload(raw, SECRET)}
    assert (await (await http.post("/webhooks/gu1", data=raw, headers=signed)).json()) == {
        "received": True
    }
    again = await http.post("/webhooks/gu1", data=raw, headers=signed)
    assert (await again.json())["duplicate"] is True
    forged = await http.post("/webhooks/gu1", data=raw, headers={SIGNATURE_HEADER: "sha256=00"})
    assert forged.status == 401
    # The callback runs in the background after the 200: let it finish.
    await http.app[WEBHOOK_RECEIVER_KEY].drain()
    assert [e.event for e in http.app[example.EVENTS]] == ["entity.created"]


def test_the_app_refuses_to_start_without_a_webhook_secret() -> None:
    with pytest.raises(RuntimeError, match="GU1_WEBHOOK_SECRET"):
        example.create_app(example.Settings(api_key=DEFAULT_KEY, webhook_secret=""))
