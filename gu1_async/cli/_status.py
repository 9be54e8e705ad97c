"""`gu1 status`: the governor's budgets live — a Redis fleet, the built-in fake, or one key.

Three sources, one view (`_status_view.py`) or JSON:

- `--redis URL`: every budget a `RedisStore` holds (whichever processes spend them), or one
  key's (`--key-env VAR`, `--key-id HEX`); read-only, it spends nothing.
- `--fake`: the in-process fake server with a client sending to it, so there is something to
  watch (no key, no network).
- `--base-url URL`: one request with GU1_API_KEY, then the windows its headers described.

A key is read only to compute its key id (12 hex digits of its SHA-256); it is never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.live import Live

from .. import APIConnectionError, ApiKey, Gu1Client, Gu1Error, Plan
from ..governor import FleetSnapshot, snapshot_governor
from ..testing import DEFAULT_KEY, FakeGu1Server
from ._common import PLAN_NAMES, load_key, make_client
from ._limits import PROBE_PARAMS, PROBE_PATH, PROBE_RETRY, describe_no_response
from ._status_view import render_fleet

__all__ = ["status"]

Reader = Callable[[], Awaitable[FleetSnapshot]]

FAKE_TIME_SCALE = 360.0  # the fake's hour lasts 10 s: its Free plan's 100 requests refill fast
FAKE_REQUESTS = 5  # sent before the first look, so the windows show some use
FAKE_SENDERS = 8  # with --watch: tasks sending without pause, enough to queue for the quota
KEY_ID_LENGTH = 12


@click.command()
@click.option(
    "--redis",
    "redis_url",
    envvar="GU1_REDIS_URL",
    metavar="URL",
    help="Show the budgets a RedisStore holds on this Redis (all keys, or --key-env / "
    "--key-id). Read-only. Needs gu1-async[redis].",
)
@click.option(
    "--key-env",
    metavar="VAR",
    help="With --redis: only the budget of the key in environment variable VAR (read to "
    "compute its id; never shown).",
)
@click.option(
    "--key-id",
    metavar="HEX",
    help="With --redis: only the budget whose key id (as this command prints it) starts so.",
)
@click.option(
    "--fake", is_flag=True, help="Start the built-in fake server, send to it, show the governor."
)
@click.option(
    "--base-url",
    metavar="URL",
    help="Send one cheap request here with GU1_API_KEY and show what its headers said.",
)
@click.option(
    "--plan",
    envvar="GU1_PLAN",
    type=click.Choice(PLAN_NAMES, case_sensitive=False),
    default="free",
    help="With --base-url: the key's plan, until headers correct it.",
)
@click.option("--time-scale", type=click.FloatRange(min=0, min_open=True), hidden=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per refresh).")
@click.option(
    "--watch",
    type=click.FloatRange(min=0.1),
    is_flag=False,
    flag_value=2.0,
    metavar="[SECONDS]",
    help="Refresh every SECONDS (default 2) until Ctrl-C.",
)
@click.option("--iterations", type=click.IntRange(min=1), hidden=True)
@click.pass_context
def status(
    ctx: click.Context,
    redis_url: str | None,
    key_env: str | None,
    key_id: str | None,
    fake: bool,
    base_url: str | None,
    plan: str,
    time_scale: float | None,
    as_json: bool,
    watch: float | None,
    iterations: int | None,
) -> None:
    """Show each rate-limit window's limit / remaining / reset, the pause, and the requests
    in flight per worker with their leases — once, as JSON, or live (--watch)."""
    from_env = ctx.get_parameter_source("redis_url") is click.core.ParameterSource.ENVIRONMENT
    if from_env and (fake or base_url is not None):
        redis_url = None  # an explicit --fake / --base-url wins over GU1_REDIS_URL
    chosen = [
        name
        for name, on in (("--redis", redis_url), ("--fake", fake), ("--base-url", base_url))
        if on
    ]
    if len(chosen) != 1:
        raise click.UsageError(
            "say what to show: --redis URL (a fleet's budgets), --fake (the built-in fake "
            "server) or --base-url URL (one key, from one request)"
            + (f"; not {' and '.join(chosen)} together" if chosen else "")
        )
    if (key_env or key_id) and redis_url is None:
        raise click.UsageError(
            "--key-env and --key-id choose a budget in Redis: use them with --redis"
        )
    if key_env and key_id:
        raise click.UsageError("--key-env and --key-id both choose the key: give one of them")
    if key_env:
        key_id = _key_id_from(key_env)
    source: contextlib.AbstractAsyncContextManager[tuple[str, Reader]]
    if redis_url is not None:
        source = _redis(redis_url, key_id)
    elif fake:
        source = _fake(traffic=watch is not None)
    else:
        assert base_url is not None
        source = _base_url(base_url, plan, time_scale)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_show(source, as_json, watch, iterations))


def _key_id_from(variable: str) -> str:
    """The fingerprint of the key in `$variable` (the key itself goes no further)."""
    value = os.environ.get(variable, "")
    if not value:
        raise click.UsageError(
            f"--key-env {variable}: the environment variable {variable} is not set"
        )
    try:
        return ApiKey(value).fingerprint
    except Gu1Error as exc:
        raise click.UsageError(f"--key-env {variable}: {type(exc).__name__}: {exc}") from None


async def _show(
    source: contextlib.AbstractAsyncContextManager[tuple[str, Reader]],
    as_json: bool,
    watch: float | None,
    iterations: int | None,
) -> None:
    async with source as (origin, read):
        snapshot = await read()
        if as_json:
            click.echo(json.dumps(snapshot.to_dict(), indent=None if watch else 2))
        if watch is None:
            if not as_json:
                Console().print(render_fleet(snapshot, origin))
            return
        count = 1
        live = (
            contextlib.nullcontext()
            if as_json
            else Live(render_fleet(snapshot, origin), refresh_per_second=4)
        )
        with live as view:
            while iterations is None or count < iterations:
                await asyncio.sleep(watch)
                snapshot = await read()
                count += 1
                if view is None:
                    click.echo(json.dumps(snapshot.to_dict()))
                else:
                    view.update(render_fleet(snapshot, origin))


def redis_origin(url: str) -> str:
    """Where the store is, for the header: host, port and database, never credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"redis {parts.path}"
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme} {host}{port}{parts.path or ''}"


