"""Benchmark: how much of a tight quota each client gets, at what latency, with how many 429s.

The fake gu1 server allows 50 requests per 2 s fixed window (ideal: 25 successes/s).
50 worker tasks loop for `--duration` seconds (default 20), each alternating
`POST /entities` and `GET /entities?externalId=...`, through:

- gu1-async (`Gu1Client`, plan `Quota(50, 2 s)`);
- (a) plain aiohttp + tenacity retrying 429s with jittered exponential backoff;
- (b) plain aiohttp + `aiolimiter.AsyncLimiter(25, 1)`, a refused call re-queued on it;
- (c) plain aiohttp + tenacity waiting for `Retry-After` (the fake's `retry_after=True`),
  else for `X-RateLimit-Reset`;
- gu1-async mis-seeded: it believes `Quota(200, 2 s)`;
- gu1-async sharing the key with a hidden consumer that takes 30 % of each window
  (15 requests), either spread evenly or as a burst at each window's opening.

Every scenario gets a fresh server and key. It prints one Markdown table; it is a
measurement, not a pass/fail test.

Run:  .venv/bin/python benchmarks/bench_quota.py [--duration 20] [--only gu1,a]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import tenacity
from _common import machine_note, percentile, print_table
from aiolimiter import AsyncLimiter

from gu1_async import Gu1Client, Plan, Quota
from gu1_async.testing import FakeGu1Server

LIMIT, PERIOD = 50, 2.0
IDEAL = LIMIT / PERIOD  # successes per second the quota allows
WORKERS = 50
HIDDEN_SHARE = 15  # requests per window the hidden consumer takes (30 %)

Call = Callable[[int, int], Awaitable[None]]


@attrs.define
class Tally:
    """What the workers of one scenario saw, from the caller's side."""

    duration: float
    started: float = 0.0  # monotonic
    successes: list[int] = attrs.Factory(lambda: [0] * WORKERS)
    done_at: list[list[float]] = attrs.Factory(lambda: [[] for _ in range(WORKERS)])
    latencies: list[float] = attrs.Factory(list)
    failures: int = 0
    errors: set[str] = attrs.Factory(set)
    requests: int = 0  # HTTP requests sent (retries included)
    rate_limited: int = 0  # 429s received

    def longest_gap(self) -> float:
        """The longest time any worker went without a success (run start/end included)."""
        gaps = []
        for times in self.done_at:
            marks = [0.0, *times, self.duration]
            gaps.append(max(b - a for a, b in itertools.pairwise(marks)))
        return max(gaps)


@attrs.define
class HiddenConsumer:
    """Counts of the unseen second client on the same key."""

    requests: int = 0
    rate_limited: int = 0
    started: float = 0.0  # monotonic time it sent its first request
    ok_sent_at: list[float] = attrs.Factory(list)  # monotonic send times of its successes

    def ok_during(self, tally: Tally) -> int:
        """Its successful requests sent within the measured interval."""
        end = tally.started + tally.duration
        return sum(1 for t in self.ok_sent_at if tally.started <= t < end)


@attrs.frozen
class Result:
    name: str
    tally: Tally
    hidden: HiddenConsumer | None = None


def body(worker: int, i: int) -> dict[str, Any]:
    return {
        "type": "person",
        "name": f"Bench {worker}.{i}",
        "countryCode": "AR",
        "externalId": f"w{worker}-{i}",
    }


async def drive(call: Call, tally: Tally) -> None:
    """Run WORKERS tasks calling `call(worker, i)` in a loop for `tally.duration` seconds."""
    # A hidden consumer may have opened the window (and started the clock) already.
    start = tally.started = tally.started or time.monotonic()

    async def worker(w: int) -> None:
        i = 0
        while True:
            began = time.monotonic()
            try:
                await call(w, i)
            except Exception as exc:  # a failed call; the worker goes on, as a service would
                tally.failures += 1
                tally.errors.add(type(exc).__name__)
            else:
                now = time.monotonic()
                tally.successes[w] += 1
                tally.done_at[w].append(now - start)
                tally.latencies.append(now - began)
            i += 1

    tasks = [asyncio.create_task(worker(w)) for w in range(WORKERS)]
    await asyncio.sleep(start + tally.duration - time.monotonic())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# -- the peers: plain aiohttp ---------------------------------------------------------------


@attrs.frozen
class Reply:
    status: int
    retry_after: float | None
    reset_in: float | None


