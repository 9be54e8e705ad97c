"""Worker processes for the multi-process tests: each runs its own loop and RedisStore."""

from __future__ import annotations

import asyncio
import time

from gu1_async._errors import QuotaExhaustedError
from gu1_async.governor import Governor, Observation, Plan, Quota
from gu1_async.governor.redis import RedisStore

LONG_WAIT = 5.0
"""A refusal this long means the window is spent for the rest of the test."""
STALL = 3.0
"""A waiter queued before the window was spent sleeps until its reset: stop it."""


def hammer(url: str, namespace: str, limit: int, tasks: int, start_at: float) -> int:
    """Take as many tokens as one shared window allows, from `tasks` concurrent tasks.

    Returns how many this process was granted.
    """
    return asyncio.run(_hammer(url, namespace, limit, tasks, start_at))


async def _hammer(url: str, namespace: str, limit: int, tasks: int, start_at: float) -> int:
    store = RedisStore.from_url(url, namespace=namespace, timeout=5.0)
    governor = Governor(Plan.custom(Quota(limit, 600.0)), store=store)
    granted = 0
    spent = asyncio.Event()

    async def task() -> None:
        nonlocal granted
        while True:
            try:
                permit = await asyncio.wait_for(governor.acquire(max_wait=LONG_WAIT), STALL)
            except asyncio.TimeoutError:
                # Queued for long: stop only if the window is really spent (a busy machine
                # can make a live window this slow too).
                if await store.aestimate(0.0, 0, False) > LONG_WAIT:
                    spent.set()
                    return
                continue
            except QuotaExhaustedError:
                # Refused until the reset: no token is left in flight that could come
                # back (every grant is sent), so nobody can be granted any more.
                spent.set()
                return
            granted += 1
            permit.mark_sent()
            # An answer that describes no window: the seeded budget may then be spent.
            permit.observe(Observation(200))
            await asyncio.sleep(0)

    await asyncio.sleep(max(0.0, start_at - time.time()))
    running = [asyncio.create_task(task()) for _ in range(tasks)]
    await spent.wait()
    for waiting in running:
        waiting.cancel()  # queued behind the spent window (a cancelled waiter takes nothing)
    await asyncio.gather(*running, return_exceptions=True)
    # Permit ends (and the give-back of one granted just as its task was cancelled) are
    # still on their way to Redis: closing the store sends them first.
    await store.aclose()
    return granted


async def take_what_is_left(url: str, namespace: str, limit: int) -> int:
    """Take every token the shared window still has, one at a time; return how many."""
    store = RedisStore.from_url(url, namespace=namespace, timeout=5.0)
    governor = Governor(Plan.custom(Quota(limit, 600.0)), store=store)
    taken = 0
    try:
        while taken <= limit:
            try:
                permit = await asyncio.wait_for(governor.acquire(max_wait=LONG_WAIT), STALL)
            except (QuotaExhaustedError, asyncio.TimeoutError):
                return taken
            taken += 1
            permit.mark_sent()
            permit.observe(Observation(200))
        return taken
    finally:
        await store.aclose()  # sends the last permit's end first
