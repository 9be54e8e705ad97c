"""arq workers that upsert entities into gu1, any number of them, on one key's quota.

arq (https://arq-docs.helpmanual.io) is an asyncio job queue on Redis. Each worker process
holds **one** `Gu1Client` for its whole life (opened in `on_startup`, closed in
`on_shutdown`), and every client spends **one shared budget** through a `RedisStore` on the
same Redis: ten workers together send what the key's quota allows, not ten times that.

* **Retries are the SDK's.** A 429, a 5xx or a dropped connection is retried inside the
  client (its `RetryPolicy`, through the shared governor); the job never raises arq's
  `Retry` for them. arq runs a job again only when its worker died mid-job, and the job is
  an upsert keyed by `externalId`, so a second run updates the entity instead of
  duplicating it.
* **No job sits on quota for hours.** Jobs wait for quota at `Priority.BATCH` for at most
  `MAX_WAIT` seconds; when the quota is further away than that (the day's is spent), the
  job is deferred to when it returns (`Retry(defer=...)`), which frees the worker's slot.
* **Redis down means no jobs either**, so the store raises (`on_store_error="raise"`)
  rather than spending a guessed local share.

Run a worker (`pip install arq 'gu1-async[redis]'`), as many as you like::

    export GU1_API_KEY=gk_... REDIS_URL=redis://localhost:6379/0 GU1_PLAN=starter
    python examples/arq_workers/worker.py          # or: arq worker.WorkerSettings

and queue work with examples/arq_workers/enqueue.py. tests/examples/test_arq_workers.py
runs three workers on 300 jobs against FakeGu1Server and a real redis-server.
"""

from __future__ import annotations

import os
import sys
from typing import Any, ClassVar

from arq import Retry
from arq.connections import RedisSettings
from arq.worker import func, run_worker

from gu1_async import Gu1Client, Plan, Priority, QuotaExhaustedError
from gu1_async.governor.redis import RedisStore

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
MAX_WAIT = 60.0  # seconds a job may wait for quota before it is deferred instead


def plan_from_env() -> Plan:
    """`GU1_PLAN` (free, starter, professional); `GU1_TIME_SCALE` only for the fake server,
    whose hours pass faster (as `gu1 ingest` reads them)."""
    plan = Plan.from_name(os.environ.get("GU1_PLAN", "starter"))
    scale = os.environ.get("GU1_TIME_SCALE")
    return plan.scaled(float(scale)) if scale else plan


async def startup(ctx: dict[str, Any]) -> None:
    """One store and one client per worker process, for all of its jobs."""
    store = RedisStore.from_url(REDIS_URL)
    ctx["gu1_store"] = store
    ctx["gu1"] = Gu1Client(
        plan=plan_from_env(), store=store, priority=Priority.BATCH, max_wait=MAX_WAIT
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["gu1"].aclose()
    await ctx["gu1_store"].aclose()  # hands back what is still in flight first


async def upsert_entity(ctx: dict[str, Any], entity: dict[str, Any]) -> dict[str, Any]:
    """Create or update one entity (gu1's camelCase shape, with an `externalId`)."""
    client: Gu1Client = ctx["gu1"]
    try:
        result = await client.entities.upsert(entity=entity)
    except QuotaExhaustedError as exc:
        # Not a failure: the quota comes back at a known time. Free the slot until then.
        raise Retry(defer=exc.retry_after) from exc
    return {
        "action": result.action,
        "id": result.entity.id if result.entity else None,
        "worker": os.getpid(),
    }


class WorkerSettings:
    """`arq worker.WorkerSettings`, or `python worker.py [--burst]`."""

    functions: ClassVar = [func(upsert_entity, max_tries=10)]  # tries are for deferrals and crashes
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(REDIS_URL)
    max_jobs = 20  # jobs in flight per worker; the shared governor paces them all
    job_timeout = MAX_WAIT + 120  # the quota wait, plus the SDK's retries of one call


if __name__ == "__main__":
    # --burst: stop once the queue is empty (batch runs, tests) instead of waiting for more.
    run_worker(WorkerSettings, burst="--burst" in sys.argv[1:])  # type: ignore[arg-type]
