"""Benchmark: what a Redis Cluster failover costs the RedisStore, mid-run.

A Redis Cluster of 3 masters and 3 replicas (`redis-cli --cluster create
--cluster-replicas 1`, `cluster-node-timeout` 1000 ms, the helpers of
tests/redis/_servers.py) holds one key's budget; the fake gu1 server (in this process)
allows `--limit` requests per second (default 100). `--workers` processes (default 4) run
`--tasks` tasks each (default 4), each looping calls through
`Gu1Client(store=RedisStore.from_url(..., cluster=True, on_store_error=...))`. At
`--kill-at` seconds (default 3) of a `--duration` s run (default 10) the master of the
key's slot is killed (SIGKILL); its replica takes over about two seconds later.

Printed for `on_store_error="raise"` and `"local"` (a fresh cluster each): calls made,
granted (answered 2xx), GovernorStoreError, other errors, lost (calls that neither
returned nor raised within 5 s of the end), 429s (the server's count), the longest gap
between two admissions (2xx answers, fleet-wide), and the time from the kill until the
fleet is back on Redis ("raise": the first call granted by Redis after the kill;
"local": the last worker rejoining Redis).

Prints Markdown; a measurement, not a pass/fail test.

Run:  .venv/bin/python benchmarks/bench_failover.py                 (about 40 s)
      .venv/bin/python benchmarks/bench_failover.py --modes local --probe-interval 1
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine_note, print_table, run_if_worker

from gu1_async import GovernorStoreError, Gu1Client, Plan, Quota
from gu1_async._auth import ApiKey
from gu1_async.governor.redis import KEY_PREFIX, RedisStore
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' server helpers
from tests.redis._servers import Cluster

GRACE = 5.0
"""Seconds after the end a call still has to return or raise before it counts as lost."""


# -- worker processes ---------------------------------------------------------------------


async def run_worker(
    mode: str,
    tasks: int,
    limit: int,
    url: str,
    redis_url: str,
    probe_interval: float,
    start_at: float,
    until: float,
) -> dict[str, Any]:
    store = RedisStore.from_url(
        redis_url, cluster=True, on_store_error=mode, probe_interval=probe_interval
    )
    calls: list[tuple[float, float, str]] = []  # (start, end, outcome), wall time
    pending: set[asyncio.Task[None]] = set()
    degraded: list[tuple[float, bool]] = []  # (when, degraded) at each change
    async with Gu1Client(
        DEFAULT_KEY, base_url=url, plan=Plan.custom(Quota(limit, 1.0)), store=store
    ) as client:

        async def call() -> None:
            started = time.time()
            try:
                await client.request("GET", "/entities", params={"limit": 1})
            except GovernorStoreError:
                outcome = "store"
            except Exception as exc:  # counted by type; the server counts its 429s
                outcome = type(exc).__name__
            else:
                outcome = "ok"
            calls.append((started, time.time(), outcome))

        async def task() -> None:
            while time.time() < until:
                one = asyncio.create_task(call())
                pending.add(one)
                try:
                    await asyncio.shield(one)
                finally:
                    pending.discard(one)
                if calls and calls[-1][2] != "ok":
                    await asyncio.sleep(0.01)  # (as a caller would before trying again)

        async def watch() -> None:
            while True:
                if not degraded or degraded[-1][1] != store.degraded:
                    degraded.append((time.time(), store.degraded))
                await asyncio.sleep(0.005)

        late = time.time() - start_at
        await asyncio.sleep(max(0.0, start_at - time.time()))
        watcher = asyncio.create_task(watch())
        running = [asyncio.create_task(task()) for _ in range(tasks)]
        await asyncio.sleep(max(0.0, until - time.time()))
        _done, stuck = await asyncio.wait(running, timeout=GRACE)
        lost = len(pending)
        for one in (*stuck, *pending, watcher):
            one.cancel()
        await asyncio.gather(*stuck, *pending, watcher, return_exceptions=True)
    await store.aclose()
    return {"calls": calls, "lost": lost, "late": late, "degraded": degraded}


# -- the parent -----------------------------------------------------------------------------


def slot_key() -> str:
    """The Redis key of DEFAULT_KEY's budget (the client binds one store per key)."""
    key = ApiKey(DEFAULT_KEY)
    return f"{KEY_PREFIX}{{{key.environment or 'unknown'}:{key.fingerprint}}}:state"


