"""Where the window numbers live: the store protocol and the in-process `MemoryStore`.

The governor keeps the *waiting* (queues, priorities, the one timer) and asks a store for
the *numbers*. The in-process store is the default; a shared store (Redis, issue 5) lets
many processes spend one API key's quota together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ._observation import Observation
from ._quota import Quota
from ._stats import WindowStats
from ._window import (
    EPSILON,
    WindowState,
    available,
    end_probe,
    estimate_wait,
    lent_cut,
    observe,
    record_sent,
    roll,
    sent_recently,
    spend_unseen,
)

__all__ = ["GovernorStore", "MemoryStore", "window_stats"]


@runtime_checkable
class GovernorStore(Protocol):
    """The per-window numbers behind a Governor, each operation atomic.

    **Model.** One record per quota window (the plan's quotas, shortest period first):
    `limit`, `period`, `left` (requests the server still counts in this window, as far as
    known), `in_flight` (tokens taken and not yet returned), `reset_at`, `confirmed` (a
    header described the current window), `anchored` (a header placed `reset_at` on the
    server's grid), `blind_ok` (its probe was answered about another window, so the
    seeded budget may be spent), `probing` (a probe is in flight), `identified` (`limit`
    came from a header) and a sliding count of sent requests (`ring`: sends per 1/32 of a
    period, which holds an unconfirmed, unanchored window to `limit` per sliding period).
    Plus one `pause_until`. The rules for each record are the pure functions in
    `gu1_async.governor._window` (`roll`, `available`, `observe`, `spend_unseen`,
    `record_sent`, `sent_recently`, `end_probe`, `estimate_wait`) and `match` below; a
    remote store ports them (e.g. to one Lua script per operation) and must give the same
    answers. `MemoryStore` is the reference implementation.

    **Time.** `now` is the governor's monotonic clock. A local store uses it; a remote store
    shared by several hosts should ignore it and use its own clock (Redis `TIME`). Every
    duration crossing this interface is *relative* seconds, so the clocks never mix.

    **Who calls what.** When `is_local` is True the governor calls the plain methods only,
    on its event loop, and expects them never to block (this keeps `acquire_nowait` and the
    uncontended `slot()` synchronous and cheap). Otherwise it calls only the `a*`
    coroutines (each one round trip, each atomic) plus the sync `windows()` for stats; it
    must then return the last figures it knows without I/O. Waiting always stays local:
    a store never sleeps, it reports how long to wait.

    **Errors.** A remote store raises `GovernorStoreError` when it cannot answer; the
    governor lets it propagate from `acquire` (the request is then not sent).
    """

    is_local: bool
    """True for an in-process store whose plain methods are cheap and never block."""

    def configure(
        self, quotas: Sequence[Quota], reserve: float, now: float, lend: float = 0.0
    ) -> None:
        """Create the windows (idempotent for a shared store whose windows exist).

        `reserve` is the fraction of each window that only `reserved=False` takes may use,
        except in the last `lend` of a window whose edge is known (`_window.lent_cut`).
        """
        ...

    def take(self, now: float, reserved: bool) -> bool:
        """Take one token from every window at once, or from none.

        Refused while paused, or when any window has no room (`available(w, cut, now)
        <= 0`, where `cut = int(reserve * limit)` if `reserved` else 0; a `blind_ok` window
        is also held to `limit` sends per sliding period, see `record_sent`). On success
        every window's `in_flight` grows by one, and an unconfirmed window that is not
        `blind_ok` starts `probing`. Rolls (refills) windows whose reset has come first.
        """
        ...

    def estimate(self, now: float, ahead: int, reserved: bool) -> float:
        """Seconds before the request after `ahead` queued ones can start (0 = unknown/now).

        The largest of the pause left and each window's `estimate_wait`.
        """
        ...

    def end(self, now: float, sent: bool, observation: Observation | None) -> None:
        """Return a token taken by `take`: the permit ended.

        `sent=False`: never sent, a full refund (`in_flight -= 1` only). `sent=True`:
        every window records the send in its sliding count (`record_sent`; a store may skip
        it for an `anchored` window, which never reads that count again); with no
        observation the server may have counted it, so every window spends one
        (`spend_unseen`). With an observation: the window it describes (see `match`) is
        updated by `observe` (spending one instead if `observe` found it too stale); the
        others spend one. A window that was `probing` ends its probe (`end_probe`,
        answered = an observation came). The 429 pause is the governor's business, not the store's.
        """
        ...

    def record(self, now: float, observation: Observation) -> None:
        """Apply an observation not tied to a permit (nothing was taken for it)."""
        ...

    def pause(self, now: float, seconds: float) -> bool:
        """Refuse every take for `seconds` (extend, never shorten); True if newly paused."""
        ...

    def paused_for(self, now: float) -> float:
        """Seconds left in the pause (0 when not paused)."""
        ...

    def windows(self, now: float) -> tuple[WindowStats, ...]:
        """A snapshot of every window (a remote store: the last one it fetched)."""
        ...

    async def atake(self, now: float, reserved: bool, ahead: int) -> tuple[bool, float]:
        """`take`, and when refused `estimate(now, ahead, reserved)`, in one round trip."""
        ...

    async def aestimate(self, now: float, ahead: int, reserved: bool) -> float:
        """Async `estimate`."""
        ...

    async def aend(self, now: float, sent: bool, observation: Observation | None) -> None:
        """Async `end`."""
        ...

    async def arecord(self, now: float, observation: Observation) -> None:
        """Async `record`."""
        ...

    async def apause(self, now: float, seconds: float) -> bool:
        """Async `pause`."""
        ...


def match(
    windows: Sequence[WindowState],
    limit: int,
    reset_after: float | None,
    now: float | None = None,
) -> int:
    """Which window an observed `X-RateLimit-Limit` describes (the rule, for every store).

    1. The window whose limit equals it.
    2. Else, among windows long enough to reset in `reset_after`, one a header already
       named and placed whose edge the observed reset falls on or within one period after:
       the same window, its limit changed (a plan upgraded or downgraded mid-run).
    3. Else the observed window replaces the plan's best guess for it: among windows
       long enough to reset in `reset_after` (all windows if none is, or no reset was
       given), prefer one whose limit no header has named yet, then the shortest period;
       without `reset_after`, the one whose limit is closest in ratio.
    """
    for i, w in enumerate(windows):
        if w.limit == limit:
            return i
    indices = range(len(windows))
    fits = [i for i in indices if reset_after is None or windows[i].period + EPSILON >= reset_after]
    if not fits:
        fits = [max(indices, key=lambda i: windows[i].period)]
    if reset_after is not None and now is not None:
        edge = now + reset_after
        for i in fits:
            w = windows[i]
            tolerance = max(1.0, 0.01 * w.period)
            if (
                w.identified
                and w.anchored
                and -tolerance <= edge - w.reset_at <= w.period + tolerance
            ):
                return i
    unnamed = [i for i in fits if not windows[i].identified] or fits
    if reset_after is None:
        return min(unnamed, key=lambda i: abs(math.log(limit / windows[i].limit)))
    return min(unnamed, key=lambda i: windows[i].period)


class MemoryStore:
    """The default store: the numbers in this process, for one governor."""

    is_local = True

    def __init__(self) -> None:
        self._windows: list[WindowState] = []
        self._pause_until = -math.inf

    def configure(
        self, quotas: Sequence[Quota], reserve: float, now: float, lend: float = 0.0
    ) -> None:
        if self._windows:
            return
        self._windows = [WindowState(q.limit, q.period, reserve, now, lend) for q in quotas]

    def take(self, now: float, reserved: bool) -> bool:
        # The hot path: one pass that takes as it checks, undone on the (rarer) refusal,
        # so nothing stays taken unless every window allowed it.
        if now < self._pause_until:
            return False
        windows = self._windows
        probe = False
        for w in windows:
            if now >= w.reset_at:
                roll(w, now)
            room = w.left
            if not (w.confirmed or w.anchored):
                # Edges unknown (no header placed them): also held to a sliding period.
                if now >= w.ring_next:
                    sent_recently(w, now)
                if w.limit - w.ring_total < room:
                    room = w.limit - w.ring_total
            room -= w.in_flight
            if reserved and w.cut:
                room -= lent_cut(w, now)
            if room <= 0 or (w.in_flight and not (w.confirmed or w.blind_ok)):
                # No room, or a probe is out (its answer sets this window's budget).
                for taken in windows:
                    if taken is w:
                        break
                    taken.in_flight -= 1
                return False
            w.in_flight += 1
            if not (w.confirmed or w.blind_ok):
                probe = True
        if probe:
            for w in windows:
                if not (w.confirmed or w.blind_ok):
                    w.probing = True
        return True

    def estimate(self, now: float, ahead: int, reserved: bool) -> float:
        wait = self._pause_until - now
        for w in self._windows:
            roll(w, now)
            wait = max(wait, estimate_wait(w, now, ahead, w.cut if reserved else 0))
        return max(0.0, wait)

    def end(self, now: float, sent: bool, observation: Observation | None) -> None:
        if not sent:
            # A refund (the common end of an unused slot): nothing else changes, and an
            # unsent probe simply lets the next request probe.
            for w in self._windows:
                w.in_flight -= 1
                w.probing = False
            return
        windows = self._windows
        remaining: int | None = None
        reset_after: float | None = None
        if observation is None:
            described = -1
        else:
            _, limit, remaining, reset_after, _, _, period = observation
            first = windows[0]
            if (
                limit == first.limit
                and remaining is not None
                and first.identified
                and (period is None or period >= first.period)
            ):
                described = 0  # the usual answer: the first window, named by a header before
            else:
                described = self._described(observation, now)
        for i, w in enumerate(windows):
            if now >= w.reset_at:
                roll(w, now)
            w.in_flight -= 1
            if not w.anchored:
                # Only a window whose edges no header placed reads its sliding count (and
                # `anchored` never goes back): skipping it on the hot path changes nothing.
                record_sent(w, now)
            # (`remaining` is an int whenever a window is described.)
            if i != described or not observe(w, now, remaining, reset_after):  # type: ignore[arg-type]
                # No header for this window, or one too stale to tell us anything: count
                # the request ourselves.
                spend_unseen(w)
            if w.probing:
                end_probe(w, answered=observation is not None)

    def record(self, now: float, observation: Observation) -> None:
        described = self._described(observation, now)
        if described >= 0:
            w = self._windows[described]
            roll(w, now)
            assert observation.remaining is not None
            observe(w, now, observation.remaining, observation.reset_after)

    def _described(self, observation: Observation | None, now: float) -> int:
        """The index of the window the observation describes (renaming it if needed), or -1."""
        if observation is None or observation.limit is None or observation.remaining is None:
            return -1
        limit = observation.limit
        if limit <= 0:
            return -1
        windows = self._windows
        # Rule 1 of `match` for the first window, without the call: the usual case.
        i = 0 if windows[0].limit == limit else match(windows, limit, observation.reset_after, now)
        w = windows[i]
        period = observation.window
        reset_after = observation.reset_after
        if period is not None and 0.001 <= period < w.period and reset_after and reset_after > 0:
            # The server's own period (named by it, or measured): the window rolls by it, and
            # no edge believed from the old one lies further off than one such period. Only
            # ever shorter: no window is believed longer than the plan describes. Only with a
            # Reset, which places the edges (a window still counted over a sliding period
            # keeps the period its count was kept in).
            w.period = period
            if w.reset_at > now + period:
                w.reset_at = now + period
        if w.limit != limit:
            # The plan guessed this window wrong: start over from the server's figures.
            w.set_limit(limit)
            w.left = limit
            w.confirmed = False
        w.identified = True
        return i

    def pause(self, now: float, seconds: float) -> bool:
        newly = now >= self._pause_until
        self._pause_until = max(self._pause_until, now + max(0.0, seconds))
        return newly

    def paused_for(self, now: float) -> float:
        return max(0.0, self._pause_until - now)

    def windows_state(self) -> list[WindowState]:
        """The windows themselves (a fallback seeds them from the shared store's figures)."""
        return self._windows

    def windows(self, now: float) -> tuple[WindowStats, ...]:
        return window_stats(self._windows, now)

    async def atake(self, now: float, reserved: bool, ahead: int) -> tuple[bool, float]:
        if self.take(now, reserved):
            return True, 0.0
        return False, self.estimate(now, ahead, reserved)

    async def aestimate(self, now: float, ahead: int, reserved: bool) -> float:
        return self.estimate(now, ahead, reserved)

    async def aend(self, now: float, sent: bool, observation: Observation | None) -> None:
        self.end(now, sent, observation)

    async def arecord(self, now: float, observation: Observation) -> None:
        self.record(now, observation)

    async def apause(self, now: float, seconds: float) -> bool:
        return self.pause(now, seconds)

    def __repr__(self) -> str:
        return f"MemoryStore({self._windows!r})"


def window_stats(windows: Sequence[WindowState], now: float) -> tuple[WindowStats, ...]:
    """The stats of `windows` as of `now` (each rolled to it first)."""
    stats = []
    for w in windows:
        roll(w, now)
        stats.append(
            WindowStats(
                limit=w.limit,
                period=w.period,
                available=max(0, available(w, 0, now)),
                in_flight=w.in_flight,
                reset_in=max(0.0, w.reset_at - now),
                confirmed=w.confirmed,
                from_header=w.identified,
            )
        )
    return tuple(stats)
