"""Benchmark: four worker processes sharing one API key's quota through Redis.

The fake gu1 server (in this process) allows 60 requests per 2 s fixed window: ideal
30 successes/s for the key, whoever sends them. Four worker processes (each its own event
loop, 8 tasks looping `GET /entities`) run for `--duration` seconds (default 20), through:

- gu1-async with one shared `RedisStore` (the key's budget in Redis);
- gu1-async with an in-process governor each, seeded with a quarter of the quota;
- plain aiohttp + `limits`' async Redis moving-window limiter (60 per 2 s, one shared key),
  a refused hit sleeping until the limiter's window frees a slot.

Then, in this process and the same run, microseconds per uncontended call, interleaved
call by call: in each of `--rounds` rounds, `--calls` times, every row makes one call, in
an order that rotates from round to round, so a busy moment of the machine falls on every
row alike. Rows: the
governor's acquire over `RedisStore` (then, untimed, its release and the permit's end in
Redis), one `limits` async Redis fixed-window hit as shipped (its default client,
coredis) and the same on redis-py, one moving-window hit, and the acquire over the
in-process `MemoryStore`. Each round prints p50 / p99 of the acquire and of the
fixed-window hit and their ratio; then the median across rounds of every row. All rows use
the same Redis server and each library's own connection handling, one call at a time. The
Redis time per command or script (`INFO commandstats`, from a separate batch per row) is
shown beside.

It starts its own redis-server (on a free loopback port, nothing persisted) unless
`--redis-url` is given; that Redis is flushed between scenarios. It prints Markdown
tables; it is a measurement, not a pass/fail test.

Run:  .venv/bin/python benchmarks/bench_redis.py [--duration 20]   (about 100 s)
      .venv/bin/python benchmarks/bench_redis.py --only ""   (the acquire tables only, ~25 s)
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
from _common import machine_note, median, percentile, print_table
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
MODES = {
    "redis": "gu1-async, shared RedisStore",
    "local": "gu1-async, local governor at 1/4 quota",
    "limits": "aiohttp + limits moving window (Redis)",
}


# -- a worker process ---------------------------------------------------------------------


async def run_worker(mode: str, url: str, redis_url: str, start_at: float, until: float) -> Any:
    latencies: list[float] = []
    failures = 0
    trips = granted = 0

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
            granted = client.governor.stats().granted
        if store is not None:
            await store.aclose()
            trips = store.round_trips
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
    return {"latencies": latencies, "failures": failures, "trips": trips, "granted": granted}


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
        f"{sum(r['trips'] for r in results) / max(1, sum(r['granted'] for r in results)):.2f}"
        if mode == "redis"
        else "-",
    ]


GU1, PEER = "gu1 governor.acquire(), RedisStore", "limits fixed window hit (coredis)"
LATENCY_VARIANTS = (
    GU1,
    PEER,
    "limits fixed window hit (redis-py)",
    "limits moving window hit (coredis)",
    "gu1 governor.acquire(), MemoryStore",
)
"""The acquire table's rows. PEER is the one the target names: `limits`' async Redis fixed
window as shipped (its default async client is coredis); the same limiter on redis-py (the
client RedisStore uses) is shown beside it."""

Op = Callable[[], Awaitable[Any]]
stores: list[RedisStore] = []
"""The acquire row's RedisStore (its round trips are counted)."""


async def latency_variants(redis_url: str) -> tuple[dict[str, tuple[Op, Op]], list[Op]]:
    """Each row's timed call and what runs (untimed) after it, all on one Redis server.

    Every client is built the way its library builds it by default from a URL, used by one
    task at a time (so each keeps one connection busy). Also returns what closes them.
    """
    plan = Plan.custom(Quota(10**9, 3600.0), Quota(10**9, 86400.0))
    variants: dict[str, tuple[Op, Op]] = {}
    closers: list[Op] = []
    stores.clear()

    async def nothing() -> None:
        return None

    for name, store in ((GU1, RedisStore.from_url(redis_url)), (LATENCY_VARIANTS[4], None)):
        if store is not None:
            closers.append(store.aclose)
            stores.append(store)
        gov = Governor(plan, store=store)
        permit = await gov.acquire()  # the probe: its answer confirms the hour window
        permit.mark_sent()
        permit.observe(Observation(200, 10**9, 10**9 - 1, 3000.0))
        held: list[Any] = []

        async def acquire(gov: Governor = gov, held: list[Any] = held) -> None:
            held.append(await gov.acquire())

        async def release(held: list[Any] = held) -> None:
            # The permit's end (never sent: the token goes back) runs in the background:
            # let it finish, so the next acquire starts from the same state.
            held.pop().release()
            current = asyncio.current_task()
            await asyncio.gather(
                *(
                    t
                    for t in asyncio.all_tasks()
                    # (not the store's grant-channel reader: it runs until the store closes)
                    if t is not current and t.get_coro().__name__ != "_read"  # type: ignore[union-attr]
                )
            )

        variants[name] = (acquire, release)
    item = parse(f"{10**9} per 1 hour")
    for name, strategy, implementation in (
        (PEER, FixedWindowRateLimiter, "coredis"),
        (LATENCY_VARIANTS[2], FixedWindowRateLimiter, "redispy"),
        (LATENCY_VARIANTS[3], MovingWindowRateLimiter, "coredis"),
    ):
        storage = storage_from_string(f"async+{redis_url}", implementation=implementation)
        limiter = strategy(storage)
        await limiter.hit(item, name)  # connected, and the key's first hit (EXPIRE) done

        async def hit(limiter: Any = limiter, name: str = name) -> None:
            await limiter.hit(item, name)

        variants[name] = (hit, nothing)
    return variants, closers


