"""The ETA comes from the quota's windows, not only from the past rate."""

from __future__ import annotations

import pytest

from gu1_async.cli._limits import next_wait
from gu1_async.cli._progress import format_duration, quota_eta
from gu1_async.governor import GovernorStats, WindowStats


def window(limit: int, period: float, available: int, reset_in: float) -> WindowStats:
    return WindowStats(
        limit=limit,
        period=period,
        available=available,
        in_flight=0,
        reset_in=reset_in,
        confirmed=True,
        from_header=True,
    )


def stats(*windows: WindowStats, paused_for: float = 0.0) -> GovernorStats:
    return GovernorStats(
        windows=windows,
        in_flight=0,
        waiters=0,
        waiters_by_priority=(0, 0),
        granted=0,
        waited=0,
        total_wait=0.0,
        max_wait=0.0,
        pauses=0,
        rate_limited=0,
        paused_for=paused_for,
    )


def test_rows_within_the_available_quota_take_no_quota_time() -> None:
    assert quota_eta(50, [window(100, 3600, 80, 1000)], None) == 0.0
    assert quota_eta(0, [window(100, 3600, 0, 1000)], 5.0) == 0.0


def test_rows_beyond_the_window_wait_for_its_resets() -> None:
    hourly = window(1200, 3600, 200, 600)
    # 200 now, 1200 at the reset in 600 s, the last 600 one period later.
    assert quota_eta(2000, [hourly], None) == pytest.approx(600 + 3600)


def test_the_slowest_window_decides_and_the_rate_bounds_from_below() -> None:
    hourly = window(100, 3600, 100, 10)
    daily = window(1000, 86_400, 0, 50_000)
    assert quota_eta(50, [hourly, daily], None) == pytest.approx(50_000)
    assert quota_eta(50, [hourly], 2.0) == pytest.approx(25.0)


def test_next_wait_is_the_pause_or_the_reset_of_an_empty_window() -> None:
    assert next_wait(stats(window(100, 60, 5, 30))) == 0.0
    assert next_wait(stats(window(100, 60, 0, 30), window(10**4, 86_400, 0, 900))) == 900
    assert next_wait(stats(window(100, 60, 5, 30), paused_for=4.0)) == 4.0


def test_durations_read_well() -> None:
    assert [format_duration(s) for s in (0.25, 42, 185, 7620)] == ["0.2s", "42s", "3m05s", "2h07m"]
