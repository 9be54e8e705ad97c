"""Benchmark: peak memory of one hostile answer (issue 14's size-cap findings).

Each case runs in a fresh process, so that the process's peak RSS (`ru_maxrss`, which only
ever grows) belongs to that one request: a warm-up request, then one GET answered by the
hostile test server (`tests/hostile/server.py`) with

- `chunked`: 200 MiB with chunked transfer encoding (no Content-Length);
- `gzip`: a 1 MB gzip body (honest Content-Length) that inflates to 1 GiB.

It prints the outcome, the peak RSS before and after, and the wall time. The SDK's cap is
`Gu1Client(max_response_size=...)`, 32 MiB by default.

Run:  .venv/bin/python benchmarks/bench_hostile_memory.py
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import machine_note, print_table

ROOT = Path(__file__).resolve().parents[1]
CASES = ("chunked", "gzip")


async def one(case: str) -> None:
    sys.path.insert(0, str(ROOT))  # the hostile server lives with the tests
    from gu1_async import Gu1Client
    from tests.hostile.server import HostileServer, MiB, chunked_zeros, gzip_body, gzip_zeros

    answer = chunked_zeros(200 * MiB) if case == "chunked" else gzip_body(gzip_zeros(1024))
    server = await HostileServer().start()
    server.on("/x", answer)
    try:
        async with Gu1Client("gk_test_benchHOSTILE01", base_url=server.url, timeout=120) as c:
            await c.request("GET", "/warm-up")
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            start = time.perf_counter()
            try:
                await c.request("GET", "/x")
                outcome = "a result"
            except Exception as exc:
                outcome = type(exc).__name__
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        await server.aclose()
    print(f"{outcome}\t{before:.0f}\t{after:.0f}\t{seconds:.2f}")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        asyncio.run(one(sys.argv[2]))
        return
    print(machine_note())
    rows = []
    for case in CASES:
        done = subprocess.run(
            [sys.executable, __file__, "--case", case],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        outcome, before, after, seconds = done.stdout.strip().splitlines()[-1].split("\t")
        growth = float(after) - float(before)
        rows.append([case, outcome, f"{before} MiB", f"{after} MiB", f"+{growth:.0f}", seconds])
    print_table(["answer", "outcome", "RSS before", "peak RSS", "MiB", "seconds"], rows)


if __name__ == "__main__":
    main()