async def script_time(redis: Redis) -> float:
    """The mean Redis time per command since the last reset (INFO commandstats); a script's
    own commands count inside its time, so when scripts ran only they are counted."""
    stats = await redis.info("commandstats")
    if "cmdstat_evalsha" in stats:
        busy = [stats["cmdstat_evalsha"]]
    else:
        busy = [v for k, v in stats.items() if k not in ("cmdstat_config", "cmdstat_info")]
    return float(sum(v["usec"] for v in busy) / max(1, sum(v["calls"] for v in busy)))


async def redis_time(redis: Redis, name: str, op: Op, after: Op, calls: int) -> str:
    """The Redis time behind a row's calls. For RedisStore: its take script (`calls`
    acquires in a row, the permits held) and its end script (then their releases)."""
    await redis.config_resetstat()
    for _ in range(calls):
        await op()
        if name != GU1:
            await after()
    first = await script_time(redis)
    if name != GU1:
        return f"{first:.1f}"
    await redis.config_resetstat()
    for _ in range(calls):
        await after()
    return f"take {first:.1f}, end {await script_time(redis):.1f}"


async def acquire_latency(redis_url: str, rounds: int, calls: int) -> None:
    """Uncontended latency per call, interleaved call by call: in every round, `calls`
    times, each row makes one timed call (then its untimed `after`), in an order that
    rotates from round to round. A busy moment of the machine falls on every row alike."""
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    variants, closers = await latency_variants(redis_url)
    names = list(variants)
    p50: dict[str, list[float]] = {name: [] for name in names}
    p99: dict[str, list[float]] = {name: [] for name in names}
    print(
        f"\nuncontended acquire, µs, {rounds} rounds of {calls:,} calls per row, interleaved "
        "call by call (hour + day windows; one Redis round trip each):\n"
    )
    round_rows = []
    clock = time.perf_counter
    trips = stores[0].round_trips
    for round_ in range(rounds):
        shift = round_ % len(names)
        order = [(name, *variants[name]) for name in names[shift:] + names[:shift]]
        samples: dict[str, list[float]] = {name: [] for name in names}
        gc.collect()
        for _ in range(calls):
            for name, op, after in order:
                started = clock()
                await op()
                samples[name].append(clock() - started)
                await after()
        for name in names:
            p50[name].append(percentile(samples[name], 50) * 1e6)
            p99[name].append(percentile(samples[name], 99) * 1e6)
        round_rows.append(
            [
                str(round_ + 1),
                f"{p50[GU1][-1]:.0f} / {p99[GU1][-1]:.0f}",
                f"{p50[PEER][-1]:.0f} / {p99[PEER][-1]:.0f}",
                f"{p50[GU1][-1] / p50[PEER][-1]:.2f}",
                f"{p50[LATENCY_VARIANTS[2]][-1]:.0f} / {p99[LATENCY_VARIANTS[2]][-1]:.0f}",
            ]
        )
    print_table(
        [
            "round",
            "gu1 acquire p50 / p99",
            "limits fixed (coredis) p50 / p99",
            "p50 ratio",
            "limits fixed (redis-py) p50 / p99",
        ],
        round_rows,
    )
    trips = (stores[0].round_trips - trips) / (rounds * calls)
    print(
        f"\nRedis round trips per granted request, uncontended: {trips:.2f} (the take, and "
        "the permit's end in the background)"
    )
    ratios = [a / b for a, b in zip(p50[GU1], p50[PEER], strict=True)]
    print(
        f"\ngu1 acquire p50 / limits fixed-window hit p50 (coredis): median {median(ratios):.2f}, "
        f"best {min(ratios):.2f}, worst {max(ratios):.2f}; gu1 faster in "
        f"{sum(r <= 1 for r in ratios)} of {rounds} rounds\n"
    )
    # Then, apart (not timed): the Redis time behind each row's calls.
    usec = {name: await redis_time(redis, name, *variants[name], calls) for name in names}
    print_table(
        [
            "operation",
            "p50 µs (median of rounds)",
            "p99 µs (median)",
            "vs limits fixed (coredis)",
            "Redis µs per command or script",
        ],
        [
            [
                name,
                f"{median(p50[name]):.0f}",
                f"{median(p99[name]):.0f}",
                f"{median([a / b for a, b in zip(p50[name], p50[PEER], strict=True)]):.2f}x",
                "-" if name == LATENCY_VARIANTS[4] else usec[name],
            ]
            for name in names
        ],
    )
    for close in closers:
        await close()
    await redis.aclose()


async def main(
    duration: float, redis_url: str | None, only: list[str], rounds: int, calls: int
) -> None:
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
                    "Redis calls per grant",
                ],
                rows,
            )
        if rounds:
            await acquire_latency(url, rounds, calls)


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
        "--rounds", type=int, default=10, help="acquire table: interleaved rounds (0: none)"
    )
    parser.add_argument(
        "--calls", type=int, default=1000, help="acquire table: calls per row and round"
    )
    args = parser.parse_args()
    # An empty --only runs just the acquire-latency table.
    chosen = [mode for mode in args.only.split(",") if mode]
    unknown = sorted(set(chosen) - set(MODES))
    if unknown:
        parser.error(f"unknown --only scenario(s): {', '.join(unknown)}")
    asyncio.run(main(args.duration, args.redis_url, chosen, args.rounds, args.calls))
