"""What one response said about the quota, as plain numbers (the HTTP edge builds it)."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Observation"]


class Observation(NamedTuple):
    """The rate-limit facts of one response; every field but `status` is optional.

    The governor never sees headers: `gu1_async._ratelimit_headers` turns them into this.
    An immutable named tuple rather than an attrs class: one is built for every response,
    and a tuple is the cheapest immutable record Python has.
    """

    status: int
    """HTTP status of the response; 429 pauses every waiter."""
    limit: int | None = None
    """`X-RateLimit-Limit`: the size of the window the headers describe."""
    remaining: int | None = None
    """`X-RateLimit-Remaining`: requests the server still allows in that window."""
    reset_after: float | None = None
    """Seconds from the response until that window resets: `Reset - Date`, both server
    times, so the local clock's skew does not matter."""
    retry_after: float | None = None
    """`Retry-After` in seconds, if the server sent it."""
    skew: float = 0.0
    """The estimate of `local - server` clock seconds that `reset_after` was measured with.

    It moves as better `Date` samples arrive (a cached `Date` makes the first ones look
    late); the governor learns how late resets are net of it, so that a move of the
    estimate is not read as a change of the server's."""
    window: float | None = None
    """The window's period in seconds, when the server says it (an IETF
    `RateLimit-Policy` `w=`): then the period is known, not learned."""

    @property
    def has_window(self) -> bool:
        """Whether the response described a window (limit and remaining both present)."""
        return self.limit is not None and self.remaining is not None and self.limit > 0
