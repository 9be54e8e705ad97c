"""`gu1 demo`: the SDK end to end against the built-in fake server — no key, no network."""

from __future__ import annotations

import asyncio
import time

import click

from .. import Gu1Client, Plan
from ..testing import DEFAULT_KEY, FakeGu1Server

_TIME_SCALE = 1800.0  # the fake's hour lasts 2 s, so the demo crosses a window quickly


@click.command()
@click.option("--entities", "count", type=click.IntRange(1, 5000), default=150, show_default=True)
def demo(count: int) -> None:
    """Create and list entities through Gu1Client against an in-process fake gu1 server.

    The fake runs the Free plan (100 requests an hour) with time sped up, so the
    governor's pacing across a window reset is visible in a few seconds.
    """
    asyncio.run(_demo(count))


async def _demo(count: int) -> None:
    async with FakeGu1Server(plan="free", time_scale=_TIME_SCALE) as server:
        click.echo(f"fake gu1 server on {server.url} (Free plan, 1 h = {3600 / _TIME_SCALE:g} s)")
        async with Gu1Client(
            DEFAULT_KEY, base_url=server.url, plan=Plan.FREE.scaled(_TIME_SCALE)
        ) as client:
            started = time.perf_counter()

            async def create(i: int) -> None:
                await client.request(
                    "POST",
                    "/entities",
                    json={
                        "type": "person",
                        "externalId": f"demo-{i:05d}",
                        "name": f"Demo Person {i}",
                        "countryCode": "AR",
                        "taxId": f"20{i:08d}3",
                    },
                )

            await asyncio.gather(*(create(i) for i in range(count)))
            elapsed = time.perf_counter() - started
            listed = await client.request("GET", "/entities", params={"type": "person"})
            entities = listed.get("entities", []) if isinstance(listed, dict) else []
            stats = server.stats()
            click.echo(f"created {count} entities in {elapsed:.2f} s")
            click.echo(f"listed  {len(entities)} entities (GET /entities returns up to 100)")
            click.echo(f"server saw {stats.requests} requests, {stats.rate_limited} answered 429")
            snapshot = client.rate_limit
            if snapshot is not None:
                click.echo(
                    f"rate limit now: {snapshot.remaining}/{snapshot.limit} left, "
                    f"resets at {snapshot.reset:%H:%M:%S.%f} UTC"
                )
            click.echo(f"governor: {client.governor!r}")