class PlainClient:
    """An aiohttp session that sends the workers' requests and counts them."""

    def __init__(self, server: FakeGu1Server, key: str, tally: Tally) -> None:
        self.url = server.url
        self.headers = {"Authorization": f"Bearer {key}"}
        self.tally = tally
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))

    async def send(self, worker: int, i: int) -> Reply:
        if i % 2 == 0:
            request = self.session.post(
                f"{self.url}/entities", json=body(worker, i), headers=self.headers
            )
        else:
            params = {"externalId": f"w{worker}-{i - 1}"}
            request = self.session.get(f"{self.url}/entities", params=params, headers=self.headers)
        async with request as response:
            await response.read()
            self.tally.requests += 1
            if response.status == 429:
                self.tally.rate_limited += 1
            elif response.status >= 400:
                raise RuntimeError(f"unexpected {response.status}")
            return Reply(response.status, _retry_after(response), _reset_in(response))

    async def close(self) -> None:
        await self.session.close()


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    value = response.headers.get("Retry-After")
    return float(value) if value else None


def _reset_in(response: aiohttp.ClientResponse) -> float | None:
    value = response.headers.get("X-RateLimit-Reset")
    if not value:
        return None
    reset = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return max(0.0, reset.timestamp() - time.time())


def _is_429(reply: Reply) -> bool:
    return reply.status == 429


def _wait_for_server(state: tenacity.RetryCallState) -> float:
    """(c)'s wait: Retry-After when sent, else until X-RateLimit-Reset, else 1 s."""
    reply = state.outcome.result() if state.outcome else None
    if isinstance(reply, Reply):
        if reply.retry_after is not None:
            return reply.retry_after
        if reply.reset_in is not None:
            return reply.reset_in
    return 1.0


async def run_plain(kind: str, duration: float) -> Result:
    """One of the peers: 'a' (jittered backoff), 'b' (aiolimiter), 'c' (Retry-After)."""
    async with FakeGu1Server(plan=[(LIMIT, PERIOD)], default_key=None, retry_after=True) as server:
        key = f"gk_test_bench_{kind}"
        server.add_key(key)
        tally = Tally(duration)
        client = PlainClient(server, key, tally)
        limiter = AsyncLimiter(IDEAL, 1)
        jittered = tenacity.wait_random_exponential(multiplier=0.25, max=8)

        async def call(worker: int, i: int) -> None:
            if kind == "b":
                while True:  # each attempt takes a limiter slot, as gu1's retries do
                    await limiter.acquire()
                    if (await client.send(worker, i)).status != 429:
                        return
            retrying = tenacity.AsyncRetrying(
                retry=tenacity.retry_if_result(_is_429),
                wait=jittered if kind == "a" else _wait_for_server,
                stop=tenacity.stop_never,
            )
            await retrying(client.send, worker, i)

        try:
            await drive(call, tally)
        finally:
            await client.close()
        names = {"a": "aiohttp + tenacity backoff", "b": "aiohttp + aiolimiter 25/s"}
        return Result(names.get(kind, "aiohttp + tenacity Retry-After"), tally)


# -- gu1-async --------------------------------------------------------------------------------


async def run_gu1(name: str, duration: float, *, believed: int, hidden: str | None) -> Result:
    """gu1-async, believing `believed` per window, optionally beside a hidden consumer."""
    async with FakeGu1Server(plan=[(LIMIT, PERIOD)], default_key=None) as server:
        key = f"gk_test_bench_{name.replace(' ', '_')}"
        server.add_key(key)
        plan = Plan.custom(Quota(believed, PERIOD))
        consumer = HiddenConsumer()
        async with Gu1Client(key, base_url=server.url, plan=plan) as client:

            async def call(worker: int, i: int) -> None:
                if i % 2 == 0:
                    await client.request("POST", "/entities", json=body(worker, i))
                else:
                    params = {"externalId": f"w{worker}-{i - 1}"}
                    await client.request("GET", "/entities", params=params)

            background = None
            if hidden is not None:
                opened = asyncio.Event()
                background = asyncio.create_task(hide(server, key, consumer, hidden, opened))
                await opened.wait()  # the consumer was there first: it opened the window
            tally = Tally(duration, started=consumer.started)
            try:
                await drive(call, tally)
            finally:
                if background is not None:
                    background.cancel()
                    await asyncio.gather(background, return_exceptions=True)
        stats = server.stats(key)
        tally.requests = stats.requests - consumer.requests
        tally.rate_limited = stats.rate_limited - consumer.rate_limited
        return Result(name, tally, consumer if hidden else None)


