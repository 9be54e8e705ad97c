"""Several windows, live correction, skew, 429 pauses, the one timer, stats and repr."""

from __future__ import annotations

import asyncio

import pytest

from gu1_async._clock import FakeClock, settle
from gu1_async._errors import QuotaExhaustedError
from gu1_async.governor import Governor, Observation, Plan, Priority, Quota

from .sim import FixedWindowServer


async def run_workers(
    gov: Governor, server: FixedWindowServer, clock: FakeClock, requests: int, workers: int
) -> list[float]:
    """`workers` tasks send `requests` in total through the governor; returns start times."""
    started: list[float] = []
    todo = iter(range(requests))

    async def worker() -> None:
        for _ in todo:
            async with gov.slot(Priority.BATCH) as permit:
                started.append(clock.monotonic())
                permit.mark_sent()
                await asyncio.sleep(0)  # the response arrives a moment later
                permit.observe(server.handle(clock.monotonic()))

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    while not all(t.done() for t in tasks):
        await clock.advance(1.0)
    await asyncio.gather(*tasks)
    return started


async def test_hour_and_day_windows_with_the_day_binding() -> None:
    clock = FakeClock(start=0.0)
    plan = Plan.custom(Quota(10, 60), Quota(25, 600))
    server = FixedWindowServer([(10, 60.0), (25, 600.0)], origin=0.0)
    gov = Governor(plan, clock=clock)
    started = await run_workers(gov, server, clock, requests=35, workers=8)
    assert server.refused == 0
    assert server.within_limits()
    # 10 + 10 + 5 fill the day by t=180; the rest wait for the day's reset at 600.
    assert sum(1 for t in started if t < 600) == 25
    assert min(t for t in started if t >= 180) >= 600
    hour, day = gov.stats().windows
    assert day.limit == 25
    # The day refused many takes the hour had allowed: none of them stayed taken.
    assert (hour.in_flight, day.in_flight) == (0, 0)


async def test_day_window_holds_waiters_and_sets_the_deadline() -> None:
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.custom(Quota(10, 60), Quota(25, 600)), clock=clock)
    probe = gov.acquire_nowait()
    probe.mark_sent()
    probe.observe(Observation(200, 25, 0, 500.0))  # the day is spent, says the server
    with pytest.raises(QuotaExhaustedError) as caught:
        await gov.acquire(max_wait=60.0)
    assert caught.value.retry_after == pytest.approx(500.0)


async def test_mis_seeded_plan_is_corrected_by_headers() -> None:
    clock = FakeClock(start=0.0)
    server = FixedWindowServer([(50, 2.0)], origin=0.5)
    gov = Governor(Plan.custom(Quota(200, 2)), clock=clock)  # believes 4x the real quota
    await run_workers(gov, server, clock, requests=300, workers=50)
    assert server.refused == 0
    window = gov.stats().windows[0]
    assert (window.limit, window.from_header) == (50, True)


async def test_unknown_window_replaces_the_best_fitting_guess() -> None:
    gov = Governor(Plan.FREE, clock=FakeClock())
    probe = gov.acquire_nowait()
    probe.mark_sent()
    probe.observe(Observation(200, 1200, 1100, 1800.0))  # a Professional key, hour window
    hour, day = gov.stats().windows
    assert (hour.limit, hour.available, hour.from_header) == (1200, 1100, True)
    assert (day.limit, day.from_header) == (10_000, False)


async def test_skew_is_irrelevant_reset_after_is_relative() -> None:
    # The local wall clock is an hour ahead of the server's; only reset_after matters.
    clock = FakeClock(start=0.0, wall_start=1_800_003_600.0)
    gov = Governor(Plan.custom(Quota(5, 60)), clock=clock)
    probe = gov.acquire_nowait()
    probe.mark_sent()
    probe.observe(Observation(200, 5, 0, 12.5))
    waiter = asyncio.create_task(gov.acquire())
    await clock.advance(12.49)
    assert not waiter.done()
    await clock.advance(0.02)
    assert waiter.done()
    waiter.result().release()


