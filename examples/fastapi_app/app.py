"""A FastAPI backend that calls gu1 while a user waits, and receives gu1's webhooks.

The wiring every web backend needs, in one file:

* **one `Gu1Client` per process**, opened in the lifespan and closed at shutdown: one
  connection pool and one rate-limit governor for every request the process serves (a
  client per request would start each one with a fresh, unknowing governor);
* **a dependency** (`Gu1`) that hands routes a view of that client with
  `priority=INTERACTIVE` (a user is waiting: served before any batch work sharing the key)
  and a per-request `max_wait`, the longest this request may wait for quota;
* **`QuotaExhaustedError` -> this backend's own 503** with `Retry-After`: when the quota
  cannot give a slot within `max_wait`, the user gets a prompt answer instead of a hung
  request, and gu1 never sees a request it would refuse;
* **a webhook route** that checks gu1's signature on the raw body (`gu1_async.webhooks`)
  before trusting a byte of it, acknowledges at once and de-duplicates redeliveries.

Run it (`pip install fastapi uvicorn`), against the fake server or the real API::

    gu1 fake-server --port 8765 &
    export GU1_API_KEY=gk_test_fake_key_0001 GU1_BASE_URL=http://127.0.0.1:8765
    export GU1_WEBHOOK_SECRET=whsec_example
    uvicorn --app-dir examples/fastapi_app app:app

tests/examples/test_fastapi_app.py drives it through httpx's ASGI transport.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from gu1_async import (
    BadRequestError,
    Gu1Client,
    Gu1Error,
    NotFoundError,
    Plan,
    Priority,
    QuotaExhaustedError,
)
from gu1_async.webhooks import (
    SIGNATURE_HEADER,
    WebhookEvent,
    WebhookVerificationError,
    construct_event,
    dedupe_key,
)


@dataclass
class Settings:
    """What the app reads from its environment (never the key from an argument)."""

    api_key: str | None = None  # None: GU1_API_KEY
    base_url: str | None = None  # None: GU1_BASE_URL, else https://api.gu1.ai
    plan: Plan | str = "starter"
    webhook_secret: str = field(default_factory=lambda: os.environ.get("GU1_WEBHOOK_SECRET", ""))
    max_wait: float = 2.0  # seconds a request may wait for quota before we answer 503
    allow_environment_mismatch: bool = False  # a production key against a test server


@dataclass
class Inbox:
    """Where verified webhook events go; a real app would enqueue them durably instead."""

    events: list[WebhookEvent] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application; `settings` default to the environment, read at startup."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config = settings or Settings()
        if not config.webhook_secret:  # fail at startup, not on gu1's first delivery
            raise RuntimeError("set GU1_WEBHOOK_SECRET (the secret shown in gu1's dashboard)")
        # One client for the whole process: its pool and its governor outlive requests.
        async with Gu1Client(
            config.api_key,
            base_url=config.base_url,
            plan=config.plan,
            allow_environment_mismatch=config.allow_environment_mismatch,
        ) as client:
            app.state.gu1 = client
            app.state.settings = config
            app.state.inbox = Inbox()
            yield

    app = FastAPI(title="gu1-async FastAPI example", lifespan=lifespan)

    @app.exception_handler(QuotaExhaustedError)
    async def quota_exhausted(request: Request, exc: QuotaExhaustedError) -> JSONResponse:
        # Our 503, not gu1's 429: the request was never sent. Retry-After in whole seconds.
        retry_after = max(1, math.ceil(exc.retry_after))
        return JSONResponse(
            {"error": "gu1 quota exhausted, retry later", "retry_after": retry_after},
            status_code=503,
            headers={"Retry-After": str(retry_after)},
        )

    @app.exception_handler(BadRequestError)
    async def rejected(request: Request, exc: BadRequestError) -> JSONResponse:
        # gu1 refused the data we sent on the user's behalf: the user's input to fix.
        return JSONResponse({"error": exc.message, "code": exc.code}, status_code=422)

    @app.exception_handler(Gu1Error)
    async def upstream_failed(request: Request, exc: Gu1Error) -> JSONResponse:
        # Anything else (gu1 down, a timeout, a key without the permission): our upstream
        # failed. Say so without echoing details that belong in the logs.
        return JSONResponse({"error": f"gu1: {type(exc).__name__}"}, status_code=502)

    _add_routes(app)
    return app


def get_gu1(
    request: Request,
    x_max_wait: Annotated[float | None, Header(ge=0, le=30)] = None,
) -> Gu1Client:
    """The process's client as an interactive view with this request's `max_wait`.

    A caller with its own deadline may send `X-Max-Wait` (seconds) to shorten the wait;
    it can never lengthen it past the app's setting. The view shares the client's pool
    and governor, so creating one per request costs no connection.
    """
    client: Gu1Client = request.app.state.gu1
    limit: float = request.app.state.settings.max_wait
    max_wait = limit if x_max_wait is None else min(limit, x_max_wait)
    return client.with_options(priority=Priority.INTERACTIVE, max_wait=max_wait)


Gu1 = Annotated[Gu1Client, Depends(get_gu1)]


def _add_routes(app: FastAPI) -> None:
    @app.put("/customers/{external_id}")
    async def upsert_customer(external_id: str, body: dict[str, Any], gu1: Gu1) -> dict[str, Any]:
        """Create or update the customer in gu1 (upsert: a retried request is harmless)."""
        entity = {"type": "person", **body, "externalId": external_id}
        result = await gu1.entities.upsert(entity=entity)
        stored = result.entity
        return {"action": result.action, "id": stored.id if stored else None}

    @app.get("/customers/{external_id}")
    async def get_customer(external_id: str, gu1: Gu1) -> dict[str, Any]:
        """The customer as gu1 knows it, with its risk score."""
        try:
            entity = await gu1.entities.get_by_external_id(external_id)
        except NotFoundError:
            raise HTTPException(404, f"no customer {external_id!r} in gu1") from None
        return {"id": entity.id, "name": entity.name, "risk_score": entity.risk_score}

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        """Liveness, with what gu1's latest answer said about the quota (no request made)."""
        snapshot = request.app.state.gu1.rate_limit
        return {"ok": True, "remaining": snapshot.remaining if snapshot else None}

    @app.post("/webhooks/gu1")
    async def gu1_webhook(request: Request) -> dict[str, Any]:
        """Verify the signature on the raw bytes, then take the event (answer within 30 s)."""
        raw = await request.body()  # never a Pydantic model: re-serialising breaks the HMAC
        inbox: Inbox = request.app.state.inbox
        try:
            event = construct_event(
                raw,
                request.headers.get(SIGNATURE_HEADER),
                request.app.state.settings.webhook_secret,
            )
        except WebhookVerificationError as exc:
            raise HTTPException(401, str(exc)) from None
        key = dedupe_key(event)
        if key in inbox.seen:  # gu1 redelivers until it gets a 200: acknowledge, once
            return {"received": True, "duplicate": True}
        inbox.seen.add(key)
        inbox.events.append(event)
        return {"received": True}


app = create_app()
