"""Turn a response's rate-limit headers into a frozen `RateLimitSnapshot`.

`parse_rate_limit_headers` is pure and total: whatever strings arrive, it returns a
snapshot, with `None` for every value that is missing, malformed, negative or absurd. It
never raises — a bad header must not turn a good response into an error.

Accepted forms (gu1 documents only the first of each; the rest are defensive):
- `X-RateLimit-Limit`, `X-RateLimit-Remaining`: non-negative integers.
- `X-RateLimit-Reset`: ISO 8601 (`2026-01-01T10:00:00Z`, offsets, fractions); epoch
  seconds (>= 10^9) or milliseconds (>= 10^12); a small number is read as seconds from now.
- `Retry-After`: delta seconds, or an HTTP date.
- `Date`: the server's clock (RFC 7231); reset and retry times are measured against it,
  so a skewed local clock does not shift the wait.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import math
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping

import attrs

from .governor import Observation

__all__ = [
    "RateLimitReader",
    "RateLimitSnapshot",
    "ServerClock",
    "parse_rate_limit_headers",
    "parse_rate_limit_values",
]

_MAX_LIMIT = 10**9  # no plan is anywhere near this; larger is garbage
_MAX_HORIZON = dt.timedelta(days=400)  # a reset further away than this is garbage
_MAX_RETRY_AFTER = 7 * 86_400.0
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_UTC = dt.timezone.utc
_fromtimestamp = dt.datetime.fromtimestamp


@attrs.frozen
class RateLimitSnapshot:
    """What one response said about the key's quota; every field may be None."""

    limit: int | None = None
    """`X-RateLimit-Limit`: requests allowed in the current window."""
    remaining: int | None = None
    """`X-RateLimit-Remaining`: requests left in the current window."""
    reset: dt.datetime | None = None
    """`X-RateLimit-Reset` as an aware UTC datetime (server clock)."""
    retry_after: float | None = None
    """`Retry-After` in seconds."""
    date: dt.datetime | None = None
    """The server's `Date`, aware UTC."""
    received_at: dt.datetime | None = None
    """Local wall time when the response arrived, aware UTC."""

    @property
    def reset_after(self) -> float | None:
        """Seconds from the response until the window resets, on the server's own clock.

        Measured as `reset - date` so that local clock skew cancels out; without a `Date`
        header, falls back to the local arrival time.
        """
        if self.reset is None:
            return None
        base = self.date or self.received_at
        if base is None:
            return None
        return max(0.0, (self.reset - base).total_seconds())

    @property
    def is_empty(self) -> bool:
        """True when the response carried no usable rate-limit header."""
        return (
            self.limit is None
            and self.remaining is None
            and self.reset is None
            and self.retry_after is None
        )


def parse_rate_limit_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    received_at: dt.datetime | None = None,
) -> RateLimitSnapshot:
    """Read the rate-limit headers of one response. Never raises."""
    try:
        values = _lower_keys(headers)
    except Exception:  # pragma: no cover - belt and braces: the parser is total
        return RateLimitSnapshot(received_at=received_at)
    return parse_rate_limit_values(
        limit=values.get("x-ratelimit-limit"),
        remaining=values.get("x-ratelimit-remaining"),
        reset=values.get("x-ratelimit-reset"),
        retry_after=values.get("retry-after"),
        date=values.get("date"),
        received_at=received_at,
    )