async def scenario(mode: str, args: argparse.Namespace) -> list[str]:
    with tempfile.TemporaryDirectory() as directory:
        cluster = Cluster(Path(directory), masters=3, replicas=1, node_timeout=1000)
        await asyncio.to_thread(cluster.start)
        try:
            async with FakeGu1Server(plan=[(args.limit, 1.0)]) as server:
                start_at = time.time() + 5.0  # every worker imported and connected
                until = start_at + args.duration
                spec = [mode, args.tasks, args.limit, server.url, cluster.url]
                spec += [args.probe_interval, start_at, until]
                workers = [
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        __file__,
                        "--worker",
                        json.dumps(spec),
                        stdout=subprocess.PIPE,
                    )
                    for _ in range(args.workers)
                ]
                await asyncio.sleep(max(0.0, start_at + args.kill_at - time.time()))
                master = cluster.master_of(slot_key())
                killed_at = time.time()
                master.kill()
                outputs = [await worker.communicate() for worker in workers]
                rate_limited = server.stats().rate_limited
        finally:
            cluster.stop()
    results = [json.loads(out) for out, _ in outputs]
    late = max(r["late"] for r in results)
    if late > 0:
        print(f"(a worker started {late:.2f} s late: the figures are skewed)", file=sys.stderr)
    calls = [c for r in results for c in r["calls"]]
    lost = sum(r["lost"] for r in results)
    outcomes = [outcome for _s, _e, outcome in calls]
    admitted = sorted(end for _s, end, outcome in calls if outcome == "ok")
    edges = [start_at, *admitted, start_at + args.duration]
    gap = max(b - a for a, b in itertools.pairwise(edges))
    if mode == "raise":
        # The first call made after the kill that Redis granted (it was answered).
        back = min((end for s, end, o in calls if o == "ok" and s > killed_at), default=None)
    else:
        rejoined = [
            when
            for r in results
            for when, is_degraded in r["degraded"]
            if not is_degraded and when > killed_at
        ]
        back = max(rejoined, default=None)
    others = len(outcomes) - outcomes.count("ok") - outcomes.count("store")
    return [
        f'on_store_error="{mode}"',
        str(len(calls) + lost),
        str(outcomes.count("ok")),
        str(outcomes.count("store")),
        str(others),
        str(lost),
        str(rate_limited),
        f"{gap:.1f}",
        "never" if back is None else f"{back - killed_at:.1f}",
    ]


async def main(args: argparse.Namespace) -> None:
    print(f"<!-- {machine_note()} -->")
    print(
        f"\n{args.workers} processes x {args.tasks} tasks, {args.limit} per 1 s, Redis "
        f"Cluster 3 masters + 3 replicas (cluster-node-timeout 1000 ms), the slot's master "
        f"killed at {args.kill_at:g} s of {args.duration:g} s, probe_interval "
        f"{args.probe_interval:g} s:\n"
    )
    rows = [await scenario(mode, args) for mode in args.modes.split(",")]
    print_table(
        [
            "mode",
            "calls",
            "granted",
            "GovernorStoreError",
            "other errors",
            "lost",
            "429s",
            "longest gap s",
            "back on Redis after s",
        ],
        rows,
    )


if __name__ == "__main__":
    run_if_worker(run_worker)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--kill-at", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--probe-interval", type=float, default=5.0)
    parser.add_argument("--modes", default="raise,local")
    asyncio.run(main(parser.parse_args()))
