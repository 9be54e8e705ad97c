"""The RedisStore on a real Redis Cluster with replicas: a master killed or failed over
while calls run costs store errors ("raise") or a spell on the local share ("local"),
never a lost or hung call, and the store finds the slot's new master by itself."""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster

from gu1_async._errors import GovernorStoreError
from gu1_async.governor import Governor, Observation, Plan, Quota
from gu1_async.governor.redis import RedisStore
from tests.redis._servers import REDIS_CLI, REDIS_SERVER, Cluster

HOUR = 3600.0
TASKS = 4
PLENTY = Plan.custom(Quota(1_000_000, HOUR))


@pytest.fixture
def replicated(tmp_path: Path) -> Iterator[Cluster]:
    """3 masters, a replica each, a master failed over 1 s after it stops answering."""
    if REDIS_SERVER is None or REDIS_CLI is None:
        pytest.fail("no redis-server/redis-cli on PATH (scripts/test.sh installs Debian's)")
    cluster = Cluster(tmp_path, masters=3, replicas=1, node_timeout=1000)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Until `condition` holds (a real cluster's pace: failovers take about a second)."""

    async def poll() -> None:
        for _ in itertools.count():
            if condition():
                return
            await asyncio.sleep(0.01)  # (the servers' state: no event to wait on)

    await asyncio.wait_for(poll(), seconds)


class Run:
    """TASKS tasks sending through one governor until told to stop; every call counted."""

    def __init__(self, gov: Governor) -> None:
        self.gov = gov
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.stop = asyncio.Event()
        self.tasks = [asyncio.create_task(self._task()) for _ in range(TASKS)]

    async def _task(self) -> None:
        while not self.stop.is_set():
            self.outcomes["calls"] += 1
            try:
                permit = await self.gov.acquire(max_wait=5)
            except GovernorStoreError:
                self.outcomes["store errors"] += 1
                await asyncio.sleep(0.01)
                continue
            self.outcomes["granted"] += 1
            permit.mark_sent()
            await asyncio.sleep(0.002)
            permit.observe(Observation(200))

    async def until(self, outcome: str, count: int, seconds: float = 30.0) -> None:
        """Until `outcome` has happened `count` more times (a real cluster's pace)."""
        target = self.outcomes[outcome] + count
        await until(lambda: self.outcomes[outcome] >= target, seconds)

    async def finish(self) -> None:
        """Every task ends: no call hangs."""
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), 10)
        assert self.outcomes["calls"] == self.outcomes["granted"] + self.outcomes["store errors"]


async def test_a_killed_master_costs_store_errors_until_its_replica_takes_over(
    replicated: Cluster,
) -> None:
    store = RedisStore.from_url(replicated.url, cluster=True, namespace="fo:raise", timeout=0.5)
    run = Run(Governor(PLENTY, store=store))
    try:
        await run.until("granted", 50)
        master = replicated.master_of(store.key)
        master.kill()  # mid-run: calls in flight, a grant channel open on it
        await run.until("store errors", 1)
        await run.until("granted", 50)  # back on Redis: the replica, found by the store
        await run.finish()
        assert replicated.master_of(store.key) is not master
        assert store._link.refreshes >= 1  # type: ignore[union-attr]
    finally:
        run.stop.set()
        await store.aclose()


async def test_a_killed_master_costs_nothing_on_the_local_share(replicated: Cluster) -> None:
    store = RedisStore.from_url(
        replicated.url,
        cluster=True,
        namespace="fo:local",
        on_store_error="local",
        timeout=0.5,
        probe_interval=0.2,
    )
    run = Run(Governor(PLENTY, store=store))
    seen_degraded = False
    try:
        await run.until("granted", 50)
        replicated.master_of(store.key).kill()
        await until(lambda: store.degraded)
        seen_degraded = True
        await until(lambda: not store.degraded)  # probing every 0.2 s until the replica answers
        await run.until("granted", 50)
        await run.finish()
        assert seen_degraded and run.outcomes["store errors"] == 0
    finally:
        run.stop.set()
        await store.aclose()


async def test_waiters_in_the_fleet_queue_are_served_across_a_manual_failover(
    replicated: Cluster,
) -> None:
    """The old master ends the grant channel (sunsubscribe); the workers open it again on
    the new master, queue again, and every waiter is served."""
    stores = [
        RedisStore.from_url(replicated.url, cluster=True, namespace="fo:fleet", timeout=1.0)
        for _ in range(2)
    ]
    govs = [Governor(Plan.custom(Quota(2, HOUR)), store=s) for s in stores]
    probe = await govs[0].acquire(max_wait=5)
    probe.mark_sent()
    probe.observe(Observation(200, 2, 1, 3000.0))
    held = await govs[0].acquire(max_wait=5)  # the last token
    served: list[int] = []

    async def wait(i: int) -> None:
        permit = await govs[i % 2].acquire()
        served.append(i)
        permit.release()  # never sent: the token goes to the next in the queue

    waiters = [asyncio.create_task(wait(i)) for i in range(4)]
    try:
        await until(lambda: sum(s._fleet.waiting for s in stores) == 4)
        old = replicated.master_of(stores[0].key)
        new = await asyncio.to_thread(replicated.fail_over, old)
        assert replicated.master_of(stores[0].key) is new
        # The old master ended both grant channels: each store opens its own again on
        # the new master and its waiters queue there again.
        await until(lambda: all(s._fleet._opened == 2 for s in stores))
        await until(lambda: sum(s._fleet.waiting for s in stores) == 4)
        held.release()
        await asyncio.wait_for(asyncio.gather(*waiters), 20)
        assert sorted(served) == [0, 1, 2, 3]
    finally:
        for task in waiters:
            task.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        for store in stores:
            await store.aclose()


async def test_a_redis_cluster_client_of_your_own_works_and_stays_yours(
    redis_cluster: Cluster,
) -> None:
    """`RedisStore(RedisCluster(...))`, decoding replies as it likes: the store reads its
    own replies undecoded, finds the slot's master, and leaves the client open."""
    redis_cluster.flush()
    client = RedisCluster.from_url(redis_cluster.url, decode_responses=True, socket_timeout=2)
    store = RedisStore(client, namespace="own:client")
    gov = Governor(Plan.custom(Quota(3, HOUR)), store=store)
    permit = await gov.acquire(max_wait=0)
    permit.mark_sent()
    permit.observe(Observation(200, 3, 2, 3000.0))
    await store._link.settle(2.0)  # the answer reaches Redis (a background task)
    for _ in range(2):
        (await gov.acquire(max_wait=0)).release()
    assert gov.stats().windows[0].confirmed and store.fleet
    master = redis_cluster.master_of(store.key)
    assert list(store._link._links) == [f"127.0.0.1:{master.port}"]  # type: ignore[union-attr]
    await store.aclose()
    assert await client.hget(store.key, "n") == "0"  # still open: the caller's to close
    await client.aclose()
