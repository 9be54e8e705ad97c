"""Turn a response's rate-limit headers into a frozen `RateLimitSnapshot`.

`parse_rate_limit_headers` is pure and total: whatever strings arrive, it returns a
snapshot, with `None` for every value that is missing, malformed, negative or absurd. It
never raises — a bad header must not turn a good response into an error.

Dialects (gu1 documents only the first; the rest let the SDK pace other servers too):

- gu1's `X-RateLimit-Limit`, `X-RateLimit-Remaining` (non-negative integers) and
  `X-RateLimit-Reset`: ISO 8601 (`2026-01-01T10:00:00Z`, offsets, fractions), epoch
  seconds (>= 10^9) or milliseconds (>= 10^12), floats too, or a smaller number read as
  seconds from now.
- The IETF fields of draft-ietf-httpapi-ratelimit-headers, every revision: the current
  `RateLimit: "default";r=50;t=30` with `RateLimit-Policy: "default";q=100;w=60`; -07's
  `RateLimit: limit=100, remaining=50, reset=30`; and the older `RateLimit-Limit`,
  `RateLimit-Remaining`, `RateLimit-Reset` (delta seconds). A policy's window (`w=`) is the
  snapshot's `window`. When any `X-RateLimit-*` header is present the IETF fields are
  ignored: mixing two dialects could pair one window's limit with another's reset.
- `Retry-After`: delta seconds (decimals too), or an HTTP date.
- `Date`: the server's clock (RFC 7231); reset and retry times are measured against it,
  so a skewed local clock does not shift the wait.

Bounded by sense: a reset, `Retry-After` or window further than `max_reset` seconds
(default `DEFAULT_MAX_RESET`, one day: the longest period gu1 describes) from the server's
now is not believed and reads as `None`; a hostile `Reset` a year ahead would otherwise
freeze a window for a year. `RateLimitReader` logs the first such value it meets, once,
as a warning on the `gu1_async` logger naming the header and the value.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import deque
from collections.abc import Callable

from ._ratelimit_snapshot import (
    DEFAULT_MAX_RESET,
    RateLimitSnapshot,
    Texts,
    parse,
    parse_rate_limit_headers,
    parse_rate_limit_values,
)
from ._ratelimit_values import Refusals, count
from .governor import Observation

__all__ = [
    "DEFAULT_MAX_RESET",
    "RateLimitReader",
    "RateLimitSnapshot",
    "ServerClock",
    "parse_rate_limit_headers",
    "parse_rate_limit_values",
]

log = logging.getLogger("gu1_async")

_MAX_LIMIT = 10**9  # no plan is anywhere near this; larger is garbage
_UTC = dt.timezone.utc
_fromtimestamp = dt.datetime.fromtimestamp


class ServerClock:
    """Estimates the server's clock from `Date` headers, to measure waits on its scale.

    `Date` has one-second resolution, so one reading says only that the server's clock was
    in `[date, date + 1)` when it answered. Each response therefore bounds the offset
    `local - server` from above by `local_received - date`; the smallest bound seen in the
    last `horizon` seconds is kept. A response that arrives just after the server's second
    ticks over gives a bound within network latency of the truth, so after a second or so
    of traffic the estimate is tight — and it errs only towards waiting slightly long,
    never short, which is the safe side for a quota. Old readings age out, so a clock that
    jumps is followed.
    """

    def __init__(self, horizon: float = 300.0) -> None:
        self._horizon = horizon
        # (received_wall, bound) with increasing bounds: a sliding-window minimum.
        self._bounds: deque[tuple[float, float]] = deque()
        self._last_date: dt.datetime | None = None

    def update(self, date: dt.datetime | None, received_wall: float) -> None:
        """Record one response's `Date` and the local wall time it arrived."""
        if date is None or date == self._last_date:
            # Within one `Date` second, the first reading gives the smallest bound: later
            # ones (arriving later, same date) can never become the minimum.
            return
        self._last_date = date
        bound = received_wall - date.timestamp()
        while self._bounds and self._bounds[-1][1] >= bound:
            self._bounds.pop()  # never again the minimum: a newer, smaller bound exists
        self._bounds.append((received_wall, bound))
        while self._bounds[0][0] < received_wall - self._horizon:
            self._bounds.popleft()

    @property
    def offset(self) -> float | None:
        """Upper bound of `local - server` seconds, or None before any `Date`."""
        return self._bounds[0][1] if self._bounds else None

    def seconds_until(self, when: dt.datetime, now_wall: float) -> float:
        """Seconds from local wall time `now_wall` until the server's clock reads `when`."""
        server_now = now_wall - (self.offset or 0.0)
        return max(0.0, when.timestamp() - server_now)


