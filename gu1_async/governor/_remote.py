"""Driving a remote store: the governor's queues, served by one pump task.

A remote store's operations are coroutines (a Redis round trip each), so nothing can be
taken synchronously: every acquire asks the store, and waiters are served by a single
pump task that takes for the head waiter, then sleeps on the one timer (the store's
reported wait) or until something changes (a permit ends, an observation arrives).
Permits still end synchronously; their store updates run as background tasks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from .._clock import Clock
from .._errors import QuotaExhaustedError
from .._types import Priority
from ._observation import Observation
from ._permit import Permit
from ._store import GovernorStore

__all__ = ["RemoteDriver", "Waiter"]

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
    _waiting: int
    _in_flight: int
    _granted: int
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
