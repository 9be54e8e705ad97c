"""Driving a remote store: the fleet queue, or the governor's queues served by one pump.

A remote store's operations are coroutines (a Redis round trip each), so nothing can be
taken synchronously: every acquire asks the store. A store with a fleet queue
(`aqueue`, the RedisStore) takes or queues the request there in the same round trip, and
the waiter sleeps until the store grants its ticket: one FIFO queue per priority for
every process on the key. Otherwise (and while a RedisStore's local fallback answers, or
a blind server's in-flight cap holds) waiters queue here and a single pump task takes
for the head waiter, then sleeps on the one timer (the store's reported wait) or until
something changes (a permit ends, an observation arrives). Permits still end
synchronously; their store updates run as background tasks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from .._clock import Clock
from .._errors import QuotaExhaustedError
from .._types import Priority
from ._observation import Observation
from ._permit import Permit
from ._store import GovernorStore

__all__ = ["RemoteDriver", "Waiter"]


class _Expired(Exception):
    """A waiter's own bound passed before a permit came (turned into QuotaExhaustedError)."""


def _expire(future: asyncio.Future[Any]) -> Callable[[], None]:
    def expire() -> None:
        if not future.done():
            future.set_exception(_Expired())

    return expire


_log = logging.getLogger("gu1_async.governor")


class Waiter:
    """A queued acquire: its future and when it started waiting."""

    __slots__ = ("future", "since")

    def __init__(self, future: asyncio.Future[Permit], since: float) -> None:
        self.future = future
        self.since = since


