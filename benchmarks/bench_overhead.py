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
import cProfile
import datetime as dt
import email.utils
import functools
import math
import multiprocessing
import os
import pstats
import socket
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection

import aiohttp
from _common import machine_note, median, print_table
from aiohttp import web

from gu1_async import Gu1Client, Plan, Quota
from gu1_async._transport import RawRequest, RawResponse

KEY = "gk_test_bench_overhead"
HUGE = 10**9
CONCURRENCY = (1, 10, 100)
WARMUP = 0.3  # seconds per round not measured: connections open, caches fill

# -- the server (its own process) ---------------------------------------------------------------


def serve(port_out: Connection) -> None:
    """Run the minimal server on a free loopback port; send the port back; run forever."""
    body = b'{"success": true, "entities": []}'
    reset_cache: dict[int, str] = {}

    def reset_header() -> str:
        # An hour ahead of now; formatted once per second, as gu1's Reset is.
        second = int(time.time())
        value = reset_cache.get(second)
        if value is None:
            reset_cache.clear()
            when = dt.datetime.fromtimestamp(second + 3600, tz=dt.timezone.utc)
            value = reset_cache[second] = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return value

    async def entities(_request: web.Request) -> web.Response:
        # aiohttp adds `Date` itself.
        return web.Response(
            body=body,
            content_type="application/json",
            headers={
                "X-RateLimit-Limit": str(HUGE),
                "X-RateLimit-Remaining": str(HUGE - 1),
                "X-RateLimit-Reset": reset_header(),
            },
        )

    async def run() -> None:
        app = web.Application()
        app.router.add_get("/entities", entities)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # a free port, known before the site starts
        await web.SockSite(runner, sock, backlog=1024).start()
        port_out.send(sock.getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(run())


# -- the clients ----------------------------------------------------------------------------------

Request = Callable[[], Awaitable[object]]


async def measure(request: Request, tasks: int, seconds: float) -> tuple[float, float]:
    """Requests/s and client CPU µs/request for `tasks` tasks looping on `request`.

    The first WARMUP seconds are not measured.
    """
    done = 0

    async def loop() -> None:
        nonlocal done
        while True:
            await request()
            done += 1

    workers = [asyncio.create_task(loop()) for _ in range(tasks)]
    try:
        await asyncio.sleep(WARMUP)
        count, cpu, wall = done, time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        count, cpu, wall = (
            done - count,
            time.process_time() - cpu,
            time.perf_counter() - wall,
        )
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return count / wall, cpu / count * 1e6


async def plain_round(url: str, tasks: int, seconds: float) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {KEY}", "Accept": "application/json"}
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def request() -> object:
            async with session.get(f"{url}/entities", headers=headers) as response:
                response.raise_for_status()
                return await response.json()

        return await measure(request, tasks, seconds)


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
    headers = {"Authorization": f"Bearer {KEY}", "Accept": "application/json"}
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def request() -> object:
            async with session.get(f"{url}/entities", headers=headers) as response:
                response.raise_for_status()
                body = await response.json()
            busy_loop(iterations)
            return body

        return await measure(request, tasks, seconds)


def gu1_client(url: str) -> Gu1Client:
    return Gu1Client(KEY, base_url=url, plan=Plan.custom(Quota(HUGE, 3600)), max_connections=100)


async def gu1_round(url: str, tasks: int, seconds: float) -> tuple[float, float]:
    async with gu1_client(url) as client:

        async def request() -> object:
            return await client.request("GET", "/entities")

        return await measure(request, tasks, seconds)


Round = Callable[[str, int, float], Awaitable[tuple[float, float]]]
PLAIN = "plain aiohttp"


def clients(busy_iterations: int) -> dict[str, Round]:
    return {
        PLAIN: plain_round,
        "gu1-async": gu1_round,
        "plain + busy loop": functools.partial(plain_busy_round, iterations=busy_iterations),
    }


async def run_all(
    url: str, rounds: int, seconds: float, contenders: dict[str, Round]
) -> list[list[str]]:
    rows = []
    for tasks in CONCURRENCY:
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
        for _ in range(rounds):  # interleaved, so that machine noise hits both alike
            for name, round_ in contenders.items():
                samples[name].append(await round_(url, tasks, seconds))
        plain_rps = median([rps for rps, _ in samples[PLAIN]])
        plain_cpu = median([cpu for _, cpu in samples[PLAIN]])
        for name in contenders:
            rps = median([r for r, _ in samples[name]])
            cpu = median([c for _, c in samples[name]])
            spread = (
                f"{min(r for r, _ in samples[name]):,.0f}-{max(r for r, _ in samples[name]):,.0f}"
            )
            rows.append(
                [
                    name,
                    str(tasks),
                    f"{rps:,.0f}",
                    spread,
                    f"{rps / plain_rps:.1%}",
                    f"{cpu:.1f}",
                    f"{cpu / plain_cpu - 1:+.1%}",
                ]
            )
        print(f"  done: {tasks} tasks", flush=True)
    return rows


# -- --profile: the SDK's own cost per request, without the network ----------------------------

STUB_REQUESTS = 20_000


def stub_response() -> RawResponse:
    """What the server above answers, as the transport would hand it to the requester."""
    now = time.time()
    reset = dt.datetime.fromtimestamp(now + 3600, tz=dt.timezone.utc)
    return RawResponse.of(
        status=200,
        headers=(
            ("Content-Type", "application/json; charset=utf-8"),
            ("X-RateLimit-Limit", str(HUGE)),
            ("X-RateLimit-Remaining", str(HUGE - 1)),
            ("X-RateLimit-Reset", reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")),
            ("Date", email.utils.formatdate(now, usegmt=True)),
        ),
        body=b'{"success": true, "entities": []}',
    )


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
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    server = context.Process(target=serve, args=(send,), daemon=True)
    server.start()
    if args.pin and server.pid is not None:
        # The server on the last CPU, the client on the others: they no longer take turns
        # on one core, so the client's CPU is measured with less of the server's noise.
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(server.pid, {cpus[-1]})
        os.sched_setaffinity(0, set(cpus[:-1]))
    try:
        url = f"http://127.0.0.1:{receive.recv()}"
        print(
            f"no rate limit, server in its own process; {args.rounds} rounds x {args.seconds:g} s"
        )
        print(machine_note())
        sdk_micros = median([asyncio.run(stub_run(None)) for _ in range(3)])
        busy_iterations = calibrate_busy_loop(sdk_micros)
        print(
            f"gu1-async's own path (transport stubbed): {sdk_micros:.1f} CPU µs/request; "
            f"the busy loop burns the same ({busy_iterations:,} iterations)"
        )
        rows = asyncio.run(run_all(url, args.rounds, args.seconds, clients(busy_iterations)))
        print()
        print_table(
            [
                "client",
                "tasks",
                "req/s (median)",
                "req/s range",
                "vs plain",
                "CPU µs/req",
                "CPU vs plain",
            ],
            rows,
        )
        if args.profile:
            print()
            profile_report()
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
