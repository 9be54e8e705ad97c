"""examples/arq_workers: three worker processes, 300 jobs, one key's quota shared in Redis.

The fake gu1 runs in this test's loop (its counters are the evidence); the workers are
real `python worker.py --burst` processes on a real redis-server, each with its own
Gu1Client on a RedisStore. The Free plan's 100 requests an hour pass in 1 s
(time_scale 3600), so 300 jobs need three windows: the quota binds, and only the shared
store keeps three workers from spending it three times.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter

import pytest
from arq import create_pool
from arq.connections import RedisSettings

from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

from ._load import EXAMPLES, load_example

enqueue = load_example("arq_workers/enqueue.py")
JOBS = 300
WORKERS = 3
TIME_SCALE = 3600.0

pytestmark = [pytest.mark.redis, pytest.mark.slow]


async def test_three_workers_do_each_of_300_jobs_once_within_the_quota(redis_url: str) -> None:
    async with FakeGu1Server(plan="free", time_scale=TIME_SCALE) as server:
        redis = await create_pool(RedisSettings.from_dsn(redis_url))
        try:
            entities = [
                {
                    "type": "person",
                    "externalId": f"arq-{i:04d}",
                    "name": f"P {i}",
                    "countryCode": "AR",
                }
                for i in range(JOBS)
            ]
            assert await enqueue.enqueue(redis, entities) == JOBS
            assert await enqueue.enqueue(redis, entities[:10]) == 0  # job ids are per entity
            env = {k: v for k, v in os.environ.items() if not k.startswith("GU1_")}
            env.update(
                GU1_API_KEY=DEFAULT_KEY,
                GU1_BASE_URL=server.url,
                GU1_PLAN="free",
                GU1_TIME_SCALE=str(TIME_SCALE),
                REDIS_URL=redis_url,
            )
            workers = [
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    str(EXAMPLES / "arq_workers" / "worker.py"),
                    "--burst",
                    env=env,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                )
                for _ in range(WORKERS)
            ]
            logs = await asyncio.wait_for(
                asyncio.gather(*(w.communicate() for w in workers)), timeout=90
            )
            for worker, (out, _) in zip(workers, logs, strict=True):
                assert worker.returncode == 0, out.decode()[-3000:]
            results = await redis.all_job_results()
        finally:
            await redis.aclose()
        stats = server.stats()
    spread = Counter(r.result["worker"] for r in results if r.success)
    shares = sorted(spread.values())
    print(f"arq: {stats.requests} requests, {stats.rate_limited} 429s, jobs per worker {shares}")
    # Each job ran once, on its first try, and succeeded.
    assert len(results) == JOBS
    assert all(r.success and r.job_try == 1 for r in results), [r for r in results if not r.success]
    assert Counter(r.result["action"] for r in results) == {"created": JOBS}
    # gu1 saw each upsert exactly once: 300 answered, and at most 2 refused by the quota.
    assert stats.by_status.get(200, 0) == JOBS
    assert stats.rate_limited <= 2
    assert stats.requests == JOBS + stats.rate_limited
    assert sorted(e["externalId"] for e in server.entities.values()) == sorted(
        e["externalId"] for e in entities
    )
    # The work was shared: every worker did some.
    assert len({r.result["worker"] for r in results}) == WORKERS
