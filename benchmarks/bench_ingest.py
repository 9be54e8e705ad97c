"""Benchmark: batch ingestion against the quota's physical minimum, and memory vs input size.

Prints two tables (a measurement script, not a pass/fail test):

1. **Pacing.** 10,000 entities upserted through `ingest_entities` into a FakeGu1Server
   running in its own process (so the server's CPU does not slow the client) on the
   Professional plan, 1,200 requests an hour, with time sped up 1,800x (an hour lasts 2 s).
   Wall time is compared with two minimums:
   - *items / allowed rate*: 10,000 / (1,200 per 2 s) = 16.7 s;
   - *fixed-window bound*: the first window opens at the first request and every window
     allows 1,200 at once, so the last of 9 windows opens after 8 periods = 16.0 s; the
     final 400 requests still take the client's round-trip time after that.
2. **Memory.** The engine reading N JSON lines from a file (generated in a temp dir),
   recording each finished row in a `gu1 ingest` checkpoint, with a send that returns at
   once (no HTTP: this measures what the pipeline holds, not the network). Peak RSS of a
   fresh process per N; flat means the 1,000,000-row run peaks where the 10,000-row run
   does.

Run:  .venv/bin/python benchmarks/bench_ingest.py   (about 1 minute)
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gu1_async import Gu1Client, Plan
from gu1_async.ingest import Ingestion, ingest_entities
from gu1_async.resources import Entities
from gu1_async.testing import DEFAULT_KEY

ITEMS = 10_000
TIME_SCALE = 1_800.0
CONCURRENCY = 32
MEMORY_SIZES = (10_000, 100_000, 1_000_000)


# -- 1. pacing ---------------------------------------------------------------------------


def start_fake_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gu1_async",
            "fake-server",
            "--port",
            "0",
            "--plan",
            "professional",
            "--time-scale",
            str(TIME_SCALE),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    match = re.search(r"http://[\d.]+:\d+", server.stdout.readline())
    assert match, "the fake server did not print its URL"
    return server, match.group(0)


async def pacing(url: str) -> dict[str, float]:
    plan = Plan.PROFESSIONAL.scaled(TIME_SCALE)
    async with Gu1Client(DEFAULT_KEY, base_url=url, plan=plan) as client:
        entities = getattr(client, "entities", None) or Entities(client._requester)
        rows = (
            {"externalId": f"bench-{i:06d}", "type": "person", "name": f"P{i}", "countryCode": "AR"}
            for i in range(ITEMS)
        )
        started = time.perf_counter()
        report = await ingest_entities(entities.upsert, rows, concurrency=CONCURRENCY).run()
        wall = time.perf_counter() - started
        stats = client.governor.stats()
    assert report.succeeded == ITEMS, report
    hourly = Plan.PROFESSIONAL.quotas[0]
    period = hourly.period / TIME_SCALE
    windows = -(-ITEMS // hourly.limit)
    return {
        "wall": wall,
        "rate_minimum": ITEMS / hourly.limit * period,
        "window_minimum": (windows - 1) * period,
        "rate_limited": float(stats.rate_limited),
    }


# -- 2. memory ---------------------------------------------------------------------------


def memory_child(rows: int, path: Path) -> None:
    """Runs in a fresh process: the engine over `rows` rows of `path`; prints peak RSS."""
    from gu1_async.cli._checkpoint import Checkpoint
    from gu1_async.cli._rows import read_rows

    async def send(row: object) -> None:
        return None

    async def run() -> int:
        done = 0
        with Checkpoint.open(
            path.with_suffix(".cp"), input_path=path, kind="entities", resume=False
        ) as checkpoint:
            async for outcome in Ingestion(read_rows(path, "jsonl"), send, concurrency=64):
                checkpoint.record(outcome.index)
                done += 1
        return done

    done = asyncio.run(run())
    assert done == rows, done
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def write_rows(path: Path, rows: int) -> None:
    with path.open("w") as handle:
        for i in range(rows):
            row = {"externalId": f"m-{i:07d}", "type": "person", "name": f"Person {i}"}
            handle.write(json.dumps({**row, "countryCode": "AR", "taxId": f"20{i:08d}3"}) + "\n")


def memory() -> list[tuple[int, float, float, float]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in MEMORY_SIZES:
            path = Path(tmp) / f"rows-{rows}.jsonl"
            write_rows(path, rows)
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, __file__, "--memory-child", str(rows), str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - started
            size_mb = path.stat().st_size / 1e6
            results.append((rows, size_mb, int(out.stdout.strip()) / 1024, seconds))
    return results


def main() -> None:
    server, url = start_fake_server()
    try:
        figures = asyncio.run(pacing(url))
    finally:
        server.terminate()
        server.wait()
    wall = figures["wall"]
    print(
        f"pacing: {ITEMS:,} entities, Professional 1,200/h at {TIME_SCALE:g}x (1 h = "
        f"{3600 / TIME_SCALE:g} s), concurrency {CONCURRENCY}"
    )
    print(f"  wall time               {wall:8.2f} s   ({figures['rate_limited']:.0f} 429s)")
    for name, key in (
        ("items / allowed rate", "rate_minimum"),
        ("fixed-window bound", "window_minimum"),
    ):
        print(f"  {name:<22}  {figures[key]:8.2f} s   ratio {wall / figures[key]:.3f}x")
    print()
    print("memory: engine + JSONL reader + checkpoint log, no HTTP (fresh process per size)")
    print(f"  {'rows':>9}  {'file MB':>8}  {'peak RSS MB':>11}  {'seconds':>7}")
    for rows, size_mb, peak_mb, seconds in memory():
        print(f"  {rows:>9,}  {size_mb:>8.1f}  {peak_mb:>11.1f}  {seconds:>7.1f}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--memory-child":
        memory_child(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
