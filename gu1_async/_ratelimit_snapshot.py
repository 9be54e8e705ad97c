"""`RateLimitSnapshot` and the full header parser behind `gu1_async._ratelimit_headers`.

Split from the reader so each module holds one idea: this one reads every dialect the
slow way; the reader keeps the per-response fast path. The dialects and the `max_reset`
bound are described in `gu1_async._ratelimit_headers`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import attrs

from ._ratelimit_values import (
    Refusals,
    count,
    http_date,
    ietf_fields,
    reset_time,
    retry_after_seconds,
    window_seconds,
)

__all__ = [
    "DEFAULT_MAX_RESET",
    "RateLimitSnapshot",
    "Texts",
    "parse",
    "parse_rate_limit_headers",
    "parse_rate_limit_values",
]

DEFAULT_MAX_RESET = 86_400.0
"""Seconds: no reset, `Retry-After` or window further away is believed (gu1's day window)."""


@attrs.frozen
class RateLimitSnapshot:
    """What one response said about the key's quota; every field may be None."""

    limit: int | None = None
    """`X-RateLimit-Limit` (or an IETF policy's quota): requests allowed in the window."""
    remaining: int | None = None
    """`X-RateLimit-Remaining` (or IETF `r=`): requests left in the current window."""
    reset: dt.datetime | None = None
    """`X-RateLimit-Reset` (or IETF `t=`) as an aware UTC datetime (server clock)."""
    retry_after: float | None = None
    """`Retry-After` in seconds."""
    date: dt.datetime | None = None
    """The server's `Date`, aware UTC."""
    received_at: dt.datetime | None = None
    """Local wall time when the response arrived, aware UTC."""
    window: float | None = None
    """The window's length in seconds, when an IETF `RateLimit-Policy` gave it (`w=`)."""

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
            and self.window is None
        )


Texts = tuple["str | None", "str | None", "str | None", "str | None", "str | None"]
"""Five header values (None where absent), in the order `parse` unpacks them."""


def parse_rate_limit_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    received_at: dt.datetime | None = None,
    max_reset: float = DEFAULT_MAX_RESET,
) -> RateLimitSnapshot:
    """Read the rate-limit headers of one response, in any dialect above. Never raises.

    Args:
        headers: a mapping or `(name, value)` pairs; names in any case.
        received_at: local wall time the response arrived (anchors relative resets
            when there is no `Date`).
        max_reset: seconds from the server's now beyond which a reset, `Retry-After` or
            window is not believed.
    """
    try:
        values = _lower_keys(headers)
    except Exception:  # pragma: no cover - belt and braces: the parser is total
        return RateLimitSnapshot(received_at=received_at)
    get = values.get
    texts: Texts = (
        get("x-ratelimit-limit"),
        get("x-ratelimit-remaining"),
        get("x-ratelimit-reset"),
        get("retry-after"),
        get("date"),
    )
    ietf: Texts = (
        get("ratelimit"),
        get("ratelimit-policy"),
        get("ratelimit-limit"),
        get("ratelimit-remaining"),
        get("ratelimit-reset"),
    )
    return parse(texts, ietf, received_at, max_reset, [])


def parse_rate_limit_values(
    *,
    limit: str | None,
    remaining: str | None,
    reset: str | None,
    retry_after: str | None,
    date: str | None,
    received_at: dt.datetime | None = None,
    ratelimit: str | None = None,
    ratelimit_policy: str | None = None,
    ratelimit_limit: str | None = None,
    ratelimit_remaining: str | None = None,
    ratelimit_reset: str | None = None,
    max_reset: float = DEFAULT_MAX_RESET,
) -> RateLimitSnapshot:
    """The same, from the header values already picked out. Never raises.

    The per-response path: the transport's headers are case-insensitive, so the reader
    looks them up directly instead of walking every header.

    Args:
        limit, remaining, reset: the `X-RateLimit-*` values.
        retry_after, date: `Retry-After` and `Date`.
        received_at: local wall time the response arrived.
        ratelimit, ratelimit_policy: the IETF `RateLimit` and `RateLimit-Policy` fields.
        ratelimit_limit, ratelimit_remaining, ratelimit_reset: the older drafts' fields.
        max_reset: seconds from the server's now beyond which nothing is believed.
    """
    return parse(
        (limit, remaining, reset, retry_after, date),
        (ratelimit, ratelimit_policy, ratelimit_limit, ratelimit_remaining, ratelimit_reset),
        received_at,
        max_reset,
        [],
    )


def parse(
    texts: Texts,
    ietf: Texts,
    received_at: dt.datetime | None,
    max_reset: float,
    refused: Refusals,
) -> RateLimitSnapshot:
    """The one parser behind both public functions and the reader's slow path."""
    limit, remaining, reset, retry_after, date = texts
    try:
        server_date = http_date(date.strip()) if date else None
        anchor = server_date or received_at
        reset_header = "X-RateLimit-Reset"
        window = None
        if limit is None and remaining is None and reset is None:
            fields = ietf_fields(*ietf)
            if fields is not None:
                limit, remaining, reset, reset_header, window_raw = fields
                window = window_seconds(window_raw, max_reset, refused)
        limit_n = count(limit)
        remaining_n = count(remaining)
        if limit_n is not None and remaining_n is not None and remaining_n > limit_n:
            remaining_n = None  # contradictory; trust neither more than the limit
        return RateLimitSnapshot(
            limit=limit_n,
            remaining=remaining_n,
            reset=reset_time(reset, anchor, max_reset, refused, reset_header, received_at),
            retry_after=retry_after_seconds(retry_after, anchor, max_reset, refused),
            date=server_date,
            received_at=received_at,
            window=window,
        )
    except Exception:  # pragma: no cover - belt and braces: the parser is total
        return RateLimitSnapshot(received_at=received_at)


_WANTED = frozenset(
    {
        "date",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
        "ratelimit",
        "ratelimit-policy",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
    }
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
