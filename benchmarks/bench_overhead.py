"""Benchmark: what gu1-async costs per request on top of plain aiohttp, with no rate limit.

A minimal aiohttp server (one route, a small JSON body, the three `X-RateLimit-*`
headers with a limit of 10**9, and `Date`) runs in a **separate process**, so that the
client's CPU can be measured alone with `time.process_time()`. In the client process,
1, 10 and 100 tasks loop on `GET /entities` for a few seconds through:

- plain aiohttp: one `ClientSession` over `TCPConnector(limit=100)`, `await response.json()`;
- gu1-async: `Gu1Client(plan=Plan.custom(Quota(10**9, 3600)))`, `await client.request(...)`
  (same connector limit: `max_connections=100`); the governor never blocks, but every
  request still goes through it, the retry policy, header parsing and `observe()`.

- plain aiohttp + busy loop: the plain client, plus a pure-Python loop after each request
  that burns as much CPU as gu1-async's own code path does (measured first, transport
  stubbed). It answers "what would any SDK doing that much work score here?": with client
  and server sharing the CPUs, a slower client leaves the server idle more often, and each
  `send()` then pays the kernel for waking it, so client CPU per request rises by more than
  the work added. gu1-async close to this row means its overhead is its own Python work,
  amplified by the setup, and nothing hidden.

Each (client, concurrency) pair runs several rounds, interleaved, and the median is
reported: requests/s and client CPU microseconds per request. `--profile` then measures
the SDK's own path alone (the transport swapped for a canned answer, so no socket noise):
CPU µs per `client.request()`, and cProfile's own and cumulative time by file:line.

Run:  .venv/bin/python benchmarks/bench_overhead.py [--rounds 5] [--seconds 2] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import cProfile
import functools
import math
import pstats
import shutil
import time
from collections.abc import Awaitable, Callable

import aiohttp
from _common import (
    FEW,
    HUGE,
    MANY,
    Request,
    count_instructions,
    drive,
    machine_note,
    measure,
    median,
    percentile,
    print_table,
    server_process,
    stub_response,
)

from gu1_async import Gu1Client, Plan, Quota
from gu1_async._transport import RawRequest, RawResponse

KEY = "gk_test_bench_overhead"
CONCURRENCY = (1, 10, 100)

# -- the clients ----------------------------------------------------------------------------------

HEADERS = {"Authorization": f"Bearer {KEY}", "Accept": "application/json"}


def plain_request(session: aiohttp.ClientSession, url: str) -> Request:
    """One request the way a plain aiohttp user writes it."""

    async def request() -> object:
        async with session.get(f"{url}/entities", headers=HEADERS) as response:
            response.raise_for_status()
            return await response.json()

    return request


def plain_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))


async def plain_round(url: str, tasks: int, seconds: float) -> tuple[float, float]:
    async with plain_session() as session:
        return await measure(plain_request(session, url), tasks, seconds)


def busy_loop(iterations: int) -> int:
    """Pure-Python work, no allocation to speak of: a stand-in for an SDK's own code."""
    total = 0
    for i in range(iterations):
        total += i
    return total


def calibrate_busy_loop(micros: float) -> int:
    """Iterations of `busy_loop` that take `micros` CPU µs on this machine (best of 5)."""
    probe = 10_000
    best = math.inf
    for _ in range(5):
        start = time.process_time()
        busy_loop(probe)
        best = min(best, time.process_time() - start)
    return max(1, round(probe * micros / (best * 1e6)))


async def plain_busy_round(
    url: str, tasks: int, seconds: float, *, iterations: int
) -> tuple[float, float]:
    async with plain_session() as session:
        plain = plain_request(session, url)

        async def request() -> object:
            body = await plain()
            busy_loop(iterations)
            return body

        return await measure(request, tasks, seconds)


# With no limit, as the issue asks: one window too large to bind. Every named gu1 plan has
# an hour and a day window, so the second row keeps two (the day window is never described
# by gu1's headers: the governor counts it itself, which costs a little more per request).
PLANS = {
    "gu1": Plan.custom(Quota(HUGE, 3600)),
    "gu1-hour-day": Plan.custom(Quota(HUGE, 3600), Quota(10 * HUGE, 86400)),
}


def gu1_client(url: str, plan: str = "gu1") -> Gu1Client:
    return Gu1Client(KEY, base_url=url, plan=PLANS[plan], max_connections=100)


def gu1_request(client: Gu1Client) -> Request:
    """The same request through gu1-async."""

    async def request() -> object:
        return await client.request("GET", "/entities")

    return request


