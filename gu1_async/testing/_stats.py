"""Request counters per key, and the frozen snapshot `FakeGu1Server.stats()` returns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import attrs

from ._ratelimit import WindowUsage

__all__ = ["FakeServerStats", "KeyCounters"]


@attrs.define
class KeyCounters:
    """Mutable tallies for one key (or for callers that sent no valid key)."""

    requests: int = 0
    by_status: Counter[int] = attrs.field(factory=Counter)
    dropped: int = 0

    def record(self, status: int | None) -> None:
        """Count one request; `None` means the connection was dropped unanswered."""
        self.requests += 1
        if status is None:
            self.dropped += 1
        else:
            self.by_status[status] += 1


@attrs.frozen
class FakeServerStats:
    """What the fake has seen, for one key or for all of them."""

    requests: int
    """Every request received, answered or dropped."""
    by_status: Mapping[int, int]
    """Answered requests per HTTP status."""
    rate_limited: int
    """429 answers (real and forced); they consume no quota."""
    dropped: int
    """Connections closed without an answer (fault injection)."""
    windows: tuple[WindowUsage, ...] = ()
    """Usage of each rate-limit window (only for a single key)."""

    @classmethod
    def combine(
        cls, counters: Iterable[KeyCounters], windows: tuple[WindowUsage, ...] = ()
    ) -> FakeServerStats:
        """Sum counters into one snapshot."""
        total: Counter[int] = Counter()
        requests = dropped = 0
        for c in counters:
            requests += c.requests
            dropped += c.dropped
            total.update(c.by_status)
        return cls(
            requests=requests,
            by_status=dict(sorted(total.items())),
            rate_limited=total[429],
            dropped=dropped,
            windows=windows,
        )
