"""Rate-limit windows per key, on a scaled clock, as the fake server enforces them.

A window of period `P` lasts `P / time_scale` *real* seconds. All times handed out
(`resets_at`) are real wall-clock epoch seconds, so `Reset - Date` is a real wait. A request
passes only if every window of its key admits it; a refused request counts nothing.

The kinds of limiter (`LIMITERS`), each the habit of a real server:

- `fixed` (gu1, the default): windows aligned to the key's first counted request, each
  rolling over on its own grid `start + k * period`.
- `fixed_first_hit` (the `limits` library's memory storage, under slowapi): a window
  starts at the first request after the previous one expired, so idle time shifts it.
- `moving` (a sliding log): at most `limit` requests in any `period`; one slot frees when
  the oldest request in the log is a period old.
- `leaky` (nginx `limit_req` without `burst`): a request passes only if at least
  `period / limit` has passed since the last one that passed, measured as nginx does, in
  whole milliseconds. Shown as a bucket of one: `remaining` is 1 when a request would pass
  now, else 0, and `resets_at` is when the next one will.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence

import attrs

__all__ = [
    "LIMITERS",
    "FixedWindowLimiter",
    "KeyLimiter",
    "RateDecision",
    "WindowUsage",
]

LIMITERS = ("fixed", "fixed_first_hit", "moving", "leaky")
"""The limiter kinds `KeyLimiter` (and `FakeGu1Server(limiter=...)`) accept."""


@attrs.frozen
class WindowUsage:
    """How much of one window a key has used, as of a moment."""

    limit: int
    period: float
    """The window's nominal period in (scaled) seconds, e.g. 3600 for the hourly window."""
    used: int
    remaining: int
    resets_at: float
    """Real wall-clock epoch seconds at which this window ends."""


@attrs.frozen
class RateDecision:
    """Whether a request may proceed, and the window its headers should describe."""

    allowed: bool
    shown: WindowUsage
    retry_after: float
    """Real seconds until every exhausted window has reset (0 when allowed)."""
    usages: tuple[WindowUsage, ...] = ()
    """Every window of the key (headers that can describe several use them all)."""


@attrs.define
class _Window:
    """Aligned fixed window (`fixed`): the base the other kinds override."""

    limit: int
    period: float
    duration: float
    start: float | None = None
    used: int = 0

    def roll(self, now: float) -> None:
        if self.start is None:
            return
        if now >= self.start + self.duration:
            # Skip whole windows at once: a key idle for a day rolls in one step.
            elapsed = math.floor((now - self.start) / self.duration)
            self.start += elapsed * self.duration
            self.used = 0

    def count(self, now: float) -> None:
        if self.start is None:
            self.start = now
        self.used += 1

    def usage(self, now: float) -> WindowUsage:
        return WindowUsage(
            limit=self.limit,
            period=self.period,
            used=self.used,
            remaining=max(0, self.limit - self.used),
            resets_at=self._opened(now) + self.duration,
        )

    def _opened(self, now: float) -> float:
        """When the window now counted began (a window not yet opened begins now)."""
        return now if self.start is None else self.start


@attrs.define
class _FirstHitWindow(_Window):
    def roll(self, now: float) -> None:
        if self.start is not None and now >= self.start + self.duration:
            self.start, self.used = None, 0  # the next request opens a new window


@attrs.define
class _SlidingLog(_Window):
    log: deque[float] = attrs.field(factory=deque)

    def roll(self, now: float) -> None:
        while self.log and self.log[0] + self.duration <= now:
            self.log.popleft()
        self.used = len(self.log)

    def count(self, now: float) -> None:
        self.log.append(now)
        self.used = len(self.log)

    def _opened(self, now: float) -> float:
        return self.log[0] if self.log else now  # the oldest request still counted


def _msec(now: float) -> int:
    # nginx counts whole milliseconds; the epsilon keeps 100.05 * 1000 from reading 100049.
    return math.floor(now * 1000.0 + 1e-6)