async def test_stale_negative_reset_after_neither_wedges_nor_overspends() -> None:
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.custom(Quota(5, 60)), clock=clock)
    probe = gov.acquire_nowait()
    probe.mark_sent()
    probe.observe(Observation(200, 5, 0, -3.0))  # Reset before Date: a stale answer
    permits = [gov.acquire_nowait() for _ in range(4)]  # the seeded budget, no more
    with pytest.raises(QuotaExhaustedError):
        gov.acquire_nowait()
    permits[0].mark_sent()
    permits[0].observe(Observation(200, 5, 1, 40.0))
    assert gov.stats().windows[0].available == 0  # 1 left, 3 in flight: none may start
    assert gov.stats().windows[0].confirmed


async def test_one_pause_on_429_for_every_waiter() -> None:
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.custom(Quota(100, 60)), clock=clock)
    first, second = gov.acquire_nowait(), None
    first.mark_sent()
    first.observe(Observation(200, 100, 50, 50.0))
    permits = [gov.acquire_nowait() for _ in range(2)]
    for permit in permits:
        permit.mark_sent()
        permit.observe(Observation(429, retry_after=5.0))
    waiters = [asyncio.create_task(gov.acquire()) for _ in range(20)]
    await clock.advance(4.9)
    assert not any(w.done() for w in waiters)
    with pytest.raises(QuotaExhaustedError):
        gov.acquire_nowait()
    stats = gov.stats()
    assert (stats.pauses, stats.rate_limited) == (1, 2)
    assert stats.paused_for == pytest.approx(0.1)
    await clock.advance(0.1)
    assert all(w.done() for w in waiters)
    assert second is None


async def test_429_pause_uses_reset_then_doubling_backoff() -> None:
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.custom(Quota(100, 60)), clock=clock)
    gov.observe(Observation(429, 100, 0, reset_after=7.0))
    assert gov.stats().paused_for == pytest.approx(7.0)
    await clock.advance(7.0)
    gov.observe(Observation(429))
    assert gov.stats().paused_for == pytest.approx(2.0)  # second 429 in a row
    await clock.advance(2.0)
    gov.observe(Observation(200))
    gov.observe(Observation(429))
    assert gov.stats().paused_for == pytest.approx(1.0)  # a success reset the backoff
    gov.pause(30.0)
    assert gov.stats().paused_for == pytest.approx(30.0)
    assert gov.stats().pauses == 3  # the explicit pause extended the running one


async def test_one_timer_for_many_waiters() -> None:
    clock = FakeClock(start=0.0)
    server = FixedWindowServer([(7, 10.0)], origin=0.0)
    gov = Governor(Plan.custom(Quota(7, 10)), clock=clock)
    done = 0

    async def request() -> None:
        nonlocal done
        async with gov.slot() as permit:
            permit.mark_sent()
            permit.observe(server.handle(clock.monotonic()))
            done += 1

    tasks = [asyncio.create_task(request()) for _ in range(500)]
    await settle()
    timers_seen = 0
    while done < 500:
        timers_seen = max(timers_seen, clock.pending_timers())
        await clock.advance(1.0)
    await asyncio.gather(*tasks)
    assert timers_seen == 1
    assert clock.pending_timers() == 0
    assert server.refused == 0


async def test_stats_and_repr() -> None:
    clock = FakeClock(start=0.0)
    gov = Governor("starter", clock=clock, reserve=0.1)
    probe = gov.acquire_nowait()
    probe.mark_sent()
    probe.observe(Observation(200, 300, 200, 1000.0))
    held = gov.acquire_nowait()
    waiter = asyncio.create_task(gov.acquire(Priority.BATCH))
    await settle()
    stats = gov.stats()
    hour, day = stats.windows
    assert (hour.limit, hour.available, hour.in_flight, hour.confirmed) == (300, 198, 2, True)
    assert hour.reset_in == pytest.approx(1000.0)
    assert (day.limit, day.confirmed, day.from_header) == (100_000, False, False)
    assert (stats.in_flight, stats.granted, stats.waiters) == (2, 3, 0)
    assert (stats.waited, stats.max_wait) == (0, 0.0)  # the batch waiter fit at once
    text = repr(gov)
    assert "plan=starter" in text
    assert "198/300 per 3600s" in text
    assert "in_flight=2" in text
    assert repr(held) == "<Permit open>"
    assert gov.plan is Plan.STARTER
    waiter.result().release()
    held.release()
