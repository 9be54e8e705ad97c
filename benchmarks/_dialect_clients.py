"""The clients of `bench_dialects.py`: `tasks` tasks looping one GET against one server.

- `gu1`: gu1-async as a new user writes it: `Gu1Client(plan="free", api_key=..., base_url=...)`,
  calling `client.entities.list()`;
- `gu1-redis`: the same with `store=RedisStore.from_url(...)`;
- `tenacity`: plain aiohttp + tenacity retrying 429s with jittered exponential backoff
  (bench_quota.py's peer (a));
- `aiolimiter`: plain aiohttp + `AsyncLimiter(limit, period)` set to the server's quota, a
  refused call re-queued on the limiter.

Each task loops until `duration` is up (resting FAILURE_PAUSE s after a failed call); a
call under way then may finish within `grace` seconds, after which it counts as hung (and
is cancelled). Every HTTP request and response
is counted from an aiohttp trace on every session of the process (gu1-async's included),
so the benchmark can check that the server counted what the client sent.

`bench_dialects.py` runs one client per subprocess (`python _dialect_clients.py ...`
prints one JSON object); tests/thirdparty imports `run_client`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import attrs
import tenacity
from aiolimiter import AsyncLimiter

from gu1_async import Gu1Client, Gu1Error

__all__ = ["CLIENTS", "ClientRun", "run_client"]

CLIENTS: dict[str, str] = {
    "gu1": "gu1-async (default)",
    "gu1-redis": "gu1-async + RedisStore",
    "tenacity": "aiohttp + tenacity backoff",
    "aiolimiter": "aiohttp + aiolimiter",
}

Call = Callable[[], Awaitable[None]]
FAILURE_PAUSE = 0.1  # seconds a task rests after a failed call


@attrs.define
class ClientRun:
    """What one client saw, from the caller's side."""

    client: str
    started: float = 0.0  # wall clock (time.time()) when the tasks started
    duration: float = 0.0
    ok: int = 0
    failed: dict[str, int] = attrs.Factory(dict)  # exception type -> calls that raised it
    gu1_errors: int = 0  # of the failed calls, those that raised a Gu1Error
    hung: int = 0  # calls neither returned nor raised `grace` s after the end
    latencies: list[float] = attrs.Factory(list)  # s per successful call, waits included
    sent: int = 0  # HTTP requests started
    answered: int = 0  # HTTP responses received
    statuses: dict[str, int] = attrs.Factory(dict)  # HTTP status -> responses

    @property
    def calls(self) -> int:
        return self.ok + sum(self.failed.values())

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ClientRun:
        return cls(**json.loads(text))


class Wire:
    """Counts HTTP requests and responses through an aiohttp trace."""

    def __init__(self, run: ClientRun) -> None:
        self.run = run
        self.statuses: collections.Counter[int] = collections.Counter()

    def trace_config(self) -> aiohttp.TraceConfig:
        config = aiohttp.TraceConfig()

        async def started(
            _s: aiohttp.ClientSession, _c: SimpleNamespace, _p: aiohttp.TraceRequestStartParams
        ) -> None:
            self.run.sent += 1

        async def ended(
            _s: aiohttp.ClientSession, _c: SimpleNamespace, params: aiohttp.TraceRequestEndParams
        ) -> None:
            self.run.answered += 1
            self.statuses[params.response.status] += 1

        config.on_request_start.append(started)
        config.on_request_end.append(ended)
        return config


