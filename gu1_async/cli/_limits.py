"""`gu1 key check` and `gu1 limits`: one cheap request, then what the quota looks like."""

from __future__ import annotations

import datetime as dt
import time

import click

from .. import APIConnectionError, Gu1Client, Gu1Error, RateLimitSnapshot, RetryPolicy
from ..governor import GovernorStats
from ._common import EXIT_FAILED, async_command, gu1_options, load_key, make_client

__all__ = ["key", "limits"]

# A read that matches nothing: the cheapest request that proves the key can call the API.
PROBE_PATH = "/entities"
PROBE_PARAMS = {"externalId": "gu1-cli-key-check"}
# One request, not retried: a diagnostic reports the first failure at once (and costs the
# one request of quota the docs promise) instead of backing off behind it.
PROBE_RETRY = RetryPolicy(max_retries=0)


async def probe(client: Gu1Client) -> float:
    """Send the probe request; return its duration in seconds."""
    started = time.perf_counter()
    await client.request("GET", PROBE_PATH, params=PROBE_PARAMS)
    return time.perf_counter() - started


def describe_no_response(exc: APIConnectionError, base_url: str) -> list[str]:
    """What to say when there was no response at all (so no headers to describe)."""
    return [
        f"rate limit   unknown: the connection to {base_url} failed, so no response said anything",
        f"reason       {exc}",
        "hint         is --base-url / GU1_BASE_URL right, and is the server reachable?",
    ]


def describe_snapshot(snapshot: RateLimitSnapshot | None) -> list[str]:
    """The X-RateLimit-* headers of the last response, as lines of text."""
    if snapshot is None or snapshot.is_empty:
        return ["rate limit   (the response carried no X-RateLimit-* headers)"]
    lines = [f"rate limit   {snapshot.remaining}/{snapshot.limit} requests left in this window"]
    if snapshot.reset is not None:
        reset = snapshot.reset.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")
        after = snapshot.reset_after
        lines.append(
            f"resets at    {reset.replace('+00:00', 'Z')}"
            + (f" (in {after:.1f} s)" if after is not None else "")
        )
    if snapshot.retry_after is not None:
        lines.append(f"retry after  {snapshot.retry_after:g} s")
    return lines


def next_wait(stats: GovernorStats) -> float:
    """Seconds until the governor lets the next request go (0: now)."""
    wait = stats.paused_for
    for window in stats.windows:
        if window.available <= 0:
            wait = max(wait, window.reset_in)
    return wait


def describe_governor(stats: GovernorStats) -> list[str]:
    """What the governor will allow next, per window."""
    lines = []
    for w in stats.windows:
        origin = "from headers" if w.from_header else "from the plan"
        lines.append(
            f"window       {w.available}/{w.limit} per {w.period:g} s available now "
            f"({origin}), refills in {w.reset_in:.1f} s"
        )
    wait = next_wait(stats)
    lines.append("next request " + ("now" if wait <= 0 else f"in {wait:.1f} s"))
    if stats.windows:
        allowed = min(w.available for w in stats.windows)
        lines.append(f"burst        up to {max(allowed, 0)} requests may start right away")
    return lines


@click.group()
def key() -> None:
    """Inspect the API key (read from GU1_API_KEY or .env, never from an argument)."""


@key.command("check")
@gu1_options
@async_command
async def check(
    base_url: str | None, plan: str, time_scale: float | None, allow_environment_mismatch: bool
) -> None:
    """Test the key with one read request; exit non-zero on 401/403.

    Prints the environment, the key in masked form (never the key itself) and the
    rate-limit state the response headers reported.
    """
    api_key, source = load_key()
    click.echo(f"key          {api_key.masked} (from the {source})")
    environment = api_key.environment or "unknown"
    kind = {True: "production", False: "non-production", None: "unknown"}[api_key.is_production]
    click.echo(f"environment  {environment} ({kind})")
    async with _client(base_url, plan, time_scale, allow_environment_mismatch) as client:
        click.echo(f"base URL     {client.base_url}")
        click.echo(f"plan         {client.governor.plan}")
        try:
            elapsed = await probe(client)
        except APIConnectionError as exc:
            click.echo(f"check        FAILED: {type(exc).__name__}: {exc}", err=True)
            for line in describe_no_response(exc, client.base_url):
                click.echo(line)
            raise SystemExit(EXIT_FAILED) from None
        except Gu1Error as exc:
            click.echo(f"check        FAILED: {type(exc).__name__}: {exc}", err=True)
            for line in describe_snapshot(client.rate_limit):
                click.echo(line)
            raise SystemExit(EXIT_FAILED) from None
        click.echo(f"check        OK: GET {PROBE_PATH} answered in {elapsed * 1000:.0f} ms")
        for line in describe_snapshot(client.rate_limit):
            click.echo(line)


@click.command()
@gu1_options
@async_command
async def limits(
    base_url: str | None, plan: str, time_scale: float | None, allow_environment_mismatch: bool
) -> None:
    """Show the key's current X-RateLimit snapshot and what the governor allows next.

    Spends one request of the quota (a read that matches nothing) to get fresh headers.
    """
    async with _client(base_url, plan, time_scale, allow_environment_mismatch) as client:
        try:
            await probe(client)
        except APIConnectionError as exc:
            click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
            for line in describe_no_response(exc, client.base_url):
                click.echo(line, err=True)
            raise SystemExit(EXIT_FAILED) from None
        except Gu1Error as exc:
            click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
            raise SystemExit(EXIT_FAILED) from None
        click.echo(f"plan         {client.governor.plan}")
        for line in describe_snapshot(client.rate_limit):
            click.echo(line)
        for line in describe_governor(client.governor.stats()):
            click.echo(line)


def _client(
    base_url: str | None, plan: str, time_scale: float | None, allow_environment_mismatch: bool
) -> Gu1Client:
    return make_client(
        base_url,
        plan,
        time_scale,
        retry=PROBE_RETRY,
        allow_environment_mismatch=allow_environment_mismatch,
    )
