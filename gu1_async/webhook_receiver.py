"""A small aiohttp endpoint that receives gu1 webhooks and hands them to your code.

gu1 wants an HTTP 200 within 30 seconds and (we assume) redelivers otherwise, so the
receiver answers as soon as the delivery is verified and parsed, and runs your callback
in a background task. Consequences, by design:

* A callback error is logged, never turned into a non-200: the delivery itself was
  fine, and a 5xx would only make gu1 send the same event again into the same bug.
  Put anything that must not be lost into durable storage (a queue, a table) first.
* Redeliveries (same `dedupe_key`) are acknowledged with 200 but not handed over twice,
  within a bounded memory of recent keys. Keys are per process: run one receiver, or
  keep your callback idempotent.

Responses: 200 `{"received": true}` (with `"duplicate": true` for a redelivery), 401 for
a missing or wrong signature or a stale timestamp (older than `tolerance`), 400 for a
body that is not a gu1 event, 503 once the receiver is shutting down.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiohttp import web

from gu1_async._errors import ConfigurationError, WebhookVerificationError
from gu1_async.webhooks import (
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    WebhookEvent,
    check_timestamp,
    dedupe_key,
    parse_event,
    sign_payload,
    verify_signature,
)

__all__ = [
    "WEBHOOK_RECEIVER_KEY",
    "EventCallback",
    "WebhookReceiver",
    "make_webhook_app",
    "webhook_handler",
]

logger = logging.getLogger("gu1_async.webhooks")

EventCallback = Callable[[WebhookEvent], Awaitable[None]]
"""What the receiver calls with each new event: `async def on_event(event) -> None`."""

DEFAULT_PATH = "/webhooks/gu1"


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class WebhookReceiver:
    """Receives gu1 webhooks in aiohttp: route POSTs to `handle`, drain on shutdown.

    ```python
    receiver = WebhookReceiver(secret, on_event)
    app.router.add_post("/webhooks/gu1", receiver.handle)
    app.on_cleanup.append(receiver.on_cleanup)
    ```

    `make_webhook_app()` does exactly this in a fresh application.
    """

    def __init__(
        self,
        secret: str | bytes,
        on_event: EventCallback,
        *,
        dedupe_capacity: int = 10_000,
        tolerance: float | None = DEFAULT_TOLERANCE,
        now: Callable[[], _dt.datetime] | None = None,
    ) -> None:
        # Check the secret now, so an empty one fails at startup rather than per request.
        sign_payload(b"", secret)
        if not callable(on_event):
            raise ConfigurationError("on_event must be an async callable")
        if dedupe_capacity < 0:
            raise ConfigurationError("dedupe_capacity must be >= 0 (0 turns de-duplication off)")
        if tolerance is not None and tolerance < 0:
            raise ConfigurationError("tolerance must be >= 0 seconds")
        self._secret = secret
        self._on_event = on_event
        self._capacity = dedupe_capacity
        self._tolerance = tolerance
        self._now = now
        # Insertion-ordered keys: the oldest is evicted first (an LRU, refreshed on hit).
        self._seen: OrderedDict[str, None] = OrderedDict()
        # Strong references: the event loop keeps only weak ones to running tasks.
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    def __repr__(self) -> str:
        # The secret never appears here.
        return (
            f"{type(self).__name__}(on_event={self._on_event!r}, "
            f"dedupe_capacity={self._capacity}, pending={len(self._tasks)})"
        )

    @property
    def pending(self) -> int:
        """How many callbacks are still running."""
        return len(self._tasks)

    # A method, not __call__: aiohttp only recognises coroutine *functions* as handlers
    # and warns (an error under pytest's filterwarnings=error) for callable instances.
    async def handle(self, request: web.Request) -> web.Response:
        """Verify, parse, de-duplicate and acknowledge one delivery."""
        if self._closing:
            return _error(503, "shutting_down", "receiver is shutting down; retry later")
        body = await request.read()
        header = request.headers.get(SIGNATURE_HEADER)
        try:
            verify_signature(body, header, self._secret)
        except WebhookVerificationError as exc:
            logger.warning("rejected gu1 webhook from %s: %s", request.remote, exc)
            return _error(401, "invalid_signature", str(exc))
        try:
            event = parse_event(body)
        except WebhookVerificationError as exc:
            logger.warning("rejected gu1 webhook body from %s: %s", request.remote, exc)
            return _error(400, "invalid_body", str(exc))
        if self._tolerance is not None:
            now = self._now() if self._now is not None else None
            try:
                check_timestamp(event, self._tolerance, now)
            except WebhookVerificationError as exc:
                logger.warning("rejected stale gu1 webhook from %s: %s", request.remote, exc)
                return _error(401, "stale_timestamp", str(exc))

        key = dedupe_key(event)
        if self._remember(key):
            logger.debug("duplicate gu1 webhook %s acknowledged, not re-delivered", key)
            return web.json_response({"received": True, "duplicate": True})

        task = asyncio.get_running_loop().create_task(self._run(event, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"received": True})

    def _remember(self, key: str) -> bool:
        """Record `key`; return True if it was already known (a redelivery)."""
        if self._capacity == 0:
            return False
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        self._seen[key] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return False

    async def _run(self, event: WebhookEvent, key: str) -> None:
        try:
            await self._on_event(event)
        except Exception:
            # Forget the key so that, should gu1 redeliver anyway, the event gets another try.
            self._seen.pop(key, None)
            logger.exception("gu1 webhook callback failed for %s (%s)", event.event, key)

    async def drain(self, timeout: float | None = 10.0) -> None:
        """Stop accepting deliveries and wait for running callbacks.

        Args:
            timeout: Seconds to wait before cancelling the callbacks still running;
                None waits for as long as they take.
        """
        self._closing = True
        if not self._tasks:
            return
        _, still_running = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in still_running:
            task.cancel()
        if still_running:
            logger.warning("cancelled %d gu1 webhook callbacks at shutdown", len(still_running))
            await asyncio.wait(still_running)

    async def on_cleanup(self, app: web.Application) -> None:
        """An `app.on_cleanup` signal handler that drains the callbacks."""
        await self.drain()


def webhook_handler(
    secret: str | bytes,
    on_event: EventCallback,
    *,
    dedupe_capacity: int = 10_000,
    tolerance: float | None = DEFAULT_TOLERANCE,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Build an aiohttp handler that verifies gu1 webhooks and passes them to `on_event`.

    A shortcut for `WebhookReceiver(...).handle`. To let running callbacks finish on
    shutdown, keep the receiver instead (or reach it as `handler.__self__`) and add its
    `on_cleanup` to your app.

    Args:
        secret: The webhook secret from the gu1 dashboard.
        on_event: `async def on_event(event: WebhookEvent) -> None`, run in the
            background after gu1 has had its 200.
        dedupe_capacity: How many recent event keys to remember; 0 turns it off.
        tolerance: Most seconds an envelope's timestamp may be from now (default 300;
            None: no age check); see `construct_event`.

    Raises:
        ConfigurationError: The secret is empty, or an option is out of range.
    """
    receiver = WebhookReceiver(
        secret, on_event, dedupe_capacity=dedupe_capacity, tolerance=tolerance
    )
    return receiver.handle


WEBHOOK_RECEIVER_KEY = web.AppKey("gu1_webhook_receiver", WebhookReceiver)
"""Where `make_webhook_app` stores its receiver: `app[WEBHOOK_RECEIVER_KEY]`."""


def make_webhook_app(
    secret: str | bytes,
    on_event: EventCallback,
    path: str = DEFAULT_PATH,
    *,
    dedupe_capacity: int = 10_000,
    tolerance: float | None = DEFAULT_TOLERANCE,
) -> web.Application:
    """An aiohttp application with one POST route at `path`, draining callbacks on cleanup.

    Run it with `web.run_app(app)`, or mount it with `parent.add_subapp(prefix, app)`.
    """
    receiver = WebhookReceiver(
        secret, on_event, dedupe_capacity=dedupe_capacity, tolerance=tolerance
    )
    app = web.Application()
    app[WEBHOOK_RECEIVER_KEY] = receiver
    app.router.add_post(path, receiver.handle)
    app.on_cleanup.append(receiver.on_cleanup)
    return app
