"""Benchmark: what gu1-async costs per request on top of plain aiohttp, with no rate limit.

A minimal aiohttp server (one route, a small JSON body, the three `X-RateLimit-*`
headers with a limit of 10**9, and `Date`) runs in a **separate process**, so that the
client's CPU can be measured alone with `time.process_time()`. In the client process,
1, 10 and 100 tasks loop on `GET /entities` for a few seconds through:

- plain aiohttp: one `ClientSession` over `TCPConnector(limit=100)`, `await response.json()`;
- gu1-async: `Gu1Client(plan=Plan.custom(Quota(10**9, 3600)))`, `await client.request(...)`
  (same connector limit: `max_connections=100`); the governor never blocks, but every
  request still goes through it, the retry policy, header parsing and `observe()`.

Each (client, concurrency) pair runs several rounds, interleaved, and the median is
reported: requests/s and client CPU microseconds per request. `--profile` then runs
gu1-async at 100 tasks under cProfile and prints the functions that take the time.

Run:  .venv/bin/python benchmarks/bench_overhead.py [--rounds 5] [--seconds 2] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import multiprocessing
import pstats
import socket
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection

import aiohttp
from _common import machine_note, median, print_table
from aiohttp import web

from gu1_async import Gu1Client, Plan, Quota

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


async def measure(
    request: Request, tasks: int, seconds: float, profiler: cProfile.Profile | None = None
) -> tuple[float, float]:
    """Requests/s and client CPU µs/request for `tasks` tasks looping on `request`.

    The first WARMUP seconds are not measured (nor profiled, with a `profiler`).
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
        if profiler is not None:
            profiler.enable()
        count, cpu, wall = done, time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        if profiler is not None:
            profiler.disable()
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


def gu1_client(url: str) -> Gu1Client:
    return Gu1Client(KEY, base_url=url, plan=Plan.custom(Quota(HUGE, 3600)), max_connections=100)


async def gu1_round(url: str, tasks: int, seconds: float) -> tuple[float, float]:
    async with gu1_client(url) as client:

        async def request() -> object:
            return await client.request("GET", "/entities")

        return await measure(request, tasks, seconds)


Round = Callable[[str, int, float], Awaitable[tuple[float, float]]]
CLIENTS: dict[str, Round] = {"plain aiohttp": plain_round, "gu1-async": gu1_round}


async def run_all(url: str, rounds: int, seconds: float) -> list[list[str]]:
    rows = []
    for tasks in CONCURRENCY:
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in CLIENTS}
        for _ in range(rounds):  # interleaved, so that machine noise hits both alike
            for name, round_ in CLIENTS.items():
                samples[name].append(await round_(url, tasks, seconds))
        plain_rps = median([rps for rps, _ in samples["plain aiohttp"]])
        plain_cpu = median([cpu for _, cpu in samples["plain aiohttp"]])
        for name in CLIENTS:
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


PROFILED_SECONDS = 3.0
Where = tuple[str, int, str]  # cProfile's (filename, line, function)


def package_of(filename: str) -> str:
    """The package (or stdlib module) a profiled function belongs to."""
    if filename == "~":
        return "C builtins (socket I/O, ...)"
    if "/gu1_async/" in filename:
        return "gu1_async"
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    if "/lib/python3" in filename:
        module = filename.split("/lib/python3")[1].split("/", 2)[-1]
        return "stdlib " + module.split("/")[0].removesuffix(".py")
    return filename.rsplit("/", 1)[-1]


def short(where: Where) -> str:
    filename, line, func = where
    for marker in ("site-packages/", "/work/main/", "/lib/python3"):
        filename = filename.split(marker)[-1]
    return f"{filename}:{line} {func}" if line else func


async def profiled(url: str, name: str) -> tuple[pstats.Stats, float]:
    """Profile `name` at 100 tasks for PROFILED_SECONDS; its stats and requests done."""
    profiler = cProfile.Profile()
    if name == "gu1-async":
        async with gu1_client(url) as client:

            async def gu1_request() -> object:
                return await client.request("GET", "/entities")

            rps, _ = await measure(gu1_request, 100, PROFILED_SECONDS, profiler)
    else:
        headers = {"Authorization": f"Bearer {KEY}", "Accept": "application/json"}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

            async def plain_request() -> object:
                async with session.get(f"{url}/entities", headers=headers) as response:
                    response.raise_for_status()
                    return await response.json()

            rps, _ = await measure(plain_request, 100, PROFILED_SECONDS, profiler)
    return pstats.Stats(profiler), rps * PROFILED_SECONDS


def profile_report(url: str) -> None:
    """Where gu1-async's extra CPU goes: µs/request by package, then by function."""
    own: dict[str, dict[Where, float]] = {}
    calls: dict[str, dict[Where, float]] = {}
    for name in CLIENTS:
        stats, requests = asyncio.run(profiled(url, name))
        entries = stats.stats.items()  # type: ignore[attr-defined]
        own[name] = {where: entry[2] / requests * 1e6 for where, entry in entries}
        calls[name] = {where: entry[1] / requests for where, entry in entries}
    plain, gu1 = own["plain aiohttp"], own["gu1-async"]
    extra = sum(gu1.values()) - sum(plain.values())

    by_package: dict[str, list[float]] = {}
    for client, table in ((0, plain), (1, gu1)):
        for where, micros in table.items():
            by_package.setdefault(package_of(where[0]), [0.0, 0.0])[client] += micros
    print(f"cProfile at 100 tasks, {PROFILED_SECONDS:g} s each; profiling inflates all figures,")
    print(f"the shares are what matter. gu1-async's extra own time: {extra:.0f} µs/request.")
    print_table(
        ["package (own time)", "plain µs/req", "gu1 µs/req", "extra", "share of extra"],
        [
            [name, f"{p:.1f}", f"{g:.1f}", f"{g - p:+.1f}", f"{(g - p) / extra:.1%}"]
            for name, (p, g) in sorted(by_package.items(), key=lambda kv: kv[1][0] - kv[1][1])
            if abs(g - p) >= 0.5
        ],
    )
    deltas = sorted(((gu1[w] - plain.get(w, 0.0), w) for w in gu1), reverse=True)
    print()
    print_table(
        ["function (own time)", "extra µs/req", "share of extra", "gu1 calls/req", "plain"],
        [
            [
                short(where),
                f"{delta:+.1f}",
                f"{delta / extra:.1%}",
                f"{calls['gu1-async'][where]:.1f}",
                f"{calls['plain aiohttp'].get(where, 0.0):.1f}",
            ]
            for delta, where in deltas[:30]
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="gu1-async overhead over plain aiohttp")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per client and level")
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds per round")
    parser.add_argument("--profile", action="store_true", help="also cProfile gu1 at 100")
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    server = context.Process(target=serve, args=(send,), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{receive.recv()}"
        print(
            f"no rate limit, server in its own process; {args.rounds} rounds x {args.seconds:g} s"
        )
        print(machine_note())
        rows = asyncio.run(run_all(url, args.rounds, args.seconds))
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
            profile_report(url)
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
