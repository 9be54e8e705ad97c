"""Benchmark: one key, a web backend and N batch processes, through one RedisStore.

Issue 13's scenario. The fake gu1 server (in this process) allows 40 requests per 2 s
fixed window. A web backend process runs 4 handlers, each sending one INTERACTIVE request
a second (at a random phase); `--batch` batch processes (default 4) run `--tasks` tasks
each (default 15), each looping BATCH requests (each task starting at a random moment in
the first 0.25 s). Every process uses
`Gu1Client(plan=40 per 2 s, reserve=0.25, store=RedisStore.from_url(...))`. Both set-ups
run in the same invocation, one after the other, on a fresh Redis:

- `before`: each worker queues its own waiters and retakes when Redis's wait ends
  (`RedisStore(fleet_queue=False)`), and no reserve is lent (`lend=0`): the behaviour
  before issue 13;
- `fleet`: the fleet queue (tickets in Redis, granted by pub/sub) and the reserve lent in
  the last 10 % of each window (the defaults).

Printed per set-up: successes per batch process, Jain's fairness index over them, batch
p50/p99 latency (a call's whole time: queue, send, answer), the oldest batch call still
pending at the end, the fleet FIFO drain time (all batch tasks / batch successes per
second: how long one fleet-wide FIFO queue takes to serve every task once), the web
backend's p50/p99 and calls served / sent, the share of the quota used, 429s, and Redis
round trips (scripts) and pub/sub messages per granted request.

It starts its own redis-server (free loopback port, nothing persisted). Prints Markdown;
a measurement, not a pass/fail test.

Run:  .venv/bin/python benchmarks/bench_fleet.py            (about 40 s)
      .venv/bin/python benchmarks/bench_fleet.py --duration 12 --batch 4 --tasks 15
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from _common import machine_note, percentile, print_table, run_if_worker
from redis.asyncio import Redis

from gu1_async import Gu1Client, Plan, Priority, Quota
from gu1_async.governor.redis import RedisStore
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

LIMIT, PERIOD = 40, 2.0
RESERVE = 0.25
HANDLERS = 4
STAGGER = 0.25
"""Each batch task starts within this many seconds of the start, at random."""
SETUPS = {"before": "before (per-worker queues, no lending)", "fleet": "fleet queue + lending"}


# -- worker processes ---------------------------------------------------------------------


async def run_worker(
    setup: str, role: str, tasks: int, url: str, redis_url: str, start_at: float, until: float
) -> dict[str, Any]:
    fleet = setup == "fleet"
    store = RedisStore.from_url(redis_url, fleet_queue=fleet)
    latencies: list[float] = []
    pending: dict[int, float] = {}
    sent = failures = 0
    async with Gu1Client(
        DEFAULT_KEY,
        base_url=url,
        plan=Plan.custom(Quota(LIMIT, PERIOD)),
        reserve=RESERVE,
        lend=0.1 if fleet else 0.0,
        store=store,
    ) as client:
        view = client.with_options(priority=Priority.BATCH) if role == "batch" else client

        async def call(n: int) -> None:
            nonlocal failures
            started = pending[n] = time.perf_counter()
            try:
                await view.request("GET", "/entities", params={"limit": 1})
            except Exception:  # counted; the server's stats have the status
                failures += 1
            else:
                latencies.append(time.perf_counter() - started)
            del pending[n]

        async def batch_task(k: int) -> None:
            # Tasks do not start in lock step (a process's 15 would otherwise all reach
            # Redis before another's, and FIFO keeps that order: see docs/distributed.md).
            await asyncio.sleep(random.random() * STAGGER)
            n = k * 1_000_000
            while time.time() < until:
                n += 1
                await call(n)

        async def handler(k: int) -> None:
            nonlocal sent
            await asyncio.sleep(random.random())
            n = k * 1_000_000
            while time.time() < until:
                n += 1
                sent += 1
                asyncio.get_running_loop().create_task(call(n))
                await asyncio.sleep(1.0)

        late = time.time() - start_at  # (> 0: this process was not ready in time)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        body = batch_task if role == "batch" else handler
        running = [asyncio.create_task(body(k)) for k in range(tasks)]
        await asyncio.sleep(max(0.0, until - time.time()))
        now = time.perf_counter()
        oldest = max((now - t for t in pending.values()), default=0.0)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        # Calls still waiting at the end are not counted (their start is in `oldest`).
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            if task.get_coro().__name__ == "call":  # type: ignore[union-attr]
                task.cancel()
        granted = client.governor.stats().granted
    await store.aclose()
    return {
        "latencies": latencies,
        "oldest": oldest,
        "late": late,
        "sent": sent,
        "failures": failures,
        "granted": granted,
        "round_trips": store.round_trips,
        "messages": sum(s._fleet.messages for s in (store, *store._children)),
    }


# -- the parent -----------------------------------------------------------------------------


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("needs redis-server on PATH (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as directory:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", directory]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        try:
            for _ in range(500):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                time.sleep(0.01)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait()


def jain(values: list[int]) -> float:
    """Jain's fairness index: 1 when all equal, 1/n when one process has everything."""
    total = sum(values)
    squares = sum(v * v for v in values)
    return total * total / (len(values) * squares) if squares else math.nan


