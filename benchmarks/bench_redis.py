"""Benchmark: four worker processes sharing one API key's quota through Redis.

The fake gu1 server (in this process) allows 60 requests per 2 s fixed window: ideal
30 successes/s for the key, whoever sends them. Four worker processes (each its own event
loop, 8 tasks looping `GET /entities`) run for `--duration` seconds (default 20), through:

- gu1-async with one shared `RedisStore` (the key's budget in Redis);
- gu1-async with an in-process governor each, seeded with a quarter of the quota;
- plain aiohttp + `limits`' async Redis moving-window limiter (60 per 2 s, one shared key),
  a refused hit sleeping until the limiter's window frees a slot.

Then, in this process and the same run, microseconds per uncontended acquire: the
governor over `RedisStore` and over the in-process `MemoryStore`, against one `limits`
async Redis fixed-window hit and one moving-window hit.

It starts its own redis-server (on a free loopback port, nothing persisted) unless
`--redis-url` is given; that Redis is flushed between scenarios. It prints Markdown
tables; it is a measurement, not a pass/fail test.

The acquire table also gives the Redis time per script call (`INFO commandstats`, reset
before each row): for the RedisStore row, the mean of its take and end scripts.

Run:  .venv/bin/python benchmarks/bench_redis.py [--duration 20]   (about 80 s)
      .venv/bin/python benchmarks/bench_redis.py --only "" --repeat 3   (acquire table only)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
from _common import machine_note, percentile, print_table
from limits import parse
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.asyncio import Redis

from gu1_async import Gu1Client, Plan, Quota
from gu1_async.governor import Governor, Observation
from gu1_async.governor.redis import RedisStore
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

LIMIT, PERIOD = 60, 2.0
IDEAL = LIMIT / PERIOD
WORKERS = 4
TASKS = 8
ACQUIRES = 5_000
MODES = {
    "redis": "gu1-async, shared RedisStore",
    "local": "gu1-async, local governor at 1/4 quota",
    "limits": "aiohttp + limits moving window (Redis)",
}


# -- a worker process ---------------------------------------------------------------------


async def run_worker(mode: str, url: str, redis_url: str, start_at: float, until: float) -> Any:
    latencies: list[float] = []
    failures = 0

    async def loop(send: Callable[[], Awaitable[None]]) -> None:
        nonlocal failures
        while time.time() < until:
            started = time.perf_counter()
            try:
                await send()
            except Exception:  # counted; the server's stats have the status
                failures += 1
                continue
            latencies.append(time.perf_counter() - started)

    async def run_tasks(send: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        tasks = [asyncio.create_task(loop(send)) for _ in range(TASKS)]
        await asyncio.sleep(max(0.0, until - time.time()))
        for task in tasks:
            task.cancel()  # a call still waiting for the quota at the end is not counted
        await asyncio.gather(*tasks, return_exceptions=True)

    if mode in ("redis", "local"):
        store = RedisStore.from_url(redis_url) if mode == "redis" else None
        plan = Plan.custom(Quota(LIMIT // WORKERS if mode == "local" else LIMIT, PERIOD))
        async with Gu1Client(DEFAULT_KEY, base_url=url, plan=plan, store=store) as client:

            async def send() -> None:
                await client.request("GET", "/entities", params={"limit": 1})

            await run_tasks(send)
        if store is not None:
            await store.aclose()
    else:
        storage = storage_from_string(f"async+{redis_url}")
        limiter = MovingWindowRateLimiter(storage)
        item = parse(f"{LIMIT} per {int(PERIOD)} seconds")
        headers = {"Authorization": f"Bearer {DEFAULT_KEY}"}
        async with aiohttp.ClientSession() as session:

            async def send() -> None:
                while not await limiter.hit(item, "bench"):
                    stats = await limiter.get_window_stats(item, "bench")
                    await asyncio.sleep(max(0.001, stats.reset_time - time.time()))
                async with session.get(
                    f"{url}/entities", params={"limit": "1"}, headers=headers
                ) as response:
                    await response.read()
                    if response.status >= 400:
                        raise RuntimeError(response.status)

            await run_tasks(send)
    return {"latencies": latencies, "failures": failures}


# -- the parent: servers, scenarios, tables -----------------------------------------------


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("needs redis-server on PATH (apt-get install redis-server) or --redis-url")
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


async def scenario(mode: str, redis_url: str, duration: float) -> list[str]:
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    async with FakeGu1Server(plan=[(LIMIT, PERIOD)]) as server:
        start_at = time.time() + 3.0  # every worker imported and connected
        until = start_at + duration
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--worker",
                mode,
                server.url,
                redis_url,
                repr(start_at),
                repr(until),
                stdout=subprocess.PIPE,
            )
            for _ in range(WORKERS)
        ]
        outputs = [await worker.communicate() for worker in workers]
        stats = server.stats()
    results = [json.loads(out) for out, _ in outputs]
    latencies = [x for r in results for x in r["latencies"]]
    ok = sum(n for status, n in stats.by_status.items() if status < 400)
    per_worker = [len(r["latencies"]) for r in results]
    # The fake's windows start at the first request: the run spans this many of them.
    ideal = LIMIT * math.ceil(duration / PERIOD)
    return [
        MODES[mode],
        f"{ok / duration:.1f}",
        f"{ok / ideal:.1%}",
        str(stats.rate_limited),
        f"{stats.rate_limited / max(1, stats.requests):.2%}",
        f"{percentile(latencies, 50) * 1e3:.0f}",
        f"{percentile(latencies, 99) * 1e3:.0f}",
        "/".join(map(str, per_worker)),
    ]


async def timed(op: Callable[[], Awaitable[Any]], after: Callable[[], Awaitable[None]]) -> str:
    """p50 / p99 microseconds of `op`, with `after` (untimed) between calls."""
    samples = []
    gc.collect()
    for _ in range(ACQUIRES):
        started = time.perf_counter()
        await op()
        samples.append(time.perf_counter() - started)
        await after()
    return f"{percentile(samples, 50) * 1e6:.0f} / {percentile(samples, 99) * 1e6:.0f}"


async def script_time(redis: Redis, timed_run: Awaitable[str]) -> tuple[str, str]:
    """`timed_run`'s figures, and the Redis time per script it ran (INFO commandstats)."""
    await redis.config_resetstat()
    figures = await timed_run
    stats = (await redis.info("commandstats")).get("cmdstat_evalsha")
    return figures, "-" if stats is None else f"{stats['usec_per_call']:.1f}"


