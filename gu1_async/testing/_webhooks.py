"""Webhook deliveries: gu1's envelope, signed with HMAC-SHA256, POSTed in the background."""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
import attrs

from ._common import iso

__all__ = ["WebhookDelivery", "WebhookHub", "sign"]

SIGNATURE_HEADER = "X-Webhook-Signature"


def sign(secret: str, raw_body: bytes) -> str:
    """The signature header value: `sha256=` + lowercase hex HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@attrs.frozen
class _Subscription:
    url: str
    secret: str = attrs.field(repr=False)
    events: tuple[str, ...]

    def wants(self, event: str) -> bool:
        # gu1 lets you subscribe by category wildcard (`kyc.*`); `*` is everything.
        return any(fnmatch.fnmatchcase(event, pattern) for pattern in self.events)


@attrs.frozen
class WebhookDelivery:
    """One attempted delivery, as recorded by the fake."""

    url: str
    event: str
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    signature: str
    status: int | None
    """The receiver's HTTP status, or None when it could not be reached."""
    error: str | None = None

    @property
    def envelope(self) -> dict[str, Any]:
        """The decoded JSON envelope `{event, timestamp, organizationId, payload}`."""
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


class WebhookHub:
    """Subscriptions, a delivery task per event, and the record of every delivery."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._subscriptions: list[_Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self.deliveries: list[WebhookDelivery] = []

    def subscribe(self, url: str, secret: str, events: Sequence[str]) -> None:
        """Deliver matching events to `url`, signed with `secret`."""
        self._subscriptions.append(_Subscription(url, secret, tuple(events)))

    def emit(self, event: str, payload: dict[str, Any], organization_id: str) -> None:
        """Queue the event for every subscription that wants it (never blocks the caller)."""
        targets = [s for s in self._subscriptions if s.wants(event)]
        if not targets:
            return
        envelope = {
            "event": event,
            "timestamp": iso(self._clock()),
            "organizationId": organization_id,
            "payload": payload,
        }
        # Serialise once: the signature covers these exact bytes.
        raw = json.dumps(envelope, separators=(",", ":"), default=str).encode()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # state read from sync code: record instead of delivering
            for target in targets:
                delivery = WebhookDelivery(
                    target.url, event, raw, sign(target.secret, raw), None, "no running event loop"
                )
                self.deliveries.append(delivery)
            return
        for target in targets:
            task = loop.create_task(self._deliver(target, event, raw))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, target: _Subscription, event: str, raw: bytes) -> None:
        signature = sign(target.secret, raw)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
        status: int | None = None
        error: str | None = None
        try:
            if self._session is None:
                self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
            async with self._session.post(target.url, data=raw, headers=headers) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        self.deliveries.append(WebhookDelivery(target.url, event, raw, signature, status, error))

    async def drain(self) -> None:
        """Wait until every queued delivery has been attempted."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Finish pending deliveries, then close the HTTP session."""
        await self.drain()
        if self._session is not None:
            await self._session.close()
            self._session = None
