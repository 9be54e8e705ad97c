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
  window), so the seeded budget may now be spent, counted by us.
- `ring`: how many requests were sent (ended after sending) in each of the last `SLOTS`
  slices of a period. Until a header has placed a window's edges (`anchored`), an
  unconfirmed window is also held to a *sliding* period: at most `limit` requests in any
  `period` seconds, which keeps every fixed window of the server's, wherever its edges
  lie, within the limit.
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
    "lent_cut",
    "observe",
    "record_sent",
    "roll",
    "sent_recently",
    "spend_unseen",
]

EPSILON = 1e-9
"""Tolerance when comparing a window's period with a reported reset (float rounding)."""

SLOTS = 32
"""Slices per period for the sliding count of a window no header describes."""

RESET_MARGIN = 1e-6
"""Resets from headers are taken a microsecond late: float rounding must never refill a
window before the server does (latency already makes every estimate late, never early)."""


class WindowState:
    """Mutable numbers for one window (a slotted record: the fast path reads it a lot)."""

    __slots__ = (
        "anchored",
        "blind_ok",
        "confirmed",
        "cut",
        "identified",
        "in_flight",
        "left",
        "lend",
        "limit",
        "period",
        "probing",
        "reserve",
        "reset_at",
        "ring",
        "ring_at",
        "ring_next",
        "ring_total",
        "slice",
    )

    def __init__(
        self, limit: int, period: float, reserve: float, now: float, lend: float = 0.0
    ) -> None:
        self.limit = limit
        self.period = period
        self.reserve = reserve
        # Requests of lower priority than INTERACTIVE must leave this many untouched...
        self.cut = int(reserve * limit)
        # ...except in the last `lend` of a window whose edge a header placed (`lent_cut`).
        self.lend = lend
        self.left = limit
        self.in_flight = 0
        self.reset_at = now + period
        self.confirmed = False
        self.blind_ok = False
        # A probe (the one request let through while unconfirmed) is in flight.
        self.probing = False
        # Whether `limit` came from a header (then it is the server's, not the plan's).
        self.identified = False
        # Whether `reset_at` sits on the server's grid (a header gave it).
        self.anchored = False
        # Sent requests per slice of the last period (plus the slice now filling).
        self.slice = period / SLOTS
        self.ring = [0] * (SLOTS + 1)
        self.ring_at = math.floor(now / self.slice)
        self.ring_next = (self.ring_at + 1) * self.slice  # when the ring must move on
        self.ring_total = 0

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


def available(w: WindowState, cut: int, now: float | None = None) -> int:
    """How many more requests may start now (after `roll`), leaving `cut` untouched.

    With `now`, an unconfirmed window whose edges no header placed is also held to its
    sliding period.
    """
    room = w.left - w.in_flight - cut
    if w.confirmed:
        return room
    if now is not None and not w.anchored:
        room = min(room, w.limit - sent_recently(w, now) - w.in_flight - cut)
    if w.blind_ok:
        return room
    # Not confirmed: one probe at a time, and only if the seeded budget has room at all.
    return min(room, 1 - w.in_flight)


def observe(w: WindowState, now: float, remaining: int, reset_after: float | None) -> bool:
    """Apply a header that describes `w` (after `roll`); False if it was too stale to use."""
    # (Plain comparisons rather than min/max/abs: this runs for every response.)
    if remaining < 0:
        remaining = 0
    if reset_after is None:
        # The server gave no Reset: the count still bounds the window we are in.
        if remaining < w.left:
            w.left = remaining
        w.confirmed = True
        return True
    if reset_after <= 0:
        # The answer describes a window that has already ended (a stale response, or odd
        # server clocks). If we still believe we are in that window, its count bounds it;
        # a fresh window must not be cut by it (the caller then counts the request itself).
        if w.confirmed and remaining < w.left:
            w.left = remaining
        return w.confirmed
    observed_reset = now + reset_after + RESET_MARGIN
    reset_at = w.reset_at
    half = w.period / 2
    drift = observed_reset - reset_at
    same = -half < drift < half  # (abs(drift) < half, exactly, without the call)
    if w.confirmed and w.anchored:
        if same:
            # The usual answer. Remaining only falls within a window and answers may arrive
            # out of order, so the lowest value is the newest. Each estimate of the edge is
            # late by its response's latency (never early), so the earliest is the best.
            if remaining < w.left:
                w.left = remaining
            if observed_reset < reset_at:
                w.reset_at = observed_reset
        elif observed_reset > reset_at:
            # A later window than we thought we were in: our edge was wrong; follow the server.
            w.left = remaining
            w.reset_at = observed_reset
        else:
            return False  # an answer from a window that has already ended
        return True
    # First word on this window's edge (a count without a Reset confirms a window, but only a
    # Reset places it): adopt the server's edge; within what we took for the
    # same window, keep the lower count (answers may arrive out of order).
    if not same or remaining < w.left:
        w.left = remaining
    w.reset_at = observed_reset
    w.confirmed = True
    w.anchored = True
    return True


