"""How the fake server writes `Date` and its rate-limit headers: gu1's way, or another server's.

`HeaderStyle` holds the switches that let a test reproduce a real server's habits:

- `headers`: `gu1` (`X-RateLimit-Limit`/`-Remaining`/`-Reset`), `ietf` (the current
  draft-ietf-httpapi-ratelimit-headers fields `RateLimit` and `RateLimit-Policy`, one
  policy per window, named after its period), or `none` (a bare proxy: no rate-limit header
  and no `Retry-After`, not even a forced one).
- `reset_format` of `X-RateLimit-Reset`: `iso` (gu1's ISO 8601 with milliseconds), `epoch`
  (seconds, decimals when there are any), `epoch_ms` or `delta` (seconds from now).
- `reset_late`: seconds added to every announced reset (slowapi announces `int(expiry) + 1`:
  `date_mode="truncated", reset_late=1`).
- `date_mode`: `exact` (the true second: an HTTP date has no fractions), `truncated` (the
  server tells time in whole seconds: every reset it announces is floored to the second too,
  as `limits` reports `int(expiry)`), or `cached` (`Date` refreshed only once every
  `date_refresh` real seconds, at `date_phase` seconds into that period, so it lags the
  true second by up to `date_refresh` at a phase unrelated to it, as uvicorn's does).
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import MutableMapping

import attrs

from ._common import iso
from ._ratelimit import RateDecision, WindowUsage

__all__ = ["DATE_MODES", "HEADER_DIALECTS", "RESET_FORMATS", "HeaderStyle"]

DATE_MODES = ("exact", "truncated", "cached")
RESET_FORMATS = ("iso", "epoch", "epoch_ms", "delta")
HEADER_DIALECTS = ("gu1", "none", "ietf")

_RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
)


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a positive number, got {value}")


def _not_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


def _seconds(value: float) -> str:
    """Seconds with up to millisecond decimals, and none when whole (`30`, `0.25`)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _policy_name(period: float) -> str:
    return f"{period:g}s"  # "3600s": one name per window, stable across responses


@attrs.frozen
class HeaderStyle:
    """The fake server's header habits (see the module docstring for each switch).

    Raises:
        ValueError: an unknown mode or format, a negative `reset_late`, or a non-positive
            `date_refresh` or `time_scale`.
    """

    headers: str = attrs.field(default="gu1", validator=attrs.validators.in_(HEADER_DIALECTS))
    reset_format: str = attrs.field(default="iso", validator=attrs.validators.in_(RESET_FORMATS))
    reset_late: float = attrs.field(default=0.0, validator=_not_negative)
    date_mode: str = attrs.field(default="exact", validator=attrs.validators.in_(DATE_MODES))
    date_refresh: float = attrs.field(default=1.0, validator=_positive)
    date_phase: float = attrs.field(default=0.5, validator=_not_negative)
    time_scale: float = attrs.field(default=1.0, validator=_positive)
    """Turns a window's period into the real seconds `RateLimit-Policy`'s `w=` gives."""

    def date(self, now: float) -> str:
        """The `Date` header the server sends at real time `now`."""
        if self.date_mode == "cached":
            refresh = self.date_refresh
            now = self.date_phase + math.floor((now - self.date_phase) / refresh) * refresh
        return email.utils.formatdate(now, usegmt=True)

    def announced_reset(self, resets_at: float) -> float:
        """The reset the server announces for a window that really ends at `resets_at`."""
        if self.date_mode == "truncated":
            resets_at = math.floor(resets_at)
        return resets_at + self.reset_late

    def retry_after(self, seconds: float) -> str:
        """`Retry-After` for a rate-limit 429 that can pass in `seconds` (whole, at least 1)."""
        return str(max(1, round(seconds + self.reset_late)))

    def stamp(self, headers: MutableMapping[str, str], decision: RateDecision, now: float) -> None:
        """Write `Date` and the rate-limit headers of one answer, sent at real time `now`."""
        headers["Date"] = self.date(now)
        if self.headers == "none":
            for name in _RATE_LIMIT_HEADERS:
                if name in headers:
                    del headers[name]  # every copy, in a multidict
            return
        if self.date_mode == "truncated":
            now = math.floor(now)
        if self.headers == "ietf":
            self._stamp_ietf(headers, decision.usages or (decision.shown,), now)
            return
        shown = decision.shown
        headers["X-RateLimit-Limit"] = str(shown.limit)
        headers["X-RateLimit-Remaining"] = str(shown.remaining)
        headers["X-RateLimit-Reset"] = self._reset(self.announced_reset(shown.resets_at), now)

    def _reset(self, reset: float, now: float) -> str:
        if self.reset_format == "epoch":
            return _seconds(reset)
        if self.reset_format == "epoch_ms":
            return str(round(reset * 1000.0))
        if self.reset_format == "delta":
            return _seconds(max(0.0, reset - now))
        return iso(reset)

    def _stamp_ietf(
        self, headers: MutableMapping[str, str], usages: tuple[WindowUsage, ...], now: float
    ) -> None:
        # Decimals in `t=` and `w=` only when the scaled windows need them (the draft says
        # integers; a time-scaled window can be a fraction of a second).
        policies, limits = [], []
        for usage in usages:
            name = _policy_name(usage.period)
            window = _seconds(usage.period / self.time_scale)
            policies.append(f'"{name}";q={usage.limit};w={window}')
            delta = max(0.0, self.announced_reset(usage.resets_at) - now)
            limits.append(f'"{name}";r={usage.remaining};t={_seconds(delta)}')
        headers["RateLimit-Policy"] = ", ".join(policies)
        headers["RateLimit"] = ", ".join(limits)
