"""One header value at a time: counts, reset times, `Retry-After`, and the IETF fields.

The parsers behind `gu1_async._ratelimit_headers`, kept apart so that module holds only
the snapshot, the reader and its fast path. Every function here is total: garbage in,
`None` out. A value that parses but lies too far from the server's now (`max_reset`) is
also `None`, and is appended to `refused` as `(header, value)` so the reader can say so
once in the log.

The IETF draft (draft-ietf-httpapi-ratelimit-headers) changed shape across revisions;
`ietf_fields` reads all three:

- current (-08 on): `RateLimit-Policy: "default";q=100;w=60` and
  `RateLimit: "default";r=50;t=30`, structured-field lists joined by the policy's name;
- -07: `RateLimit: limit=100, remaining=50, reset=30` and `RateLimit-Policy: 100;w=60`;
- up to -06: `RateLimit-Limit: 100` (optionally `100, 100;w=60`), `RateLimit-Remaining`,
  `RateLimit-Reset` (delta seconds) and `RateLimit-Policy: 100;w=60`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import math
import re
from typing import NamedTuple

__all__ = [
    "IetfFields",
    "Refusals",
    "count",
    "http_date",
    "ietf_fields",
    "reset_time",
    "retry_after_seconds",
    "window_seconds",
]

Refusals = list[tuple[str, str]]
"""`(header, value)` pairs that parsed but were too far from now to believe."""

_MAX_LIMIT = 10**9  # no plan is anywhere near this; larger is garbage
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_UTC = dt.timezone.utc


def count(raw: str | None) -> int | None:
    """A non-negative integer count (limit, remaining, quota), or None."""
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if value <= _MAX_LIMIT else None


def _number(raw: str | None) -> float | None:
    if raw is None or not _NUMBER.match(raw):
        return None
    value = float(raw)  # a 400-digit string is `inf`, not an error
    return value if math.isfinite(value) else None


def _believed(
    when: dt.datetime,
    anchor: dt.datetime | None,
    max_reset: float,
    header: str,
    raw: str,
    refused: Refusals,
) -> dt.datetime | None:
    if anchor is None:
        # Nothing to measure against: only a calendar sanity check is possible.
        return when if 1970 < when.year < 2200 else None
    if abs((when - anchor).total_seconds()) > max_reset:
        refused.append((header, raw))
        return None
    return when


def reset_time(
    raw: str | None,
    anchor: dt.datetime | None,
    max_reset: float,
    refused: Refusals,
    header: str = "X-RateLimit-Reset",
    delta_anchor: dt.datetime | None = None,
) -> dt.datetime | None:
    """When the window resets: ISO 8601, epoch seconds or ms (floats too), or delta seconds.

    Args:
        raw: the header value.
        anchor: the server's now (its `Date`, else the arrival time).
        max_reset: seconds from `anchor` beyond which a reset is not believed.
        refused: collects `(header, raw)` when the reset is refused for being too far.
        header: the header's name, for `refused`.
        delta_anchor: what delta seconds count from, if not `anchor`: the arrival time. A
            delta is counted from the moment the server answered, which a `Date` truncated
            to the second (or cached) puts up to a second or two too early; the arrival is
            late by the latency only, so the reset comes out late, never early.
    """
    if not raw:
        return None
    raw = raw.strip()
    number = _number(raw)
    if number is None:
        when = _iso8601(raw)
    elif number >= 1e12:  # epoch milliseconds
        when = _epoch(number / 1000.0)
    elif number >= 1e9:  # epoch seconds
        when = _epoch(number)
    else:  # seconds until the reset
        if anchor is None:
            return None
        if number > max_reset:
            refused.append((header, raw))
            return None
        return (delta_anchor or anchor) + dt.timedelta(seconds=number)
    return _believed(when, anchor, max_reset, header, raw, refused) if when else None


def _epoch(seconds: float) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(seconds, tz=_UTC)
    except (OverflowError, OSError, ValueError):
        return None


# Date and Reset repeat across responses (they change once a second or once a window), so
# parsing each distinct string once removes most of the per-response cost.
@functools.lru_cache(maxsize=256)
def _iso8601(raw: str) -> dt.datetime | None:
    match = _ISO.match(raw)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        tz = _UTC
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
    return when.astimezone(_UTC)


@functools.lru_cache(maxsize=256)
def http_date(raw: str) -> dt.datetime | None:
    """An RFC 7231 date (`Date`, `Retry-After`) as aware UTC, or None."""
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_UTC)
    when = when.astimezone(_UTC)
    return when if 1970 < when.year < 2200 else None


def retry_after_seconds(
    raw: str | None, anchor: dt.datetime | None, max_reset: float, refused: Refusals
) -> float | None:
    """`Retry-After` as seconds: delta seconds (decimals too) or an HTTP date.

    Args:
        raw: the header value.
        anchor: the server's now, to measure an HTTP date against.
        max_reset: the longest wait believed; a longer one is None and goes to `refused`.
        refused: collects `("Retry-After", raw)` when the wait is refused for its length.
    """
    if not raw or not (raw := raw.strip()):
        return None
    seconds = _number(raw)
    if seconds is None:
        when = http_date(raw)
        if when is None or anchor is None:
            return None
        seconds = max(0.0, (when - anchor).total_seconds())
    if seconds > max_reset:
        refused.append(("Retry-After", raw))
        return None
    return seconds


def window_seconds(raw: str | None, max_reset: float, refused: Refusals) -> float | None:
    """A policy's window (`w=`) in seconds: positive, and no longer than `max_reset`."""
    seconds = _number(raw)
    if seconds is None or seconds <= 0.0:
        return None
    if seconds > max_reset:
        refused.append(("RateLimit-Policy", f"w={raw}"))
        return None
    return seconds


