"""The governor over a store whose operations are coroutines that suspend (like Redis)."""

from __future__ import annotations

import asyncio

import pytest

from gu1_async._clock import FakeClock, settle
from gu1_async._errors import ConfigurationError, GovernorStoreError, QuotaExhaustedError
from gu1_async.governor import Governor, MemoryStore, Observation, Plan, Quota

from .sim import FixedWindowServer


class RoundTripStore(MemoryStore):
    """The memory store, but every operation costs a round trip (a suspension)."""

    is_local = False

    def __init__(self) -> None:
        super().__init__()
        self.round_trips = 0
        self.broken = False

    async def _trip(self) -> None:
        await asyncio.sleep(0)
        self.round_trips += 1
        if self.broken:
            raise GovernorStoreError("store unreachable")

    async def atake(self, now: float, reserved: bool, ahead: int) -> tuple[bool, float]:
        await self._trip()
        return await super().atake(now, reserved, ahead)

    async def aestimate(self, now: float, ahead: int, reserved: bool) -> float:
        await self._trip()
        return await super().aestimate(now, ahead, reserved)

    async def aend(self, now: float, sent: bool, observation: Observation | None) -> None:
        await self._trip()
        await super().aend(now, sent, observation)

    async def arecord(self, now: float, observation: Observation) -> None:
        await self._trip()
        await super().arecord(now, observation)

    async def apause(self, now: float, seconds: float) -> bool:
        await self._trip()
        return await super().apause(now, seconds)


async def test_remote_store_serves_fifo_within_the_windows_with_one_timer() -> None:
    clock = FakeClock(start=0.0)
    server = FixedWindowServer([(4, 10.0), (10, 60.0)], origin=3.0)
    store = RoundTripStore()
    gov = Governor(Plan.custom(Quota(4, 10), Quota(10, 60)), clock=clock, store=store)
    order: list[int] = []

    async def request(i: int) -> None:
        async with gov.slot() as permit:
            order.append(i)
            permit.mark_sent()
            permit.observe(server.handle(clock.monotonic()))

    tasks = [asyncio.create_task(request(i)) for i in range(25)]
    timers = 0
    while not all(t.done() for t in tasks):
        timers = max(timers, clock.pending_timers())
        await clock.advance(1.0)
    await asyncio.gather(*tasks)
    assert order == list(range(25))
    assert server.refused == 0
    assert server.within_limits()
    assert timers == 1
    assert store.round_trips > 25
    await settle()
    assert gov.stats().in_flight == 0


async def test_remote_store_cancelled_waiter_takes_nothing() -> None:
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.custom(Quota(2, 10)), clock=clock, store=RoundTripStore())
    probe = await gov.acquire()
    first = asyncio.create_task(gov.acquire())
    second = asyncio.create_task(gov.acquire())
    await settle()
    first.cancel()
    probe.mark_sent()
    probe.observe(Observation(200, 2, 1, 10.0))
    permit = await second
    assert first.cancelled()
    await settle()
    assert gov.stats().in_flight == 1
    assert gov.stats().waiters == 0
    permit.release()


async def test_remote_store_deadline_and_pause() -> None:
    clock = FakeClock(start=0.0)
    gov = Governor(Plan.custom(Quota(5, 60)), clock=clock, store=RoundTripStore())
    probe = await gov.acquire()
    probe.mark_sent()
    probe.observe(Observation(429, 5, 0, 20.0, retry_after=8.0))
    await settle()
    assert (gov.stats().pauses, gov.stats().rate_limited) == (1, 1)
    with pytest.raises(QuotaExhaustedError) as caught:
        await gov.acquire(max_wait=5.0)
    assert caught.value.retry_after == pytest.approx(20.0)  # pause 8 s, window 20 s
    with pytest.raises(ConfigurationError):
        gov.acquire_nowait()


async def test_remote_store_failure_reaches_waiters_instead_of_hanging() -> None:
    clock = FakeClock(start=0.0)
    store = RoundTripStore()
    gov = Governor(Plan.custom(Quota(1, 60)), clock=clock, store=store)
    probe = await gov.acquire()
    waiter = asyncio.create_task(gov.acquire())
    await settle()
    store.broken = True
    probe.release()  # the refund fails too (logged); the pump's next take fails
    with pytest.raises(GovernorStoreError):
        await waiter
    with pytest.raises(GovernorStoreError):
        await gov.acquire()


class LeasedStore(RoundTripStore):
    """A remote store with leases: counts the heartbeats that keep them."""

    heartbeat = 5.0

    def __init__(self) -> None:
        super().__init__()
        self.beats: list[float] = []

    async def aheartbeat(self, now: float) -> None:
        await self._trip()
        self.beats.append(now)


async def test_the_lease_heartbeat_runs_only_while_permits_are_out() -> None:
    clock = FakeClock(start=0.0)
    store = LeasedStore()
    gov = Governor(Plan.custom(Quota(100, 3600)), clock=clock, store=store)
    first = await gov.acquire()
    first.mark_sent()
    first.observe(Observation(200, 100, 99, 3000.0))  # confirms the window
    await settle()
    await clock.advance(20.0)
    assert store.beats == []  # the only permit came back before the first beat was due
    permits = [await gov.acquire() for _ in range(2)]
    await clock.advance(12.0)  # a request far longer than a beat
    await settle()
    assert store.beats == [25.0, 30.0]
    permits[0].release()
    await clock.advance(5.0)
    await settle()
    assert store.beats[-1] == 35.0  # one still out
    permits[1].release()
    await clock.advance(60.0)
    await settle()
    assert store.beats == [25.0, 30.0, 35.0]  # none while idle


async def test_a_failing_heartbeat_is_not_raised_and_does_not_stop_the_beat() -> None:
    clock = FakeClock(start=0.0)
    store = LeasedStore()
    gov = Governor(Plan.custom(Quota(100, 3600)), clock=clock, store=store)
    permit = await gov.acquire()
    store.broken = True
    await clock.advance(11.0)
    await settle()
    store.broken = False
    await clock.advance(5.0)
    await settle()
    assert store.beats == [15.0]  # 5 and 10 failed quietly; the next one went through
    permit.release()
