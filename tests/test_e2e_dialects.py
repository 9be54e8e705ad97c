"""Issue 12 through the whole client: the fake server speaking other servers' dialects.

Real HTTP on loopback with short real windows, so the bounds are generous; the exact
targets are held on a fake clock in tests/governor/test_third_party.py and measured against
real slowapi and nginx in benchmarks/bench_dialects.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gu1_async import Gu1Client, Plan
from gu1_async.governor.redis import RedisStore
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server


async def calls(client: Gu1Client, n: int, tasks: int) -> None:
    queue = list(range(n))

    async def worker() -> None:
        while queue:
            queue.pop()
            await client.entities.list()

    await asyncio.gather(*(worker() for _ in range(tasks)))


async def test_ietf_headers_name_the_window_and_nothing_is_refused() -> None:
    # The server's window (10 per 0.5 s real) is not the plan's; its RateLimit-Policy says
    # so, so the governor takes the period as known and never tries early.
    async with (
        FakeGu1Server(plan=[(10, 3600.0)], time_scale=3600 / 0.5, headers="ietf") as server,
        Gu1Client(DEFAULT_KEY, base_url=server.url, plan=Plan.FREE) as client,
    ):
        await calls(client, 40, tasks=10)
        assert server.stats().rate_limited == 0
        hour, _day = client.governor.stats().windows
        assert (hour.limit, hour.from_header) == (10, True)


@pytest.mark.parametrize("store", ["memory", "redis-fleet"])
async def test_a_server_without_headers_is_measured_not_hammered(
    store: str, request: pytest.FixtureRequest
) -> None:
    # A leaky bucket of 20/s with no header at all: the governor sounds it out (a slow
    # start, then the gap between admissions) instead of sending the plan's 100 at once.
    # With the Redis store's fleet queue too: its grants must keep to the slow start's cap,
    # which only this process knows (the first bare answer comes after 20 tickets queued).
    kwargs: dict[str, Any] = {}
    if store == "redis-fleet":
        kwargs["store"] = RedisStore.from_url(request.getfixturevalue("redis_url"))
    async with (
        FakeGu1Server(plan=[(20, 1.0)], limiter="leaky", headers="none") as server,
        Gu1Client(DEFAULT_KEY, base_url=server.url, plan=Plan.FREE, **kwargs) as client,
    ):
        await calls(client, 40, tasks=20)
        refused = server.stats().rate_limited
    if "store" in kwargs:
        await kwargs["store"].aclose()
    # Learning costs a handful of refusals (the exponential search for the gap); a
    # client that sends the plan's budget at once gets ~19 of every 20 refused.
    assert refused <= 15, refused
