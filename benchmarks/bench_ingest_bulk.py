"""Benchmark: 10,000 entities via upsert vs via the bulk endpoint, requests used and wall time.

Both runs go into a FakeGu1Server (in this process, so its counters can be read) on a
scaled-time plan. `via="upsert"` spends one request per row, so the quota decides its wall
time; `via="bulk"` spends one submit per `bulk_size` rows plus the polls (every 2 API
seconds, gu1's recommendation) and a failure listing when a job skipped or failed rows.

The fake processes a job's rows at 20 per API second (`gu1_async.testing._jobs`), so the
bulk figures measure requests and the SDK, not gu1's real import speed, which its docs do
not state: expect real bulk jobs to take longer, and to need more polls.

Run:  .venv/bin/python benchmarks/bench_ingest_bulk.py                 (~20 s)
      .venv/bin/python benchmarks/bench_ingest_bulk.py --plan free     (~10 s)
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from _common import machine_note, print_table

from gu1_async import Gu1Client, Plan
from gu1_async.ingest import DEFAULT_BULK_CONCURRENCY, DEFAULT_BULK_SIZE
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

# An API hour lasts 2 s (Professional) or 0.1 s (Free), so upsert takes ~16 s or ~10 s.
SCALES = {"professional": 1_800.0, "free": 36_000.0}


def rows(n: int, tag: str) -> Any:
    for i in range(n):
        yield {
            "taxId": f"{tag}-{i:08d}",
            "type": "person",
            "name": f"Person {i}",
            "countryCode": "AR",
            "externalId": f"{tag}-{i:08d}",
        }


async def one(via: str, args: argparse.Namespace) -> dict[str, Any]:
    scale = SCALES[args.plan]
    async with FakeGu1Server(plan=args.plan, time_scale=scale) as server:
        plan = Plan.from_name(args.plan).scaled(scale)
        async with Gu1Client(DEFAULT_KEY, base_url=server.url, plan=plan) as client:
            started = time.perf_counter()
            if via == "upsert":
                report = await client.entities.ingest(rows(args.items, via), concurrency=32).run()
            else:
                report = await client.entities.ingest(
                    rows(args.items, via),
                    via="bulk",
                    bulk_size=args.bulk_size,
                    concurrency=args.concurrency,
                    poll_interval=2.0 / scale,
                ).run()
            wall = time.perf_counter() - started
        stats = server.stats()
        stored = len(server.entities)
        jobs = len(server.state.jobs.all())
    hourly = plan.quotas[0].limit
    return {
        "via": via,
        "summary": report.summary(),
        "requests": stats.requests,
        "429": stats.rate_limited,
        "jobs": jobs,
        "stored": stored,
        "hours": stats.requests / hourly,
        "wall": wall,
        "scale": scale,
    }


async def main(args: argparse.Namespace) -> None:
    results = [await one("upsert", args), await one("bulk", args)]
    print(
        f"{args.items:,} entities, {args.plan} plan at time scale {SCALES[args.plan]:g} "
        f"(bulk: {args.bulk_size} rows a job, {args.concurrency} jobs in flight)"
    )
    print_table(
        ["via", "result", "requests", "429s", "jobs", "stored", "API hours of quota", "wall s"],
        [
            [
                r["via"],
                r["summary"],
                f"{r['requests']:,}",
                str(r["429"]),
                str(r["jobs"]),
                f"{r['stored']:,}",
                f"{r['hours']:.2f}",
                f"{r['wall']:.2f}",
            ]
            for r in results
        ],
    )
    upsert, bulk = results
    print(
        f"bulk used {upsert['requests'] / bulk['requests']:.0f}x fewer requests and "
        f"{upsert['wall'] / bulk['wall']:.0f}x less wall time"
    )
    print(machine_note())


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--plan", choices=sorted(SCALES), default="professional")
    parser.add_argument("--bulk-size", type=int, default=DEFAULT_BULK_SIZE)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_BULK_CONCURRENCY)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
