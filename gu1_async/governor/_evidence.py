"""Evidence: each response's announcement corrected by what the server was seen to do.

The store applies observations as the server's word. `Evidence` stands between the two:
it keeps where each belief came from and rewrites an observation before the store sees
it, so every store (in-process or Redis) gets the same corrected picture:

- a window's announced reset, moved earlier by the lateness learned for it (`_lateness`);
- a reset or pause longer than the longest period the plan describes, cut to it (one
  warning log): a hostile or broken Reset must not freeze a window for a year;
- a server that describes nothing: its window measured from admissions and refusals
  (`_blind`), handed on as if it had been described;
- a 429's pause: until the (corrected) reset when one was announced, not Retry-After
  rounded up, and not a pause per concurrent refusal (that is the governor's episode).
"""

from __future__ import annotations

import logging
import math

from ._blind import Blind
from ._lateness import Lateness
from ._observation import Observation
from ._quota import Plan

__all__ = ["Evidence"]

_log = logging.getLogger("gu1_async.governor")
_new_tuple = tuple.__new__


class Evidence:
    """Corrects observations for one key, from everything seen on it."""

    __slots__ = (
        "_blind",
        "_described",
        "_first_limit",
        "_lateness",
        "_longest",
        "_periods",
        "_skew0",
        "_unreset",
        "_warned",
        "cap",
    )

    def __init__(self, plan: Plan) -> None:
        self._periods = {q.limit: q.period for q in plan.quotas}
        self._first_limit = plan.quotas[0].limit  # the shortest window's (plans sort them)
        # No window or pause is believed longer than the longest period described.
        self._longest = max(q.period for q in plan.quotas)
        # One learner per window the server describes (by its limit; a few at most).
        self._lateness: dict[int, Lateness] = {}
        self._blind: Blind | None = None
        self._unreset: Blind | None = None  # a server that sends Limit/Remaining, no Reset
        self._described = False  # some response has described a window
        self._warned = False
        # Requests in flight allowed now: finite only while a blind server is sounded out.
        self.cap = math.inf
        self._skew0: float | None = None  # the first clock-skew estimate seen

    @property
    def longest(self) -> float:
        """The longest period the plan describes: the bound on every wait believed."""
        return self._longest

    def correct(self, obs: Observation, sent_at: float, now: float) -> Observation:
        """The observation the store should apply for a response to a request sent at `sent_at`."""
        status, limit, remaining, reset_after, retry_after, skew, window = obs
        if limit is not None and remaining is not None and limit > 0:
            if not self._described:
                self._described = True
                self.cap = math.inf
            if reset_after is None:
                return self._without_reset(obs, sent_at, now)
            if reset_after > self._longest:
                self._warn("X-RateLimit-Reset", reset_after)
                reset_after = self._longest
            lateness = self._lateness.get(limit)
            if lateness is None:
                if len(self._lateness) >= 8:
                    self._lateness.clear()  # limits keep changing: forget the old ones
                lateness = self._lateness[limit] = self._learner(limit, window)
            # Learn on the reset as announced under the first skew estimate: a later, better
            # estimate moves every announced edge at once, and that is not the server's doing.
            if self._skew0 is None:
                self._skew0 = skew
            shift = skew - self._skew0
            lateness.learn(status, remaining, reset_after - shift, sent_at, now)
            lead = lateness.lead() + shift
            if window is None:
                window = lateness.period()
            if lead > 0.0 and reset_after > 0.0:
                # Never at or past 0: a reset already passed reads as a stale answer, and a
                # 429 without a wait would fall back to blind backoff.
                reset_after = max(reset_after - lead, min(reset_after, 0.001))
            if status == 429:
                # The pause lasts until the window opens, as far as the evidence tells (or
                # less, if the server asks for less: the window itself holds the rest).
                if retry_after is None or retry_after > reset_after:
                    retry_after = reset_after
            elif reset_after == obs.reset_after and window == obs.window:
                return obs
            return _new_tuple(
                Observation, (status, limit, remaining, reset_after, retry_after, skew, window)
            )
        if retry_after is not None and retry_after > self._longest:
            self._warn("Retry-After", retry_after)
            retry_after = self._longest
        if self._described or status >= 500:
            # A bare answer from a server that otherwise describes its windows (a proxy's
            # 429, say), or a failure: nothing to measure a window from.
            if retry_after != obs.retry_after:
                return obs._replace(retry_after=retry_after)
            return obs
        blind = self._blind
        if blind is None:
            blind = self._blind = Blind(self._longest)
        blind.learn(status != 429, sent_at, now)
        self.cap = blind.cap
        if blind.limit is None and blind.learning:
            return obs  # still sounding out: the plan's own windows count
        wait = blind.reset_after(now)
        if status == 429 and retry_after is not None:
            wait = max(wait, min(retry_after, self._longest)) if blind.limit is None else wait
        # Described under the plan's own shortest limit, so that no store renames a window
        # as the measured limit settles: `remaining` and the reset carry the measurement.
        return _new_tuple(
            Observation,
            (
                status,
                self._first_limit,
                min(blind.remaining(), self._first_limit),
                wait,
                wait if status == 429 else None,
                skew,
                blind.period(),
            ),
        )

    def _without_reset(self, obs: Observation, sent_at: float, now: float) -> Observation:
        """Limit and Remaining but no Reset: the period measured as for a blind server.

        Otherwise the window would be believed to last the plan's period (an hour, for a
        server whose window is two seconds) once Remaining reached 0.
        """
        status, limit, remaining = obs[0], obs[1], obs[2]
        assert limit is not None and remaining is not None
        blind = self._unreset
        if blind is None or blind.limit != limit:
            blind = self._unreset = Blind(self._longest, limit)
        blind.learn(status != 429, sent_at, now)
        if status == 429 or remaining == 0:
            blind.spent(now)
            wait = blind.reset_after(now)
            return obs._replace(
                reset_after=wait,
                retry_after=wait if status == 429 else None,
                window=obs.window or blind.period(),
            )
        return obs

    def _learner(self, limit: int, window: float | None) -> Lateness:
        period = window if window is not None and window > 0 else self._periods.get(limit)
        if period is not None:
            return Lateness(limit, period, exact=True)
        # The plan's window this one most looks like (closest limit): its period is the
        # guess until the server's own edges say otherwise.
        guess = min(self._periods.items(), key=lambda q: abs(math.log(limit / q[0])))
        return Lateness(limit, guess[1], exact=False)

    def _warn(self, header: str, seconds: float) -> None:
        if not self._warned:
            self._warned = True
            _log.warning(
                "%s announced a wait of %.0f s, longer than the longest window the plan "
                "describes (%.0f s); not believed past that",
                header,
                seconds,
                self._longest,
            )

    def __repr__(self) -> str:
        return f"Evidence({list(self._lateness.values())!r}, {self._blind!r})"
