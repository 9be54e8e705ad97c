"""Issue 12: the governor against servers that behave as stock third-party limiters do.

Deterministic (a fake clock, 1 ms steps, 60 tasks, 30 s, the Free plan that each server
contradicts); the real servers are measured in `benchmarks/bench_dialects.py`.
"""

from __future__ import annotations

import pytest

from gu1_async._clock import FakeClock
from gu1_async.governor import Governor, Plan

from .third_party_sim import FirstHitWindow, LeakyBucket, drive, longest_gap

DURATION = 30.0


async def run(server: FirstHitWindow | LeakyBucket) -> tuple[float, float, float]:
    clock = FakeClock(start=1000.0)
    governor = Governor(Plan.FREE, clock=clock)
    await drive(governor, server, clock, duration=DURATION)
    admitted = len(server.admitted)
    share_429 = server.refused / (admitted + server.refused)
    return admitted / server.ideal(DURATION), share_429, longest_gap(server.admitted, 1003.0)


@pytest.mark.parametrize("late", [0.0, 1.0], ids=["exact-reset", "slowapi-reset-1s-late"])
async def test_fixed_window_with_headers_reaches_the_quota(late: float) -> None:
    share, share_429, gap = await run(FirstHitWindow(40, 2.0, late=late))
    assert share >= 0.95
    assert share_429 <= 0.02
    assert gap <= 3.0


async def test_limit_and_remaining_without_reset_is_measured() -> None:
    # The count is said but not the edge: the period is measured (else the plan's hour).
    share, share_429, gap = await run(FirstHitWindow(40, 2.0, reset=False))
    assert share >= 0.85
    assert share_429 <= 0.05
    assert gap <= 3.0


async def test_bare_429_fixed_window_is_measured() -> None:
    share, share_429, gap = await run(FirstHitWindow(40, 2.0, headers=False))
    assert share >= 0.85
    assert share_429 <= 0.05
    assert gap <= 3.0


async def test_leaky_bucket_without_burst_is_paced() -> None:
    share, share_429, gap = await run(LeakyBucket(20.0))
    assert share >= 0.85
    assert share_429 <= 0.05
    assert gap <= 3.0