@contextlib.contextmanager
def traced_sessions(wire: Wire) -> Iterator[None]:
    """Add the wire's trace to every aiohttp session created meanwhile (gu1-async's too).

    gu1-async owns its session and offers no hook; patching the constructor for the run
    keeps the benchmark off the SDK's internals, which the governor's rewrite may change.
    """
    original = aiohttp.ClientSession.__init__

    def init(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
        kwargs["trace_configs"] = [*(kwargs.get("trace_configs") or ()), wire.trace_config()]
        original(self, *args, **kwargs)

    aiohttp.ClientSession.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        aiohttp.ClientSession.__init__ = original  # type: ignore[method-assign]


async def drive(call: Call, run: ClientRun, tasks: int, duration: float, grace: float) -> None:
    """`tasks` tasks calling `call()` until `duration` is up; then wait `grace` s at most."""
    failed: collections.Counter[str] = collections.Counter()
    run.started = time.time()
    run.duration = duration
    end = time.monotonic() + duration

    async def worker() -> None:
        while time.monotonic() < end:
            began = time.monotonic()
            try:
                await call()
            except Exception as exc:  # a failed call; the task goes on, as a service would
                failed[type(exc).__name__] += 1
                run.gu1_errors += isinstance(exc, Gu1Error)
                # A call that fails at once (QuotaExhaustedError, a refused connection) must
                # not spin the CPU that the server and the paired cell share.
                await asyncio.sleep(FAILURE_PAUSE)
            else:
                run.ok += 1
                run.latencies.append(time.monotonic() - began)

    workers = [asyncio.create_task(worker()) for _ in range(tasks)]
    _, pending = await asyncio.wait(workers, timeout=end + grace - time.monotonic())
    run.hung = len(pending)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    run.failed = dict(failed)


async def run_client(
    client: str,
    url: str,
    api_key: str,
    *,
    duration: float,
    tasks: int,
    limit: int,
    period: float,
    redis_url: str | None = None,
    grace: float = 10.0,
) -> ClientRun:
    """Run one client against the server at `url` with its own key; what it saw."""
    run = ClientRun(client)
    wire = Wire(run)
    with traced_sessions(wire):
        if client in ("gu1", "gu1-redis"):
            await _run_gu1(run, url, api_key, duration, tasks, grace, redis_url)
        elif client in ("tenacity", "aiolimiter"):
            await _run_plain(run, url, api_key, duration, tasks, grace, limit, period)
        else:
            raise ValueError(f"unknown client {client!r}")
    run.statuses = {str(status): n for status, n in sorted(wire.statuses.items())}
    return run


async def _run_gu1(
    run: ClientRun,
    url: str,
    api_key: str,
    duration: float,
    tasks: int,
    grace: float,
    redis_url: str | None,
) -> None:
    store: Any = None
    if run.client == "gu1-redis":
        if redis_url is None:
            raise ValueError("gu1-redis needs a redis URL")
        from gu1_async.governor.redis import RedisStore

        store = RedisStore.from_url(redis_url, namespace=f"bench-dialects-{time.time_ns()}")
    try:
        # What a new user writes: the free plan (100/h, which the server contradicts).
        async with Gu1Client(plan="free", api_key=api_key, base_url=url, store=store) as client:

            async def call() -> None:
                await client.entities.list()

            await drive(call, run, tasks, duration, grace)
    finally:
        if store is not None:
            await store.aclose()


class Refused(Exception):
    """A 429 (tenacity retries on it)."""


async def _run_plain(
    run: ClientRun,
    url: str,
    api_key: str,
    duration: float,
    tasks: int,
    grace: float,
    limit: int,
    period: float,
) -> None:
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

        async def get() -> None:
            async with session.get(f"{url}/entities", headers=headers) as response:
                if response.status == 429:
                    await response.read()
                    raise Refused
                response.raise_for_status()
                await response.json()

        if run.client == "tenacity":
            retrying = tenacity.AsyncRetrying(
                retry=tenacity.retry_if_exception_type(Refused),
                wait=tenacity.wait_random_exponential(multiplier=0.25, max=8),
                stop=tenacity.stop_never,
                reraise=True,
            )

            async def call() -> None:
                await retrying(get)

        else:
            limiter = AsyncLimiter(limit, period)

            async def call() -> None:
                while True:  # a refused call takes a new limiter slot, re-queued behind others
                    await limiter.acquire()
                    try:
                        await get()
                    except Refused:
                        continue
                    return

        await drive(call, run, tasks, duration, grace)


def main() -> None:
    parser = argparse.ArgumentParser(description="one bench_dialects client; prints JSON")
    parser.add_argument("--client", required=True, choices=sorted(CLIENTS))
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--limit", type=int, required=True)
    parser.add_argument("--period", type=float, required=True)
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--redis")
    args = parser.parse_args()
    run = asyncio.run(
        run_client(
            args.client,
            args.url,
            args.key,
            duration=args.duration,
            tasks=args.tasks,
            limit=args.limit,
            period=args.period,
            redis_url=args.redis,
            grace=args.grace,
        )
    )
    sys.stdout.write(run.to_json() + "\n")


if __name__ == "__main__":
    main()