async def acquire_latency(redis_url: str) -> list[list[str]]:
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    plan = Plan.custom(Quota(10**9, 3600.0), Quota(10**9, 86400.0))
    rows = []
    for name, store in (
        ("governor.acquire(), MemoryStore", None),
        ("governor.acquire(), RedisStore", RedisStore.from_url(redis_url)),
    ):
        gov = Governor(plan, store=store)
        permit = await gov.acquire()  # the probe: its answer confirms the hour window
        permit.mark_sent()
        permit.observe(Observation(200, 10**9, 10**9 - 1, 3000.0))
        held: list[Any] = []

        async def op(gov: Governor = gov, held: list[Any] = held) -> None:
            held.append(await gov.acquire())

        async def after(held: list[Any] = held) -> None:
            held.pop().release()
            current = asyncio.current_task()
            await asyncio.gather(*(t for t in asyncio.all_tasks() if t is not current))

        # Every acquire runs the take script and every release the end script.
        rows.append([name, *await script_time(redis, timed(op, after))])
        if store is not None:
            await store.aclose()
    item = parse(f"{10**9} per 1 hour")
    for name, strategy in (
        ("limits fixed window hit (async Redis)", FixedWindowRateLimiter),
        ("limits moving window hit (async Redis)", MovingWindowRateLimiter),
    ):
        limiter = strategy(storage_from_string(f"async+{redis_url}"))
        await limiter.hit(item, name)

        async def hit(limiter: Any = limiter, name: str = name) -> None:
            await limiter.hit(item, name)

        async def nothing() -> None:
            return None

        rows.append([name, *await script_time(redis, timed(hit, nothing))])
    await redis.aclose()
    return rows


async def main(duration: float, redis_url: str | None, only: list[str], repeat: int) -> None:
    with contextlib.ExitStack() as stack:
        url = redis_url or stack.enter_context(redis_server())
        print(
            f"# bench_redis: {WORKERS} processes x {TASKS} tasks, {LIMIT} per {PERIOD:g} s "
            f"(ideal {IDEAL:g}/s), {duration:g} s each; {machine_note()}\n"
        )
        rows = [await scenario(mode, url, duration) for mode in only]
        if rows:
            print_table(
                [
                    "client",
                    "ok/s",
                    "of ideal",
                    "429s",
                    "429 share",
                    "p50 ms",
                    "p99 ms",
                    "calls per worker",
                ],
                rows,
            )
        for round_ in range(repeat):
            print(
                f"\nuncontended acquire, p50 / p99 microseconds over {ACQUIRES:,} calls "
                "(hour + day windows; one Redis round trip each)"
                + (f", round {round_ + 1} of {repeat}" if repeat > 1 else "")
                + ":\n"
            )
            print_table(
                ["operation", "p50 / p99 µs", "Redis µs per script"], await acquire_latency(url)
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        mode, url, redis_url, start_at, until = sys.argv[2:7]
        result = asyncio.run(run_worker(mode, url, redis_url, float(start_at), float(until)))
        print(json.dumps(result))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--redis-url", default=None, help="use this Redis (it is flushed)")
    parser.add_argument(
        "--only", default=",".join(MODES), help="comma-separated: " + ",".join(MODES)
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="repeat the acquire-latency table this many times"
    )
    args = parser.parse_args()
    # An empty --only runs just the acquire-latency table.
    chosen = [mode for mode in args.only.split(",") if mode]
    unknown = sorted(set(chosen) - set(MODES))
    if unknown:
        parser.error(f"unknown --only scenario(s): {', '.join(unknown)}")
    asyncio.run(main(args.duration, args.redis_url, chosen, args.repeat))
