"""Fake API keys and the gu1 plans they are rate-limited by."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_KEY",
    "DEFAULT_ORGANIZATIONS",
    "PLANS",
    "FakeKey",
    "Windows",
    "resolve_windows",
    "with_limit",
]

Windows = tuple[tuple[int, float], ...]
"""Fixed rate-limit windows as `(limit, period_seconds)` pairs."""

HOUR = 3600.0
DAY = 86_400.0

PLANS: dict[str, Windows] = {
    # From gu1's authentication page: every plan has an hourly AND a daily window.
    "free": ((100, HOUR), (10_000, DAY)),
    "starter": ((300, HOUR), (100_000, DAY)),
    "professional": ((1_200, HOUR), (500_000, DAY)),
    # gu1 says "custom" for Enterprise; these numbers are a generous stand-in, not gu1's.
    "enterprise": ((10_000, HOUR), (2_000_000, DAY)),
}

DEFAULT_KEY = "gk_test_fake_key_0001"
"""The key a FakeGu1Server registers unless told otherwise. It is a fake: printing it is fine."""

# Each environment is its own gu1 organization (§1.2), so sandbox data never leaks into
# production lookups in the fake either.
DEFAULT_ORGANIZATIONS: dict[str, str] = {
    "sandbox": "00000000-0000-4000-8000-00000000005b",
    "production": "00000000-0000-4000-8000-0000000000b0",
}

ALL_PERMISSIONS = None
"""`permissions=None` grants every `resource:action`."""


def _hint(key: str) -> str:
    return f"{key[:3]}…{key[-4:]}" if len(key) > 8 else "…"


@attrs.frozen
class FakeKey:
    """One API key the fake server accepts, with its environment, grants and windows."""

    key: str = attrs.field(repr=False)
    environment: str = "sandbox"
    permissions: frozenset[str] | None = None
    expires_at: dt.datetime | None = None
    windows: Windows = PLANS["free"]
    organization_id: str = ""
    limiter: str = "fixed"
    """How the fake server counts this key's requests: one of `LIMITERS`."""

    @property
    def hint(self) -> str:
        """A loggable hint of the key: its prefix and last four characters."""
        return _hint(self.key)

    def allows(self, any_of: Iterable[str]) -> bool:
        """True when the key holds at least one of the permissions in `any_of`."""
        if self.permissions is None:
            return True
        return any(p in self.permissions for p in any_of)

    def is_expired(self, now: float) -> bool:
        """True when the key has an expiry date and `now` (epoch seconds) is past it."""
        return self.expires_at is not None and now >= self.expires_at.timestamp()


def resolve_windows(plan: str | Iterable[tuple[int, float]]) -> Windows:
    """Turn a plan name or an iterable of `(limit, period)` into validated windows.

    Raises:
        ValueError: unknown plan name, no windows, or a non-positive limit or period.
    """
    if isinstance(plan, str):
        try:
            return PLANS[plan]
        except KeyError:
            raise ValueError(f"unknown plan {plan!r}; choose one of {sorted(PLANS)}") from None
    windows = tuple((int(limit), float(period)) for limit, period in plan)
    if not windows:
        raise ValueError("at least one (limit, period) window is needed")
    for limit, period in windows:
        if limit <= 0 or period <= 0:
            raise ValueError(f"window ({limit}, {period}) must have a positive limit and period")
    return windows


def with_limit(windows: Windows, limit: int, period: float | None = None) -> Windows:
    """`windows` with the limit of the window of `period` (the first if None) changed.

    Raises:
        ValueError: no window has that `period`.
    """
    periods = [p for _, p in windows]
    if period is not None and period not in periods:
        raise ValueError(f"no window of period {period}; the key has {periods}")
    index = 0 if period is None else periods.index(period)
    return resolve_windows([*windows[:index], (limit, periods[index]), *windows[index + 1 :]])
