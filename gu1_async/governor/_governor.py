"""The Governor: hands out request permits within every quota window, fairly, without polling.

Waiters queue per priority (a deque each: FIFO, O(1) per wake). One timer at most is
armed, for the moment the head waiter's turn can come (a window's reset or the end of a
pause); every other wake-up comes from a permit ending or an observation arriving. A
cancelled waiter stays in its deque as a done future and is skipped when it reaches the
head, so cancelling costs O(1) and takes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import math
from collections import deque

from .._clock import Clock, LoopClock, Timer
from .._errors import ConfigurationError, GovernorStoreError, QuotaExhaustedError
from .._types import Priority
from ._episodes import Episodes
from ._evidence import Evidence
from ._observation import Observation
from ._permit import Permit, Slot
from ._quota import Plan
from ._remote import RemoteDriver, Waiter, _expire, _Expired
from ._stats import GovernorStats
from ._store import GovernorStore, MemoryStore

__all__ = ["DEFAULT_PLAN", "Governor"]

DEFAULT_PLAN = Plan.FREE
"""The plan assumed when none is given: the smallest, so an unknown key starts safe."""

DEFAULT_LEND = 0.1
"""The last fraction of each window in which the unused reserve is lent to batch work."""


class Governor(RemoteDriver):
    """Permits for requests on one API key, within every window of its quota.

    Args:
        plan: the key's plan, or its name (`"free"`, `"starter"`, `"professional"`);
            default `Plan.FREE`, the smallest, which response headers then correct.
        clock: where time comes from; default the running event loop's clock.
        reserve: fraction (0 <= reserve < 1) of each window that only
            `Priority.INTERACTIVE` may use, so batch work cannot starve interactive work.
        lend: in the last `lend` (0 <= lend <= 1) of a window whose edge a header placed,
            the reserve interactive work has not used is lent to batch work, the part held
            back shrinking linearly to 0 at the reset; an interactive request can then wait
            at most `lend * period` for the reset (0: never lend).
        max_wait: default longest wait in seconds for `acquire()`/`slot()` when the call
            does not say; None (the default) waits as long as the quota requires.
        store: where the window numbers live; default an in-process `MemoryStore`.

    Raises:
        ConfigurationError: a bad plan, reserve or max_wait.
    """

    def __init__(
        self,
        plan: Plan | str = DEFAULT_PLAN,
        *,
        clock: Clock | None = None,
        reserve: float = 0.0,
        max_wait: float | None = None,
        store: GovernorStore | None = None,
        lend: float = DEFAULT_LEND,
    ) -> None:
        if not 0.0 <= reserve < 1.0:
            raise ConfigurationError(f"reserve must be in [0, 1), got {reserve!r}")
        if not 0.0 <= lend <= 1.0:
            raise ConfigurationError(f"lend must be in [0, 1], got {lend!r}")
        if max_wait is not None and not max_wait >= 0:
            raise ConfigurationError(f"max_wait must be >= 0 or None, got {max_wait!r}")
        self._plan = Plan.coerce(plan)
        self._clock: Clock = clock if clock is not None else LoopClock()
        self._reserve = reserve
        self._max_wait = max_wait
        self._store: GovernorStore = store if store is not None else MemoryStore()
        self._local = bool(self._store.is_local)
        self._store.configure(self._plan.quotas, reserve, self._clock.monotonic(), lend)
        # Bound once: the uncontended path is a handful of attribute reads and two calls.
        self._now = self._clock.monotonic
        self._take = self._store.take if self._local else _never
        self._queues: tuple[deque[Waiter], ...] = tuple(deque() for _ in Priority)
        self._live = [0] * len(Priority)  # waiters not cancelled, per priority
        self._queued = [0] * len(Priority)  # waiters in a remote store's fleet queue
        self._waiting = 0
        self._timer: Timer | None = None
        self._timer_at = math.inf
        self._in_flight = 0
        self._granted = 0
        self._waited = 0
        self._total_wait = 0.0
        self._longest_wait = 0.0
        self._pauses = 0
        self._evidence = Evidence(self._plan)
        self._episodes = Episodes(self._evidence.longest)
        self._cap = math.inf  # requests in flight allowed (finite only for a blind server)
        # A remote store is driven by one pump task (its coroutines may suspend).
        self._pump: asyncio.Task[None] | None = None
        self._poke: asyncio.Future[None] | None = None
        self._dirty = False
        self._background: set[asyncio.Task[None]] = set()
        self._beat: Timer | None = None  # the remote store's lease heartbeat (`_keep_alive`)

    # -- public API ---------------------------------------------------------------------

    @property
    def plan(self) -> Plan:
        """The plan the governor was seeded with (headers may have corrected its windows)."""
        return self._plan

    @property
    def clock(self) -> Clock:
        """The clock the governor reads."""
        return self._clock

    def slot(
        self,
        priority: Priority = Priority.INTERACTIVE,
        max_wait: float | None = None,
        *,
        deadline: float | None = None,
    ) -> Slot:
        """An async context manager around `acquire()` that releases the permit at exit."""
        return Slot(self, priority, max_wait, deadline)

    def acquire_nowait(self, priority: Priority = Priority.INTERACTIVE) -> Permit:
        """A permit now, or `QuotaExhaustedError` (with the estimated wait) at once.

        Raises:
            ConfigurationError: the store is remote (use `await acquire(max_wait=0)`).
        """
        if not self._local:
            raise ConfigurationError("acquire_nowait() needs a local store; use acquire()")
        permit = self._take_now(priority)
        if permit is None:
            now = self._clock.monotonic()
            raise self._exhausted(self._estimate(now, priority), None)
        return permit

    def try_acquire(self, priority: Priority = Priority.INTERACTIVE) -> Permit | None:
        """A permit if one is free right now (nobody ahead, every window has room), else None.

        Never waits and never raises: the synchronous fast path in front of `acquire()` for
        callers that send many requests (a remote store always answers None).
        """
        if self._waiting and sum(self._live[: priority + 1]):
            return None  # someone of equal or higher priority is queued: no overtaking
        now = self._now()
        if self._in_flight >= self._cap or not self._take(now, priority > 0):
            return None
        self._in_flight += 1
        self._granted += 1
        return Permit(self, now)

    # The same, under the name the governor's own paths use (no extra call on the hot path).
    _take_now = try_acquire

    async def acquire(
        self,
        priority: Priority = Priority.INTERACTIVE,
        max_wait: float | None = None,
        *,
        deadline: float | None = None,
    ) -> Permit:
        """Wait for a permit: FIFO within a priority, higher priorities first.

        Args:
            priority: `Priority.INTERACTIVE` (default) or `Priority.BATCH`.
            max_wait: longest acceptable wait in seconds; None uses the governor's default.
            deadline: the same bound as a moment on `governor.clock.monotonic()` (e.g. the
                end of a web request's own budget); with `max_wait` too, the earlier wins.

        Raises:
            QuotaExhaustedError: at once, when the wait the governor can compute now (the
                queue ahead, the windows' resets, a pause) exceeds `max_wait` or ends after
                `deadline`.
        """
        permit = self._take_now(priority)
        if permit is not None:
            return permit
        limit = self._max_wait if max_wait is None else max_wait
        now = self._now()
        if deadline is not None:
            left = max(0.0, deadline - now)
            limit = left if limit is None else min(limit, left)
        if not self._local:
            permit = await self._acquire_remote(priority, limit, now)
            self._keep_alive()
            return permit
        if limit is not None:
            wait = self._estimate(now, priority)
            if wait > limit:
                raise self._exhausted(wait, limit)
        return await self._enqueue(priority, now, limit)

    async def _enqueue(self, priority: Priority, now: float, limit: float | None = None) -> Permit:
        future: asyncio.Future[Permit] = asyncio.get_running_loop().create_future()
        self._queues[priority].append(Waiter(future, now))
        self._live[priority] += 1
        self._waiting += 1
        # The estimate cannot see every wait (a probe's answer, a slower server than
        # believed): the bound holds all the same, by a timer of its own.
        timer = None if limit is None else self._clock.call_at(now + limit, _expire(future))
        self._wake()
        try:
            return await future
        except (asyncio.CancelledError, _Expired):
            if future.done() and not future.cancelled() and future.exception() is None:
                future.result().release()  # granted as we were cancelled: give it back
            else:
                self._live[priority] -= 1
                self._waiting -= 1
                self._wake()
            if future.done() and not future.cancelled() and future.exception() is not None:
                wait = await self._estimate_any(self._now(), priority)
                raise self._exhausted(max(wait, 0.0), limit) from None
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def observe(self, observation: Observation) -> None:
        """Apply an observation that no permit is waiting for (e.g. from another client)."""
        now = self._now()
        observation = self._evidence.correct(observation, now, now)
        if not self._local:
            self._spawn(self._remote_end(now, None, observation))
            return
        self._store.record(now, observation)
        self._after_observation(now, observation, now)
        self._dispatch()

    def pause(self, seconds: float) -> None:
        """Hold every waiter (and every new acquire) for `seconds` from now."""
        now = self._now()
        if not self._local:
            self._spawn(self._remote_pause(now, seconds))
            return
        if self._store.pause(now, seconds):
            self._pauses += 1
        self._dispatch()

    def stats(self) -> GovernorStats:
        """A snapshot of windows, queues and counters."""
        now = self._clock.monotonic()
        return GovernorStats(
            windows=self._store.windows(now),
            in_flight=self._in_flight,
            waiters=self._waiting + sum(self._queued),
            waiters_by_priority=tuple(a + b for a, b in zip(self._live, self._queued, strict=True)),
            granted=self._granted,
            waited=self._waited,
            total_wait=self._total_wait,
            max_wait=self._longest_wait,
            pauses=self._pauses,
            rate_limited=self._episodes.rate_limited,
            paused_for=self._store.paused_for(now),
        )

    def __repr__(self) -> str:
        now = self._clock.monotonic()
        windows = ", ".join(
            f"{w.available}/{w.limit} per {w.period:g}s"
            f"{'' if w.confirmed else ' (unconfirmed)'} reset in {w.reset_in:.1f}s"
            for w in self._store.windows(now)
        )
        paused = self._store.paused_for(now)
        return (
            f"<Governor plan={self._plan.name} [{windows}] in_flight={self._in_flight} "
            f"waiters={self._waiting} paused_for={paused:.1f}s>"
        )

    # -- internals ----------------------------------------------------------------------

    def _estimate(self, now: float, priority: Priority) -> float:
        ahead = sum(self._live[: priority + 1])
        return self._store.estimate(now, ahead, priority > 0)

    async def _estimate_any(self, now: float, priority: Priority) -> float:
        """`_estimate` on any store: a remote one answers by a round trip (0 if it fails:
        the wait ran out all the same, and that is what the caller is told)."""
        if self._local:
            return self._estimate(now, priority)
        ahead = sum(self._live[: priority + 1])
        try:
            return await self._store.aestimate(now, ahead, priority > 0)
        except GovernorStoreError:
            return 0.0

    def _exhausted(self, wait: float, limit: float | None) -> QuotaExhaustedError:
        retry_at = _dt.datetime.fromtimestamp(self._clock.time() + wait, tz=_dt.timezone.utc)
        within = "now" if limit is None else f"within max_wait={limit:g}s"
        return QuotaExhaustedError(
            f"no request slot free {within}: the quota allows the next one in about "
            f"{wait:.3f}s (plan {self._plan.name})",
            retry_after=wait,
            retry_at=retry_at,
        )

    def _end(self, sent: bool, observation: Observation | None, taken_at: float) -> None:
        now = self._now()
        self._in_flight -= 1
        if observation is not None:
            observation = self._evidence.correct(observation, taken_at, now)
            self._cap = self._evidence.cap
        if not self._local:
            self._spawn(self._remote_end(now, sent, observation, taken_at))
            return
        self._store.end(now, sent, observation)
        if observation is not None:
            if observation.status < 400:
                self._episodes.consecutive = 0  # (what pause_due does for a success, inlined)
            else:
                self._after_observation(now, observation, taken_at)
        if self._waiting:
            self._dispatch()

    def _after_observation(self, now: float, observation: Observation, taken_at: float) -> None:
        seconds = self._pause_due(observation, taken_at, now)
        if seconds is not None and self._store.pause(now, seconds):
            self._pauses += 1

    def _pause_due(self, observation: Observation, taken_at: float, now: float) -> float | None:
        return self._episodes.pause_due(observation, taken_at, now)

    def _dispatch(self) -> None:
        """Grant permits to head waiters while the store allows; else arm the one timer."""
        if not self._waiting:
            self._disarm()
            return
        now = self._clock.monotonic()
        store = self._store
        for priority, queue in enumerate(self._queues):
            while queue:
                head = queue[0]
                if head.future.done():  # cancelled: already uncounted
                    queue.popleft()
                    continue
                if self._in_flight >= self._cap:
                    self._disarm()
                    return  # sounding out a blind server: the next answer makes room
                if not store.take(now, priority > 0):
                    # Lower priorities cannot pass: they are held at least as tightly.
                    self._arm(now, store.estimate(now, 0, priority > 0))
                    return
                queue.popleft()
                self._grant(head, priority, now)
        self._disarm()

    def _grant(self, head: Waiter, priority: int, now: float) -> None:
        self._live[priority] -= 1
        self._waiting -= 1
        self._in_flight += 1
        self._granted += 1
        self._waited += 1
        waited = now - head.since
        self._total_wait += waited
        self._longest_wait = max(self._longest_wait, waited)
        head.future.set_result(Permit(self, now))

    def _arm(self, now: float, wait: float) -> None:
        """Keep exactly one timer, at the head's next chance; none if only a response can help."""
        if wait <= 0:
            self._disarm()
            return
        when = now + wait
        if self._timer is not None and self._timer_at == when:
            return
        self._disarm()
        self._timer_at = when
        self._timer = self._clock.call_at(when, self._on_timer)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._timer_at = math.inf

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        self._dispatch()

    def _wake(self) -> None:
        if self._local:
            self._dispatch()
        else:
            self._kick()


def _never(now: float, reserved: bool) -> bool:
    """The synchronous take of a remote store: never (its answers need a round trip)."""
    return False