class RemoteDriver:
    """The Governor's remote-store half (a mixin: it shares the Governor's state)."""

    _store: GovernorStore
    _clock: Clock
    _queues: tuple[deque[Waiter], ...]
    _live: list[int]
    _queued: list[int]
    _waiting: int
    _in_flight: int
    _granted: int
    _waited: int
    _total_wait: float
    _longest_wait: float
    _pauses: int
    _pump: asyncio.Task[None] | None
    _poke: asyncio.Future[None] | None
    _dirty: bool
    _background: set[asyncio.Task[None]]
    _now: Callable[[], float]
    _cap: float

    def _grant(self, head: Waiter, priority: int, now: float) -> None:
        raise NotImplementedError

    def _exhausted(self, wait: float, limit: float | None) -> QuotaExhaustedError:
        raise NotImplementedError

    async def _enqueue(self, priority: Priority, now: float, limit: float | None = None) -> Permit:
        raise NotImplementedError

    def _pause_due(self, observation: Observation, taken_at: float, now: float) -> float | None:
        raise NotImplementedError

    async def _acquire_remote(self, priority: Priority, limit: float | None, now: float) -> Permit:
        ahead = sum(self._live[: priority + 1])
        if not ahead and self._in_flight < self._cap and getattr(self._store, "fleet", False):
            permit = await self._acquire_fleet(priority, limit, now)
            if permit is not None:
                return permit
            now = self._now()
            ahead = sum(self._live[: priority + 1])
        wait = 0.0
        if not ahead and self._in_flight < self._cap:
            granted, wait = await self._store.atake(now, priority > 0, 0)
            if granted:
                self._in_flight += 1
                self._granted += 1
                return Permit(self, now)  # type: ignore[arg-type]
        elif limit is not None:
            wait = await self._store.aestimate(now, ahead, priority > 0)
        if limit is not None and wait > limit:
            raise self._exhausted(wait, limit)
        return await self._enqueue(priority, self._now(), limit)

    async def _acquire_fleet(
        self, priority: Priority, limit: float | None, now: float
    ) -> Permit | None:
        """Take, or wait in the store's fleet queue; None: wait in the local queue."""
        store: Any = self._store
        start = now
        while True:
            left = None if limit is None else max(0.0, limit - (now - start))
            code, wait, ticket = await store.aqueue(now, priority, left)
            if code == 1:
                if self._over_cap():
                    return None
                self._in_flight += 1
                self._granted += 1
                return Permit(self, self._now())  # type: ignore[arg-type]
            if ticket is None:
                if left is not None and wait > left:
                    raise self._exhausted(wait, left)
                return None  # the store's local fallback answers: queue here
            granted = await self._hold_ticket(priority, ticket, left, start, wait)
            if granted is not None:
                return granted or None
            now = self._now()  # the ticket was lost (the subscription dropped): again

    async def _hold_ticket(
        self, priority: Priority, ticket: Any, limit: float | None, start: float, wait: float
    ) -> Permit | Literal[False] | None:
        """Wait for the store to grant `ticket`: a permit, None to ask again, or False
        to wait in the local queue."""
        store: Any = self._store
        future: asyncio.Future[bool] = ticket.future
        self._queued[priority] += 1
        now = self._now()
        timer = None if limit is None else self._clock.call_at(now + limit, _expire(future))
        try:
            granted = await future
        except (asyncio.CancelledError, _Expired):
            if future.done() and not future.cancelled() and future.exception() is None:
                if future.result():  # granted as we gave up: give it back, never sent
                    self._in_flight += 1
                    Permit(self, self._now()).release()  # type: ignore[arg-type]
            else:
                self._spawn(store.acancel(self._now(), ticket))
            if future.done() and not future.cancelled() and future.exception() is not None:
                raise self._exhausted(max(0.0, wait - (self._now() - now)), limit) from None
            raise
        finally:
            self._queued[priority] -= 1
            if timer is not None:
                timer.cancel()
        if not granted:
            return None
        if self._over_cap():
            return False
        now = self._now()
        self._in_flight += 1
        self._granted += 1
        self._waited += 1
        self._total_wait += now - start
        self._longest_wait = max(self._longest_wait, now - start)
        return Permit(self, now)  # type: ignore[arg-type]

    def _over_cap(self) -> bool:
        """A slot the fleet's queue granted, past this process's slow-start cap?

        While a server without rate-limit headers is sounded out, the cap on requests in
        flight (`_cap`) is this process's own and the fleet's queue cannot see it (the
        first bare answer can arrive after a whole burst of tickets is queued): the slot is
        given back unsent, and the caller waits in the local queue, whose pump keeps to it.
        """
        if self._in_flight < self._cap:
            return False
        self._in_flight += 1
        Permit(self, self._now()).release()  # type: ignore[arg-type]
        return True

    def _kick(self) -> None:
        """Something changed: make the pump look again (starting it if needed)."""
        self._dirty = True
        if self._poke is not None and not self._poke.done():
            self._poke.set_result(None)
        if self._waiting and (self._pump is None or self._pump.done()):
            self._pump = asyncio.get_running_loop().create_task(self._run_pump())

    async def _run_pump(self) -> None:
        """Serve head waiters one store round trip at a time; sleep on one timer or a kick."""
        store = self._store
        try:
            while self._waiting:
                self._dirty = False
                found = self._head()
                if found is None:
                    return  # only cancelled waiters were left; their handlers kick again
                priority, head = found
                if self._in_flight >= self._cap:
                    granted, wait = False, 0.0  # sounding out a blind server: wait for an answer
                else:
                    granted, wait = await store.atake(self._now(), priority > 0, 0)
                if granted:
                    if head.future.done():  # cancelled during the round trip
                        await store.aend(self._now(), False, None)
                    else:
                        self._queues[priority].popleft()
                        self._grant(head, priority, self._now())
                    continue
                if self._dirty:
                    continue  # a permit ended while we asked: ask again
                poke = self._poke = asyncio.get_running_loop().create_future()
                timer = self._clock.call_at(self._now() + wait, _poker(poke)) if wait > 0 else None
                try:
                    await poke
                finally:
                    self._poke = None
                    if timer is not None:
                        timer.cancel()
        except Exception as exc:  # the store failed: nobody may hang on it
            self._fail_waiters(exc)

    def _head(self) -> tuple[int, Waiter] | None:
        for priority, queue in enumerate(self._queues):
            while queue and queue[0].future.done():
                queue.popleft()
            if queue:
                return priority, queue[0]
        return None

    def _fail_waiters(self, exc: Exception) -> None:
        for priority, queue in enumerate(self._queues):
            while queue:
                waiter = queue.popleft()
                if not waiter.future.done():
                    self._live[priority] -= 1
                    self._waiting -= 1
                    waiter.future.set_exception(exc)

    async def _remote_end(
        self,
        now: float,
        sent: bool | None,
        observation: Observation | None,
        taken_at: float | None = None,
    ) -> None:
        try:
            if sent is None:
                assert observation is not None
                await self._store.arecord(now, observation)
            else:
                await self._store.aend(now, sent, observation)
            seconds = (
                None
                if observation is None
                else self._pause_due(observation, now if taken_at is None else taken_at, now)
            )
            if seconds is not None and await self._store.apause(now, seconds):
                self._pauses += 1
        finally:
            self._kick()  # even on failure: the pump must look (and report) again

    async def _remote_pause(self, now: float, seconds: float) -> None:
        try:
            if await self._store.apause(now, seconds):
                self._pauses += 1
        finally:
            self._kick()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a store update in the background (permits end synchronously)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.warning("governor store update failed: %r", task.exception())


def _poker(future: asyncio.Future[None]) -> Callable[[], None]:
    def poke() -> None:
        if not future.done():
            future.set_result(None)

    return poke
