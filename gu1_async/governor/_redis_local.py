"""A worker's own share of the key while Redis is away (`on_store_error="local"`).

The share is `local_share` of what the worker last knew was left, never of the whole
limit: when Redis goes away mid-window, each window starts from `share * (left - in
flight)` of its last Redis answer, with that answer's reset. Headers then only lower it:
a response's `Remaining` describes the whole key, which every worker spends, so it is
scaled by the share too (`share * Remaining` falls by one for every four requests of a
four-worker fleet), and never above the seeded share less what this worker has sent since
(a `Remaining` that still counted others' requests in flight would otherwise hand the
worker's own sends back to it). After a reset each window is the share of its limit.
"""

from __future__ import annotations

import contextlib
import logging
import math
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Literal

from .._errors import ConfigurationError, GovernorStoreError
from ._observation import Observation
from ._quota import Quota
from ._redis_state import State, decode_state
from ._stats import WindowStats
from ._store import MemoryStore, window_stats
from ._window import roll

__all__ = ["LocalShare", "SyncView"]

_log = logging.getLogger("gu1_async.governor.redis")


class LocalShare:
    """The in-process fallback of one RedisStore: a MemoryStore holding the share."""

    def __init__(self, share: float) -> None:
        self.share = share
        self.store = MemoryStore()
        self._full: list[int] = []  # the key's limits, as the windows' names
        self._local: list[int] = []
        self._caps: list[tuple[int, float] | None] = []  # (seeded share, until) per window
        self._spent: list[int] = []  # sent since the seed, per window

    def configure(self, quotas: Sequence[Quota], reserve: float, now: float, lend: float) -> None:
        self._full = [q.limit for q in quotas]
        self._local = [self._part(q.limit) for q in quotas]
        self._caps = [None] * len(quotas)
        self._spent = [0] * len(quotas)
        shares = [Quota(part, q.period) for part, q in zip(self._local, quotas, strict=True)]
        self.store.configure(shares, reserve, now, lend)

    def seed(self, state: State, at: float, now: float) -> None:
        """Start from the last Redis answer (`state`, aged to Redis time `at`)."""
        for i, (shared, local) in enumerate(
            zip(state.windows, self.store.windows_state(), strict=False)
        ):
            roll(shared, at)
            roll(local, now)
            self._full[i] = shared.limit
            self._local[i] = self._part(shared.limit)
            if local.limit != self._local[i]:
                local.set_limit(self._local[i])
            if not shared.confirmed:
                continue  # a fresh shared window: the share of its limit, probed first
            known = math.floor(self.share * max(0, shared.left - shared.in_flight))
            local.left = min(known, self._local[i])
            local.reset_at = now + max(0.0, shared.reset_at - at)
            self._caps[i] = (local.left, local.reset_at)
            self._spent[i] = 0
            local.confirmed = True
            local.anchored = shared.anchored
            local.identified = shared.identified

    def sent(self, now: float) -> None:
        """A request the fallback granted was sent: it counts against the seeded share."""
        for i, cap in enumerate(self._caps):
            if cap is not None and now < cap[1]:
                self._spent[i] += 1

    def localize(self, observation: Observation | None, now: float) -> Observation | None:
        """An observation for the fallback: its window scaled to the share."""
        if observation is None:
            return None
        if not observation.has_window or observation.limit not in self._full:
            # Not a window we can map onto the share: keep only the status.
            return Observation(
                observation.status, retry_after=observation.retry_after, skew=observation.skew
            )
        assert observation.remaining is not None
        i = self._full.index(observation.limit)
        local_limit = self._local[i]
        remaining = min(local_limit, math.floor(self.share * observation.remaining))
        cap = self._caps[i]
        if cap is not None and now < cap[1]:
            remaining = min(remaining, cap[0] - self._spent[i])
        return Observation(
            observation.status,
            limit=local_limit,
            remaining=max(0, remaining),
            reset_after=observation.reset_after,
            retry_after=observation.retry_after,
        )

    def _part(self, limit: int) -> int:
        return max(1, int(limit * self.share))


class SyncView:
    """The RedisStore's synchronous side (a mixin): stats from the last Redis answer, or
    from the fallback while it answers; the plain store methods, which a remote store
    never serves."""

    _degraded: bool
    _fallback: MemoryStore
    _last: tuple[float, float, int, bytes] | None
    _children: weakref.WeakSet[Any]
    _on_error: Literal["raise", "local"]
    _namespace: str
    _local_share: float
    _next_probe: float
    _probe_interval: float
    _share: LocalShare
    _error_listeners: list[Callable[[BaseException, bool], None]]

    @property
    def degraded(self) -> bool:
        """True while Redis is unreachable and the local fallback answers.

        On the store you built, True while this store or any that `bind()` made from it
        (the client binds one per API key) is degraded.
        """
        return self._degraded or any(child._degraded for child in list(self._children))

    def windows(self, now: float) -> tuple[WindowStats, ...]:
        """The windows as of the last Redis answer, aged to `now` (no I/O)."""
        if self._degraded or self._last is None:
            return self._fallback.windows(now)
        seen_at, redis_now, _n, _raw = self._last
        return window_stats(self._state().windows, redis_now + max(0.0, now - seen_at))

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

    def _state(self) -> State:
        """The last answer's state, decoded (stats only: a few microseconds)."""
        assert self._last is not None
        return decode_state(self._last[3], self._last[2])

    def add_error_listener(self, callback: Callable[[BaseException, bool], None]) -> None:
        """Call `callback(exc, fell_back_to_local)` at each Redis failure (bound stores too)."""
        self._error_listeners.append(callback)

    def _failed(self, now: float, exc: BaseException) -> None:
        for listener in self._error_listeners:  # metrics (hooks); never let one break this
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
            if self._last is not None:
                # Hold the share of what was last known to be left, not of the limit.
                seen_at, redis_now, _n, _raw = self._last
                self._share.seed(self._state(), redis_now + max(0.0, now - seen_at), now)
            _log.warning(
                "governor store: Redis failed (%s); %s spends a local %.0f%% of the quota "
                "until Redis answers again",
                detail,
                self._namespace,
                self._local_share * 100,
            )

    def __repr__(self) -> str:
        state = "degraded (local fallback)" if self._degraded else "shared"
        return (
            f"RedisStore(namespace={self._namespace!r}, on_store_error={self._on_error!r}, {state})"
        )