async def gu1_round(
    url: str, tasks: int, seconds: float, *, plan: str = "gu1"
) -> tuple[float, float]:
    async with gu1_client(url, plan) as client:
        return await measure(gu1_request(client), tasks, seconds)


Round = Callable[[str, int, float], Awaitable[tuple[float, float]]]
PLAIN = "plain aiohttp"
GU1 = "gu1-async"
GU1_HOUR_DAY = "gu1-async, hour + day"


def clients(busy_iterations: int) -> dict[str, Round]:
    rounds: dict[str, Round] = {
        PLAIN: plain_round,
        GU1: gu1_round,
        GU1_HOUR_DAY: functools.partial(gu1_round, plan="gu1-hour-day"),
        "plain + busy loop": functools.partial(plain_busy_round, iterations=busy_iterations),
    }
    return rounds


async def run_all(
    url: str, rounds: int, seconds: float, contenders: dict[str, Round], levels: list[int]
) -> list[list[str]]:
    rows = []
    names = list(contenders)
    for tasks in levels:
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
        for r in range(rounds):
            # Interleaved, so that machine noise hits every client alike, and rotated, so
            # that none always runs right after the same other one.
            for name in names[r % len(names) :] + names[: r % len(names)]:
                samples[name].append(await contenders[name](url, tasks, seconds))
        plain = samples[PLAIN]
        for name in contenders:
            mine = samples[name]
            # Each round against plain aiohttp's run of the same round (seconds apart):
            # slow drifts in the machine's speed cancel out of these ratios.
            rps_ratios = [m[0] / p[0] for m, p in zip(mine, plain, strict=True)]
            cpu_ratios = [m[1] / p[1] - 1 for m, p in zip(mine, plain, strict=True)]
            rows.append(
                [
                    name,
                    str(tasks),
                    f"{median([m[0] for m in mine]):,.0f}",
                    f"{min(m[0] for m in mine):,.0f}-{max(m[0] for m in mine):,.0f}",
                    f"{median(rps_ratios):.1%}",
                    f"{percentile(rps_ratios, 25):.0%}-{percentile(rps_ratios, 75):.0%}",
                    f"{median([m[1] for m in mine]):.1f}",
                    f"{median(cpu_ratios):+.1%}",
                ]
            )
        print(f"  done: {tasks} tasks", flush=True)
    return rows


WALL_HEADERS = [
    "client",
    "tasks",
    "req/s (median)",
    "req/s range",
    "vs plain*",
    "vs plain p25-p75",
    "CPU µs/req",
    "CPU vs plain*",
]


# -- --instructions: client CPU per request, counted rather than timed -------------------------


async def client_run(kind: str, url: str, requests: int, tasks: int) -> None:
    """`requests` requests shared by `tasks` tasks, then exit (the process valgrind counts)."""
    if kind in PLANS:
        async with gu1_client(url, kind) as client:
            await drive(gu1_request(client), requests, tasks)
    else:
        async with plain_session() as session:
            await drive(plain_request(session, url), requests, tasks)


def count_client(kind: str, url: str, requests: int, tasks: int) -> int:
    """Instructions of one client process (see `_common.count_instructions`)."""
    args = ["--client", kind, "--url", url, "--requests", str(requests), "--tasks", str(tasks)]
    return count_instructions(__file__, args)


def instructions_table(url: str, levels: list[int]) -> list[list[str]]:
    """Instructions per request for each client and level (two valgrind runs at a time)."""
    kinds = {PLAIN: "plain", GU1: "gu1", GU1_HOUR_DAY: "gu1-hour-day"}
    jobs = [(name, tasks, n) for tasks in levels for name in kinds for n in (FEW, MANY)]

    def count(job: tuple[str, int, int]) -> int:
        name, tasks, requests = job
        return count_client(kinds[name], url, requests, tasks)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(jobs, pool.map(count, jobs), strict=True))
    rows = []
    for tasks in levels:
        per_request = {
            name: (counts[(name, tasks, MANY)] - counts[(name, tasks, FEW)]) / (MANY - FEW)
            for name in kinds
        }
        for name, value in per_request.items():
            rows.append(
                [name, str(tasks), f"{value:,.0f}", f"{value / per_request[PLAIN] - 1:+.1%}"]
            )
    return rows


# -- --profile: the SDK's own cost per request, without the network ----------------------------

STUB_REQUESTS = 20_000


