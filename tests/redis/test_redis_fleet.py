"""The fleet queue (one FIFO queue per priority in Redis), the reserve lent, and the local
fallback holding its share while Redis is away."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any

import pytest

from gu1_async._errors import QuotaExhaustedError
from gu1_async.governor import Governor, Observation, Plan, Priority, Quota
from tests.redis.conftest import Backend

HOUR = 3600.0


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.005)


async def confirm(gov: Governor, limit: int, remaining: int, reset: float) -> None:
    permit = await gov.acquire(max_wait=5)
    permit.mark_sent()
    permit.observe(Observation(200, limit, remaining, reset))
    await settle()


async def test_waiters_of_several_workers_are_served_in_arrival_order(
    any_redis: Backend, any_client: Any
) -> None:
    stores = [any_redis.store(namespace="test:fifo") for _ in range(3)]
    govs = [Governor(Plan.custom(Quota(3, HOUR)), store=s) for s in stores]
    await confirm(govs[0], 3, 1, 3000.0)
    held = await govs[0].acquire(max_wait=0)  # the last token
    order: list[int] = []

    async def wait(i: int) -> None:
        permit = await govs[i % 3].acquire()
        order.append(i)
        permit.release()  # never sent: the token goes to the next in the queue

    waiters = []
    for i in (2, 0, 1, 2, 1, 0):  # arrivals alternate between the workers
        waiters.append(asyncio.create_task(wait(i)))
        await settle()  # each reaches Redis before the next
    assert sum(g.stats().waiters for g in govs) == 6
    assert int(await any_client.hget(stores[0].key, "qn") or 0) == 6
    held.release()
    await asyncio.wait_for(asyncio.gather(*waiters), 5)
    assert order == [2, 0, 1, 2, 1, 0]
    for store in stores:
        await store.aclose()
    assert await any_client.hget(stores[0].key, "n") == b"0"


async def test_interactive_tickets_go_before_batch_tickets(any_redis: Backend) -> None:
    a, b = (any_redis.store(namespace="test:prio") for _ in range(2))
    ga, gb = (Governor(Plan.custom(Quota(4, HOUR)), store=s) for s in (a, b))
    await confirm(ga, 4, 1, 3000.0)
    held = await ga.acquire(max_wait=0)
    order: list[str] = []

    async def wait(gov: Governor, priority: Priority, name: str) -> None:
        permit = await gov.acquire(priority)
        order.append(name)
        permit.release()

    tasks = [asyncio.create_task(wait(ga, Priority.BATCH, "batch-a"))]
    await settle()
    tasks.append(asyncio.create_task(wait(gb, Priority.INTERACTIVE, "web-b")))
    await settle()
    held.release()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert order == ["web-b", "batch-a"]
    await a.aclose()
    await b.aclose()


async def test_a_waiter_that_gives_up_leaves_the_queue_and_blocks_no_one(
    any_redis: Backend, any_client: Any
) -> None:
    a, b = (any_redis.store(namespace="test:gone") for _ in range(2))
    ga, gb = (Governor(Plan.custom(Quota(2, HOUR)), store=s) for s in (a, b))
    await confirm(ga, 2, 1, 3000.0)
    held = await ga.acquire(max_wait=0)
    first = asyncio.create_task(ga.acquire())
    await settle()
    second = asyncio.create_task(gb.acquire())
    await settle()
    first.cancel()
    await settle()
    assert int(await any_client.hget(a.key, "qn") or 0) == 1
    held.release()
    permit = await asyncio.wait_for(second, 5)
    permit.release()
    await a.aclose()
    await b.aclose()
    assert await any_client.hget(a.key, "n") == b"0"


async def test_waiting_workers_send_nothing_to_redis_until_their_grant(
    any_redis: Backend,
) -> None:
    stores = [any_redis.store(namespace="test:quiet") for _ in range(4)]
    govs = [Governor(Plan.custom(Quota(2, HOUR)), store=s) for s in stores]
    await confirm(govs[0], 2, 1, 3000.0)
    held = await govs[0].acquire(max_wait=0)
    waiters = [asyncio.create_task(g.acquire()) for g in govs[1:] for _ in range(5)]
    await settle()
    before = [s.round_trips for s in stores]
    await asyncio.sleep(0.3)  # 15 waiters queued: nothing is polled meanwhile
    assert [s.round_trips for s in stores] == before
    held.release()  # the queue's head (whichever reached Redis first) is granted
    done, pending = await asyncio.wait(waiters, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    assert len(done) == 1
    done.pop().result().release()
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for store in stores:
        await store.aclose()


async def test_the_unused_reserve_is_lent_to_batch_late_in_the_window(
    any_redis: Backend,
) -> None:
    store = any_redis.store(namespace="test:lend")
    gov = Governor(Plan.custom(Quota(8, 1.0)), store=store, reserve=0.5, lend=0.5)
    await confirm(gov, 8, 8, 0.9)  # 8 left, the reset 0.9 s away: lending starts at 0.5 s
    taken = []
    for _ in range(4):  # batch may use 8 - 4 now
        taken.append(await gov.acquire(Priority.BATCH, max_wait=0))
    with pytest.raises(QuotaExhaustedError) as caught:
        await gov.acquire(Priority.BATCH, max_wait=0)
    # Redis computes when the shrinking reserve lets one more batch request in: with 4 of
    # the 8 in flight, once the part held back (4 * r / 0.5) falls below 4, r < 0.5 s,
    # about 0.4 s from now; long before the reset (0.9 s), which would be the wait without
    # lending.
    assert 0.2 < caught.value.retry_after < 0.45
    more = await gov.acquire(Priority.BATCH)  # granted by the head's timer, no polling
    assert gov.stats().windows[0].confirmed  # still the window the header described
    for permit in (*taken, more):
        permit.release()
    await store.aclose()


async def test_local_fallback_holds_its_share_of_what_was_left_and_rejoins_once(
    any_redis: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """4 workers, Redis killed mid-window with 120 of 200 left: each spends at most a
    quarter of what its last Redis answer left, whatever the headers say; no 429 (at
    most 1 %); nothing is lost; rejoining is logged once per worker.

    Deterministic: the window (60 s) cannot reset during the test, and Redis dies between
    two bursts of traffic, once every worker's last answer is up to date (a kill in the
    middle of traffic leaves each worker's view a few requests stale: the benchmark
    measures what that costs)."""
    limit, period = 200, 60.0
    root = any_redis.store(on_store_error="local", local_share=0.25, timeout=0.3)
    stores = [root.bind("test:down")] + [
        any_redis.store(namespace="test:down", on_store_error="local", timeout=0.3)
        for _ in range(3)
    ]
    govs = [Governor(Plan.custom(Quota(limit, period)), store=s) for s in stores]
    loop = asyncio.get_running_loop()
    window = {"start": None, "count": 0}
    statuses: list[int] = []
    sent_degraded = [0] * 4
    share_of = [0] * 4
    spent = [False] * 4  # the worker was refused while degraded: its share is spent

    def serve() -> Observation:
        now = loop.time()
        if window["start"] is None or now >= window["start"] + period:
            window["start"], window["count"] = now, 0
        window["count"] += 1
        left = limit - window["count"]
        reset = window["start"] + period - now
        status = 200 if left >= 0 else 429
        if window["count"] >= 80:
            mid_window.set()
        statuses.append(status)
        return Observation(status, limit, max(0, left), reset)

    stop = asyncio.Event()
    mid_window = asyncio.Event()
    traffic = asyncio.Event()
    traffic.set()

    async def task(i: int) -> None:
        while not stop.is_set():
            await traffic.wait()
            local = stores[i].degraded
            try:
                permit = await govs[i].acquire(max_wait=0)
            except QuotaExhaustedError:
                spent[i] = spent[i] or (local and stores[i].degraded)
                await asyncio.sleep(0.01)
                continue
            permit.mark_sent()
            cap = stores[i]._share._caps[0]  # (the share seeded, and until when)
            if local and stores[i].degraded and cap is not None and loop.time() < cap[1]:
                share_of[i] = cap[0]  # granted by the fallback, in the window Redis left
                sent_degraded[i] += 1
            await asyncio.sleep(0.01)
            permit.observe(serve())

    caplog.set_level(logging.WARNING, logger="gu1_async.governor.redis")
    tasks = [asyncio.create_task(task(i)) for i in range(4) for _ in range(3)]
    await mid_window.wait()
    traffic.clear()  # the burst's last requests end, and reach Redis
    await until(lambda: all(g.stats().in_flight == 0 for g in govs))
    for store in stores:
        await store._link.settle(1.0)
        await store.aestimate(loop.time(), 0, False)  # each worker's last answer, fresh
    left = limit - window["count"]
    any_redis.stop()  # Redis dies mid-window
    traffic.set()
    await until(lambda: all(spent))  # every worker spent its share on its own
    assert root.degraded  # seen on the store the user built, not only the bound copy
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)  # every call ended: nothing lost
    assert statuses.count(429) <= len(statuses) // 100
    assert all(sent <= share for sent, share in zip(sent_degraded, share_of, strict=True))
    assert all(share <= 0.25 * left for share in share_of)
    assert sum(sent_degraded) <= left
    any_redis.start()
    for store in stores:
        store._next_probe = 0.0  # rejoin now (instead of after probe_interval)
    for gov in govs:
        (await gov.acquire(max_wait=5)).release()
    rejoined = [r for r in caplog.records if "rejoined" in r.getMessage()]
    assert len(rejoined) == 4  # once per worker
    for store in (root, *stores[1:]):
        await store.aclose()


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Until `condition` holds (what other tasks and the servers do meanwhile)."""

    async def poll() -> None:
        for _ in itertools.count():
            if condition():
                return
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), seconds)
