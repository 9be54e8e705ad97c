"""Several Gu1Clients (as separate workers would) share one key's budget through Redis."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from gu1_async import ApiKey, Gu1Client, Plan, Quota
from gu1_async.governor.redis import RedisStore
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server


async def test_workers_share_one_budget_without_429s(
    redis_server: object, redis_client: Redis
) -> None:
    url = redis_server.url  # type: ignore[attr-defined]
    # 6 requests per window; a window lasts 0.3 s real. Three workers each believe the
    # whole quota is theirs; only the shared store keeps them from tripling it.
    async with FakeGu1Server(plan=[(6, 3600.0)], time_scale=3600 / 0.3) as server:
        plan = Plan.custom(Quota(6, 0.3))
        stores = [RedisStore.from_url(url) for _ in range(3)]
        clients = [
            Gu1Client(DEFAULT_KEY, base_url=server.url, plan=plan, store=store) for store in stores
        ]
        try:
            await asyncio.gather(
                *(client.request("GET", "/entities") for client in clients for _ in range(8))
            )
        finally:
            for client in clients:
                await client.aclose()
            for store in stores:
                await store.aclose()
        stats = server.stats()
    assert stats.requests == 24
    assert stats.rate_limited == 0
    # The state lives under a hash of the key, never the key itself.
    keys = [k if isinstance(k, str) else k.decode() for k in await redis_client.keys("gu1:gov:*")]
    fingerprint = ApiKey(DEFAULT_KEY).fingerprint
    assert keys
    assert all(fingerprint in k for k in keys)
    assert not any(DEFAULT_KEY in k for k in keys)


async def test_control_without_a_shared_store_the_workers_overspend() -> None:
    # The same run with in-process governors: each spends the whole quota, so the server
    # must refuse some. This is what the shared store prevents (and shows the test above
    # can fail).
    async with FakeGu1Server(plan=[(6, 3600.0)], time_scale=3600 / 0.3) as server:
        plan = Plan.custom(Quota(6, 0.3))
        clients = [Gu1Client(DEFAULT_KEY, base_url=server.url, plan=plan) for _ in range(3)]
        try:
            await asyncio.gather(
                *(client.request("GET", "/entities") for client in clients for _ in range(8))
            )
        finally:
            for client in clients:
                await client.aclose()
        assert server.stats().rate_limited > 0
