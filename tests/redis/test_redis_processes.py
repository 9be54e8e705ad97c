"""Several OS processes, each with its own event loop and RedisStore, spend one budget."""

from __future__ import annotations

import multiprocessing
import time

from redis.asyncio import Redis

from tests.redis import _workers
from tests.redis.conftest import RedisServer

PROCESSES = 4
TASKS_PER_PROCESS = 8
LIMIT = 120


async def test_processes_hammering_one_key_take_exactly_the_limit(
    redis_server: RedisServer, redis_client: Redis
) -> None:
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 2.0  # after every child has imported and connected
    args = [
        (redis_server.url, "test:shared", LIMIT, TASKS_PER_PROCESS, start_at)
        for _ in range(PROCESSES)
    ]
    with context.Pool(PROCESSES) as pool:
        granted = pool.starmap_async(_workers.hammer, args).get(timeout=60)
    # Every grant was sent, so the window can never give more than its limit.
    assert len(granted) == PROCESSES
    assert sum(granted) <= LIMIT
    # And nothing was lost: what the workers took plus what is still there is exactly the
    # limit. (A worker may stop a moment early — a permit granted just as its sibling
    # tasks were cancelled is given back after the others judged the window spent — so
    # the leftover is counted here rather than assumed to be zero.)
    left = await _workers.take_what_is_left(redis_server.url, "test:shared", LIMIT)
    assert sum(granted) + left == LIMIT
    assert sum(granted) >= LIMIT - PROCESSES * TASKS_PER_PROCESS
    # No token left in flight.
    assert await redis_client.hget("gu1:gov:{test:shared}:state", "n") == b"0"
