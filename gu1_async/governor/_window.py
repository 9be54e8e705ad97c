"""One window's budget: plain numbers and `now` in, decisions out (no clock, no asyncio).

A window is the governor's picture of one of the server's fixed windows:

- `left`: how many requests the server will still count in the current window, as far as
  we know: the plan's limit at first, then the lowest `Remaining` a header reported, minus
  the requests that ended without telling us.
- `in_flight`: requests that took a token here and have not ended yet. They are treated as
  not yet counted by the server, so at most `left - in_flight` new requests may *start*.
  That is conservative when the server has already counted some of them (their own
  responses then show it and free the room again), never optimistic.
- `reset_at`: when the window refills, on the caller's monotonic clock. From a header it is
  `now + reset_after` (server time on both sides, so skew does not matter; latency makes it
  late, never early); for a window no header described, the seeded window's own edge.
- `confirmed`: a header has described the current window. An unconfirmed window lets a
  single request (the *probe*) go first; its response sets the budget. `blind_ok` says the
  probe was answered without describing this window (the server may only ever report one
  window), so the seeded budget may now be spent as is.
"""

from __future__ import annotations

import math

__all__ = [
    "EPSILON",
    "RESET_MARGIN",
    "WindowState",
    "available",
    "end_probe",
    "estimate_wait",
    "observe",
    "roll",
    "spend_unseen",
]

EPSILON = 1e-9
"""Tolerance when comparing a window's period with a reported reset (float rounding)."""

RESET_MARGIN = 1e-6
"""Resets from headers are taken a microsecond late: float rounding must never refill a
window before the server does (latency already makes every estimate late, never early)."""


class WindowState:
    """Mutable numbers for one window (a slotted record: the fast path reads it a lot)."""

    __slots__ = (
        "blind_ok",
        "confirmed",
        "cut",
        "identified",
        "in_flight",
        "left",
        "limit",
        "period",
        "probing",
        "reserve",
        "reset_at",
    )

    def __init__(self, limit: int, period: float, reserve: float, now: float) -> None:
        self.limit = limit
        self.period = period
        self.reserve = reserve
        # Requests of lower priority than INTERACTIVE must leave this many untouched.
        self.cut = int(reserve * limit)
        self.left = limit
        self.in_flight = 0
        self.reset_at = now + period
        self.confirmed = False
        self.blind_ok = False
        # A probe (the one request let through while unconfirmed) is in flight.
        self.probing = False
        # Whether `limit` came from a header (then it is the server's, not the plan's).
        self.identified = False

    def set_limit(self, limit: int) -> None:
        self.limit = limit
        self.cut = int(self.reserve * limit)

    def __repr__(self) -> str:
        return (
            f"WindowState(limit={self.limit}, period={self.period:g}, left={self.left}, "
            f"in_flight={self.in_flight}, reset_at={self.reset_at:.3f}, "
            f"confirmed={self.confirmed}, blind_ok={self.blind_ok})"
        )


def roll(w: WindowState, now: float) -> None:
    """Refill `w` if its reset time has come (call before reading it)."""
    if now < w.reset_at:
        return
    # Server windows are periodic: the next edge is a whole number of periods later.
    missed = math.floor((now - w.reset_at) / w.period) + 1
    w.reset_at += missed * w.period
    w.left = w.limit
    w.confirmed = False
    w.blind_ok = False
    w.probing = False


def available(w: WindowState, cut: int) -> int:
    """How many more requests may start now (after `roll`), leaving `cut` untouched."""
    room = w.left - w.in_flight - cut
    if w.confirmed or w.blind_ok:
        return room
    # Not confirmed: one probe at a time, and only if the seeded budget has room at all.
    return min(room, 1 - w.in_flight)


def observe(w: WindowState, now: float, remaining: int, reset_after: float | None) -> bool:
    """Apply a header that describes `w` (after `roll`); False if it was too stale to use."""
    remaining = max(0, remaining)
    if reset_after is None:
        # The server gave no Reset: the count still bounds the window we are in.
        w.left = min(w.left, remaining)
        w.confirmed = True
        return True
    if reset_after <= 0:
        # The answer describes a window that has already ended (a stale response, or odd
        # server clocks). If we still believe we are in that window, its count bounds it;
        # a fresh window must not be cut by it (the caller then counts the request itself).
        if w.confirmed:
            w.left = min(w.left, remaining)
        return w.confirmed
    observed_reset = now + reset_after + RESET_MARGIN
    same = abs(observed_reset - w.reset_at) < w.period / 2
    if not w.confirmed:
        # First word on this window: adopt the server's edge; within what we took for the
        # same window, keep the lower count (answers may arrive out of order).
        w.left = min(w.left, remaining) if same else remaining
        w.reset_at = observed_reset
        w.confirmed = True
    elif same:
        # Remaining only falls within a window and answers may arrive out of order, so
        # the lowest value is the newest. Each estimate of the edge is late by its
        # response's latency (never early), so the earliest is the best.
        w.left = min(w.left, remaining)
        w.reset_at = min(w.reset_at, observed_reset)
    elif observed_reset > w.reset_at:
        # A later window than we thought we were in: our edge was wrong; follow the server.
        w.left = remaining
        w.reset_at = observed_reset
    else:
        return False  # an answer from a window that has already ended
    return True


def spend_unseen(w: WindowState) -> None:
    """A request ended without a header for `w` (another window's, or none): count it."""
    if w.left > 0:
        w.left -= 1


def end_probe(w: WindowState, answered: bool) -> None:
    """A request ended while `w` was probing: it was the probe (it started alone).

    If the server answered without describing `w` (it reports another window), waiting
    for a header that never comes would wedge the window: spend the seeded budget from
    now on. If there was no answer (never sent, or the connection dropped), nothing was
    learned and the next request probes again.
    """
    w.probing = False
    if answered and not w.confirmed:
        w.blind_ok = True


def estimate_wait(w: WindowState, now: float, ahead: int, cut: int) -> float:
    """Seconds until `w` can let the request after `ahead` queued ones start.

    An estimate from what is known now: in-flight requests are taken as spent, and each
    refill gives `limit - cut`. Waits that depend only on responses (a probe in flight)
    count as zero: they are not computable.
    """
    now_room = max(0, w.left - w.in_flight - cut)
    if ahead < now_room:
        return 0.0
    per_window = max(1, w.limit - cut)
    windows_more = (ahead - now_room) // per_window
    return max(0.0, w.reset_at - now) + windows_more * w.period
