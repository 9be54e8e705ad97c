"""`RedisStore`: one API key's quota shared by many workers (processes, containers, hosts).

Each window's numbers live in one Redis key per API key; every operation is one Lua script
(loaded once, called by SHA), atomic and timed by Redis `TIME`, so the workers' clocks never
mix. Waiting stays local in each worker's `Governor`: the store only reports how long.

```python
from gu1_async import Gu1Client
from gu1_async.governor.redis import RedisStore

store = RedisStore.from_url("redis://localhost:6379/0", on_store_error="local")
async with Gu1Client(plan="starter", store=store) as client:
    ...
```

Needs the extra: `pip install 'gu1-async[redis]'` (redis-py's asyncio client, imported
only when a store is built).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from .._errors import ConfigurationError, GovernorStoreError
from ._observation import Observation
from ._quota import Quota
from ._redis_lua import NOPLAN, Link, Lost, State, decode_state
from ._stats import WindowStats
from ._store import MemoryStore
from ._window import available, roll

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["KEY_PREFIX", "RedisStore"]

KEY_PREFIX = "gu1:gov:"
"""Every key the store writes starts with this, then the namespace."""

_log = logging.getLogger("gu1_async.governor.redis")

OnStoreError = Literal["raise", "local"]


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError, asyncio.TimeoutError)


def _number(value: float | None) -> str:
    return "-" if value is None else repr(float(value))


class RedisStore:
    """A `GovernorStore` in Redis, shared by every worker that uses the same namespace.

    Args:
        client: a `redis.asyncio.Redis` (`decode_responses` either way). Give it socket
            timeouts; without them every call is bounded by `timeout` here.
        namespace: which budget this store spends; `bind()` makes one per API key. Keys
            are `gu1:gov:<namespace>:state`. Never put the API key itself in it.
        on_store_error: `"raise"` (default): a Redis failure raises `GovernorStoreError`
            and the request is not sent. `"local"`: fall back to an in-process store
            holding `local_share` of each window, warn once, and rejoin Redis when it
            answers again (tried at most every `probe_interval` seconds).
        local_share: the fraction (0 < share <= 1) of each window a worker may spend on
            its own while Redis is away; about 1 / the number of workers.
        timeout: seconds any one Redis call may take, the client's retries included
            (None: the client's socket timeout, or 1 s if it has none).
        lease: seconds after which the tokens of a worker that stopped talking to Redis
            are released (it is taken for dead); longer than your slowest request.
        recheck: when only another worker's response can free a slot (its probe is in
            flight), look again after this many seconds.
        probe_interval: seconds between attempts to rejoin Redis after a failure.

    Raises:
        ConfigurationError: a bad argument, or redis-py is not installed.
    """

    is_local = False

    def __init__(
        self,
        client: Redis,
        *,
        namespace: str = "default",
        on_store_error: OnStoreError = "raise",
        local_share: float = 0.25,
        timeout: float | None = None,
        lease: float = 120.0,
        recheck: float = 0.05,
        probe_interval: float = 5.0,
    ) -> None:
        if on_store_error not in ("raise", "local"):
            raise ConfigurationError(
                f"on_store_error must be 'raise' or 'local', got {on_store_error!r}"
            )
        if not 0.0 < local_share <= 1.0:
            raise ConfigurationError(f"local_share must be in (0, 1], got {local_share!r}")
        for name, value in (("lease", lease), ("recheck", recheck)):
            if not value > 0:
                raise ConfigurationError(f"{name} must be > 0, got {value!r}")
        if timeout is not None and not timeout > 0:
            raise ConfigurationError(f"timeout must be > 0 or None, got {timeout!r}")
        if not namespace or any(c.isspace() for c in namespace):
            raise ConfigurationError("namespace must be non-empty, without whitespace")
        self._client = client
        self._namespace = namespace
        self._on_error = on_store_error
        self._local_share = local_share
        self._lease = lease
        self._recheck = recheck
        self._probe_interval = probe_interval
        self._timeout = timeout
        if timeout is None:
            socket_timeout = client.connection_pool.connection_kwargs.get("socket_timeout")
            self._timeout = None if socket_timeout else 1.0
        self._errors = _redis_errors()
        # Plain callbacks (exception, fell back to local?) for metrics; bind() shares them.
        self._error_listeners: list[Callable[[BaseException, bool], None]] = []
        self._link = Link(client, self._timeout)
        self._owns_client = False
        self._key = f"{KEY_PREFIX}{namespace}:state"
        self._key_bytes = self._key.encode()
        # Each store is one worker: its in-flight tokens are leased under this id.
        self._worker = secrets.token_hex(8)
        self._lease_arg = repr(float(lease))
        # The take's argument when nobody waits ahead (most takes), built once.
        self._take_args = {
            reserved: f"{self._worker} - {int(reserved)} 0 {self._lease_arg}".encode()
            for reserved in (False, True)
        }
        self._plan = b""  # b"reserve limit period ...": sent only after a NOPLAN answer
        self._full_limits: tuple[int, ...] = ()
        self._local_limits: tuple[int, ...] = ()
        self._fallback = MemoryStore()
        self._degraded = False
        self._next_probe = -math.inf
        self._local_out = 0  # tokens taken from the fallback and not yet ended
        # The last answer: (local now, Redis now, in flight, the state as stored).
        self._last: tuple[float, float, int, bytes] | None = None
        self._test_time_base: int | None = None
        """TEST ONLY: when set, every script runs at `base + now` microseconds instead of
        Redis `TIME` (see `_lua/prelude.lua`, ARGV[2]); never set in production."""

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        namespace: str = "default",
        on_store_error: OnStoreError = "raise",
        local_share: float = 0.25,
        timeout: float = 1.0,
        lease: float = 120.0,
        recheck: float = 0.05,
        probe_interval: float = 5.0,
    ) -> RedisStore:
        """A store on its own Redis client; each call to Redis takes at most `timeout` s.

        Within that bound a dropped connection is retried once (a restarted Redis), never
        more. `aclose()` closes the client.
        """
        try:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ConfigurationError(
                "RedisStore needs redis-py: pip install 'gu1-async[redis]'"
            ) from exc
        client = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        store = cls(
            client,
            namespace=namespace,
            on_store_error=on_store_error,
            local_share=local_share,
            timeout=None,
            lease=lease,
            recheck=recheck,
            probe_interval=probe_interval,
        )
        store._owns_client = True
        return store

    def bind(self, namespace: str) -> RedisStore:
        """A store for one budget (one API key) on the same client and settings.

        The client calls this once per API key with `"<environment>:<key fingerprint>"`.
        """
        store = RedisStore(
            self._client,
            namespace=namespace,
            on_store_error=self._on_error,
            local_share=self._local_share,
            timeout=self._timeout,
            lease=self._lease,
            recheck=self._recheck,
            probe_interval=self._probe_interval,
        )
        store._link = self._link  # one set of connections per client
        store._error_listeners = self._error_listeners
        return store

    def add_error_listener(self, callback: Callable[[BaseException, bool], None]) -> None:
        """Call `callback(exc, fell_back_to_local)` at each Redis failure (bound stores too)."""
        self._error_listeners.append(callback)

    @property
    def namespace(self) -> str:
        """Which budget this store spends."""
        return self._namespace

    @property
    def key(self) -> str:
        """The Redis key holding the state (a hash)."""
        return self._key

    @property
    def degraded(self) -> bool:
        """True while Redis is unreachable and the local fallback answers."""
        return self._degraded

    async def aclose(self) -> None:
        """Send what is still on its way to Redis, then close the store's connections.

        Permit ends reach Redis from background tasks: those the governor started just
        before (a response's end, the give-back of a permit whose waiter was cancelled as
        it was granted, a 429 pause) are sent first, so no token stays in flight in Redis
        until its lease runs out. Waits at most about four `timeout`s. Closes the
        connections of every store `bind()` made from this one, and the Redis client if
        `from_url` made it (a client you passed is yours to close).
        """
        await self._link.settle(4 * self._link.bound)
        await self._link.aclose()
        if self._owns_client:
            await self._client.aclose()

    # -- GovernorStore: configuration and the synchronous view ---------------------------

    def configure(self, quotas: Sequence[Quota], reserve: float, now: float) -> None:
        """Remember the plan; Redis creates the windows on first use (and after a restart)."""
        if self._plan:
            return
        self._full_limits = tuple(q.limit for q in quotas)
        self._plan = " ".join(
            [repr(float(reserve)), *(f"{q.limit} {float(q.period)!r}" for q in quotas)]
        ).encode()
        share = [Quota(max(1, int(q.limit * self._local_share)), q.period) for q in quotas]
        self._local_limits = tuple(q.limit for q in share)
        self._fallback.configure(share, reserve, now)

    def windows(self, now: float) -> tuple[WindowStats, ...]:
        """The windows as of the last Redis answer, aged to `now` (no I/O)."""
        if self._degraded or self._last is None:
            return self._fallback.windows(now)
        seen_at, redis_now, _n, _raw = self._last
        at = redis_now + max(0.0, now - seen_at)
        stats = []
        for w in self._state().windows:
            roll(w, at)
            stats.append(
                WindowStats(
                    limit=w.limit,
                    period=w.period,
                    available=max(0, available(w, 0, at)),
                    in_flight=w.in_flight,
                    reset_in=max(0.0, w.reset_at - at),
                    confirmed=w.confirmed,
                    from_header=w.identified,
                )
            )
        return tuple(stats)

    def paused_for(self, now: float) -> float:
        """Seconds left in the shared pause, as of the last Redis answer."""
        if self._degraded or self._last is None:
            return self._fallback.paused_for(now)
        seen_at, redis_now, _n, _raw = self._last
        return max(0.0, self._state().pause_until - redis_now - max(0.0, now - seen_at))

    # The plain methods are for local stores only: the governor never calls them here.
    def take(self, now: float, reserved: bool) -> bool:
        raise ConfigurationError("RedisStore is remote: the governor uses atake()")

    def estimate(self, now: float, ahead: int, reserved: bool) -> float:
        raise ConfigurationError("RedisStore is remote: the governor uses aestimate()")

    def end(self, now: float, sent: bool, observation: Observation | None) -> None:
        raise ConfigurationError("RedisStore is remote: the governor uses aend()")

    def record(self, now: float, observation: Observation) -> None:
        raise ConfigurationError("RedisStore is remote: the governor uses arecord()")

    def pause(self, now: float, seconds: float) -> bool:
        raise ConfigurationError("RedisStore is remote: the governor uses apause()")

    # -- GovernorStore: one round trip each ----------------------------------------------

    async def atake(self, now: float, reserved: bool, ahead: int) -> tuple[bool, float]:
        if ahead or self._test_time_base is not None:
            args = self._args(now, "1" if reserved else "0", str(ahead), self._lease_arg)
        else:
            args = self._take_args[reserved]
        reply = await self._run("take", now, args, partial(self._give_back, now))
        if reply is None:
            granted, wait = await self._fallback.atake(now, reserved, ahead)
            self._local_out += granted
            return granted, wait
        if reply[0] == 1:
            return True, 0.0
        # 0: only a response (maybe another worker's) can free the room: look again soon.
        return False, reply[1] / 1e6 or self._recheck

    async def aestimate(self, now: float, ahead: int, reserved: bool) -> float:
        reply = await self._run(
            "estimate", now, self._args(now, "1" if reserved else "0", str(ahead))
        )
        if reply is None:
            return await self._fallback.aestimate(now, ahead, reserved)
        return float(reply[1] / 1e6)

    async def aend(self, now: float, sent: bool, observation: Observation | None) -> None:
        if self._local_out:
            # Tokens the fallback handed out go back to it (ends balance takes per store).
            self._local_out -= 1
            await self._fallback.aend(now, sent, self._localize(observation))
            return
        obs = observation
        answered = "0" if obs is None else "1"
        limit, remaining, reset = (None, None, None) if obs is None else _window_of(obs)
        args = self._args(
            now,
            "1" if sent else "0",
            answered,
            _number(limit),
            _number(remaining),
            _number(reset),
            _number(None if obs is None else obs.window),
        )
        reply = await self._run("end", now, args)
        if reply is None and obs is not None:
            await self._fallback.arecord(now, self._localize(obs) or obs)

    async def arecord(self, now: float, observation: Observation) -> None:
        limit, remaining, reset = _window_of(observation)
        args = self._args(
            now, _number(limit), _number(remaining), _number(reset), _number(observation.window)
        )
        reply = await self._run("record", now, args)
        if reply is None:
            local = self._localize(observation)
            if local is not None:
                await self._fallback.arecord(now, local)

    async def apause(self, now: float, seconds: float) -> bool:
        reply = await self._run("pause", now, self._args(now, repr(float(seconds))))
        if reply is None:
            return await self._fallback.apause(now, seconds)
        return bool(reply[0] == 1)

    # -- internals ------------------------------------------------------------------------

    def _args(self, now: float, *fields: str) -> bytes:
        """A script's one argument: worker id, clock (test only), the operation's fields."""
        clock = (
            "-" if self._test_time_base is None else str(self._test_time_base + round(now * 1e6))
        )
        return " ".join((self._worker, clock, *fields)).encode()

    async def _run(
        self, operation: str, now: float, args: bytes, lost: Lost | None = None
    ) -> list[Any] | None:
        """Run one script; None when the local fallback must answer instead.

        `lost` gets the answer if the caller goes away once the script is on its way.

        Raises:
            GovernorStoreError: Redis failed and `on_store_error="raise"`.
        """
        if not self._plan:
            raise ConfigurationError("RedisStore.configure() was not called (use a Governor)")
        if self._degraded and now < self._next_probe:
            return None
        try:
            reply = await self._link.call(operation, self._key_bytes, (args,), lost)
            if reply[0] == NOPLAN:  # no state yet (or it expired): create it
                with_plan = (args, self._plan)
                reply = await self._link.call(operation, self._key_bytes, with_plan, lost)
        except self._errors as exc:
            self._failed(now, exc)
            return None
        if self._degraded:
            self._degraded = False
            _log.warning("governor store: Redis answers again; %s rejoined", self._namespace)
        self._last = (now, reply[2] + reply[3] / 1e6, reply[4], reply[5])
        return reply

    async def _give_back(self, now: float, reply: list[Any]) -> None:
        """A take whose caller went away (cancelled, or out of time) once it was sent: if
        Redis granted it, the token goes back at once, as never sent (straight to Redis,
        even if the store has fallen back to local meanwhile).

        Raises:
            redis.exceptions.RedisError: Redis failed (the link logs it).
        """
        if reply[0] == 1:
            args = self._args(now, "0", "0", "-", "-", "-")
            await self._link.call("end", self._key_bytes, (args,))

    def _state(self) -> State:
        """The last answer's state, decoded (stats only: a few microseconds)."""
        assert self._last is not None
        return decode_state(self._last[3], self._last[2])

    def _failed(self, now: float, exc: BaseException) -> None:
        for listener in self._error_listeners:
            with contextlib.suppress(Exception):
                listener(exc, self._on_error == "local")
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if self._on_error == "raise":
            raise GovernorStoreError(
                f"the governor's Redis store failed ({detail}); the request was not sent"
            ) from exc
        self._next_probe = now + self._probe_interval
        if not self._degraded:
            self._degraded = True
            _log.warning(
                "governor store: Redis failed (%s); %s spends a local %.0f%% of the quota "
                "until Redis answers again",
                detail,
                self._namespace,
                self._local_share * 100,
            )

    def _localize(self, observation: Observation | None) -> Observation | None:
        """An observation for the fallback: its window scaled to the local share."""
        if observation is None:
            return None
        limit, remaining, _reset = _window_of(observation)
        if limit is None or limit not in self._full_limits:
            # Not a window we can map onto the local share: keep only the status.
            return Observation(
                observation.status, retry_after=observation.retry_after, skew=observation.skew
            )
        local_limit = self._local_limits[self._full_limits.index(limit)]
        return Observation(
            observation.status,
            limit=local_limit,
            remaining=min(local_limit, remaining if remaining is not None else local_limit),
            reset_after=observation.reset_after,
            retry_after=observation.retry_after,
        )

    def __repr__(self) -> str:
        state = "degraded (local fallback)" if self._degraded else "shared"
        return (
            f"RedisStore(namespace={self._namespace!r}, on_store_error={self._on_error!r}, {state})"
        )


def _window_of(observation: Observation) -> tuple[int | None, int | None, float | None]:
    """The window an observation describes, or Nones (then it only ends the permit)."""
    if not observation.has_window:
        return None, None, None
    return observation.limit, observation.remaining, observation.reset_after