# -- the IETF fields ----------------------------------------------------------------------


class IetfFields(NamedTuple):
    """What the IETF fields said, still as text (the caller applies counts and bounds)."""

    limit: str | None
    remaining: str | None
    reset: str | None
    reset_header: str
    window: str | None


class _Member(NamedTuple):
    name: str | None  # a string or token item, or a dictionary key
    value: str | None  # a number item, or a dictionary member's value
    params: dict[str, str]


# A structured-field list or dictionary, split on separators outside quoted strings.
_COMMA_PIECES = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^,"])+')
_SEMICOLON_PIECES = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^;"])+')


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


@functools.lru_cache(maxsize=256)
def _members(field: str) -> tuple[_Member, ...]:
    # Lenient where RFC 8941 is strict: a malformed member is skipped, not the whole field.
    members = []
    for member in _COMMA_PIECES.findall(field):
        pieces = _SEMICOLON_PIECES.findall(member)
        item = pieces[0].strip() if pieces else ""
        if not item:
            continue
        params: dict[str, str] = {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params.setdefault(key.strip().lower(), _unquote(value.strip()))
        if item[0] == '"':
            members.append(_Member(_unquote(item), None, params))
        elif _NUMBER.match(item):
            members.append(_Member(None, item, params))
        else:
            key, equals, value = item.partition("=")
            if equals:  # a dictionary member; its keys are lower case (RFC 8941)
                members.append(_Member(key.strip().lower(), _unquote(value.strip()), params))
            else:  # a token item
                members.append(_Member(item, None, params))
    return tuple(members)


# A server repeats its policy verbatim and `RateLimit` takes one value per remaining count
# and second, so most responses repeat a tuple already read.
@functools.lru_cache(maxsize=256)
def ietf_fields(
    ratelimit: str | None,
    policy: str | None,
    limit: str | None,
    remaining: str | None,
    reset: str | None,
) -> IetfFields | None:
    """The IETF fields of one response (newest draft first), or None if there are none.

    Args:
        ratelimit: `RateLimit` (the current list form, or -07's dictionary).
        policy: `RateLimit-Policy`.
        limit: `RateLimit-Limit` (-06 and before).
        remaining: `RateLimit-Remaining` (-06 and before).
        reset: `RateLimit-Reset` (-06 and before).
    """
    if ratelimit:
        fields = _structured(_members(ratelimit), policy)
        if fields is not None:
            return fields
    if limit is None and remaining is None and reset is None:
        return None
    limit_members = _members(limit) if limit else ()
    first = limit_members[0].value if limit_members else None
    # -06 allowed the policy inside the limit: `RateLimit-Limit: 100, 100;w=60`.
    window = next(
        (m.params["w"] for m in limit_members[1:] if m.value == first and "w" in m.params), None
    )
    if window is None:
        window = _window_for_quota(first, policy)
    return IetfFields(first, remaining, reset, "RateLimit-Reset", window)


def _structured(members: tuple[_Member, ...], policy: str | None) -> IetfFields | None:
    keyed = {m.name: m.value for m in members if m.name is not None and m.value is not None}
    if "limit" in keyed or "remaining" in keyed or "reset" in keyed:  # draft -07
        limit = keyed.get("limit")
        window = _window_for_quota(limit, policy)
        return IetfFields(limit, keyed.get("remaining"), keyed.get("reset"), "RateLimit", window)
    items = [m for m in members if m.name is not None and count(m.params.get("r")) is not None]
    if not items:
        return None
    item = items[0] if len(items) == 1 else _most_constrained(items)
    named = (m for m in _members(policy) if m.name == item.name) if policy else iter(())
    matched = next(named, None)
    return IetfFields(
        matched.params.get("q") if matched else None,
        item.params["r"],
        item.params.get("t"),
        "RateLimit",
        matched.params.get("w") if matched else None,
    )


def _most_constrained(items: list[_Member]) -> _Member:
    """The policy to follow: least remaining; among several exhausted, the latest reset.

    The same choice the fake server makes for its one set of `X-RateLimit-*` headers.
    """

    def remaining(item: _Member) -> int:
        return count(item.params.get("r")) or 0

    def reset(item: _Member) -> float:
        return _number(item.params.get("t")) or 0.0

    exhausted = [m for m in items if remaining(m) == 0]
    if len(exhausted) > 1:
        return max(exhausted, key=reset)
    return min(items, key=lambda m: (remaining(m), reset(m)))


def _window_for_quota(limit: str | None, policy: str | None) -> str | None:
    """Before -08 policies had no names: the one whose quota is the limit is the window."""
    quota = count(limit)
    if quota is None or not policy:
        return None
    for member in _members(policy):
        if member.value is not None and count(member.value) == quota and "w" in member.params:
            return member.params["w"]
    return None
