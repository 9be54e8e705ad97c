"""FakeGu1Server: a real aiohttp server on loopback that behaves like gu1 for the SDK's tests.

Every request goes through one middleware, in this order:

1. bring time-driven state (bulk jobs, KYC sessions) up to now;
2. auth: 401 for a missing, unknown or expired key;
3. a forced 429 if `force_429()` queued one;
4. the key's windows (`_gate.py`): 429 when any is exhausted (a 429 consumes no quota);
5. fault knobs: drop the connection, or answer 503, *before* the handler runs (the
   request has consumed quota, as a real request that reached gu1 would);
6. the handler (which checks permissions: 403), then `drop_after_rate`;
7. added latency, rate-limit headers and `Date`, per-key counters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import attrs
from aiohttp import web

from .._closing import AsyncClosing
from ._common import (
    KEY,
    ApiError,
    bearer_token,
    json_response,
)
from ._common import error_response as _error
from ._gate import RateLimitGate
from ._keys import (
    DEFAULT_KEY,
    DEFAULT_ORGANIZATIONS,
    FakeKey,
    Windows,
    resolve_windows,
    with_limit,
)
from ._ratelimit import RateDecision
from ._routes import add_area_routes
from ._stamp import HeaderStyle
from ._state import STATE, FakeState
from ._stats import FakeServerStats, KeyCounters
from ._store import EntityStore
from ._webhooks import WebhookDelivery

__all__ = ["FakeGu1Server"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _check_rate(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value}")
    return value


class FakeGu1Server(AsyncClosing):
    """An in-memory gu1 API on a real loopback port (see docs/fake-server.md).

    Args:
        host: Interface to bind; loopback by default.
        port: TCP port; 0 picks a free one (read it back from `url`).
        plan: Default windows for new keys: a plan name from `PLANS` or `(limit, period)`s.
        time_scale: API time runs this many times faster than real time (3600: an hour in 1 s).
        latency: Seconds added to every response.
        error_rate: Fraction of requests answered 503 before the handler runs.
        drop_rate: Fraction of connections closed unanswered before the handler runs.
        drop_after_rate: Fraction closed unanswered *after* the handler ran (state changed).
        seed: Seed of the fault knobs' random generator (same seed, same faults).
        default_key: A key registered with every permission, or None for no key.
        retry_after: Also send `Retry-After` (seconds) on rate-limit 429s (gu1 documents none).
        clock: Wall-clock source (epoch seconds); inject a fake one to move time by hand.
        limiter: How keys' requests are counted: `fixed` (gu1), `fixed_first_hit`,
            `moving` or `leaky` (see `_ratelimit.py`).
        headers: The rate-limit headers: `gu1`, `ietf` or `none` (bare 429s).
        reset_format: `X-RateLimit-Reset` as `iso`, `epoch`, `epoch_ms` or `delta`.
        reset_late: Seconds added to every announced reset (slowapi: 1).
        date_mode: `exact`, `truncated` (announced times floored to the second) or
            `cached` (`Date` refreshed every `date_refresh` real seconds, `date_phase`
            seconds into each period).

    Raises:
        ValueError: a bad plan, a non-positive `time_scale`, or an unknown mode.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        plan: str | Iterable[tuple[int, float]] = "free",
        time_scale: float = 1.0,
        latency: float = 0.0,
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
        drop_after_rate: float = 0.0,
        seed: int = 0,
        default_key: str | None = DEFAULT_KEY,
        retry_after: bool = False,
        clock: Callable[[], float] | None = None,
        limiter: str = "fixed",
        headers: str = "gu1",
        reset_format: str = "iso",
        reset_late: float = 0.0,
        date_mode: str = "exact",
        date_refresh: float = 1.0,
        date_phase: float = 0.5,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._host = host
        self._port = port
        self._windows = resolve_windows(plan)
        self._time_scale = time_scale
        self._limiter = limiter
        # The fields in HeaderStyle's order (the same names as this constructor's).
        style = HeaderStyle(
            headers, reset_format, reset_late, date_mode, date_refresh, date_phase, time_scale
        )
        self._gate = RateLimitGate(
            self._windows,
            time_scale=time_scale,
            limiter=limiter,
            style=style,
            retry_after=retry_after,
        )
        self._state = FakeState(clock or time.time, time_scale)
        self._keys: dict[str, FakeKey] = {}
        self._counters: defaultdict[str, KeyCounters] = defaultdict(KeyCounters)
        self._rng = random.Random(seed)
        self.latency = 0.0
        self.error_rate = self.drop_rate = self.drop_after_rate = 0.0
        self.set_faults(
            latency=latency,
            error_rate=error_rate,
            drop_rate=drop_rate,
            drop_after_rate=drop_after_rate,
        )
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self.app = self._build_app()
        if default_key is not None:
            self.add_key(default_key)

    # -- configuration -------------------------------------------------------------
    def add_key(
        self,
        key: str,
        *,
        environment: str = "sandbox",
        permissions: Iterable[str] | None = None,
        expires_at: dt.datetime | None = None,
        plan: str | Iterable[tuple[int, float]] | None = None,
        organization_id: str | None = None,
        limiter: str | None = None,
    ) -> FakeKey:
        """Register a key; `permissions=None` grants all, `plan=None` and `limiter=None`
        use the server's.

        Each environment is its own organization unless `organization_id` says otherwise.
        A naive `expires_at` is taken as UTC.
        """
        if expires_at is not None and expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=dt.timezone.utc)
        windows: Windows = self._windows if plan is None else resolve_windows(plan)
        org = organization_id or DEFAULT_ORGANIZATIONS.get(environment, f"org-{environment}")
        fake = FakeKey(
            key=key,
            environment=environment,
            permissions=None if permissions is None else frozenset(permissions),
            expires_at=expires_at,
            windows=windows,
            organization_id=org,
            limiter=self._limiter if limiter is None else limiter,
        )
        self._gate.register(fake)  # first: an unknown limiter kind raises before it is kept
        self._keys[key] = fake
        return fake

    def set_plan(self, key: str, plan: str | Iterable[tuple[int, float]]) -> FakeKey:
        """Change a key's windows mid-run (a plan upgrade or downgrade), adopted at once.

        A window whose period stays keeps what it has counted and takes the new limit;
        the headers of the next answer show it.

        Raises:
            KeyError: `key` is not registered.
            ValueError: a bad plan.
        """
        windows = resolve_windows(plan)
        fake = attrs.evolve(self._keys[key], windows=windows)
        self._gate.set_windows(key, windows)
        self._keys[key] = fake
        return fake

    def set_limit(self, key: str, limit: int, *, period: float | None = None) -> FakeKey:
        """Change one window's limit of `key` mid-run (the first window's by default).

        Raises:
            KeyError: `key` is not registered.
            ValueError: no window has that `period`, or `limit` is not positive.
        """
        return self.set_plan(key, with_limit(self._keys[key].windows, limit, period))

    def set_faults(
        self,
        *,
        latency: float | None = None,
        error_rate: float | None = None,
        drop_rate: float | None = None,
        drop_after_rate: float | None = None,
    ) -> None:
        """Change the fault knobs while running; arguments left as None keep their value."""
        if latency is not None:
            if latency < 0:
                raise ValueError("latency must be >= 0")
            self.latency = latency
        if error_rate is not None:
            self.error_rate = _check_rate("error_rate", error_rate)
        if drop_rate is not None:
            self.drop_rate = _check_rate("drop_rate", drop_rate)
        if drop_after_rate is not None:
            self.drop_after_rate = _check_rate("drop_after_rate", drop_after_rate)

    def force_429(self, n: int, retry_after: float | None = None) -> None:
        """Answer the next `n` authenticated requests 429 (with `Retry-After` if given)."""
        self._gate.force(n, retry_after)

    def add_webhook(self, url: str, secret: str, events: Sequence[str] = ("*",)) -> None:
        """Deliver matching events (`*`, `entity.*`, `kyc.validation_approved`...) to `url`."""
        self._state.webhooks.subscribe(url, secret, events)

    def complete_kyc(self, validation_id: str, status: str | None = None) -> dict[str, Any]:
        """Test hook: finish a KYC session now, as if the person completed the hosted flow.

        Args:
            validation_id: The validation's `id`.
            status: The final status; default: the sandbox outcome for the person's tax id,
                else `approved`.

        Raises:
            KeyError: no such validation.
            ValueError: `status` is not a KYC status.
        """
        return self._state.kyc.complete(validation_id, status, self._state.now())

    # -- reading state -----------------------------------------------------------
    @property
    def url(self) -> str:
        """`http://host:port` once started."""
        if self._url is None:
            raise RuntimeError("the fake server is not started; use `async with` or start()")
        return self._url

    @property
    def state(self) -> FakeState:
        """All in-memory state (stores, clock, webhook hub)."""
        return self._state

    @property
    def entities(self) -> EntityStore:
        """Every entity held, by id: a read-only Mapping for assertions (brought up to now)."""
        self._state.tick()  # so rows of a bulk job that are due show up without a request
        return self._state.entities

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every webhook delivery attempted so far, in completion order."""
        return self._state.webhooks.deliveries

    async def drain_webhooks(self) -> None:
        """Wait until every queued webhook delivery has been attempted."""
        await self._state.webhooks.drain()

    def stats(self, key: str | None = None) -> FakeServerStats:
        """Counters for one key (with its window usage), or summed over every caller."""
        if key is None:
            return FakeServerStats.combine(self._counters.values())
        windows = self._gate.usage(key, self._state.now())
        counters = [self._counters[key]] if key in self._counters else []
        return FakeServerStats.combine(counters, windows)

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        """Bind the port and start serving."""
        if self._runner is not None:
            raise RuntimeError("the fake server is already started")
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"

    async def close(self) -> None:
        """Finish webhook deliveries and stop serving (idempotent)."""
        self._state.kyc.close()
        await self._state.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    aclose = close  # what leaving `async with` awaits (AsyncClosing)

    async def __aenter__(self) -> FakeGu1Server:
        await self.start()
        return self

    def __repr__(self) -> str:
        where = self._url or "not started"
        return f"<FakeGu1Server {where} keys={len(self._keys)} time_scale={self._time_scale}>"

    # -- the request pipeline ----------------------------------------------------
    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024**2)
        app[STATE] = self._state
        add_area_routes(app.router, self._state)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self._state.tick()
        now = self._state.now()
        presented = bearer_token(request)
        counters = self._counters[presented or ""]
        response, decision = await self._answer(request, handler, presented, now)
        if self.latency:
            await asyncio.sleep(self.latency)
        if response is None:  # a dropped connection: close without a single byte
            if request.transport is not None:
                request.transport.close()
            counters.record(None)
            return web.Response()
        self._gate.stamp(response, decision, self._state.now())
        counters.record(response.status)
        return response

    async def _answer(
        self, request: web.Request, handler: Handler, presented: str | None, now: float
    ) -> tuple[web.StreamResponse | None, RateDecision]:
        key = self._keys.get(presented) if presented else None
        if key is None or key.is_expired(now):
            decision = self._gate.peek(presented, now)
            if presented is None:
                return _error(401, "MISSING_API_KEY", "Missing API key"), decision
            if key is None:
                return _error(401, "INVALID_API_KEY", "Invalid API key"), decision
            return _error(401, "EXPIRED_API_KEY", "API key expired"), decision
        refused, decision = self._gate.admit(key.key, now)
        if refused is not None:
            return refused, decision
        # Draw all three every time so one knob's value never shifts another's sequence.
        drop, fail, drop_after = (self._rng.random() for _ in range(3))
        if drop < self.drop_rate:
            return None, decision
        if fail < self.error_rate:
            return _error(503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable"), decision
        request[KEY] = key
        answered = await self._run_handler(request, handler)
        if drop_after < self.drop_after_rate:
            return None, decision
        return answered, decision

    async def _run_handler(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return json_response(exc.body(), status=exc.status)
        except web.HTTPException as exc:  # unknown route (404), wrong method (405)
            code = "NOT_FOUND" if exc.status == 404 else exc.reason.upper().replace(" ", "_")
            return _error(exc.status, code, "Route not found" if exc.status == 404 else exc.reason)
        except Exception:
            log.exception("fake gu1 handler failed for %s %s", request.method, request.path)
            return _error(500, "INTERNAL_ERROR", "Internal server error")