async def stub_run(profiler: cProfile.Profile | None) -> float:
    """CPU µs per `client.request()` with the transport replaced by a canned answer."""
    response = stub_response()

    async def send(_request: RawRequest) -> RawResponse:
        return response

    async with gu1_client("http://127.0.0.1:9") as client:
        # Diagnostics only: swap the private transport's send for the canned answer.
        setattr(client._pool.transport, "send", send)  # noqa: B010
        for _ in range(1_000):  # warm up: the probe, caches
            await client.request("GET", "/entities")
        if profiler is not None:
            profiler.enable()
        cpu = time.process_time()
        for _ in range(STUB_REQUESTS):
            await client.request("GET", "/entities")
        cpu = time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
    return cpu / STUB_REQUESTS * 1e6


def short(filename: str, line: int, func: str) -> str:
    for marker in ("site-packages/", "/work/main/", "/lib/python3.11/", "/lib/python3"):
        filename = filename.split(marker)[-1]
    return f"{filename}:{line} {func}" if line else func


def profile_report() -> None:
    """The SDK path alone: CPU µs/request, then the functions that take it (cProfile)."""
    unprofiled = median([asyncio.run(stub_run(None)) for _ in range(3)])
    profiler = cProfile.Profile()
    profiled_micros = asyncio.run(stub_run(profiler))
    stats = pstats.Stats(profiler)
    entries = stats.stats.items()  # type: ignore[attr-defined]
    total = sum(entry[2] for _, entry in entries)
    print(
        f"gu1-async's own path, transport stubbed (no network): {unprofiled:.1f} CPU µs/request "
        f"({profiled_micros:.0f} under cProfile). Where it goes (own time, cProfile):"
    )
    top = sorted(entries, key=lambda item: -item[1][2])[:25]
    print_table(
        ["function (file:line)", "share", "µs/req*", "calls/req"],
        [
            [
                short(*where),
                f"{entry[2] / total:.1%}",
                f"{entry[2] / total * unprofiled:.1f}",
                f"{entry[1] / STUB_REQUESTS:.1f}",
            ]
            for where, entry in top
        ],
    )
    print("* share x the unprofiled µs/request")
    print()
    cumulative = sorted(entries, key=lambda item: -item[1][3])
    print_table(
        ["cumulative (file:line)", "share", "µs/req*"],
        [
            [short(*where), f"{entry[3] / total:.1%}", f"{entry[3] / total * unprofiled:.1f}"]
            for where, entry in cumulative
            if "gu1_async" in where[0] or "tenacity" in where[0] or "email" in where[0]
        ][:25],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="gu1-async overhead over plain aiohttp")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per client and level")
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds per round")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin the server to the last CPU and the client to the others",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also time and cProfile the SDK path, transport stubbed",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count client instructions per request under valgrind (deterministic)",
    )
    # Internal: the client process that --instructions runs under valgrind.
    parser.add_argument(
        "--levels",
        default=",".join(map(str, CONCURRENCY)),
        help="concurrent tasks to measure, comma-separated (default: 1,10,100)",
    )
    parser.add_argument(
        "--client",
        choices=["plain", *PLANS],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=FEW, help=argparse.SUPPRESS)
    parser.add_argument("--tasks", type=int, default=100, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_run(args.client, args.url, args.requests, args.tasks))
        return
    levels = [int(level) for level in args.levels.split(",")]
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind (apt-get install -y valgrind)")

    with server_process(pin=args.pin) as url:
        print(
            f"no rate limit, server in its own process; {args.rounds} rounds x {args.seconds:g} s"
        )
        print(machine_note())
        if args.rounds > 0:
            sdk_micros = median([asyncio.run(stub_run(None)) for _ in range(3)])
            busy_iterations = calibrate_busy_loop(sdk_micros)
            print(
                f"gu1-async's own path (transport stubbed): {sdk_micros:.1f} CPU µs/request; "
                f"the busy loop burns the same ({busy_iterations:,} iterations)"
            )
            rows = asyncio.run(
                run_all(url, args.rounds, args.seconds, clients(busy_iterations), levels)
            )
            print()
            print_table(WALL_HEADERS, rows)
            print(
                "* median over rounds of (this client's round / plain aiohttp's run of the "
                "same round)"
            )
        if args.instructions:
            print()
            print(
                f"client instructions per request (valgrind callgrind, user space; "
                f"{MANY} minus {FEW} requests):"
            )
            rows = instructions_table(url, levels)
            print_table(["client", "tasks", "instructions/req", "vs plain"], rows)
        if args.profile:
            print()
            profile_report()


if __name__ == "__main__":
    main()
