"""`gu1 fake-server`: run the in-memory fake gu1 API on loopback until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib

import click

from ..testing import serve
from ._common import PLAN_NAMES


@click.command("fake-server")
@click.option("--port", type=click.IntRange(0, 65535), default=8765)
@click.option(
    "--plan",
    type=click.Choice(PLAN_NAMES),
    default="free",
    help="Rate-limit windows of the fake keys.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    help="How much faster than real time the rate-limit windows pass (3600: an hour a second).",
)
def fake_server(port: int, plan: str, time_scale: float) -> None:
    """Run the fake gu1 server (no key or network needed) until Ctrl-C."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(port, plan=plan, time_scale=time_scale))
