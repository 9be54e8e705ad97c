"""Quota and Plan: the values the governor is seeded with."""

from __future__ import annotations

import datetime as dt

import pytest

from gu1_async._errors import ConfigurationError
from gu1_async.governor import DEFAULT_PLAN, Plan, Quota


def test_quota_takes_seconds_or_timedelta() -> None:
    assert Quota(100, dt.timedelta(hours=1)) == Quota(100, 3600)
    assert Quota(100, 3600).period == 3600.0
    assert str(Quota(100, 3600)) == "100/1h"
    assert str(Quota(50, 2)) == "50/2s"


@pytest.mark.parametrize(("limit", "period"), [(0, 1.0), (-1, 1.0), (1, 0.0), (1, -5.0)])
def test_quota_rejects_nonsense(limit: int, period: float) -> None:
    with pytest.raises(ConfigurationError):
        Quota(limit, period)


def test_named_plans_match_the_published_table() -> None:
    assert Plan.FREE.quotas == (Quota(100, 3600), Quota(10_000, 86_400))
    assert Plan.STARTER.quotas == (Quota(300, 3600), Quota(100_000, 86_400))
    assert Plan.PROFESSIONAL.quotas == (Quota(1_200, 3600), Quota(500_000, 86_400))
    assert DEFAULT_PLAN is Plan.FREE


def test_from_name_and_coerce() -> None:
    assert Plan.from_name(" Starter ") is Plan.STARTER
    assert Plan.coerce("professional") is Plan.PROFESSIONAL
    assert Plan.coerce(Plan.FREE) is Plan.FREE
    with pytest.raises(ConfigurationError, match="unknown plan"):
        Plan.from_name("enterprise")
    with pytest.raises(ConfigurationError):
        Plan.coerce(42)  # type: ignore[arg-type]


def test_custom_plan_sorts_windows_shortest_first() -> None:
    plan = Plan.custom(Quota(5000, 86_400), Quota(10, 1), name="enterprise")
    assert [q.period for q in plan.quotas] == [1.0, 86_400.0]
    assert str(plan) == "enterprise (10/1s + 5000/1d)"
    with pytest.raises(ConfigurationError):
        Plan.custom()


def test_scaled_divides_every_period() -> None:
    fast = Plan.FREE.scaled(3600)
    assert fast.quotas == (Quota(100, 1.0), Quota(10_000, 24.0))
    with pytest.raises(ConfigurationError):
        Plan.FREE.scaled(0)
