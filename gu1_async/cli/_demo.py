"""`gu1 demo`: batch ingestion end to end against the built-in fake server — no key, no network."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import click
from rich.console import Console

from .. import Gu1Client, Plan
from ..testing import DEFAULT_KEY, FakeGu1Server
from ._ingest_run import run_ingestion
from ._rejects import describe_failures
from ._rows import Row

_TIME_SCALE = 14_400.0  # the fake's hour lasts 0.25 s: 2,000 rows on 100/hour take ~5 s


def demo_rows(count: int) -> Iterator[Row]:
    for i in range(count):
        yield {
            "externalId": f"demo-{i:05d}",
            "type": "person",
            "name": f"Demo Person {i}",
            "countryCode": "AR",
            "taxId": f"20{i:08d}3",
        }


@click.command()
@click.option("--entities", "count", type=click.IntRange(1, 100_000), default=2_000)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=1),
    default=_TIME_SCALE,
    help="How much faster than real time the fake's rate-limit windows pass.",
)
@click.option("--progress/--no-progress", default=True, help="Show the live progress bar.")
def demo(count: int, time_scale: float, progress: bool) -> None:
    """Ingest entities into an in-process fake gu1 on the Free plan (100 requests an hour).

    Time runs faster in the fake, so the governor pacing the run window after window —
    the `wait` column of the progress bar — shows in a few seconds.
    """
    asyncio.run(_demo(count, time_scale, progress))


async def _demo(count: int, time_scale: float, progress: bool) -> None:
    async with FakeGu1Server(plan="free", time_scale=time_scale) as server:
        hour = 3600 / time_scale
        click.echo(f"fake gu1 server on {server.url} (Free plan: 100 requests per {hour:g} s)")
        plan = Plan.FREE.scaled(time_scale)
        first_errors: dict[str, BaseException] = {}
        async with Gu1Client(DEFAULT_KEY, base_url=server.url, plan=plan) as client:
            report, _ = await run_ingestion(
                client,
                "entities",
                demo_rows(count),
                total=count,
                progress=progress,
                console=Console(stderr=True),
                description="entities",
                first_errors=first_errors,
            )
            stats = server.stats()
            click.echo(report.summary() + f" in {report.elapsed:.1f} s")
            for line in describe_failures(report.errors, first_errors):
                click.echo(f"failed: {line}", err=True)
            click.echo(
                f"server saw {stats.requests} requests, {stats.rate_limited} answered 429; "
                f"{len(server.entities)} entities stored"
            )
            click.echo(f"governor: {client.governor!r}")
    if report.failed:
        raise SystemExit(1)
