"""Issue 12's causes, one by one, on a FakeClock: what the governor believes and why."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gu1_async._clock import FakeClock, settle
from gu1_async._errors import QuotaExhaustedError
from gu1_async.governor import Governor, Observation, Plan, Quota


def answer(gov: Governor, observation: Observation) -> None:
    permit = gov.acquire_nowait()
    permit.mark_sent()
    permit.observe(observation)


async def test_a_limit_that_changes_mid_run_is_adopted_by_its_own_window() -> None:
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.FREE, clock=clock)
    answer(gov, Observation(200, 40, 39, 2.0))  # the server's window, not the plan's
    await clock.advance(0.5)
    answer(gov, Observation(200, 80, 78, 1.5))  # upgraded: same window, twice the limit
    hour, day = gov.stats().windows
    assert (hour.limit, hour.from_header) == (80, True)
    assert (day.limit, day.from_header) == (10_000, False)  # the day was not renamed


async def test_one_burst_of_429s_is_one_pause_not_sixty() -> None:
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.custom(Quota(100, 60)), clock=clock)
    answer(gov, Observation(200, 100, 99, 30.0))
    permits = [gov.acquire_nowait() for _ in range(60)]
    for permit in permits:
        permit.mark_sent()
    for permit in permits:  # a proxy's bare 429s, all sent before the first came back
        permit.observe(Observation(429))
    stats = gov.stats()
    assert stats.rate_limited == 60
    assert stats.paused_for == pytest.approx(1.0)  # the first step of the backoff, once
    # A request sent after the episode began, refused again: now the backoff grows.
    await clock.advance(1.0)
    answer(gov, Observation(429))
    assert gov.stats().paused_for == pytest.approx(2.0)


async def test_a_reset_a_year_ahead_is_not_believed_past_the_longest_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.FREE, clock=clock)
    with caplog.at_level(logging.WARNING, logger="gu1_async.governor"):
        answer(gov, Observation(200, 100, 0, 399 * 86_400.0))
        answer_after = Observation(429, 100, 0, 399 * 86_400.0, retry_after=399 * 86_400.0)
        with pytest.raises(QuotaExhaustedError) as caught:
            gov.acquire_nowait()
        permit_wait = caught.value.retry_after
        gov.observe(answer_after)
    assert permit_wait <= 86_400.0
    assert gov.stats().paused_for <= 86_400.0
    warnings = [r for r in caplog.records if "X-RateLimit-Reset" in r.getMessage()]
    assert len(warnings) == 1


async def test_max_wait_bounds_a_wait_behind_a_probe_that_never_answers() -> None:
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.custom(Quota(10, 60)), clock=clock)
    probe = gov.acquire_nowait()  # unconfirmed window: this is the probe, in flight
    probe.mark_sent()
    waiters = [asyncio.create_task(gov.acquire(max_wait=3.0)) for _ in range(5)]
    await settle()
    await clock.advance(3.0)
    await settle()
    assert all(w.done() for w in waiters)
    for waiter in waiters:
        with pytest.raises(QuotaExhaustedError):
            waiter.result()
    assert gov.stats().waiters == 0
    probe.release()  # it timed out: the next request probes at once
    assert gov.acquire_nowait() is not None


async def test_known_period_lateness_is_learned_for_free() -> None:
    # The plan names the window (40 per 2 s); the server announces its reset 0.8 s late.
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.custom(Quota(40, 2.0)), clock=clock)
    answer(gov, Observation(200, 40, 39, 2.8))  # a window of 2 s cannot end 2.8 s away
    (window,) = gov.stats().windows
    assert window.reset_in == pytest.approx(2.0, abs=1e-3)
    assert gov.stats().rate_limited == 0


async def test_a_better_date_estimate_is_not_read_as_the_server_changing() -> None:
    # The same announced edge, measured with a skew estimate 0.3 s smaller: the learned
    # lead shrinks by as much, so the corrected edge stays where it was.
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.custom(Quota(40, 2.0)), clock=clock)
    answer(gov, Observation(200, 40, 39, 2.8, skew=0.6))
    before = gov.stats().windows[0].reset_in
    await clock.advance(0.1)
    answer(gov, Observation(200, 40, 38, 2.4, skew=0.3))
    after = gov.stats().windows[0].reset_in
    assert after == pytest.approx(before - 0.1, abs=1e-3)


async def test_a_window_the_server_names_is_a_known_period() -> None:
    # An IETF policy says the window is 2 s: its lateness is learned for free, no early
    # try is risked, even though the limit (40) is none of the plan's.
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.FREE, clock=clock)
    answer(gov, Observation(200, 40, 39, 2.8, window=2.0))
    hour, _day = gov.stats().windows
    assert hour.reset_in == pytest.approx(2.0, abs=1e-3)
