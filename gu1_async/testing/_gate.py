"""The fake server's rate-limit gate: each key's limiter, forced 429s, and the headers."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from ._common import error_response
from ._keys import FakeKey, Windows
from ._ratelimit import KeyLimiter, RateDecision, WindowUsage
from ._stamp import HeaderStyle

__all__ = ["RateLimitGate"]


class RateLimitGate:
    """Decides, per key, whether a request passes the rate limit, and stamps every answer.

    Args:
        windows: the windows of callers without a registered key (their 401s show these).
        time_scale: API time runs this many times faster than real time.
        limiter: the limiter kind for those callers (`LIMITERS`).
        style: how `Date` and the rate-limit headers are written.
        retry_after: also send `Retry-After` on rate-limit 429s.
    """

    def __init__(
        self,
        windows: Windows,
        *,
        time_scale: float,
        limiter: str,
        style: HeaderStyle,
        retry_after: bool,
    ) -> None:
        self._windows = windows
        self._time_scale = time_scale
        self._kind = limiter
        self.style = style
        self._retry_after = retry_after
        self._limiters: dict[str, KeyLimiter] = {}
        self._forced: list[float | None] = []
        self._limiter(windows, limiter)  # an unknown kind fails here, at construction

    def _limiter(self, windows: Iterable[tuple[int, float]], kind: str) -> KeyLimiter:
        return KeyLimiter(windows, time_scale=self._time_scale, kind=kind)

    def register(self, key: FakeKey) -> None:
        """Give `key` a fresh limiter with its own windows and kind."""
        self._limiters[key.key] = self._limiter(key.windows, key.limiter)

    def set_windows(self, key: str, windows: Windows) -> None:
        """Adopt new limits for `key` at once (see `KeyLimiter.set_windows`).

        Raises:
            KeyError: `key` is not registered.
        """
        self._limiters[key].set_windows(windows)

    def usage(self, key: str, now: float) -> tuple[WindowUsage, ...]:
        """Every window's usage for `key`, or nothing for an unknown key."""
        limiter = self._limiters.get(key)
        return limiter.usage(now) if limiter else ()

    def force(self, n: int, retry_after: float | None) -> None:
        """Answer the next `n` authenticated requests 429."""
        self._forced.extend([retry_after] * n)

    def peek(self, presented: str | None, now: float) -> RateDecision:
        """The caller's state without counting (for 401s)."""
        limiter = self._limiters.get(presented or "")
        if limiter is None:  # unknown callers see a fresh default window
            limiter = self._limiter(self._windows, self._kind)
        return limiter.peek(now)

    def admit(self, key: str, now: float) -> tuple[web.Response | None, RateDecision]:
        """Count one request of `key`: no response if it passes, else its 429."""
        limiter = self._limiters[key]
        if self._forced:
            return self._forced_429(limiter.peek(now), now)
        decision = limiter.acquire(now)
        if decision.allowed:
            return None, decision
        response = error_response(
            429, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded; retry after the reset"
        )
        if self._retry_after:
            response.headers["Retry-After"] = self.style.retry_after(decision.retry_after)
        return response, decision

    def _forced_429(self, peek: RateDecision, now: float) -> tuple[web.Response, RateDecision]:
        retry_after = self._forced.pop(0)
        shown = peek.shown
        resets_at = now + retry_after if retry_after is not None else shown.resets_at
        decision = RateDecision(
            allowed=False,
            shown=type(shown)(shown.limit, shown.period, shown.used, 0, resets_at),
            retry_after=max(0.0, resets_at - now),
        )
        response = error_response(
            429, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded (forced by the test)"
        )
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response, decision

    def stamp(self, response: web.StreamResponse, decision: RateDecision, now: float) -> None:
        """Write `Date` and the rate-limit headers of an answer sent at real time `now`."""
        self.style.stamp(response.headers, decision, now)
