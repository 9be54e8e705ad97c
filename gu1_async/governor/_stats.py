"""Snapshots of the governor's state, for dashboards, logs and tests."""

from __future__ import annotations

import attrs

__all__ = ["GovernorStats", "WindowStats"]


@attrs.frozen
class WindowStats:
    """One window as the governor sees it now."""

    limit: int
    """Requests per window: the plan's figure, or the server's once a header named it."""
    period: float
    """Window length in seconds."""
    available: int
    """Requests that may start now in this window (in-flight ones already deducted)."""
    in_flight: int
    """Requests that took a token here and have not ended."""
    reset_in: float
    """Seconds until the window refills."""
    confirmed: bool
    """Whether a response header has described the current window."""
    from_header: bool
    """Whether `limit` came from a header (True) or from the plan (False)."""


@attrs.frozen
class GovernorStats:
    """Counters and per-window figures; `Governor.stats()` builds one."""

    windows: tuple[WindowStats, ...]
    in_flight: int
    """Permits handed out and not yet ended."""
    waiters: int
    """Tasks waiting for a permit now (all priorities)."""
    waiters_by_priority: tuple[int, ...]
    """Waiting tasks per priority, index = `Priority` value."""
    granted: int
    """Permits handed out so far."""
    waited: int
    """How many of those had to wait."""
    total_wait: float
    """Seconds waited, summed over all granted permits."""
    max_wait: float
    """Longest single wait so far, seconds."""
    pauses: int
    """Shared pauses started (one per 429 burst, not one per 429)."""
    rate_limited: int
    """429 responses observed."""
    paused_for: float
    """Seconds left in the current pause (0 when not paused)."""