@attrs.define
class _LeakyBucket(_Window):
    last_ms: int | None = None

    def _wait_ms(self) -> int:
        # nginx keeps the rate in requests per 1000 s, as an integer, and admits without a
        # burst only when `rate * elapsed_ms / 1000 >= 1000` (integer division).
        rate = max(1, int(self.limit * 1000.0 / self.duration))
        return -(-1_000_000 // rate)

    def roll(self, now: float) -> None:
        self.used = 0 if self._admits(now) else 1

    def _admits(self, now: float) -> bool:
        if self.last_ms is None:
            return True
        return max(0, _msec(now) - self.last_ms) >= self._wait_ms()

    def count(self, now: float) -> None:
        self.last_ms = _msec(now)
        self.used = 1

    def usage(self, now: float) -> WindowUsage:
        admits = self._admits(now)
        if self.last_ms is None:
            resets_at = now
        else:
            resets_at = max(now, (self.last_ms + self._wait_ms()) / 1000.0)
        return WindowUsage(
            limit=self.limit,
            period=self.period,
            used=0 if admits else 1,
            remaining=1 if admits else 0,
            resets_at=resets_at,
        )


_KINDS: dict[str, type[_Window]] = {
    "fixed": _Window,
    "fixed_first_hit": _FirstHitWindow,
    "moving": _SlidingLog,
    "leaky": _LeakyBucket,
}


def _most_constrained(usages: Sequence[WindowUsage]) -> WindowUsage:
    """The window the headers describe: least remaining, ties to the shortest period.

    When several windows are exhausted, the one that resets last is shown instead:
    that is the first moment a retry can succeed.
    """
    exhausted = [u for u in usages if u.remaining == 0]
    if len(exhausted) > 1:
        return max(exhausted, key=lambda u: u.resets_at)
    return min(usages, key=lambda u: (u.remaining, u.period))


class KeyLimiter:
    """Counts one key's requests in every window; a request passes only if all allow it.

    Args:
        windows: `(limit, period)` pairs, periods in (scaled) seconds.
        time_scale: API time runs this many times faster than real time.
        kind: one of `LIMITERS`.

    Raises:
        ValueError: a non-positive `time_scale`, or an unknown `kind`.
    """

    def __init__(
        self,
        windows: Iterable[tuple[int, float]],
        *,
        time_scale: float = 1.0,
        kind: str = "fixed",
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if kind not in _KINDS:
            raise ValueError(f"unknown limiter {kind!r}; choose one of {list(LIMITERS)}")
        self.kind = kind
        self._time_scale = time_scale
        self._windows = [self._new(limit, period) for limit, period in windows]

    def _new(self, limit: int, period: float) -> _Window:
        return _KINDS[self.kind](limit=limit, period=period, duration=period / self._time_scale)

    def set_windows(self, windows: Iterable[tuple[int, float]]) -> None:
        """Adopt new limits at once (a plan change): a window of the same period keeps
        what it has counted and takes the new limit; other periods start afresh."""
        old = {w.period: w for w in self._windows}
        new = []
        for limit, period in windows:
            window = old.pop(period, None) or self._new(limit, period)
            window.limit = limit
            new.append(window)
        self._windows = new

    def _roll(self, now: float) -> list[WindowUsage]:
        for window in self._windows:
            window.roll(now)
        return [w.usage(now) for w in self._windows]

    def peek(self, now: float) -> RateDecision:
        """The current state without counting a request (for 401s and forced 429s)."""
        usages = self._roll(now)
        return self._decide(usages, now, allowed=all(u.remaining > 0 for u in usages))

    def acquire(self, now: float) -> RateDecision:
        """Count one request if every window has room; a refused request counts nothing."""
        usages = self._roll(now)
        if any(u.remaining == 0 for u in usages):
            return self._decide(usages, now, allowed=False)
        for window in self._windows:
            window.count(now)
        return self._decide([w.usage(now) for w in self._windows], now, allowed=True)

    def usage(self, now: float) -> tuple[WindowUsage, ...]:
        """Usage of every window, in the order they were given."""
        return tuple(self._roll(now))

    @staticmethod
    def _decide(usages: list[WindowUsage], now: float, *, allowed: bool) -> RateDecision:
        retry_after = 0.0
        if not allowed:
            retry_after = max(u.resets_at - now for u in usages if u.remaining == 0)
        return RateDecision(
            allowed=allowed,
            shown=_most_constrained(usages),
            retry_after=max(0.0, retry_after),
            usages=tuple(usages),
        )


FixedWindowLimiter = KeyLimiter
"""The name from before other kinds existed; `kind="fixed"` is still the default."""