async def hide(
    server: FakeGu1Server,
    key: str,
    consumer: HiddenConsumer,
    pattern: str,
    opened: asyncio.Event,
) -> None:
    """Another client on the same key, invisible to gu1: 15 GETs per window, no retries.

    It opens the first window (then sets `opened`). `spread`: one request every
    PERIOD/15 s. `burst`: all 15 at once as each window opens, timed from the server
    itself: the worst case, racing gu1's first request of every window.
    """
    headers = {"Authorization": f"Bearer {key}"}
    url = f"{server.url}/entities"
    pending: set[asyncio.Task[None]] = set()

    async def one(session: aiohttp.ClientSession) -> None:
        sent_at = time.monotonic()
        async with session.get(url, params={"externalId": "none"}, headers=headers) as response:
            await response.read()
            consumer.requests += 1
            if response.status == 429:
                consumer.rate_limited += 1
            elif response.status < 400:
                consumer.ok_sent_at.append(sent_at)

    def fire(session: aiohttp.ClientSession, n: int) -> None:
        for _ in range(n):
            task = asyncio.create_task(one(session))
            pending.add(task)
            task.add_done_callback(pending.discard)

    per_turn = 1 if pattern == "spread" else HIDDEN_SHARE
    async with aiohttp.ClientSession() as session:
        try:
            consumer.started = time.monotonic()
            await asyncio.gather(*(one(session) for _ in range(per_turn)))
            opened.set()
            while True:
                if pattern == "spread":
                    await asyncio.sleep(PERIOD / HIDDEN_SHARE)
                else:
                    resets_at = server.stats(key).windows[0].resets_at
                    await asyncio.sleep(max(0.0, resets_at - time.time()))
                fire(session, per_turn)
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


# -- report -------------------------------------------------------------------------------------


def row(result: Result) -> list[str]:
    tally = result.tally
    succeeded = sum(tally.successes)
    rate = succeeded / tally.duration
    available = IDEAL
    if result.hidden is not None:  # what the hidden consumer left
        available = IDEAL - result.hidden.ok_during(tally) / tally.duration
    share_429 = tally.rate_limited / tally.requests if tally.requests else 0.0
    hidden = "-"
    if result.hidden is not None:
        h = result.hidden
        hidden = f"{h.ok_during(tally) / tally.duration:.2f}/s ({h.rate_limited} 429s)"
    return [
        result.name,
        f"{rate:.2f}",
        f"{rate / available:.1%}",
        f"{tally.requests}",
        f"{tally.rate_limited} ({share_429:.1%})",
        f"{percentile(tally.latencies, 50):.2f}",
        f"{percentile(tally.latencies, 99):.2f}",
        f"{min(tally.successes)}",
        f"{tally.longest_gap():.1f}",
        f"{tally.failures} {','.join(sorted(tally.errors))}".strip(),
        hidden,
    ]


SCENARIOS: dict[str, Callable[[float], Awaitable[Result]]] = {
    "gu1": lambda d: run_gu1("gu1-async", d, believed=LIMIT, hidden=None),
    "a": lambda d: run_plain("a", d),
    "b": lambda d: run_plain("b", d),
    "c": lambda d: run_plain("c", d),
    "misseeded": lambda d: run_gu1("gu1-async, believes 200/2 s", d, believed=200, hidden=None),
    "hidden-spread": lambda d: run_gu1(
        "gu1-async + hidden 30 % (spread)", d, believed=LIMIT, hidden="spread"
    ),
    "hidden-burst": lambda d: run_gu1(
        "gu1-async + hidden 30 % (burst)", d, believed=LIMIT, hidden="burst"
    ),
}


async def main(duration: float, only: list[str]) -> None:
    print(f"quota {LIMIT} per {PERIOD:g} s (ideal {IDEAL:g}/s), {WORKERS} workers, {duration:g} s")
    print(machine_note())
    results = []
    for name in only:
        results.append(await SCENARIOS[name](duration))
        print(f"  done: {results[-1].name}", flush=True)
    print()
    print_table(
        [
            "client",
            "ok/s",
            "of ideal",
            "requests",
            "429s",
            "p50 s",
            "p99 s",
            "min ok/worker",
            "longest gap s",
            "failed",
            "hidden consumer",
        ],
        [row(result) for result in results],
    )
    print()
    print(
        "of ideal: successes/s over 25/s (with a hidden consumer: over what it left). "
        "429s: share of the client's own requests. Latency: successful calls, caller's "
        "view (governor wait and retries included). Longest gap: longest time a worker "
        "went without a success, run start and end included."
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per scenario")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios among {','.join(SCENARIOS)}",
    )
    return parser.parse_args()


if __name__ == "__main__":
    args = parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
    asyncio.run(main(args.duration, chosen))