def lent_cut(w: WindowState, now: float) -> int:
    """The reserve a lower-priority take must leave at `now` (after `roll`).

    All of `cut`, except in the last `lend * period` seconds of a window whose edge a
    header placed (`anchored`): there the reserve interactive work has not used is lent
    out, the part held back shrinking linearly to 0 at the reset (`cut * r / stretch`,
    rounded down, `r` the seconds left). An interactive request then finds the window
    spent only if interactive traffic in those last `r` seconds exceeded its pro-rata
    share of the reserve; it waits at most `r <= lend * period` for the reset.
    """
    return _lent(w, now, w.cut)


def _lent(w: WindowState, now: float, cut: int) -> int:
    if cut and w.lend > 0.0 and w.anchored:
        r = w.reset_at - now
        stretch = w.lend * w.period
        if r < stretch:
            return int(cut * r / stretch) if r > 0.0 else 0
    return cut


def spend_unseen(w: WindowState) -> None:
    """A request ended without a header for `w` (another window's, or none): count it."""
    if w.left > 0:
        w.left -= 1


def _slide(w: WindowState, now: float) -> None:
    """Move the ring to `now`'s slice, forgetting slices older than a period."""
    at = math.floor(now / w.slice)
    gap = at - w.ring_at
    if gap <= 0:
        return
    ring = w.ring
    size = len(ring)
    if gap >= size:
        ring[:] = [0] * size
        w.ring_total = 0
    else:
        for k in range(w.ring_at + 1, at + 1):
            w.ring_total -= ring[k % size]
            ring[k % size] = 0
    w.ring_at = at
    w.ring_next = (at + 1) * w.slice


def record_sent(w: WindowState, now: float) -> None:
    """A request that was sent has ended: count it in the sliding period."""
    _slide(w, now)
    w.ring[w.ring_at % len(w.ring)] += 1
    w.ring_total += 1


def sent_recently(w: WindowState, now: float) -> int:
    """Requests sent within the last period (rounded up to whole slices)."""
    if now >= w.ring_next:
        _slide(w, now)
    return w.ring_total


def _slide_wait(w: WindowState, now: float, need: int) -> float:
    """Seconds until `need` of the counted requests have left the sliding period."""
    _slide(w, now)
    ring, size = w.ring, len(w.ring)
    counted = 0
    for k in range(w.ring_at - size + 1, w.ring_at + 1):  # oldest slice first
        counted += ring[k % size]
        if counted >= need:
            # Slice k is forgotten once the ring reaches slice k + size.
            return max((k + size) * w.slice - now, w.slice * 1e-6)
    extra_periods = (need - counted - 1) // max(1, w.limit - w.cut) + 1
    return max((w.ring_at + 1) * w.slice - now, 0.0) + extra_periods * w.period


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
    slide = 0.0
    if not (w.confirmed or w.anchored):
        need = ahead + 1 - (w.limit - sent_recently(w, now) - w.in_flight - cut)
        if need > 0:
            slide = _slide_wait(w, now, need)
    lent = _lent(w, now, cut)
    now_room = max(0, w.left - w.in_flight - lent)
    if ahead < now_room:
        return slide
    short = w.left - w.in_flight - ahead
    if lent and short > 0 and w.lend > 0.0 and w.anchored:
        # Room comes before the reset, as the part held back shrinks below `short`.
        when = w.reset_at - short * (w.lend * w.period) / cut
        return max(slide, when - now + RESET_MARGIN, RESET_MARGIN)
    per_window = max(1, w.limit - cut)
    windows_more = (ahead - now_room) // per_window
    return max(slide, w.reset_at - now + windows_more * w.period, 0.0)
