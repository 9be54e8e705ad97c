"""How long a 429 holds everyone: one pause per congestion episode, bounded by sense."""

from __future__ import annotations

import math

from ._observation import Observation

__all__ = ["Episodes"]

BACKOFF_FIRST = 1.0
"""Seconds of the first pause after a 429 that says nothing of how long to wait."""
BACKOFF_MAX = 60.0
"""The longest such pause: the doubling stops here."""


class Episodes:
    """Counts 429s and says how long every waiter should pause after one.

    Sixty concurrent requests refused by one burst are one event, not sixty: a 429 to a
    request granted before the current episode's first 429 came back adds nothing to the
    backoff. The pause follows what the answer (as corrected by the evidence) says:
    Retry-After, else the window's reset; only an answer that says nothing falls back to a
    backoff doubling from 1 s to 60 s per episode. Never longer than `longest`.
    """

    __slots__ = ("_episode_at", "_longest", "consecutive", "rate_limited")

    def __init__(self, longest: float) -> None:
        self._longest = longest
        self._episode_at = -math.inf  # when the current episode's first 429 came back
        self.consecutive = 0  # episodes in a row with no success between them
        self.rate_limited = 0  # 429s seen in all

    def pause_due(self, observation: Observation, taken_at: float, now: float) -> float | None:
        """Count an answer; the pause it calls for (None: not a 429)."""
        if observation.status != 429:
            if observation.status < 400:
                self.consecutive = 0
            return None
        self.rate_limited += 1
        if taken_at > self._episode_at:
            # Sent after the last episode's first 429 came back: a new refusal.
            self.consecutive += 1
            self._episode_at = now
        return self.pause_length(observation)

    def pause_length(self, observation: Observation) -> float:
        """Retry-After, else the reset, else the backoff; at most the longest period."""
        if observation.retry_after is not None and observation.retry_after > 0:
            seconds = observation.retry_after
        elif observation.reset_after is not None and observation.reset_after > 0:
            seconds = observation.reset_after
        else:
            seconds = BACKOFF_FIRST * 2.0 ** (max(self.consecutive, 1) - 1)
            seconds = min(BACKOFF_MAX, seconds)
        return min(seconds, self._longest)
