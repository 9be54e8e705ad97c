"""Queue one `upsert_entity` job per row of a JSON-lines file, for examples/arq_workers.

    export REDIS_URL=redis://localhost:6379/0
    python examples/arq_workers/enqueue.py people.jsonl

Each job's id is derived from the row's `externalId`, so queueing the same file twice
while the first jobs are still queued (or their results kept) adds nothing: arq refuses
a job id it already has.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings


def job_id(entity: dict[str, Any]) -> str:
    return f"gu1-upsert:{entity['externalId']}"


async def enqueue(redis: ArqRedis, entities: Iterable[dict[str, Any]]) -> int:
    """Queue a job per entity; return how many were new."""
    queued = 0
    for entity in entities:
        if await redis.enqueue_job("upsert_entity", entity, _job_id=job_id(entity)):
            queued += 1
    return queued


def read_entities(path: str) -> list[dict[str, Any]]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


async def main(entities: list[dict[str, Any]]) -> None:
    redis = await create_pool(RedisSettings.from_dsn(os.environ["REDIS_URL"]))
    try:
        print(f"queued {await enqueue(redis, entities)} jobs")
    finally:
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(read_entities(sys.argv[1])))