@contextlib.asynccontextmanager
async def _redis(url: str, key_id: str | None) -> AsyncIterator[tuple[str, Reader]]:
    try:
        from redis.asyncio import Redis

        from ..governor.redis import snapshot_redis
    except ImportError:
        raise click.ClickException(
            "--redis needs redis-py: pip install 'gu1-async[redis]'"
        ) from None
    try:
        client = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
    except ValueError as exc:
        raise click.UsageError(f"--redis: {exc}") from None

    async def read() -> FleetSnapshot:
        try:
            return await snapshot_redis(client, key_id)
        except Gu1Error as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from None

    try:
        yield redis_origin(url), read
    finally:
        await client.aclose()


def _fake_key_labels() -> dict[str, Any]:
    key = ApiKey(DEFAULT_KEY)
    return {"key_id": key.fingerprint[:KEY_ID_LENGTH], "environment": key.environment}


@contextlib.asynccontextmanager
async def _fake(traffic: bool) -> AsyncIterator[tuple[str, Reader]]:
    async with FakeGu1Server(plan="free", time_scale=FAKE_TIME_SCALE) as server:
        plan = Plan.FREE.scaled(FAKE_TIME_SCALE)
        async with Gu1Client(DEFAULT_KEY, base_url=server.url, plan=plan) as client:
            for _ in range(FAKE_REQUESTS):
                await client.request("GET", PROBE_PATH, params=PROBE_PARAMS)
            senders = [
                asyncio.create_task(_send_forever(client))
                for _ in range(FAKE_SENDERS if traffic else 0)
            ]
            labels = _fake_key_labels()

            async def read() -> FleetSnapshot:
                return snapshot_governor(client.governor, namespace="fake", **labels)

            try:
                yield f"fake server (an hour lasts {3600 / FAKE_TIME_SCALE:g} s)", read
            finally:
                for task in senders:
                    task.cancel()
                await asyncio.gather(*senders, return_exceptions=True)


async def _send_forever(client: Gu1Client) -> None:
    while True:
        await client.request("GET", PROBE_PATH, params=PROBE_PARAMS)


@contextlib.asynccontextmanager
async def _base_url(
    base_url: str, plan: str, time_scale: float | None
) -> AsyncIterator[tuple[str, Reader]]:
    key, _ = load_key()
    async with make_client(base_url, plan, time_scale, retry=PROBE_RETRY) as client:
        try:
            await client.request("GET", PROBE_PATH, params=PROBE_PARAMS)
        except APIConnectionError as exc:
            lines = describe_no_response(exc, client.base_url)
            raise click.ClickException(
                f"{type(exc).__name__}: {exc}\n" + "\n".join(lines)
            ) from None
        except Gu1Error as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from None
        labels = {"key_id": key.fingerprint[:KEY_ID_LENGTH], "environment": key.environment}

        async def read() -> FleetSnapshot:
            # One request only: later looks age what its headers said (no quota spent).
            return snapshot_governor(client.governor, namespace="this process", **labels)

        yield f"{client.base_url} (one request, then the governor's view)", read
