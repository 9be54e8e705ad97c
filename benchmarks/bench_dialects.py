"""Benchmark: how much of a stock third-party rate limiter's quota each client gets (issue 12).

Servers (stock libraries on loopback, each in a process group of its own, keyed per
Authorization header, answering a gu1-like `GET /entities`):

- `fixed`: FastAPI + slowapi, fixed window "40/2 seconds", headers_enabled=True, on uvicorn;
- `moving`: the same with strategy="moving-window";
- `bare`: the same fixed window with headers_enabled=False (bare 429s);
- `nginx`: Debian's nginx, `limit_req_zone $http_authorization ... rate=20r/s`,
  `limit_req` without burst, `limit_req_status 429`.

Clients (`tasks` tasks, default 60, looping one GET for `--duration` s, default 30):

- `gu1`: `Gu1Client(plan="free", ...)` calling `client.entities.list()`;
- `gu1-redis`: the same with a `RedisStore` (a redis-server this script starts);
- `tenacity`: aiohttp + tenacity retrying 429s with jittered exponential backoff;
- `aiolimiter`: aiohttp + `AsyncLimiter(40, 2)` (slowapi) or `AsyncLimiter(20, 1)` (nginx),
  a refused call re-queued.

Every cell (server x client) gets a fresh server process and key, and runs its client in a
subprocess of its own; `--jobs` cells run at once (default 2: the two clients of a pair
share the machine's conditions). Admissions and refusals are counted by the server itself
(slowapi: the app's counters; nginx: its access log), within the client's `duration`.

Run:  .venv/bin/python benchmarks/bench_dialects.py [--duration 30] [--only fixed,nginx,gu1]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import itertools
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import attrs
from _common import machine_note, percentile, print_table
from _dialect_clients import CLIENTS, ClientRun
from _thirdparty import (
    CHILDREN,
    SERVERS,
    ServerLog,
    ServerSpec,
    nginx_binary,
    redis_binary,
    redis_server,
    server,
)

HERE = Path(__file__).resolve().parent
WARM_UP = 3.0  # seconds after the start that the longest-gap figure ignores
GRACE = 10.0  # seconds a call under way at the end may take to finish before it counts as hung


@attrs.frozen
class Cell:
    spec: ServerSpec
    client: str
    run: ClientRun
    log: ServerLog  # the server's own count, the whole cell (grace included)

    def within(self, times: Sequence[float]) -> list[float]:
        """The times that fall inside the client's measured interval."""
        start, end = self.run.started, self.run.started + self.run.duration
        return sorted(t for t in times if start <= t < end)

    def longest_gap(self) -> float:
        """Longest time without an admission after WARM_UP s (interval ends included)."""
        start, end = self.run.started + WARM_UP, self.run.started + self.run.duration
        marks = [start, *(t for t in self.within(self.log.admitted) if t >= start), end]
        return max(b - a for a, b in itertools.pairwise(marks))


