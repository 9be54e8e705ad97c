"""Governor behaviour on a FakeClock: probe first, FIFO, priorities, reserve, cancellation."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from gu1_async._clock import FakeClock, settle
from gu1_async._errors import ConfigurationError, QuotaExhaustedError
from gu1_async.governor import Governor, Observation, Permit, Plan, Priority, Quota

from .sim import FixedWindowServer

ONE_WINDOW = Plan.custom(Quota(10, 60))


def ok(limit: int, remaining: int, reset_after: float | None = 30.0) -> Observation:
    return Observation(200, limit, remaining, reset_after)


def confirmed(
    clock: FakeClock, remaining: int, *, plan: Plan = ONE_WINDOW, **kwargs: object
) -> Governor:
    """A governor whose only window a first response described with `remaining` left."""
    gov = Governor(plan, clock=clock, **kwargs)  # type: ignore[arg-type]
    probe = gov.acquire_nowait()
    probe.mark_sent()
    probe.observe(ok(plan.quotas[0].limit, remaining))
    return gov


async def wait_and_note(
    gov: Governor, name: str, order: list[str], priority: Priority = Priority.INTERACTIVE
) -> Permit:
    permit = await gov.acquire(priority)
    order.append(name)
    return permit


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        Governor(clock=FakeClock(), reserve=1.0)
    with pytest.raises(ConfigurationError):
        Governor(clock=FakeClock(), max_wait=-1)
    with pytest.raises(ConfigurationError):
        Governor("gold", clock=FakeClock())


async def test_first_request_probes_alone_then_headers_set_the_budget() -> None:
    gov = Governor(ONE_WINDOW, clock=FakeClock())
    probe = gov.acquire_nowait()
    with pytest.raises(QuotaExhaustedError):
        gov.acquire_nowait()  # the plan's budget is not spent blind
    probe.mark_sent()
    probe.observe(ok(10, 3))  # someone else on the key already used 6
    permits = [gov.acquire_nowait() for _ in range(3)]
    with pytest.raises(QuotaExhaustedError):
        gov.acquire_nowait()
    assert all(not p.ended for p in permits)
    assert gov.stats().windows[0].confirmed


async def test_waiters_are_released_when_the_probe_answers() -> None:
    gov = Governor(ONE_WINDOW, clock=FakeClock())
    probe = gov.acquire_nowait()
    order: list[str] = []
    tasks = [asyncio.create_task(wait_and_note(gov, f"t{i}", order)) for i in range(4)]
    await settle()
    assert order == []
    probe.mark_sent()
    probe.observe(ok(10, 9))
    await settle()
    assert order == ["t0", "t1", "t2", "t3"]
    for task in tasks:
        task.result().release()


async def test_unsent_probe_lets_the_next_request_probe() -> None:
    gov = Governor(ONE_WINDOW, clock=FakeClock())
    gov.acquire_nowait().release()
    second = gov.acquire_nowait()  # the probe again, not blind spending
    with pytest.raises(QuotaExhaustedError):
        gov.acquire_nowait()
    second.release()


async def test_probe_without_answer_lets_the_next_request_probe() -> None:
    gov = Governor(ONE_WINDOW, clock=FakeClock())
    probe = gov.acquire_nowait()
    probe.mark_sent()
    probe.release()  # connection dropped: nothing learned, but it may have been counted
    second = gov.acquire_nowait()
    with pytest.raises(QuotaExhaustedError):
        gov.acquire_nowait()
    second.release()
    assert gov.stats().windows[0].available == 1
    assert gov.stats().windows[0].in_flight == 0


async def test_probe_answered_about_another_window_unlocks_the_seeded_budget() -> None:
    gov = Governor(Plan.custom(Quota(10, 60), Quota(50, 600)), clock=FakeClock())
    probe = gov.acquire_nowait()
    probe.mark_sent()
    probe.observe(ok(10, 9))  # the server only ever reports the short window
    permits = [gov.acquire_nowait() for _ in range(9)]
    assert len(permits) == 9
    minute, ten_minutes = gov.stats().windows
    assert (minute.confirmed, ten_minutes.confirmed) == (True, False)
    assert ten_minutes.available == 49 - 9


async def test_fifo_within_a_priority_across_refills() -> None:
    clock = FakeClock()
    server = FixedWindowServer([(3, 60.0)], origin=clock.monotonic() - 30.0)
    gov = Governor(Plan.custom(Quota(3, 60)), clock=clock)
    order: list[int] = []

    async def request(i: int) -> None:
        async with gov.slot() as permit:
            order.append(i)
            permit.mark_sent()
            permit.observe(server.handle(clock.monotonic()))

    tasks = [asyncio.create_task(request(i)) for i in range(10)]
    for _ in range(4):
        await clock.advance(60.0)
    await asyncio.gather(*tasks)
    assert order == list(range(10))
    assert server.refused == 0
    assert server.within_limits()


async def test_interactive_goes_ahead_of_batch() -> None:
    clock = FakeClock()
    gov = confirmed(clock, remaining=0)
    order: list[str] = []
    tasks = [
        asyncio.create_task(wait_and_note(gov, "b1", order, Priority.BATCH)),
        asyncio.create_task(wait_and_note(gov, "b2", order, Priority.BATCH)),
        asyncio.create_task(wait_and_note(gov, "i1", order)),
        asyncio.create_task(wait_and_note(gov, "i2", order)),
    ]
    await settle()
    assert gov.stats().waiters_by_priority == (2, 2)
    await clock.advance(30.01)  # refill: the first waiter probes
    assert order == ["i1"]
    tasks[2].result().observe(ok(10, 9))
    await settle()
    assert order == ["i1", "i2", "b1", "b2"]


async def test_interactive_passes_batch_waiters_held_by_the_reserve() -> None:
    clock = FakeClock()
    gov = confirmed(clock, remaining=10, reserve=0.5)
    batch = [gov.acquire_nowait(Priority.BATCH) for _ in range(5)]
    with pytest.raises(QuotaExhaustedError):
        gov.acquire_nowait(Priority.BATCH)  # the last 5 are interactive-only
    waiting = asyncio.create_task(gov.acquire(Priority.BATCH))
    await settle()
    interactive = [gov.acquire_nowait() for _ in range(5)]
    with pytest.raises(QuotaExhaustedError):
        gov.acquire_nowait()
    assert not waiting.done()
    assert len(batch) + len(interactive) == 10
    waiting.cancel()


async def test_batch_cannot_jump_its_own_queue() -> None:
    clock = FakeClock()
    gov = confirmed(clock, remaining=0)
    waiting = asyncio.create_task(gov.acquire(Priority.BATCH))
    await settle()
    await clock.advance(30.01)
    permit = await waiting
    permit.observe(ok(10, 9))
    assert gov.acquire_nowait(Priority.BATCH).sent is False


async def test_cancelled_waiter_takes_nothing_and_blocks_no_one() -> None:
    clock = FakeClock()
    gov = confirmed(clock, remaining=0)
    first = asyncio.create_task(gov.acquire())
    second = asyncio.create_task(gov.acquire())
    await settle()
    first.cancel()
    await settle()
    assert gov.stats().waiters == 1
    await clock.advance(30.01)
    permit = await second
    assert first.cancelled()
    assert gov.stats().in_flight == 1
    permit.release()


async def test_waiter_cancelled_just_after_its_grant_gives_the_token_back() -> None:
    clock = FakeClock()
    gov = Governor(ONE_WINDOW, clock=clock)
    probe = gov.acquire_nowait()
    waiter = asyncio.create_task(gov.acquire())
    await settle()
    probe.mark_sent()
    probe.observe(ok(10, 1))  # grants the waiter synchronously ...
    waiter.cancel()  # ... which is cancelled before it could run
    await settle()
    assert waiter.cancelled()
    assert gov.stats().in_flight == 0
    gov.acquire_nowait()  # the one token left is still there


async def test_released_unsent_permit_refunds_and_sent_one_is_spent() -> None:
    gov = confirmed(FakeClock(), remaining=2)
    first, second = gov.acquire_nowait(), gov.acquire_nowait()
    with pytest.raises(QuotaExhaustedError):
        gov.acquire_nowait()
    first.release()
    first.release()  # idempotent
    third = gov.acquire_nowait()
    second.mark_sent()
    second.release()  # no answer: counted as spent
    third.release()
    assert gov.stats().windows[0].available == 1


async def test_deadline_raises_at_once_with_the_computed_wait() -> None:
    clock = FakeClock()
    gov = confirmed(clock, remaining=0)
    with pytest.raises(QuotaExhaustedError) as caught:
        await gov.acquire(max_wait=10.0)
    assert caught.value.retry_after == pytest.approx(30.0)
    expected = dt.datetime.fromtimestamp(clock.time() + 30.0, tz=dt.timezone.utc)
    assert abs((caught.value.retry_at - expected).total_seconds()) < 1e-3
    assert caught.value.retry_at.tzinfo is not None
    waiter = asyncio.create_task(gov.acquire(max_wait=31.0))
    await settle()
    assert not waiter.done()
    waiter.cancel()


async def test_an_absolute_deadline_bounds_the_wait_like_max_wait() -> None:
    clock = FakeClock()
    gov = confirmed(clock, remaining=0)  # the next slot comes in 30 s
    with pytest.raises(QuotaExhaustedError):
        await gov.acquire(deadline=clock.monotonic() + 10.0)
    with pytest.raises(QuotaExhaustedError):  # the earlier of the two bounds wins
        async with gov.slot(max_wait=60.0, deadline=clock.monotonic() + 10.0):
            pass
    waiter = asyncio.create_task(gov.acquire(deadline=clock.monotonic() + 31.0))
    await settle()
    assert not waiter.done()
    await clock.advance(31.0)  # past the reset
    await settle()
    assert waiter.done() and isinstance(waiter.result(), Permit)


async def test_deadline_counts_the_queue_ahead() -> None:
    clock = FakeClock()
    gov = confirmed(clock, remaining=0, max_wait=100.0)
    waiters = [asyncio.create_task(gov.acquire()) for _ in range(25)]
    await settle()
    # 25 ahead, 10 per window: the 26th fits in the third window from now.
    with pytest.raises(QuotaExhaustedError) as caught:
        await gov.acquire()
    assert caught.value.retry_after == pytest.approx(30.0 + 2 * 60.0)
    for waiter in waiters:
        waiter.cancel()
    await settle()


async def test_try_acquire_answers_at_once_and_never_jumps_the_queue() -> None:
    gov = confirmed(FakeClock(), remaining=4, reserve=0.5)  # 5 of 10 for interactive only
    assert gov.try_acquire(Priority.BATCH) is None  # 4 left, all inside the reserve
    batch_waiter = asyncio.create_task(gov.acquire(Priority.BATCH))
    await settle()
    assert not batch_waiter.done()
    # Interactive traffic may use the reserve, and no interactive waiter is ahead.
    permits = [gov.try_acquire() for _ in range(4)]
    assert all(isinstance(p, Permit) for p in permits)
    assert gov.try_acquire() is None  # spent: None, not an error
    assert gov.stats().waiters == 1
    batch_waiter.cancel()
    await settle()


async def test_acquire_nowait_respects_the_queue() -> None:
    clock = FakeClock()
    gov = Governor(ONE_WINDOW, clock=clock)
    probe = gov.acquire_nowait()
    waiter = asyncio.create_task(gov.acquire())
    await settle()
    probe.mark_sent()
    probe.observe(ok(10, 5))
    # The waiter was served first (FIFO), even before it ran.
    assert gov.stats().waiters == 0
    await waiter
    assert gov.stats().in_flight == 1
