"""An aiohttp web backend that calls gu1 while a user waits, and receives gu1's webhooks.

The same wiring as examples/fastapi_app, in aiohttp (already a dependency of the SDK):

* one `Gu1Client` per process, opened and closed by a `cleanup_ctx`, kept in the
  application under an `AppKey`;
* each handler takes an interactive view (`priority=INTERACTIVE`) with this request's
  `max_wait` from `gu1_for(request)`;
* a middleware turns `QuotaExhaustedError` into this backend's own 503 with `Retry-After`
  (the request was never sent to gu1), and other gu1 failures into 422 or 502;
* the SDK's `WebhookReceiver` at `/webhooks/gu1`: signature, age and de-duplication checks,
  a 200 at once, the callback run in the background and drained at shutdown.

Run it::

    gu1 fake-server --port 8765 &
    export GU1_API_KEY=gk_test_fake_key_0001 GU1_BASE_URL=http://127.0.0.1:8765
    export GU1_WEBHOOK_SECRET=whsec_example
    python examples/aiohttp_app/app.py     # serves on http://127.0.0.1:8080

tests/examples/test_aiohttp_app.py drives it with aiohttp's test client.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from gu1_async import (
    BadRequestError,
    Gu1Client,
    Gu1Error,
    NotFoundError,
    Plan,
    Priority,
    QuotaExhaustedError,
)
from gu1_async.webhook_receiver import WEBHOOK_RECEIVER_KEY, WebhookReceiver
from gu1_async.webhooks import WebhookEvent


@dataclass
class Settings:
    """What the app reads from its environment (never the key from an argument)."""

    api_key: str | None = None  # None: GU1_API_KEY
    base_url: str | None = None  # None: GU1_BASE_URL, else https://api.gu1.ai
    plan: Plan | str = "starter"
    webhook_secret: str = field(default_factory=lambda: os.environ.get("GU1_WEBHOOK_SECRET", ""))
    max_wait: float = 2.0  # seconds a request may wait for quota before we answer 503


GU1 = web.AppKey("gu1", Gu1Client)
SETTINGS = web.AppKey("settings", Settings)
EVENTS = web.AppKey("events", list)  # verified webhook events; a real app enqueues them


def gu1_for(request: web.Request) -> Gu1Client:
    """The process's client as an interactive view with this request's `max_wait`.

    A caller may shorten the wait with `X-Max-Wait` (seconds), never lengthen it.
    """
    limit = request.app[SETTINGS].max_wait
    asked = request.headers.get("X-Max-Wait")
    try:
        max_wait = limit if asked is None else min(limit, max(0.0, float(asked)))
    except ValueError:
        raise web.HTTPBadRequest(text="X-Max-Wait must be a number of seconds") from None
    return request.app[GU1].with_options(priority=Priority.INTERACTIVE, max_wait=max_wait)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def gu1_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """gu1's failures as this backend's answers."""
    try:
        return await handler(request)
    except QuotaExhaustedError as exc:
        # Our 503, not gu1's 429: the request was never sent. Retry-After in whole seconds.
        retry_after = max(1, math.ceil(exc.retry_after))
        return web.json_response(
            {"error": "gu1 quota exhausted, retry later", "retry_after": retry_after},
            status=503,
            headers={"Retry-After": str(retry_after)},
        )
    except BadRequestError as exc:  # gu1 refused the data: the caller's input to fix
        return web.json_response({"error": exc.message, "code": exc.code}, status=422)
    except NotFoundError:
        return web.json_response({"error": "not found in gu1"}, status=404)
    except Gu1Error as exc:  # gu1 down, a timeout, a missing permission: upstream failed
        return web.json_response({"error": f"gu1: {type(exc).__name__}"}, status=502)


async def upsert_customer(request: web.Request) -> web.Response:
    """PUT /customers/{external_id}: create or update the customer (upsert: retry-safe)."""
    external_id = request.match_info["external_id"]
    body = await request.json()
    result = await gu1_for(request).entities.upsert(
        entity={"type": "person", **body, "externalId": external_id}
    )
    stored = result.entity
    return web.json_response({"action": result.action, "id": stored.id if stored else None})


async def get_customer(request: web.Request) -> web.Response:
    """GET /customers/{external_id}: the customer as gu1 knows it."""
    entity = await gu1_for(request).entities.get_by_external_id(request.match_info["external_id"])
    return web.json_response(
        {"id": entity.id, "name": entity.name, "risk_score": entity.risk_score}
    )


def create_app(settings: Settings | None = None) -> web.Application:
    """The application; `settings` default to the environment."""
    config = settings or Settings()
    if not config.webhook_secret:  # fail at startup, not on gu1's first delivery
        raise RuntimeError("set GU1_WEBHOOK_SECRET (the secret shown in gu1's dashboard)")
    app = web.Application(middlewares=[gu1_errors])
    app[SETTINGS] = config
    app[EVENTS] = []

    async def gu1_client(app: web.Application) -> AsyncIterator[None]:
        # One client for the whole process: its pool and its governor outlive requests.
        async with Gu1Client(config.api_key, base_url=config.base_url, plan=config.plan) as client:
            app[GU1] = client
            yield

    async def on_event(event: WebhookEvent) -> None:
        app[EVENTS].append(event)

    receiver = app[WEBHOOK_RECEIVER_KEY] = WebhookReceiver(config.webhook_secret, on_event)
    app.cleanup_ctx.append(gu1_client)
    app.on_cleanup.append(receiver.on_cleanup)  # let running callbacks finish
    app.router.add_put("/customers/{external_id}", upsert_customer)
    app.router.add_get("/customers/{external_id}", get_customer)
    app.router.add_post("/webhooks/gu1", receiver.handle)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8080)
