"""RedisStore against a real redis-server: shared windows, observations, pauses, expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from gu1_async._errors import ConfigurationError, GovernorStoreError, QuotaExhaustedError
from gu1_async.governor import Governor, Observation, Plan, Priority, Quota
from gu1_async.governor._redis_lua import MAX_CONNECTIONS
from gu1_async.governor.redis import RedisStore
from tests.redis.conftest import RedisServer

HOUR = 3600.0
DAY = 86400.0

MakeGovernor = Callable[..., Governor]


@pytest.fixture
async def workers(redis_server: RedisServer) -> AsyncIterator[MakeGovernor]:
    """Builds governors that act as separate workers sharing one namespace."""
    stores: list[RedisStore] = []

    def make(
        plan: Plan, namespace: str = "test:fp1", reserve: float = 0.0, lease: float = 120.0
    ) -> Governor:
        store = RedisStore.from_url(redis_server.url, namespace=namespace, lease=lease)
        stores.append(store)
        return Governor(plan, reserve=reserve, store=store)

    yield make
    await asyncio.sleep(0.05)  # let background store updates finish
    for store in stores:
        await store.aclose()


def crashes(gov: Governor) -> Governor:
    """A worker that will stop talking to Redis with permits out, as a killed process
    does: no heartbeat keeps its lease."""
    gov._store.heartbeat = None  # type: ignore[attr-defined]
    return gov


async def settle_store() -> None:
    """Permit ends reach Redis from a background task: give it a moment."""
    for _ in range(20):
        await asyncio.sleep(0.005)


async def confirm(governor: Governor, limit: int, remaining: int, reset_after: float) -> None:
    """Send the probe and answer it with the given window headers."""
    permit = await governor.acquire(max_wait=0)
    permit.mark_sent()
    permit.observe(Observation(200, limit, remaining, reset_after))
    await settle_store()


async def take_all(governor: Governor, priority: Priority = Priority.INTERACTIVE) -> int:
    """Acquire (and send, without headers) until refused; how many were granted."""
    granted = 0
    while True:
        try:
            permit = await governor.acquire(priority, max_wait=0)
        except QuotaExhaustedError:
            return granted
        granted += 1
        permit.mark_sent()
        permit.observe(Observation(200))
        await settle_store()


async def field_names(client: Redis, key: str = "gu1:gov:{test:fp1}:state") -> list[bytes]:
    """The fields of a state hash (the client does not decode responses)."""
    return [f if isinstance(f, bytes) else f.encode() for f in await client.hkeys(key)]


async def take_all_of(governor: Governor, most: int) -> int:
    """Acquire (and send, answered without a window) up to `most` times; how many granted."""
    granted = 0
    for _ in range(most):
        permit = await governor.acquire(max_wait=1)
        granted += 1
        permit.mark_sent()
        permit.observe(Observation(200))
        await settle_store()
    return granted


async def test_first_request_probes_and_other_workers_wait_for_its_answer(
    workers: MakeGovernor,
) -> None:
    plan = Plan.custom(Quota(10, 60))
    a, b = workers(plan), workers(plan)
    probe = await a.acquire(max_wait=0)
    with pytest.raises(QuotaExhaustedError) as caught:
        await b.acquire(max_wait=0)
    assert 0 < caught.value.retry_after < 1  # only the probe's answer can help: recheck
    waiting = asyncio.create_task(b.acquire(max_wait=5))
    probe.mark_sent()
    probe.observe(Observation(200, 10, 9, 50.0))
    permit = await waiting
    permit.release()
    await settle_store()
    window = b.stats().windows[0]
    assert (window.confirmed, window.from_header, window.available) == (True, True, 9)


async def test_observation_from_one_worker_is_seen_by_the_others(workers: MakeGovernor) -> None:
    plan = Plan.custom(Quota(100, HOUR))
    a, b, c = workers(plan), workers(plan), workers(plan)
    await confirm(a, 100, 60, 1800.0)
    # Another client on the key spent more: one header from worker b corrects everyone.
    b.observe(Observation(200, 100, 5, 1799.0))
    await settle_store()
    assert await take_all(c) == 5
    with pytest.raises(QuotaExhaustedError) as caught:
        await a.acquire(max_wait=10)
    assert caught.value.retry_after == pytest.approx(1799.0, abs=5.0)


async def test_a_header_naming_another_limit_renames_the_shared_window(
    workers: MakeGovernor,
) -> None:
    a, b = workers(Plan.custom(Quota(100, 60))), workers(Plan.custom(Quota(100, 60)))
    await confirm(a, 7, 6, 40.0)  # the plan guessed 100; the server says 7
    assert await take_all(b) == 6
    assert b.stats().windows[0].limit == 7


async def test_hour_and_day_windows_share_one_atomic_take(
    workers: MakeGovernor, redis_client: Redis
) -> None:
    plan = Plan.custom(Quota(3, HOUR), Quota(5, DAY))
    a, b = workers(plan), workers(plan)
    await confirm(a, 3, 2, 3000.0)
    assert await take_all(b) == 2  # the hour binds first
    hour, day = b.stats().windows
    assert (hour.available, day.available) == (0, 2)
    with pytest.raises(QuotaExhaustedError) as caught:
        await a.acquire(max_wait=60)
    assert caught.value.retry_after == pytest.approx(3000.0, abs=5.0)
    # The key lives a little past the longest window, not for ever.
    ttl = await redis_client.pttl("gu1:gov:{test:fp1}:state")
    assert DAY * 1000 < ttl <= (DAY + 1) * 1000


async def test_day_window_binds_before_the_hour(workers: MakeGovernor) -> None:
    plan = Plan.custom(Quota(10, HOUR), Quota(4, DAY))
    a, b = workers(plan), workers(plan)
    await confirm(a, 4, 3, 50000.0)
    assert await take_all(b) == 3
    with pytest.raises(QuotaExhaustedError) as caught:
        await a.acquire(max_wait=60)
    assert caught.value.retry_after == pytest.approx(50000.0, abs=5.0)
    assert [w.available for w in a.stats().windows] == [6, 0]


async def test_a_429_seen_by_one_worker_pauses_every_worker(workers: MakeGovernor) -> None:
    plan = Plan.custom(Quota(50, 60))
    a, b = workers(plan), workers(plan)
    await confirm(a, 50, 40, 55.0)
    permit = await a.acquire(max_wait=0)
    permit.mark_sent()
    permit.observe(Observation(429, 50, 0, 55.0, retry_after=20.0))
    await settle_store()
    with pytest.raises(QuotaExhaustedError) as caught:
        await b.acquire(max_wait=5)
    assert caught.value.retry_after == pytest.approx(55.0, abs=2.0)  # the window is spent too
    assert b.stats().paused_for == pytest.approx(20.0, abs=2.0)
    assert a.stats().pauses == 1


async def test_reserve_is_shared_and_held_for_interactive_work(workers: MakeGovernor) -> None:
    plan = Plan.custom(Quota(10, 60))
    a, b = workers(plan, reserve=0.3), workers(plan, reserve=0.3)
    await confirm(a, 10, 10, 50.0)
    assert await take_all(b, Priority.BATCH) == 7  # 3 of 10 held back
    assert await take_all(a, Priority.INTERACTIVE) == 3


async def test_namespaces_are_separate_budgets(
    redis_server: RedisServer, redis_client: Redis
) -> None:
    root = RedisStore.from_url(redis_server.url)
    prod, test = root.bind("live:abc123"), root.bind("test:def456")
    gov_prod = Governor(Plan.custom(Quota(2, 60)), store=prod)
    gov_test = Governor(Plan.custom(Quota(2, 60)), store=test)
    assert await take_all(gov_prod) == 2
    assert await take_all(gov_test) == 2
    keys = sorted(await redis_client.keys("gu1:gov:*"))
    assert keys == [b"gu1:gov:{live:abc123}:state", b"gu1:gov:{test:def456}:state"]
    assert "abc123" in repr(prod) and "redis://" not in repr(prod)
    await root.aclose()


async def test_keys_expire_a_little_past_the_longest_window(
    workers: MakeGovernor, redis_client: Redis
) -> None:
    gov = workers(Plan.custom(Quota(5, 0.2), Quota(20, 0.4)))
    probe = await gov.acquire(max_wait=1)
    probe.mark_sent()
    probe.observe(Observation(200))
    await settle_store()
    key = "gu1:gov:{test:fp1}:state"
    assert 400 < await redis_client.pttl(key) <= 1400
    # A permit in flight keeps the key alive for the worker's lease.
    permit = await gov.acquire(max_wait=1)
    assert 120_000 < await redis_client.pttl(key) <= 121_000
    permit.release()
    await settle_store()
    assert await redis_client.pttl(key) <= 1400
    await asyncio.sleep(1.6)
    assert await redis_client.exists(key) == 0


async def test_a_dead_workers_tokens_are_released_after_its_lease(
    workers: MakeGovernor, redis_client: Redis
) -> None:
    plan = Plan.custom(Quota(10, 60))
    dead = crashes(workers(plan, lease=0.3))
    alive = workers(plan)
    await confirm(alive, 10, 10, 50.0)
    held = [await dead.acquire(max_wait=0) for _ in range(3)]  # never ended: a crash
    assert len(held) == 3
    assert dead.stats().windows[0].in_flight == 3
    await asyncio.sleep(0.5)
    # The dead worker's three requests may have been counted by the server: spent, and
    # no longer in flight (else they would shrink every later window too).
    assert await take_all(alive) == 7
    window = alive.stats().windows[0]
    assert (window.in_flight, window.available) == (0, 0)
    # The dead worker's lease is gone from the state hash (and the live one has none left).
    assert sorted(await field_names(redis_client)) == [b"n", b"s"]


async def test_a_live_worker_keeps_its_tokens_past_its_lease(
    workers: MakeGovernor, redis_client: Redis
) -> None:
    # Requests longer than the lease: the governor's heartbeat (every lease / 3 while
    # permits are out) keeps them, so the lease only bounds how long a dead worker holds
    # the budget, not how long a request may take.
    plan = Plan.custom(Quota(10, 60))
    slow = workers(plan, lease=0.6)
    alive = workers(plan)
    await confirm(alive, 10, 10, 50.0)
    held = [await slow.acquire(max_wait=0) for _ in range(3)]
    await asyncio.sleep(1.5)  # 2.5 leases
    assert await take_all(alive) == 7
    # Still out, not released (a released token would be spent and not in flight).
    assert alive.stats().windows[0].in_flight == 3
    assert [f for f in await field_names(redis_client) if f.startswith(b"k:")]
    for permit in held:
        permit.release()  # never sent: back to the window
    await settle_store()
    assert await take_all(alive) == 3


async def test_a_dead_worker_is_released_beside_a_sliding_count(
    workers: MakeGovernor, redis_client: Redis
) -> None:
    # A window no header describes keeps its sliding count in per-slice hash fields: the
    # lease sweep must read only the leases among them.
    plan = Plan.custom(Quota(10, 0.64))  # 20 ms slices
    dead, alive = crashes(workers(plan, lease=0.3)), workers(plan)
    assert await take_all_of(alive, 2) == 2  # answered without a window: blind from now
    held = await dead.acquire(max_wait=0)
    await asyncio.sleep(0.05)
    assert await take_all_of(alive, 1) == 1  # a later slice: the first is written out
    assert any(f.startswith(b"r1:") for f in await field_names(redis_client))
    await asyncio.sleep(0.35)  # the dead worker's lease runs out
    assert await take_all_of(alive, 1) == 1
    assert not any(f.startswith(b"k:") for f in await field_names(redis_client))
    assert alive.stats().windows[0].in_flight == 0
    del held


async def test_scripts_are_reloaded_after_a_script_flush(
    workers: MakeGovernor, redis_client: Redis
) -> None:
    gov = workers(Plan.custom(Quota(5, 60)))
    await confirm(gov, 5, 5, 50.0)
    await redis_client.script_flush()
    assert await take_all(gov) == 5


async def test_a_client_that_decodes_responses_works_too(redis_server: RedisServer) -> None:
    # The state comes back binary: the store reads it undecoded whatever the client says.
    client = Redis.from_url(redis_server.url, decode_responses=True, socket_timeout=2.0)
    store = RedisStore(client, namespace="test:fp2")
    gov = Governor(Plan.custom(Quota(3, 60)), store=store)
    await confirm(gov, 3, 2, 50.0)
    assert await take_all(gov) == 2
    window = gov.stats().windows[0]
    assert (window.limit, window.available, window.confirmed) == (3, 0, True)
    await store.aclose()  # the store's own connections; the client is ours to close
    await client.aclose()


async def test_bad_arguments_are_refused(redis_server: RedisServer) -> None:
    with pytest.raises(ConfigurationError):
        RedisStore.from_url(redis_server.url, on_store_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RedisStore.from_url(redis_server.url, local_share=0.0)
    with pytest.raises(ConfigurationError):
        RedisStore.from_url(redis_server.url, namespace="has space")
    store = RedisStore.from_url(redis_server.url)
    with pytest.raises(ConfigurationError):
        store.take(0.0, False)
    await store.aclose()


async def test_closing_sends_the_give_back_of_a_permit_granted_as_its_waiter_was_cancelled(
    redis_server: RedisServer, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RedisStore.from_url(redis_server.url, namespace="test:close")
    gov = Governor(Plan.custom(Quota(1, HOUR)), store=store)
    await confirm(gov, 1, 1, 3000.0)
    held = await gov.acquire(max_wait=0)  # the only token
    waiter = asyncio.create_task(gov.acquire())
    await settle_store()  # queued in Redis: its ticket waits for a grant
    granted = asyncio.Event()
    fleet = store._fleet
    on_message = fleet._on_message

    def grant_as_cancelled(data: bytes) -> None:
        on_message(data)
        if data.startswith(b"g "):
            waiter.cancel()  # the waiter is cancelled after the grant, before it runs
            granted.set()

    monkeypatch.setattr(fleet, "_on_message", grant_as_cancelled)
    held.release()  # never sent: the token goes back, and Redis grants it to the waiter
    await granted.wait()
    # The waiter has now given its permit back, through a background task not yet started.
    await store.aclose()
    # The event loop ends here (as asyncio.run would): nothing left runs any more.
    others = asyncio.all_tasks() - {asyncio.current_task()}
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    assert waiter.cancelled()
    assert await redis_client.hget(store.key, "n") == b"0"  # nothing left in flight


async def test_a_take_cancelled_on_its_way_to_redis_is_given_back(
    redis_server: RedisServer, redis_client: Redis
) -> None:
    store = RedisStore.from_url(redis_server.url, namespace="test:cancel")
    gov = Governor(Plan.custom(Quota(5, HOUR)), store=store)
    await confirm(gov, 5, 5, 3000.0)
    for _ in range(3):
        acquiring = asyncio.create_task(gov.acquire())
        await asyncio.sleep(0)  # the take is sent: Redis grants it whatever happens here
        acquiring.cancel()  # ... and its answer never reaches the governor
        with pytest.raises(asyncio.CancelledError):
            await acquiring
    await store.aclose()
    assert await redis_client.hget(store.key, "n") == b"0"  # every grant was given back
    assert sorted(await field_names(redis_client, store.key)) == [b"n", b"s"]  # no lease left


async def test_a_take_that_timed_out_is_given_back_when_redis_answers_late(
    redis_server: RedisServer, redis_client: Redis
) -> None:
    store = RedisStore.from_url(redis_server.url, namespace="test:late", timeout=0.3)
    gov = Governor(Plan.custom(Quota(5, HOUR)), store=store)
    await confirm(gov, 5, 5, 3000.0)
    # A script that keeps Redis busy for 0.45 s: the take queues behind it and times out.
    busy = "local t = redis.call('TIME') repeat local u = redis.call('TIME') "
    busy += "until (u[1] - t[1]) * 1000000 + (u[2] - t[2]) > 450000 return 1"
    blocking = asyncio.create_task(redis_client.eval(busy, 0))
    await asyncio.sleep(0.05)  # the busy script is running
    with pytest.raises(GovernorStoreError, match="Timeout"):
        await gov.acquire(max_wait=0)
    await blocking
    await store.aclose()  # the late answer (granted) was read, and the token given back
    assert await redis_client.hget(store.key, "n") == b"0"
    assert sorted(await field_names(redis_client, store.key)) == [b"n", b"s"]


async def test_a_burst_of_calls_shares_a_few_connections(
    redis_server: RedisServer, redis_client: Redis
) -> None:
    store = RedisStore.from_url(redis_server.url, namespace="test:burst")
    gov = Governor(Plan.custom(Quota(100, HOUR)), store=store)
    await confirm(gov, 100, 100, 3000.0)
    permits = await asyncio.gather(*(gov.acquire(max_wait=0) for _ in range(60)))
    for permit in permits:
        permit.release()  # 60 ends at once, from background tasks
    await settle_store()
    clients = (await redis_client.info("clients"))["connected_clients"]
    assert clients <= MAX_CONNECTIONS + 2  # the store's, its grant channel, and this test's
    await store.aclose()
    assert await redis_client.hget(store.key, "n") == b"0"


class _PoolLess:
    """A client with `execute_command` and no connection pool (a wrapper, say)."""

    def __init__(self, client: Redis) -> None:
        self._client = client

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        return await self._client.execute_command(*args, **options)


async def test_a_client_without_a_connection_pool_is_called_through_execute_command(
    redis_server: RedisServer, redis_client: Redis
) -> None:
    client: Any = _PoolLess(redis_client)
    store = RedisStore(client, namespace="test:poolless", timeout=1.0)
    gov = Governor(Plan.custom(Quota(3, 60)), store=store)
    await confirm(gov, 3, 3, 50.0)
    await redis_client.script_flush()  # NOSCRIPT: loaded again through the client
    assert await take_all(gov) == 3
    await store.aclose()
    assert await redis_client.hget(store.key, "n") == b"0"
    assert not store._link._all  # no connection of its own
