"""How late a server announces its resets, learned from what it was seen to admit.

A response's `reset_after` is what the server *announced*. Real servers announce late, in
ordinary ways: `Date` cached for a second (uvicorn) or truncated to whole seconds (nginx,
CDNs), so the server's clock looks behind; a Reset rounded up; slowapi's Reset one second
after the real one. Announcements are never early in practice (every error above is
late), so waiting for them is safe, but against a 2 s window a 1 s lateness halves the
throughput. `Lateness` learns a *lead*: how much earlier than announced the window really
opens, never more than the evidence allows.

Two kinds of evidence, each about the window an announced edge `E` (local clock) ends:

- **The period is known** (the limit is one of the plan's windows, or differs from the
  plan's but nothing seen contradicts the plan's period): a window of period `P` that
  opened at `e` is announced as `E = e + P + late`; any response of it was received at
  `r >= e`, so `late >= E - r - P`. Free: nothing is risked to learn it, so this is all
  that is used against gu1's own windows (their lateness is ~1 s of an hour: not worth a
  single 429).
- **The period is unknown** (the server's limit contradicts the plan, e.g. 40 per 2 s
  against the Free plan's 100/h): a response answered in the window announced as `E` and
  sent at `s` shows `late < E - s` (the server had not reached the edge when the request
  arrived); a request sent after the window was seen exhausted and then admitted,
  received at `r`, shows `late >= E - r`. The bracket `[lo, hi)` is kept over the last few
  windows; the first try after an exhausted window goes at its middle (a bisection across
  windows), a refused try narrows it at the cost of one 429, and at most `MAX_MISSES`
  tries per window may be refused before the safe end (`lo`) is used. Once the bracket is
  narrower than `precision` the safe end is used: no more 429s spent on learning.

Exploring only pays where a second matters: not when even `MAX_LATE` is under 1 % of the
window, so a long window of unknown period is never probed early.
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["Lateness"]

MAX_LATE = 3.0
"""The most an announcement is believed to be late, seconds (cached Date ~1 s, a Reset
rounded up ~1 s, slowapi's +1 s): the upper end of the bracket before any evidence."""

MAX_MISSES = 2
"""Early tries per window that may be refused before the safe lead is used."""

MISS_BUDGET = 8
"""Early tries that may be refused in all (per learner): learning a lateness costs at most
this many 429s, against a server that announces its resets exactly as well."""

HISTORY = 6
"""Windows whose brackets are combined (older evidence ages out: servers drift)."""


class Lateness:
    """The lead to subtract from one described window's announced resets."""

    __slots__ = (
        "_brackets",
        "_candidate",
        "_cur_hi",
        "_cur_lo",
        "_edge",
        "_exact",
        "_exhausted_at",
        "_longest",
        "_missed",
        "_misses",
        "_span",
        "limit",
    )

    def __init__(self, limit: int, period: float, *, exact: bool) -> None:
        """
        Args:
            limit: the limit of the window described.
            period: the period of the plan's window it is (`exact`) or most looks like.
            exact: the plan names this very limit, so `period` is known.
        """
        self.limit = limit
        self._candidate = period
        self._exact = exact
        self._edge = -math.inf  # the current window's announced edge (local clock)
        self._cur_lo = 0.0  # this window's own evidence: late >= _cur_lo ...
        self._cur_hi = math.inf  # ... and late < _cur_hi
        self._exhausted_at: float | None = None  # when this window was first seen spent
        self._misses = 0  # early tries refused in this window
        self._missed = 0  # ... and in all
        self._brackets: deque[tuple[float, float]] = deque(maxlen=HISTORY)
        self._span = math.inf  # spacing between announced edges: a period estimate
        self._longest = 0.0  # the longest reset_after announced: the period is about that

    @property
    def _period(self) -> float | None:
        """The window's period if known: the plan's, unless what was seen refutes it."""
        candidate = self._candidate
        if self._exact:
            return candidate
        if self._longest * 10 < candidate:
            return None  # every wait announced is far shorter: another, shorter window
        if self._span < math.inf and abs(self._span - candidate) > 0.1 * candidate:
            return None  # its edges are not a plan's period apart
        return candidate

    def period(self) -> float | None:
        """The window's period: the plan's when known, else the spacing of its edges."""
        known = self._period
        if known is not None:
            return known
        return self._span if self._span < math.inf else None

    def _history(self) -> tuple[float, float]:
        lo, hi = 0.0, math.inf
        for b_lo, b_hi in self._brackets:
            lo = max(lo, b_lo)
            hi = min(hi, b_hi)
        return lo, hi

    def bracket(self) -> tuple[float, float]:
        """What is known of the lateness now: `lo <= late < hi` (hi may be inf)."""
        lo, hi = self._history()
        lo, hi = max(lo, self._cur_lo), min(hi, self._cur_hi)
        if lo >= hi:
            # This window contradicts the older ones (the server's clock estimate moved,
            # say): only its own evidence holds.
            return self._cur_lo, self._cur_hi
        return lo, hi

    def lead(self) -> float:
        """Seconds to open the current window before its announced edge."""
        if self._exact:
            return self._cur_lo  # this window's own free evidence (see `learn`)
        lo, hi = self.bracket()
        if self._period is not None:
            return lo  # known period: free evidence only
        hi = min(hi, MAX_LATE)
        if 0.01 * self._period_hint() > MAX_LATE:
            return lo  # a long window: a second of it is not worth a 429
        if (
            self._misses >= MAX_MISSES
            or self._missed >= MISS_BUDGET
            or hi - lo <= self._precision()
        ):
            return lo
        return (lo + hi) / 2

    def learn(
        self, status: int, remaining: int, reset_after: float, sent_at: float, now: float
    ) -> None:
        """One response that described this window: `reset_after` as announced."""
        edge = now + reset_after
        if self._exact:
            # The plan's own window (every gu1 response): only the free evidence, about the
            # window it came from, in a few comparisons (this runs for every response).
            period = self._candidate
            if edge > self._edge + period / 2:
                self._edge, self._cur_lo = edge, 0.0  # a new window
            elif edge < self._edge - period / 2:
                return  # an answer about a window that has already ended
            bound = reset_after - period
            if bound > self._cur_lo:
                self._cur_lo = bound if bound < MAX_LATE else MAX_LATE
            return
        if reset_after > self._longest:
            self._longest = reset_after
        admitted = status < 400
        exhausted_at = self._exhausted_at
        if admitted and exhausted_at is not None and sent_at >= exhausted_at:
            # Sent after the window was seen spent, and let in: its edge has passed.
            self._close(self._edge - now)
            self._open(edge, refilled=remaining > 0)
        elif edge > self._edge + self._half():
            # A later window whose opening we did not see (idle, or the first answer).
            self._close(None)
            self._open(edge, refilled=False)
        elif edge < self._edge - self._half():
            return  # an answer about a window that has already ended
        elif edge < self._edge:
            self._edge = edge  # each estimate is late by its own latency: keep the earliest
        edge = self._edge
        known = self._period
        if known is not None:
            # late >= E - r - P: the window opened no later than this answer arrived.
            bound = edge - now - known
            if bound > self._cur_lo:
                self._cur_lo = min(bound, MAX_LATE)
            return
        if not admitted and sent_at > edge - self._cur_hi:
            self._misses += 1  # an early try refused
            self._missed += 1
        # Answered inside this window: it had not ended when the request arrived.
        if edge - sent_at < self._cur_hi:
            self._cur_hi = max(edge - sent_at, 0.0)
        if (remaining == 0 or not admitted) and self._exhausted_at is None:
            self._exhausted_at = now

    def _open(self, edge: float, *, refilled: bool) -> None:
        if refilled and self._edge > -math.inf:
            # A window that opened with room left (not a sliding window freeing one slot):
            # the spacing of its edges is about one period.
            span = edge - self._edge
            if 0 < span < self._span:
                self._span = span
        self._edge = edge
        self._cur_lo, self._cur_hi = 0.0, math.inf
        self._exhausted_at = None
        self._misses = 0

    def _close(self, lo: float | None) -> None:
        """The current window is over: keep its bracket (with `lo` if its edge was seen)."""
        if self._edge == -math.inf:
            return
        lo = self._cur_lo if lo is None else max(self._cur_lo, lo)
        hi = self._cur_hi
        b_lo, b_hi = self._history()
        if max(lo, b_lo) >= min(hi, b_hi):
            self._brackets.clear()  # contradicted: the server changed; start again
        else:
            lo, hi = max(lo, b_lo), min(hi, b_hi)  # carried: see `_blind.Blind._close`
        self._brackets.append((max(lo, 0.0), hi))

    def _half(self) -> float:
        period = self._period
        return (period if period is not None else self._period_hint()) / 2

    def _period_hint(self) -> float:
        # Before two edges were seen, the longest announced wait stands for the period.
        return self._span if self._span < math.inf else (self._longest or 2 * MAX_LATE)

    def _precision(self) -> float:
        return max(0.002, 0.002 * self._period_hint())

    def __repr__(self) -> str:
        lo, hi = self.bracket()
        return f"Lateness(limit={self.limit}, period={self._period}, lo={lo:.3f}, hi={hi:.3f})"