_HEADER_NAMES = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Date",
    "Retry-After",
)
"""The headers `RateLimitReader.read` looks up on every response, in the order of `_keys`."""

_IETF_NAMES = (
    "RateLimit",
    "RateLimit-Policy",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)
"""Looked up only on the slow path, and only when no `X-RateLimit-*` header came."""

_NO_IETF: Texts = (None, None, None, None, None)


class RateLimitReader:
    """Reads every response's rate-limit headers into the governor's `Observation`.

    This runs once per response, so it does as little as it can:

    - A burst of responses repeats `Limit`, `Reset` and `Date` verbatim (they change once a
      second or once a window). The last strings and what they parsed to are kept, so a
      response that repeats them costs three comparisons, and only `Remaining` is parsed
      anew. Anything else (a new second, a `Retry-After`, no `Date`, another dialect) goes
      through the full parser; only that path looks for the IETF fields.
    - The `RateLimitSnapshot` (with its `received_at` datetime) is built only when someone
      asks: `last()` for an error about to be raised, `latest()` for `client.rate_limit`.

    Reset is measured on the server's clock (`ServerClock`), so local skew cancels out.
    """

    __slots__ = (
        "_bare",
        "_date",
        "_ietf_keys",
        "_keys",
        "_last",
        "_latest",
        "_limit",
        "_max_reset",
        "_offset",
        "_parsed",
        "_reset",
        "_warned",
        "server_clock",
    )

    def __init__(
        self,
        server_clock: ServerClock | None = None,
        *,
        header_key: Callable[[str], str] = str,
        max_reset: float = DEFAULT_MAX_RESET,
    ) -> None:
        """
        Args:
            server_clock: the estimate of the server's clock to share (a new one if None).
            header_key: turns a header name into the key `read()`'s `get` looks up fastest
                (the transport's `header_key`); plain strings by default.
            max_reset: seconds from the server's now beyond which a reset, `Retry-After` or
                window is not believed (the longest period the plan describes).

        Raises:
            ValueError: `max_reset` is not a positive finite number.
        """
        if not (math.isfinite(max_reset) and max_reset > 0):
            raise ValueError(f"max_reset must be a positive number of seconds, got {max_reset}")
        self.server_clock = server_clock if server_clock is not None else ServerClock()
        self._keys = tuple(map(header_key, _HEADER_NAMES))
        self._ietf_keys = tuple(map(header_key, _IETF_NAMES))
        self._max_reset = float(max_reset)
        self._warned = False
        self._offset = self.server_clock.offset or 0.0
        self._limit: str | None = None
        self._reset: str | None = None
        self._date: str | None = None
        # a `Date` seen on a response without any rate-limit header, and what it parsed to
        self._bare: tuple[str, dt.datetime] | None = None
        # limit, reset, reset as a timestamp, date: what the strings above parsed to
        self._parsed: tuple[int | None, dt.datetime | None, float, dt.datetime | None] | None = None
        # limit, remaining, reset, retry_after, date, received (wall), window: the last
        # response read and the latest one that carried any rate-limit header
        self._last: _Values = _NOTHING
        self._latest: _Values | None = None

    def read(self, get: Callable[[str], str | None], status: int, now_wall: float) -> Observation:
        """What one response says about the quota.

        Args:
            get: the response's header lookup, case-insensitive.
            status: the response's HTTP status.
            now_wall: local wall time the response arrived.
        """
        limit_key, remaining_key, reset_key, date_key, retry_key = self._keys
        limit_raw = get(limit_key)
        reset_raw = get(reset_key)
        date_raw = get(date_key)
        retry_raw = get(retry_key)
        parsed = self._parsed
        # The memo holds only gu1's dialect (a Limit or Reset was present), so a response
        # matching it carries X-RateLimit-* too, and no IETF field can apply to it.
        if (
            parsed is not None
            and retry_raw is None
            and date_raw == self._date
            and reset_raw == self._reset
            and limit_raw == self._limit
        ):
            limit, reset, reset_ts, date = parsed
            remaining_raw = get(remaining_key)
            if remaining_raw is not None and remaining_raw.isdigit() and remaining_raw.isascii():
                n = int(remaining_raw)
                # garbage, or contradicts the limit: trust neither
                remaining = None if n > _MAX_LIMIT or (limit is not None and n > limit) else n
            else:
                remaining = count(remaining_raw)
            retry_after: float | None = None
            window: float | None = None
        else:
            limit, remaining, reset, retry_after, date, window = self._read_slowly(
                get, limit_raw, reset_raw, date_raw, retry_raw, now_wall
            )
            reset_ts = reset.timestamp() if reset is not None else 0.0
        values = self._last = (limit, remaining, reset, retry_after, date, now_wall, window)
        if not (limit is None and remaining is None and reset is None and retry_after is None):
            self._latest = values
        reset_after = None
        if reset is not None:
            reset_after = reset_ts - (now_wall - self._offset)
            if reset_after < 0.0:
                reset_after = 0.0
            elif reset_after > self._max_reset:
                # Only a Reset anchored on the arrival time (no `Date`) measured on a clock
                # offset learnt from other responses can land here: not believed either.
                reset_after = None
        # tuple.__new__ directly: a named tuple's own __new__ is one more Python call.
        return _new_tuple(
            Observation, (status, limit, remaining, reset_after, retry_after, self._offset, window)
        )

    def _read_slowly(
        self,
        get: Callable[[str], str | None],
        limit_raw: str | None,
        reset_raw: str | None,
        date_raw: str | None,
        retry_raw: str | None,
        now_wall: float,
    ) -> tuple[
        int | None, int | None, dt.datetime | None, float | None, dt.datetime | None, float | None
    ]:
        """The full parse, the server clock's update and the memo's refill."""
        remaining_raw = get(self._keys[1])
        ietf = _NO_IETF
        if limit_raw is None and reset_raw is None and remaining_raw is None:
            a, b, c, d, e = map(get, self._ietf_keys)
            ietf = (a, b, c, d, e)
            bare = self._bare
            if bare is not None and ietf == _NO_IETF and retry_raw is None and date_raw == bare[0]:
                # A server that sends no rate-limit header at all (a bare proxy, nginx's
                # limit_req) repeats just `Date`: nothing to parse, the clock already knows it.
                return None, None, None, None, bare[1], None
        refused: Refusals = []
        snapshot = parse(
            (limit_raw, remaining_raw, reset_raw, retry_raw, date_raw),
            ietf,
            _fromtimestamp(now_wall, _UTC),
            self._max_reset,
            refused,
        )
        if refused and not self._warned:
            self._warned = True
            header, value = refused[0]
            # Only rate-limit header values get here; cut and repr'd so a hostile one
            # cannot flood or forge log lines.
            log.warning(
                "ignoring %s: %r is more than %g s from the server's now (max_reset); "
                "further such values are ignored silently",
                header,
                value[:80],
                self._max_reset,
            )
        self.server_clock.update(snapshot.date, now_wall)
        # The clock's estimate changes only on an update: read it once here.
        self._offset = self.server_clock.offset or 0.0
        date = snapshot.date
        reset = snapshot.reset
        # A relative Reset (delta seconds) counts from each answer's own arrival: the same
        # string means another moment every time, so only an absolute one is memoized.
        if (
            date is not None
            and (limit_raw is not None or reset_raw is not None)
            and not _is_delta(reset_raw)
        ):
            self._limit, self._reset, self._date = limit_raw, reset_raw, date_raw
            reset_ts = reset.timestamp() if reset is not None else 0.0
            self._parsed = (snapshot.limit, reset, reset_ts, date)
        else:
            self._parsed = None
        if date is not None and snapshot.is_empty and ietf == _NO_IETF and date_raw is not None:
            self._bare = (date_raw, date)
        return (
            snapshot.limit,
            snapshot.remaining,
            reset,
            snapshot.retry_after,
            date,
            snapshot.window,
        )

    def last(self) -> RateLimitSnapshot:
        """The snapshot of the response read last (every field None if it had no headers)."""
        return _snapshot(self._last)

    def latest(self) -> RateLimitSnapshot | None:
        """The snapshot of the latest response that carried a rate-limit header, if any."""
        return _snapshot(self._latest) if self._latest is not None else None


_new_tuple = tuple.__new__

_Values = tuple[
    "int | None",
    "int | None",
    "dt.datetime | None",
    "float | None",
    "dt.datetime | None",
    float,
    "float | None",
]
_NOTHING: _Values = (None, None, None, None, None, 0.0, None)


def _snapshot(values: _Values) -> RateLimitSnapshot:
    limit, remaining, reset, retry_after, date, received_wall, window = values
    return RateLimitSnapshot(
        limit, remaining, reset, retry_after, date, _fromtimestamp(received_wall, _UTC), window
    )


def _is_delta(raw: str | None) -> bool:
    """Whether a Reset value is delta seconds (a number below epoch seconds' range)."""
    if raw is None:
        return False
    try:
        return float(raw) < 1e9
    except ValueError:
        return False
