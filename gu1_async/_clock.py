"""Time, injected: the governor, the retry loop and the tests all read time from a Clock.

`LoopClock` is the real one. `FakeClock` lets tests move time by hand, so no test ever
waits for a real rate-limit window (the idea of aiolimiter's MockLoopTime and of
tenacity's injectable sleep).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Clock", "FakeClock", "LoopClock", "Timer"]


class Timer(Protocol):
    """A scheduled callback that can be cancelled (asyncio.TimerHandle fits)."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic time, wall time, one-shot timers and sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards; only differences matter."""
        ...

    def time(self) -> float:
        """Wall-clock seconds since the epoch (UTC)."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` once `monotonic()` reaches `when`."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for `seconds`."""
        ...


class LoopClock:
    """The real clock: `time.monotonic`, `time.time` and the running loop's timers."""

    # The C functions themselves, not methods wrapping them: the request path reads the
    # clock several times per request.
    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        loop = asyncio.get_running_loop()
        # loop.time() may use another origin than time.monotonic(); convert by delay.
        return loop.call_at(loop.time() + max(0.0, when - time.monotonic()), callback)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "LoopClock()"


class _FakeTimer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock that moves only when told to, for deterministic tests.

    Args:
        start: the initial monotonic reading.
        wall_start: the wall-clock (epoch) reading at `start`.
        autojump: when true, `sleep()` moves time forward by itself (handy when a single
            task sleeps at a time, e.g. a retry loop); otherwise call `advance()`.
    """

    def __init__(
        self, start: float = 1000.0, *, wall_start: float = 1_800_000_000.0, autojump: bool = False
    ) -> None:
        self._now = start
        self._wall_offset = wall_start - start
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._seq = itertools.count()
        self.autojump = autojump
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._now + self._wall_offset

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        timer = _FakeTimer(when, callback)
        heapq.heappush(self._timers, (when, next(self._seq), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        if self.autojump:
            await self.advance(seconds)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_at(self._now + seconds, wake)
        try:
            await future
        finally:
            timer.cancel()

    async def advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order and letting woken tasks run."""
        target = self._now + max(0.0, seconds)
        await settle()
        while self._timers and self._timers[0][0] <= target:
            when, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._now = max(self._now, when)
            timer.callback()
            await settle()
        self._now = target
        await settle()

    def pending_timers(self) -> int:
        """How many timers are scheduled and not cancelled (to check 'one timer' claims)."""
        return sum(1 for _, _, t in self._timers if not t.cancelled)

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r}, timers={self.pending_timers()})"


async def settle(rounds: int = 20) -> None:
    """Yield to the event loop a few times so that woken tasks run to their next await."""
    for _ in range(rounds):
        await asyncio.sleep(0)
