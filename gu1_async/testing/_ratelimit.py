"""Fixed rate-limit windows per key, on a scaled clock, as the fake server enforces them.

A window of period `P` lasts `P / time_scale` *real* seconds. Windows are aligned to the
key's first counted request (not to epoch multiples): the first request opens every
window, and each window then rolls over on its own boundary. All times handed out
(`resets_at`) are real wall-clock epoch seconds, so `Reset - Date` is a real wait.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

__all__ = ["FixedWindowLimiter", "RateDecision", "WindowUsage"]


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


@attrs.define
class _Window:
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

    def usage(self, now: float) -> WindowUsage:
        start = now if self.start is None else self.start
        return WindowUsage(
            limit=self.limit,
            period=self.period,
            used=self.used,
            remaining=max(0, self.limit - self.used),
            resets_at=start + self.duration,
        )


def _most_constrained(usages: Sequence[WindowUsage]) -> WindowUsage:
    """The window the headers describe: least remaining, ties to the shortest period.

    When several windows are exhausted, the one that resets last is shown instead:
    that is the first moment a retry can succeed.
    """
    exhausted = [u for u in usages if u.remaining == 0]
    if len(exhausted) > 1:
        return max(exhausted, key=lambda u: u.resets_at)
    return min(usages, key=lambda u: (u.remaining, u.period))


class FixedWindowLimiter:
    """Counts one key's requests in every window; a request passes only if all allow it."""

    def __init__(self, windows: Sequence[tuple[int, float]], *, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._windows = [
            _Window(limit=limit, period=period, duration=period / time_scale)
            for limit, period in windows
        ]

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
            if window.start is None:
                window.start = now
            window.used += 1
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
            allowed=allowed, shown=_most_constrained(usages), retry_after=max(0.0, retry_after)
        )