def run_cell(spec: ServerSpec, client: str, args: argparse.Namespace, redis: str | None) -> Cell:
    """One client against one fresh server, the client in a subprocess of its own."""
    key = f"gk_test_bench{secrets.token_hex(8)}"
    with server(spec) as running:
        command = [sys.executable, str(HERE / "_dialect_clients.py"), "--client", client]
        command += ["--url", running.url, "--key", key, "--duration", str(args.duration)]
        command += ["--tasks", str(args.tasks), "--limit", str(spec.limit)]
        command += ["--period", str(spec.period), "--grace", str(GRACE)]
        if redis is not None:
            command += ["--redis", redis]
        process = CHILDREN.spawn(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = process.communicate(timeout=args.duration + GRACE + 60.0)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{client} on {spec.name}: the client process hung") from None
        finally:
            CHILDREN.stop(process)
        if process.returncode != 0 or not out.strip():
            raise RuntimeError(
                f"{client} on {spec.name}: client exited {process.returncode}\n{err.decode()}"
            )
        run = ClientRun.from_json(out.decode().strip().splitlines()[-1])
        log = running.log(f"Bearer {key}")
    return Cell(spec, client, run, log)


def row(cell: Cell) -> list[str]:
    run, spec = cell.run, cell.spec
    admitted = len(cell.within(cell.log.admitted))
    refused = len(cell.within(cell.log.refused))
    requests = admitted + refused
    ideal = spec.rate * run.duration
    finished = "yes" if run.hung == 0 else f"no: {run.hung} still waiting"
    if run.failed:
        failed = ", ".join(f"{n} {name}" for name, n in sorted(run.failed.items()))
        finished += f" ({failed})"
    return [
        spec.title,
        CLIENTS[cell.client],
        f"{admitted / run.duration:.1f}",
        f"{admitted / ideal:.1%}",
        f"{requests}",
        f"{refused / requests:.1%}" if requests else "-",
        f"{percentile(run.latencies, 50):.2f}",
        f"{percentile(run.latencies, 99):.2f}",
        f"{cell.longest_gap():.1f}",
        finished,
    ]


def check(cell: Cell) -> str | None:
    """A note when the server did not count what the client was answered."""
    if cell.log.total == cell.run.answered:
        return None
    return (
        f"{cell.spec.name} x {cell.client}: the server counted {cell.log.total} requests, "
        f"the client was answered {cell.run.answered} (sent {cell.run.sent})"
    )


def choose(only: str | None) -> tuple[list[str], list[str]]:
    """`--only` names servers and/or clients; a kind not named keeps all of its members."""
    names = [n.strip() for n in (only or "").split(",") if n.strip()]
    unknown = sorted(set(names) - set(SERVERS) - set(CLIENTS))
    if unknown:
        raise SystemExit(
            f"unknown name(s): {', '.join(unknown)} (servers: {', '.join(SERVERS)}; "
            f"clients: {', '.join(CLIENTS)})"
        )
    servers = [s for s in SERVERS if s in names] or list(SERVERS)
    clients = [c for c in CLIENTS if c in names] or list(CLIENTS)
    return servers, clients


def main(args: argparse.Namespace) -> None:
    servers, clients = choose(args.only)
    if "nginx" in servers and nginx_binary() is None:
        raise SystemExit("no nginx binary: apt-get install nginx (or leave nginx out of --only)")
    if "gu1-redis" in clients and redis_binary() is None:
        raise SystemExit("no redis-server binary: apt-get install redis-server")
    cells = [(SERVERS[s], c) for s in servers for c in clients]
    print(
        f"{len(cells)} cells: {args.tasks} tasks x {args.duration:g} s each, "
        f"{args.jobs} at a time; ideal = the server's quota, 20 admissions/s"
    )
    print(machine_note())
    began = time.monotonic()
    results: dict[tuple[str, str], Cell] = {}
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(redis_server()).url if "gu1-redis" in clients else None
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)
        try:
            futures = {
                pool.submit(run_cell, spec, client, args, redis_url): (spec.name, client)
                for spec, client in cells
            }
            for future in concurrent.futures.as_completed(futures):
                cell = future.result()
                results[futures[future]] = cell
                print(f"  done: {cell.spec.name} x {cell.client}", flush=True)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            CHILDREN.stop_all()  # an error or Ctrl-C: kill the other cells' processes now
    print()
    ordered = [results[(spec.name, client)] for spec, client in cells]
    print_table(
        [
            "server",
            "client",
            "ok/s",
            "of ideal",
            "requests",
            "429s",
            "p50 s",
            "p99 s",
            "longest gap s",
            "finished",
        ],
        [row(cell) for cell in ordered],
    )
    print()
    print(
        "Server-side, within each client's duration: ok/s and of ideal (admissions over "
        "20/s x duration), requests (admitted + refused), 429s (share of requests). "
        "Client-side: p50/p99 of successful calls (waits and retries included); longest gap "
        f"between two admissions after the first {WARM_UP:g} s (the interval's ends count); "
        f"finished: every call returned or raised within {GRACE:g} s of the end."
    )
    notes = [note for cell in ordered if (note := check(cell))]
    for note in notes:
        print(f"note: {note}")
    print(f"wall time {time.monotonic() - began:.0f} s")


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through main's finally, which kills the servers


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per cell")
    parser.add_argument("--tasks", type=int, default=60, help="concurrent tasks per client")
    parser.add_argument(
        "--only",
        help=f"comma-separated servers ({','.join(SERVERS)}) and/or clients "
        f"({','.join(CLIENTS)}); default all",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="cells run at once (1: quietest, twice as long)"
    )
    args = parser.parse_args(argv)
    if args.duration <= WARM_UP or args.tasks < 1 or args.jobs < 1:
        parser.error(f"--duration must exceed {WARM_UP:g}; --tasks and --jobs >= 1")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    try:
        main(arguments)
    except KeyboardInterrupt:
        raise SystemExit("interrupted: every server and client process was stopped") from None
    finally:
        CHILDREN.stop_all()
