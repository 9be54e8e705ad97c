"""A tiny gu1-like server for governor tests: fixed windows, one header set per answer."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gu1_async.governor import Observation


class _ServerWindow:
    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.epoch = -(10**9)
        self.count = 0
        self.peak = 0  # most requests counted in any single window


class FixedWindowServer:
    """Counts requests in fixed windows whose edges sit at `origin + k * period`.

    Each answer describes the binding window (fewest remaining; ties: the longest),
    with `reset_after` measured on the server's side, as the HTTP edge would compute it.
    A request over any limit is refused with a 429 and not counted.
    """

    def __init__(self, quotas: Sequence[tuple[int, float]], *, origin: float = 0.0) -> None:
        self.windows = [_ServerWindow(limit, period) for limit, period in quotas]
        self.origin = origin
        self.accepted = 0
        self.refused = 0
        self.hidden_used = 0

    def _sync(self, now: float) -> None:
        for w in self.windows:
            epoch = math.floor((now - self.origin) / w.period)
            if epoch != w.epoch:
                w.epoch, w.count = epoch, 0

    def _reset_after(self, w: _ServerWindow, now: float) -> float:
        return self.origin + (w.epoch + 1) * w.period - now

    def _full(self) -> _ServerWindow | None:
        return next((w for w in self.windows if w.count >= w.limit), None)

    def handle(self, now: float) -> Observation:
        """One request from the client under test arrives at `now`."""
        self._sync(now)
        full = self._full()
        if full is not None:
            self.refused += 1
            return Observation(429, full.limit, 0, self._reset_after(full, now))
        for w in self.windows:
            w.count += 1
            w.peak = max(w.peak, w.count)
        self.accepted += 1
        # The binding window: fewest remaining; on a tie, the one that holds longest.
        tight = min(self.windows, key=lambda w: (w.limit - w.count, -w.period))
        remaining = tight.limit - tight.count
        return Observation(200, tight.limit, remaining, self._reset_after(tight, now))

    def hidden(self, now: float) -> bool:
        """Another client on the same key spends one request, if the windows allow it."""
        self._sync(now)
        if self._full() is not None:
            return False
        for w in self.windows:
            w.count += 1
            w.peak = max(w.peak, w.count)
        self.hidden_used += 1
        return True

    def within_limits(self) -> bool:
        return all(w.peak <= w.limit for w in self.windows)