def parse_rate_limit_values(
    *,
    limit: str | None,
    remaining: str | None,
    reset: str | None,
    retry_after: str | None,
    date: str | None,
    received_at: dt.datetime | None = None,
) -> RateLimitSnapshot:
    """The same, from the five header values already picked out (the per-response path:
    the transport's headers are case-insensitive, so the requester reads them directly
    instead of walking every header). Never raises."""
    try:
        server_date = _parse_http_date(date.strip()) if date else None
        anchor = server_date or received_at
        limit_n = _count(limit)
        remaining_n = _count(remaining)
        if limit_n is not None and remaining_n is not None and remaining_n > limit_n:
            remaining_n = None  # contradictory; trust neither more than the limit
        return RateLimitSnapshot(
            limit=limit_n,
            remaining=remaining_n,
            reset=_reset(reset.strip(), anchor) if reset else None,
            retry_after=_retry_after(retry_after.strip(), anchor) if retry_after else None,
            date=server_date,
            received_at=received_at,
        )
    except Exception:  # pragma: no cover - belt and braces: the parser is total
        return RateLimitSnapshot(received_at=received_at)


_WANTED = frozenset(
    {"date", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"}
)


def _lower_keys(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers this module reads, by lower-cased name (first value wins)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for key, value in items:
        if isinstance(key, str) and isinstance(value, str):
            name = key.strip().lower()
            if name in _WANTED and name not in out:
                out[name] = value.strip()
    return out


def _count(raw: str | None) -> int | None:
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if value <= _MAX_LIMIT else None


def _plausible(when: dt.datetime, anchor: dt.datetime | None) -> dt.datetime | None:
    if anchor is not None and abs(when - anchor) > _MAX_HORIZON:
        return None
    if anchor is None and not (1970 < when.year < 2200):
        return None
    return when


def _reset(raw: str | None, anchor: dt.datetime | None) -> dt.datetime | None:
    if not raw:
        return None
    if _NUMBER.match(raw):
        number = float(raw)
        if not math.isfinite(number):
            return None
        if number >= 1e12:  # epoch milliseconds
            return _epoch(number / 1000.0, anchor)
        if number >= 1e9:  # epoch seconds
            return _epoch(number, anchor)
        if anchor is not None and number <= _MAX_HORIZON.total_seconds():
            return anchor + dt.timedelta(seconds=number)  # seconds until reset
        return None
    when = _iso8601(raw)
    return _plausible(when, anchor) if when else None


def _epoch(seconds: float, anchor: dt.datetime | None) -> dt.datetime | None:
    try:
        when = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return _plausible(when, anchor)


# Date and Reset repeat across responses (they change once a second or once a window), so
# parsing each distinct string once removes most of the per-response cost.
@functools.lru_cache(maxsize=256)
def _iso8601(raw: str) -> dt.datetime | None:
    match = _ISO.match(raw)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        tz = dt.timezone.utc
        if zone and zone not in ("Z", "z"):
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        micro = int((fraction or "0").ljust(6, "0")[:6])
        when = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz
        )
    except (ValueError, OverflowError):
        return None
    return when.astimezone(dt.timezone.utc)


def _http_date(raw: str | None) -> dt.datetime | None:
    return _parse_http_date(raw) if raw else None


@functools.lru_cache(maxsize=256)
def _parse_http_date(raw: str) -> dt.datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return _plausible(when.astimezone(dt.timezone.utc), None)


def _retry_after(raw: str | None, anchor: dt.datetime | None) -> float | None:
    if not raw:
        return None
    if _NUMBER.match(raw):
        seconds = float(raw)
        return seconds if math.isfinite(seconds) and seconds <= _MAX_RETRY_AFTER else None
    when = _http_date(raw)
    if when is None or anchor is None:
        return None
    seconds = (when - anchor).total_seconds()
    return max(0.0, seconds) if seconds <= _MAX_RETRY_AFTER else None


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
"""The headers `RateLimitReader.read` looks up, in the order of its `_keys`."""


class RateLimitReader:
    """Reads every response's rate-limit headers into the governor's `Observation`.

    This runs once per response, so it does as little as it can:

    - A burst of responses repeats `Limit`, `Reset` and `Date` verbatim (they change once a
      second or once a window). The last strings and what they parsed to are kept, so a
      response that repeats them costs three comparisons, and only `Remaining` is parsed
      anew. Anything else (a new second, a `Retry-After`, no `Date`) goes through
      `parse_rate_limit_values`.
    - The `RateLimitSnapshot` (with its `received_at` datetime) is built only when someone
      asks: `last()` for an error about to be raised, `latest()` for `client.rate_limit`.

    Reset is measured on the server's clock (`ServerClock`), so local skew cancels out.
    """

    __slots__ = (
        "_date",
        "_keys",
        "_last",
        "_latest",
        "_limit",
        "_offset",
        "_parsed",
        "_reset",
        "server_clock",
    )

    def __init__(
        self, server_clock: ServerClock | None = None, *, header_key: Callable[[str], str] = str
    ) -> None:
        """
        Args:
            server_clock: the estimate of the server's clock to share (a new one if None).
            header_key: turns a header name into the key `read()`'s `get` looks up fastest
                (the transport's `header_key`); plain strings by default.
        """
        self.server_clock = server_clock if server_clock is not None else ServerClock()
        self._keys = tuple(map(header_key, _HEADER_NAMES))
        self._offset = self.server_clock.offset or 0.0
        self._limit: str | None = None
        self._reset: str | None = None
        self._date: str | None = None
        # limit, reset, reset as a timestamp, date: what the strings above parsed to
        self._parsed: tuple[int | None, dt.datetime | None, float, dt.datetime | None] | None = None
        # limit, remaining, reset, retry_after, date, received (wall): the last response read
        # and the latest one that carried any rate-limit header
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
                count = int(remaining_raw)
                # garbage, or contradicts the limit: trust neither
                too_many = count > _MAX_LIMIT or (limit is not None and count > limit)
                remaining = None if too_many else count
            else:
                remaining = _count(remaining_raw)
            retry_after: float | None = None
        else:
            snapshot = parse_rate_limit_values(
                limit=limit_raw,
                remaining=get(remaining_key),
                reset=reset_raw,
                retry_after=retry_raw,
                date=date_raw,
                received_at=_fromtimestamp(now_wall, _UTC),
            )
            self.server_clock.update(snapshot.date, now_wall)
            # The clock's estimate changes only on an update: read it once here.
            self._offset = self.server_clock.offset or 0.0
            limit, remaining, reset = snapshot.limit, snapshot.remaining, snapshot.reset
            retry_after, date = snapshot.retry_after, snapshot.date
            reset_ts = reset.timestamp() if reset is not None else 0.0
            # Without `Date`, a relative Reset is anchored on the arrival time: not reusable.
            if date is not None:
                self._limit, self._reset, self._date = limit_raw, reset_raw, date_raw
                self._parsed = (limit, reset, reset_ts, date)
            else:
                self._parsed = None
        values = self._last = (limit, remaining, reset, retry_after, date, now_wall)
        if not (limit is None and remaining is None and reset is None and retry_after is None):
            self._latest = values
        reset_after = None
        if reset is not None:
            reset_after = reset_ts - (now_wall - self._offset)
            if reset_after < 0.0:
                reset_after = 0.0
        # tuple.__new__ directly: a named tuple's own __new__ is one more Python call.
        return _new_tuple(Observation, (status, limit, remaining, reset_after, retry_after))

    def last(self) -> RateLimitSnapshot:
        """The snapshot of the response read last (every field None if it had no headers)."""
        return _snapshot(self._last)

    def latest(self) -> RateLimitSnapshot | None:
        """The snapshot of the latest response that carried a rate-limit header, if any."""
        return _snapshot(self._latest) if self._latest is not None else None


_new_tuple = tuple.__new__

_Values = tuple[
    "int | None", "int | None", "dt.datetime | None", "float | None", "dt.datetime | None", float
]
_NOTHING: _Values = (None, None, None, None, None, 0.0)


def _snapshot(values: _Values) -> RateLimitSnapshot:
    limit, remaining, reset, retry_after, date, received_wall = values
    return RateLimitSnapshot(
        limit, remaining, reset, retry_after, date, _fromtimestamp(received_wall, _UTC)
    )
