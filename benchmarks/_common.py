"""Helpers shared by the benchmark scripts: percentiles, medians and plain-text tables; the
minimal no-limit server, the req/s loop and the valgrind instruction count that
bench_overhead.py and bench_otel.py share."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import json
import math
import multiprocessing
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

__all__ = [
    "FEW",
    "HUGE",
    "MANY",
    "Request",
    "count_instructions",
    "drive",
    "machine_note",
    "measure",
    "median",
    "percentile",
    "print_table",
    "server_process",
    "stub_response",
]


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    """The median; NaN for no values."""
    return statistics.median(values) if values else math.nan


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a Markdown table (pasteable into docs/benchmarks.md), columns padded."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        # The first column is a name (left-aligned); the rest are figures (right-aligned).
        padded = [cells[0].ljust(widths[0])]
        padded += [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "| " + " | ".join(padded) + " |"

    print(line(headers))
    print(
        "|"
        + "|".join([":" + "-" * (widths[0] + 1)] + ["-" * (w + 1) + ":" for w in widths[1:]])
        + "|"
    )
    for row in rows:
        print(line(row))


def machine_note() -> str:
    """One line describing where and when the figures were measured, and how busy it was."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; Python {sys.version.split()[0]} "
        f"on {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs shared by client "
        f"and server; load average {load} (other work on the machine inflates CPU figures)"
    )


# -- the minimal no-limit server (its own process) ---------------------------------------------

HUGE = 10**9
"""The server's rate limit: too large to bind."""


def serve(port_out: Connection, latency: float = 0.0) -> None:
    """Run the minimal server on a free loopback port; send the port back; run forever.

    One route, `GET /entities`, a small JSON body, the three `X-RateLimit-*` headers with a
    limit of HUGE, and `Date`. `latency`: seconds each answer is held back (a server that
    is not on loopback, or does some work, as gu1 does); 0 answers at once.
    """
    from aiohttp import web

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
        if latency:
            await asyncio.sleep(latency)
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


@contextlib.contextmanager
def server_process(*, pin: bool = False, latency: float = 0.0) -> Iterator[str]:
    """The minimal server in a process of its own, for the block; yields its URL.

    `pin`: the server on the last CPU, the client on the others, so that they no longer
    take turns on one core. `latency`: seconds each answer is held back (see `serve`).
    """
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    server = context.Process(target=serve, args=(send, latency), daemon=True)
    server.start()
    if pin and server.pid is not None:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(server.pid, {cpus[-1]})
        os.sched_setaffinity(0, set(cpus[:-1]))
    try:
        yield f"http://127.0.0.1:{receive.recv()}"
    finally:
        server.terminate()
        server.join()


def stub_response() -> object:
    """What the server above answers, as gu1-async's transport hands it to the requester."""
    from gu1_async._transport import RawResponse

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


# -- req/s: tasks looping on one request --------------------------------------------------------

Request = Callable[[], Awaitable[object]]
WARMUP = 0.3  # seconds per round not measured: connections open, caches fill


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


# -- instructions per request, counted rather than timed ----------------------------------------

# Two runs of each client, differing only in the number of requests: start-up, imports and
# the pool's first connections cancel out of the difference.
FEW, MANY = 300, 1_300


async def drive(request: Request, requests: int, tasks: int) -> None:
    """`requests` requests shared by `tasks` tasks (the body of a counted client process)."""
    left = requests

    async def loop() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await request()

    await asyncio.gather(*(loop() for _ in range(tasks)))


def count_instructions(script: str, args: Sequence[str]) -> int:
    """User-space instructions of `python script *args` (valgrind's callgrind, no cache
    model): the script runs one client process and exits."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        script,
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind: {done.stderr[-500:]}")
    return int(found.group(1))


def run_if_worker(run_worker: Callable[..., Awaitable[Any]]) -> None:
    """In a worker process started as `script --worker JSON-ARGS`: run `run_worker(*args)`,
    print its result as JSON, and exit (the parent reads that line)."""
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        print(json.dumps(asyncio.run(run_worker(*json.loads(sys.argv[2])))))
        sys.exit(0)
