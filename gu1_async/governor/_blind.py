"""A server that describes nothing: its window learned from what it admits and refuses.

Some servers answer without any rate-limit header, and refuse with a bare 429 (slowapi
with headers off, nginx `limit_req`, many proxies and CDNs). `Blind` measures what such a
server admits instead of sawing a rate up and down (botocore's adaptive mode), and hands
the governor an `Observation` as if the server had described its window:

- **Model.** `limit` requests per window; a window opens at its first admitted request
  and ends `period` seconds later. That is a fixed window as slowapi and `limits` keep it
  (opened by the first hit), and, while requests are waiting, a grid-aligned fixed window
  too; with `limit == 1` it is a pure rate, which is what a leaky bucket without burst
  (nginx `limit_req` with no `burst`) admits.
- **Slow start.** Before the first refusal nothing is known, so requests in flight are
  capped (`cap`), growing by a quarter per admitted answer (x1.25 per round trip): an unknown
  server sees a ramp, not the plan's whole budget at once. The first refusal ends it.
- **Limit.** The requests admitted in a window that was then seen spent (a refusal).
- **Period**, bracketed like a reset's lateness (`_lateness`): a request refused `g`
  seconds after the window's first admission shows `period > g`; one admitted after the
  window was spent, `g` seconds after its first admission, shows `period <= g`. Until an
  admission has bounded it, each refused try doubles the gap (an exponential search);
  then the first try of a window goes at the middle of the bracket, at most `MAX_MISSES`
  tries refused per window, and the safe end is used once the bracket is narrow.
"""

from __future__ import annotations

import math
from collections import deque

from ._lateness import HISTORY, MAX_MISSES

__all__ = ["Blind"]

FIRST_GAP = 0.01
"""Seconds: the first try after a refusal, before anything bounds the period."""


class Blind:
    """The window of a server that sends no rate-limit headers, as far as it was seen."""

    __slots__ = (
        "_brackets",
        "_cur_lo",
        "_exhausted_at",
        "_first_recv",
        "_first_sent",
        "_longest",
        "_misses",
        "admitted",
        "cap",
        "limit",
    )

    def __init__(self, longest: float, limit: int | None = None) -> None:
        """
        Args:
            longest: no period is believed longer than this.
            limit: the window's limit when the server says it (Limit and Remaining, but
                no Reset): then only the period is measured, and there is no slow start.
        """
        self._longest = longest
        self.limit = limit  # requests per window, once a window was seen spent
        self.admitted = 0  # in the current window
        # Slow start: requests in flight allowed until the first refusal.
        self.cap = 1.0 if limit is None else math.inf
        self._first_sent = -math.inf  # the current window's first admission
        self._first_recv = -math.inf
        self._exhausted_at: float | None = None
        self._cur_lo = 0.0  # this window's refused gaps: period > _cur_lo
        self._misses = 0
        self._brackets: deque[tuple[float, float]] = deque(maxlen=HISTORY)

    @property
    def learning(self) -> bool:
        """True until the first refusal (the slow start)."""
        return self._exhausted_at is None and self.limit is None

    def learn(self, admitted: bool, sent_at: float, now: float) -> None:
        """One answer without rate-limit headers."""
        if admitted:
            if self._exhausted_at is not None and sent_at >= self._exhausted_at:
                # Sent after the window was seen spent, and let in: a new window.
                gap = now - self._first_sent
                self._close(gap)
                self.limit = max(1, self.admitted)
                self._open(sent_at, now)
            elif self.admitted == 0 or self._first_sent == -math.inf:
                self._open(sent_at, now)
            else:
                self.admitted += 1
                if self.limit is not None and self.admitted >= self.limit:
                    # Spent by count: the next admission opens the next window.
                    self._exhausted_at = now
            if self.learning:
                self.cap += 0.25
            return
        if self._first_sent == -math.inf:
            return  # refused before anything was admitted: nothing to measure from
        gap = sent_at - self._first_recv
        if self._exhausted_at is None:
            self._exhausted_at = now
            self.cap = math.inf  # the window model paces from here on
        elif sent_at >= self._exhausted_at:
            self._misses += 1  # a try sent after the window was seen spent, refused
        if gap > self._cur_lo:
            self._cur_lo = gap

    def period(self) -> float | None:
        """The period as far as measured (the bracket's safe end), or None before that."""
        _lo, hi = self.bracket()
        return hi if hi < math.inf else None

    def spent(self, now: float) -> None:
        """The server said the window is spent (Remaining 0): the next admission opens one."""
        if self._exhausted_at is None:
            self._exhausted_at = now

    def reset_after(self, now: float) -> float:
        """Seconds from `now` until the next try should go."""
        # Never 0: a reset already passed reads as a stale answer to a store.
        return max(1e-6, self._first_recv + self._next_gap() - now)

    def remaining(self) -> int:
        """What is left of the current window, as far as known."""
        if self._exhausted_at is not None or self.limit is None:
            return 0
        return max(0, self.limit - self.admitted)

    def bracket(self) -> tuple[float, float]:
        """What is known of the period: `lo < period <= hi` (hi may be inf)."""
        lo, hi = self._cur_lo, math.inf
        for b_lo, b_hi in self._brackets:
            lo = max(lo, b_lo)
            hi = min(hi, b_hi)
        return lo, hi

    def _next_gap(self) -> float:
        lo, hi = self.bracket()
        if hi == math.inf:
            # Nothing bounds the period yet: grow the last refused gap by half (one 429
            # a step; the edge is overshot by at most half the gap).
            return min(max(1.5 * lo, FIRST_GAP), self._longest)
        if self._misses >= MAX_MISSES or hi - lo <= max(0.002, 0.02 * hi):
            # The safe end, with a margin: a server's clock ticks in its own steps (nginx
            # counts whole milliseconds), so the exact edge is admitted only now and then.
            return hi * 1.03 + 0.001
        return (lo + hi) / 2

    def _open(self, sent_at: float, now: float) -> None:
        self._first_sent = sent_at
        self._first_recv = now
        self.admitted = 1
        # A window of one is spent by its first admission (a pure rate).
        self._exhausted_at = now if self.limit == 1 else None
        self._cur_lo = 0.0
        self._misses = 0

    def _close(self, hi: float) -> None:
        lo = self._cur_lo
        b_lo, b_hi = self.bracket()
        if max(lo, b_lo) >= min(hi, b_hi):
            self._brackets.clear()  # contradicted: the server changed, or jitter; start again
            hi = max(hi, lo * 1.05)
        else:
            # What older windows showed still holds: carry it, so that a window with no
            # refusal does not age the bracket out (and reopen the search) by itself.
            lo, hi = max(lo, b_lo), min(hi, b_hi)
        self._brackets.append((lo, hi))

    def __repr__(self) -> str:
        lo, hi = self.bracket()
        return f"Blind(limit={self.limit}, period in ({lo:.3f}, {hi:.3f}], cap={self.cap})"
