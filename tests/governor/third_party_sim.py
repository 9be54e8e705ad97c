"""Servers that behave as stock third-party limiters do, on a fake clock (issue 12).

- `FirstHitWindow`: slowapi/limits' fixed window in memory storage (a window opens at the
  first hit after the last one expired), announcing its reset `late` seconds late (slowapi
  adds 1 s), or saying nothing (`headers=False`: a bare 429).
- `LeakyBucket`: nginx `limit_req` without burst: a request is let in only if `1/rate`
  seconds passed since the last one let in.

`drive()` runs `tasks` workers through a Governor for `duration` seconds, each request
taking `latency` seconds to come back, and counts what the server admitted and refused.
"""

from __future__ import annotations

import asyncio
import itertools

from gu1_async._clock import FakeClock
from gu1_async.governor import Governor, Observation


class FirstHitWindow:
    def __init__(
        self,
        limit: int,
        period: float,
        *,
        late: float = 0.0,
        headers: bool = True,
        reset: bool = True,
    ):
        self.limit, self.period, self.late, self.headers = limit, period, late, headers
        self.reset = reset  # False: Limit and Remaining only
        self.expiry = -1.0
        self.count = 0
        self.admitted: list[float] = []
        self.refused = 0

    def handle(self, now: float) -> Observation:
        if now >= self.expiry:
            self.expiry, self.count = now + self.period, 0
        if self.count >= self.limit:
            self.refused += 1
            return self._answer(429, now)
        self.count += 1
        self.admitted.append(now)
        return self._answer(200, now)

    def _answer(self, status: int, now: float) -> Observation:
        if not self.headers:
            return Observation(status)
        reset_after = self.expiry + self.late - now if self.reset else None
        return Observation(status, self.limit, self.limit - self.count, reset_after)

    def ideal(self, duration: float) -> float:
        return self.limit / self.period * duration


class LeakyBucket:
    def __init__(self, rate: float):
        self.gap = 1.0 / rate
        self.last = -1e9
        self.admitted: list[float] = []
        self.refused = 0

    def handle(self, now: float) -> Observation:
        # nginx counts in whole milliseconds.
        if int(now * 1000) - int(self.last * 1000) < int(self.gap * 1000):
            self.refused += 1
            return Observation(429)
        self.last = now
        self.admitted.append(now)
        return Observation(200)

    def ideal(self, duration: float) -> float:
        return duration / self.gap


async def drive(
    governor: Governor,
    server: FirstHitWindow | LeakyBucket,
    clock: FakeClock,
    *,
    tasks: int = 60,
    duration: float = 30.0,
    latency: float = 0.002,
) -> None:
    """`tasks` workers loop acquire -> send -> answer until `duration` has passed."""
    end = clock.monotonic() + duration

    async def worker() -> None:
        while clock.monotonic() < end:
            permit = await governor.acquire()
            permit.mark_sent()
            answer = server.handle(clock.monotonic() + latency / 2)
            await clock.sleep(latency)
            permit.observe(answer)

    workers = [asyncio.create_task(worker()) for _ in range(tasks)]
    while clock.monotonic() < end + 1:
        await clock.advance(0.001)
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)


def longest_gap(times: list[float], after: float) -> float:
    """The longest time between two admissions after `after`."""
    times = [t for t in times if t >= after]
    return max((b - a for a, b in itertools.pairwise(times)), default=0.0)