async def scenario(setup: str, redis_url: str, args: argparse.Namespace) -> list[str]:
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    async with FakeGu1Server(plan=[(LIMIT, PERIOD)]) as server:
        start_at = time.time() + 6.0  # every worker imported and connected
        until = start_at + args.duration
        roles = [("web", HANDLERS)] + [("batch", args.tasks)] * args.batch
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--worker",
                json.dumps([setup, role, tasks, server.url, redis_url, start_at, until]),
                stdout=subprocess.PIPE,
            )
            for role, tasks in roles
        ]
        outputs = [await worker.communicate() for worker in workers]
        stats = server.stats()
    web, *batch = [json.loads(out) for out, _ in outputs]
    late = max(r["late"] for r in (web, *batch))
    if late > 0:
        print(f"(a worker started {late:.2f} s late: the figures are skewed)", file=sys.stderr)
    shares = [len(r["latencies"]) for r in batch]
    batch_latencies = [x for r in batch for x in r["latencies"]]
    ok = sum(n for status, n in stats.by_status.items() if status < 400)
    ideal = LIMIT * math.ceil(args.duration / PERIOD)  # windows open at the first request
    drain = args.batch * args.tasks / (sum(shares) / args.duration)
    granted = sum(r["granted"] for r in (web, *batch))
    trips = sum(r["round_trips"] for r in (web, *batch))
    messages = sum(r["messages"] for r in (web, *batch))
    return [
        SETUPS[setup],
        "/".join(map(str, shares)),
        f"{jain(shares):.3f}",
        f"{percentile(batch_latencies, 50):.2f} / {percentile(batch_latencies, 99):.2f}",
        f"{max(r['oldest'] for r in batch):.2f}",
        f"{drain:.2f}",
        f"{percentile(web['latencies'], 50) * 1e3:.0f} / "
        f"{percentile(web['latencies'], 99) * 1e3:.0f}",
        f"{len(web['latencies'])}/{web['sent']}",
        f"{ok / ideal:.1%}",
        str(stats.rate_limited),
        f"{trips / max(1, granted):.2f}",
        f"{messages / max(1, granted):.2f}",
    ]


async def main(args: argparse.Namespace) -> None:
    print(f"<!-- {machine_note()} -->")
    print(
        f"\n{args.batch} batch processes x {args.tasks} tasks + a web backend ({HANDLERS} "
        f"handlers, 1 interactive call/s each), {LIMIT} per {PERIOD:g} s, reserve "
        f"{RESERVE}, {args.duration:g} s:\n"
    )
    rows = []
    with redis_server() as redis_url:
        for setup in args.setups.split(","):
            rows.append(await scenario(setup, redis_url, args))
    print_table(
        [
            "set-up",
            "batch ok per process",
            "Jain",
            "batch p50 / p99 s",
            "oldest pending s",
            "FIFO drain s",
            "web p50 / p99 ms",
            "web served",
            "of quota",
            "429s",
            "Redis calls per grant",
            "pub/sub msgs per grant",
        ],
        rows,
    )


if __name__ == "__main__":
    run_if_worker(run_worker)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=12.0)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=15)
    parser.add_argument("--setups", default="before,fleet")
    asyncio.run(main(parser.parse_args()))
