"""The aiohttp webhook receiver end to end, over a real loopback server."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import test_utils, web

from gu1_async._errors import ConfigurationError
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server
from gu1_async.webhook_receiver import (
    WEBHOOK_RECEIVER_KEY,
    WebhookReceiver,
    make_webhook_app,
    webhook_handler,
)
from gu1_async.webhooks import SIGNATURE_HEADER, WebhookEvent, sign_payload

SECRET = "whsec_test_receiver_secret"
PATH = "/webhooks/gu1"
Client = test_utils.TestClient[web.Request, web.Application]


def body_for(
    event: str = "kyc.validation_approved",
    payload_id: str = "val-1",
    timestamp: str | None = None,
) -> bytes:
    """A delivery stamped now (the receiver checks the age by default) unless told when."""
    if timestamp is None:
        timestamp = dt.datetime.now(dt.timezone.utc).isoformat()
    return json.dumps(
        {"event": event, "timestamp": timestamp, "payload": {"id": payload_id}}
    ).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign_payload(body, secret), "Content-Type": "application/json"}


class Recorder:
    """An on_event callback that records events and can be told to fail or to wait."""

    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []
        self.fail_next = False
        self.gate: asyncio.Event | None = None
        self.cancelled = False

    async def __call__(self, event: WebhookEvent) -> None:
        if self.gate is not None:
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("callback exploded")
        self.events.append(event)


async def settle(receiver: WebhookReceiver) -> None:
    """Let background callbacks finish (bounded, so a bug fails instead of hanging)."""
    for _ in range(1000):
        if not receiver.pending:
            return
        await asyncio.sleep(0)
    raise AssertionError("callbacks did not finish")


Factory = Callable[..., Awaitable[tuple[Client, WebhookReceiver]]]


@pytest.fixture
async def serve() -> AsyncIterator[Factory]:
    """Start make_webhook_app on 127.0.0.1 with the given callback and options."""
    clients: list[Client] = []

    async def start(on_event: Any, **options: Any) -> tuple[Client, WebhookReceiver]:
        app = make_webhook_app(SECRET, on_event, **options)
        client: Client = test_utils.TestClient(test_utils.TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client, app[WEBHOOK_RECEIVER_KEY]

    yield start
    for client in clients:
        await client.close()


async def test_valid_delivery_is_acknowledged_and_handed_over(serve: Factory) -> None:
    recorder = Recorder()
    client, receiver = await serve(recorder)
    body = body_for()
    response = await client.post(PATH, data=body, headers=signed(body))
    assert response.status == 200
    assert await response.json() == {"received": True}
    await settle(receiver)
    assert [e.event for e in recorder.events] == ["kyc.validation_approved"]
    assert recorder.events[0].payload == {"id": "val-1"}


async def test_redelivery_gets_200_but_the_callback_runs_once(serve: Factory) -> None:
    recorder = Recorder()
    client, receiver = await serve(recorder)
    body = body_for()
    first = await client.post(PATH, data=body, headers=signed(body))
    # gu1 may re-serialise on retry; the dedupe key ignores byte layout.
    again = json.dumps(json.loads(body), indent=2).encode()
    second = await client.post(PATH, data=again, headers=signed(again))
    await settle(receiver)
    assert (first.status, second.status) == (200, 200)
    assert await second.json() == {"received": True, "duplicate": True}
    assert len(recorder.events) == 1


async def test_distinct_events_are_all_handed_over(serve: Factory) -> None:
    recorder = Recorder()
    client, receiver = await serve(recorder)
    for event in ("kyc.validation_in_progress", "kyc.validation_in_review", "custom.future"):
        body = body_for(event=event)
        assert (await client.post(PATH, data=body, headers=signed(body))).status == 200
    await settle(receiver)
    assert [e.event for e in recorder.events] == [
        "kyc.validation_in_progress",
        "kyc.validation_in_review",
        "custom.future",
    ]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({SIGNATURE_HEADER: "sha256=" + "0" * 64}, id="wrong"),
        pytest.param({SIGNATURE_HEADER: "garbage"}, id="malformed"),
        pytest.param(
            {SIGNATURE_HEADER: sign_payload(body_for(), "whsec_test_other")}, id="other-secret"
        ),
    ],
)
async def test_bad_signature_is_401_and_never_reaches_the_callback(
    serve: Factory, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    client, receiver = await serve(recorder)
    with caplog.at_level(logging.WARNING, logger="gu1_async.webhooks"):
        response = await client.post(PATH, data=body_for(), headers=headers)
    await settle(receiver)
    assert response.status == 401
    error = (await response.json())["error"]
    assert error["code"] == "invalid_signature"
    assert SECRET not in error["message"]
    assert SECRET not in caplog.text
    assert "rejected gu1 webhook" in caplog.text
    assert recorder.events == []


async def test_tampered_body_is_401(serve: Factory) -> None:
    recorder = Recorder()
    client, _ = await serve(recorder)
    headers = signed(body_for(event="kyc.validation_rejected"))
    response = await client.post(
        PATH, data=body_for(event="kyc.validation_approved"), headers=headers
    )
    assert response.status == 401


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"payload": {}}'])
async def test_signed_but_bad_body_is_400(serve: Factory, body: bytes) -> None:
    recorder = Recorder()
    client, _ = await serve(recorder)
    response = await client.post(PATH, data=body, headers=signed(body))
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_body"
    assert recorder.events == []


async def test_only_post_is_routed(serve: Factory) -> None:
    client, _ = await serve(Recorder())
    assert (await client.get(PATH)).status == 405


async def test_callback_error_is_logged_not_raised_and_not_a_non_200(
    serve: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    recorder.fail_next = True
    client, receiver = await serve(recorder)
    body = body_for()
    with caplog.at_level(logging.ERROR, logger="gu1_async.webhooks"):
        response = await client.post(PATH, data=body, headers=signed(body))
        await settle(receiver)
    assert response.status == 200
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1
    assert "kyc.validation_approved" in failures[0].getMessage()
    assert failures[0].exc_info is not None
    assert isinstance(failures[0].exc_info[1], RuntimeError)

    # The server keeps serving, and a failed event is forgotten, so a redelivery retries it.
    retry = await client.post(PATH, data=body, headers=signed(body))
    await settle(receiver)
    assert await retry.json() == {"received": True}
    assert len(recorder.events) == 1


async def test_dedupe_memory_is_bounded(serve: Factory) -> None:
    recorder = Recorder()
    client, receiver = await serve(recorder, dedupe_capacity=2)
    for payload_id in ("a", "b", "c", "a"):  # "a" was evicted by "c"
        body = body_for(payload_id=payload_id)
        await client.post(PATH, data=body, headers=signed(body))
    await settle(receiver)
    assert [e.payload["id"] for e in recorder.events] == ["a", "b", "c", "a"]


async def test_recent_hits_stay_in_the_lru(serve: Factory) -> None:
    recorder = Recorder()
    client, receiver = await serve(recorder, dedupe_capacity=2)
    stamp = dt.datetime.now(dt.timezone.utc).isoformat()  # one event each: one timestamp
    for payload_id in ("a", "b", "a", "c", "a"):  # the hit on "a" makes "b" the eldest
        body = body_for(payload_id=payload_id, timestamp=stamp)
        await client.post(PATH, data=body, headers=signed(body))
    await settle(receiver)
    assert [e.payload["id"] for e in recorder.events] == ["a", "b", "c"]


async def test_zero_capacity_turns_dedupe_off(serve: Factory) -> None:
    recorder = Recorder()
    client, receiver = await serve(recorder, dedupe_capacity=0)
    body = body_for()
    for _ in range(2):
        await client.post(PATH, data=body, headers=signed(body))
    await settle(receiver)
    assert len(recorder.events) == 2


async def test_ack_does_not_wait_for_a_slow_callback(serve: Factory) -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    client, receiver = await serve(recorder)
    body = body_for()
    response = await client.post(PATH, data=body, headers=signed(body))
    assert response.status == 200
    assert receiver.pending == 1
    assert recorder.events == []
    recorder.gate.set()
    await settle(receiver)
    assert len(recorder.events) == 1


async def test_drain_waits_then_refuses_new_deliveries(serve: Factory) -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    client, receiver = await serve(recorder)
    body = body_for()
    await client.post(PATH, data=body, headers=signed(body))
    drain = asyncio.ensure_future(receiver.drain(timeout=None))
    await asyncio.sleep(0)
    assert not drain.done()
    late = await client.post(PATH, data=body_for(payload_id="late"), headers=signed(body))
    assert late.status == 503
    recorder.gate.set()
    await drain
    assert receiver.pending == 0
    assert [e.payload["id"] for e in recorder.events] == ["val-1"]


async def test_drain_cancels_callbacks_past_the_timeout(
    serve: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()  # never set
    client, receiver = await serve(recorder)
    body = body_for()
    await client.post(PATH, data=body, headers=signed(body))
    await asyncio.sleep(0)  # let the callback start waiting
    with caplog.at_level(logging.WARNING, logger="gu1_async.webhooks"):
        await receiver.drain(timeout=0)
    assert recorder.cancelled
    assert receiver.pending == 0
    assert "cancelled 1 gu1 webhook callbacks" in caplog.text


async def test_app_cleanup_drains_pending_callbacks() -> None:
    finished: list[str] = []

    async def slow(event: WebhookEvent) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        finished.append(event.event)

    app = make_webhook_app(SECRET, slow, path="/hooks")
    client: Client = test_utils.TestClient(test_utils.TestServer(app, host="127.0.0.1"))
    await client.start_server()
    body = body_for()
    response = await client.post("/hooks", data=body, headers=signed(body))
    assert response.status == 200
    await client.close()  # runs on_cleanup
    assert finished == ["kyc.validation_approved"]
    assert app[WEBHOOK_RECEIVER_KEY].pending == 0


@pytest.mark.parametrize("options", [{}, {"tolerance": 300}], ids=["default", "explicit"])
async def test_stale_envelope_is_401(serve: Factory, options: dict[str, Any]) -> None:
    # By default too: a correctly signed delivery from 2020 used to be accepted.
    recorder = Recorder()
    client, receiver = await serve(recorder, **options)
    for old in (
        body_for(timestamp="2020-03-01T00:00:00Z"),
        b'{"type": "kyc.validation_approved", "data": {"id": "v"}}',  # no timestamp at all
    ):
        response = await client.post(PATH, data=old, headers=signed(old))
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "stale_timestamp"
    fresh = body_for()
    assert (await client.post(PATH, data=fresh, headers=signed(fresh))).status == 200
    await settle(receiver)
    assert len(recorder.events) == 1


async def test_tolerance_none_turns_the_age_check_off(serve: Factory) -> None:
    recorder = Recorder()
    client, receiver = await serve(recorder, tolerance=None)
    old = body_for(timestamp="2020-03-01T00:00:00Z")
    assert (await client.post(PATH, data=old, headers=signed(old))).status == 200
    await settle(receiver)
    assert len(recorder.events) == 1


async def test_a_body_over_one_mib_is_refused_by_make_webhook_app(serve: Factory) -> None:
    # aiohttp's default client_max_size, which make_webhook_app keeps (docs/webhooks.md).
    client, receiver = await serve(Recorder())
    body = body_for(payload_id="x" * (1024**2))
    response = await client.post(PATH, data=io.BytesIO(body), headers=signed(body))
    assert response.status == 413
    assert receiver.pending == 0


async def test_handler_mounts_in_your_own_app_with_an_injected_clock() -> None:
    recorder = Recorder()
    receiver = WebhookReceiver(
        SECRET,
        recorder,
        tolerance=60,
        now=lambda: dt.datetime(2025, 1, 7, 10, 0, 30, tzinfo=dt.timezone.utc),
    )
    app = web.Application()
    app.router.add_post("/in", receiver.handle)
    app.on_cleanup.append(receiver.on_cleanup)
    async with test_utils.TestClient(test_utils.TestServer(app, host="127.0.0.1")) as client:
        body = body_for(timestamp="2025-01-07T10:00:00.000Z")
        assert (await client.post("/in", data=body, headers=signed(body))).status == 200
        await settle(receiver)
    assert len(recorder.events) == 1


@pytest.mark.parametrize(
    ("secret", "options", "message"),
    [
        ("", {}, "secret is empty"),
        (SECRET, {"dedupe_capacity": -1}, "dedupe_capacity"),
        (SECRET, {"tolerance": -5}, "tolerance"),
    ],
)
def test_bad_configuration_fails_at_construction(
    secret: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        webhook_handler(secret, Recorder(), **options)


def test_non_callable_callback_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="async callable"):
        webhook_handler(SECRET, "not callable")  # type: ignore[arg-type]


async def test_webhook_handler_is_a_plain_aiohttp_handler() -> None:
    recorder = Recorder()
    handler = webhook_handler(SECRET, recorder)
    app = web.Application()
    app.router.add_post("/gu1", handler)
    async with test_utils.TestClient(test_utils.TestServer(app, host="127.0.0.1")) as client:
        body = body_for()
        assert (await client.post("/gu1", data=body, headers=signed(body))).status == 200
        assert (await client.post("/gu1", data=body, headers={})).status == 401
        receiver = handler.__self__  # type: ignore[attr-defined]
        await receiver.drain()
    assert len(recorder.events) == 1


def test_repr_never_shows_the_secret() -> None:
    receiver = WebhookReceiver(SECRET, Recorder())
    assert SECRET not in repr(receiver)
    assert "pending=0" in repr(receiver)


# --- against the SDK's fake gu1 server: its signatures are the ones we verify ---------


async def test_fake_gu1_server_deliveries_verify_end_to_end() -> None:
    recorder = Recorder()
    app = make_webhook_app(SECRET, recorder)
    receiver = app[WEBHOOK_RECEIVER_KEY]
    hooks: Client = test_utils.TestClient(test_utils.TestServer(app, host="127.0.0.1"))
    await hooks.start_server()
    try:
        async with FakeGu1Server() as gu1, aiohttp.ClientSession() as http:
            gu1.add_webhook(str(hooks.make_url(PATH)), SECRET, ["entity.*"])
            gu1.add_webhook(str(hooks.make_url(PATH)), "whsec_test_wrong", ["entity.*"])
            response = await http.post(
                f"{gu1.url}/entities",
                json={"type": "person", "name": "Ada Example", "countryCode": "AR"},
                headers={"Authorization": f"Bearer {DEFAULT_KEY}"},
            )
            assert response.status == 201
            entity_id = (await response.json())["entity"]["id"]
            await gu1.drain_webhooks()
            statuses = sorted(d.status for d in gu1.webhook_deliveries if d.status is not None)
        await settle(receiver)
    finally:
        await hooks.close()
    assert statuses == [200, 401]  # the right secret verifies, the wrong one does not
    assert [e.event for e in recorder.events] == ["entity.created"]
    assert recorder.events[0].payload["entity"]["id"] == entity_id
    assert recorder.events[0].timestamp is not None
