"""Key rotation without downtime: rotate_key, key providers, one retry of a 401 EXPIRED."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from gu1_async import (
    ConfigurationError,
    ExpiredApiKeyError,
    Gu1Client,
    Plan,
    Quota,
    RetryPolicy,
)
from gu1_async.testing import FakeGu1Server

OLD = "gk_test_rotationOLDkeyAAAA1111"
NEW = "gk_test_rotationNEWkeyBBBB2222"
HOURLY = 1_500  # per key: 2,000 rows fit only because each key has its own budget
PLAN = [(HOURLY, 3600.0)]


def expire(server: FakeGu1Server, key: str) -> None:
    """The dashboard revokes `key` now (re-registered with a past expiry)."""
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    server.add_key(key, expires_at=past)


def rows(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {"externalId": f"rot-{i:05d}", "type": "person", "name": f"P{i}", "countryCode": "AR"}


def client_for(server: FakeGu1Server, key: str = OLD, **options: Any) -> Gu1Client:
    return Gu1Client(
        key,
        base_url=server.url,
        plan=Plan.custom(Quota(HOURLY, 3600)),
        retry=RetryPolicy(backoff_base=0.001, backoff_max=0.002),
        **options,
    )


@pytest.mark.slow
async def test_rotation_mid_ingest_loses_and_duplicates_nothing() -> None:
    count = 2_000
    async with FakeGu1Server(plan=PLAN) as server:
        server.add_key(OLD)
        async with client_for(server) as client:
            old_governor = client.governor
            seen: collections.Counter[int] = collections.Counter()
            async with client.entities.ingest(rows(count), concurrency=32) as run:
                async for outcome in run:
                    seen[outcome.index] += 1
                    if len(seen) == 900:
                        # The new key exists, the client switches, and the old key is
                        # revoked at the same instant: calls already sent but not yet
                        # read by the server meet a 401 EXPIRED and go again on NEW.
                        server.add_key(NEW)
                        client.rotate_key(NEW)
                        expire(server, OLD)
            report = run.report()
            assert client.governor is not old_governor  # a budget of its own
        old, new, total = server.stats(OLD), server.stats(NEW), server.stats()
        stored = [e["externalId"] for e in server.entities.values()]

    assert sorted(seen) == list(range(count)) and set(seen.values()) == {1}
    assert (report.succeeded, report.failed) == (count, 0), report.errors
    assert len(stored) == len(set(stored)) == count  # none lost, none twice
    assert total.rate_limited == 0
    expired_401s = old.by_status.get(401, 0)
    assert expired_401s > 0  # the race really happened...
    assert new.requests == count - (old.requests - expired_401s)  # ...each retried once
    assert old.requests - expired_401s >= 900


async def test_calls_in_flight_finish_on_the_old_key() -> None:
    async with FakeGu1Server(plan=PLAN, latency=0.05) as server:
        server.add_key(OLD)
        server.add_key(NEW)
        async with client_for(server) as client:
            slow = asyncio.ensure_future(client.request("GET", "/entities"))
            await asyncio.sleep(0.01)  # sent, not answered
            client.rotate_key(NEW)
            await client.request("GET", "/entities")
            await slow
        assert server.stats(OLD).requests == 1 and server.stats(NEW).requests == 1


async def test_views_follow_the_rotation_unless_they_have_their_own_key() -> None:
    other = "gk_test_rotationOTHERkeyC3333"
    async with FakeGu1Server(plan=PLAN) as server:
        for key in (OLD, NEW, other):
            server.add_key(key)
        async with client_for(server) as client:
            batch = client.with_options(priority=1)
            same = client.with_options(api_key=OLD)
            mine = client.with_options(api_key=other)
            client.rotate_key(NEW)
            for view in (client, batch, same, mine):
                await view.request("GET", "/entities")
            assert client.governor is batch.governor is same.governor
            assert mine.governor is not client.governor
            assert repr(client.api_key) == repr(batch.api_key)
        assert server.stats(NEW).requests == 3 and server.stats(other).requests == 1
        assert server.stats(OLD).requests == 0


async def test_a_provider_is_asked_once_when_the_key_expires() -> None:
    current = {"key": OLD}
    asked = 0

    async def vault() -> str:
        nonlocal asked
        asked += 1
        await asyncio.sleep(0.01)
        return current["key"]

    async with FakeGu1Server(plan=PLAN) as server:
        server.add_key(OLD)
        async with await Gu1Client.from_key_provider(
            vault,
            base_url=server.url,
            plan=Plan.custom(Quota(HOURLY, 3600)),
        ) as client:
            assert asked == 1
            await client.request("GET", "/entities")
            server.add_key(NEW)
            expire(server, OLD)
            current["key"] = NEW  # the vault already has the new one
            await asyncio.gather(*(client.request("GET", "/entities") for _ in range(10)))
            assert asked == 2  # ten 401s, one provider call between them
            assert repr(client.api_key).endswith("2222')")
        assert server.stats(OLD).by_status.get(401, 0) == 10
        assert server.stats(NEW).requests == 10


async def test_an_expired_key_without_a_new_one_raises_after_one_try() -> None:
    calls = 0

    def same_file() -> str:
        nonlocal calls
        calls += 1
        return OLD

    async with FakeGu1Server(plan=PLAN) as server:
        expire(server, OLD)
        async with client_for(server, key=None, key_provider=same_file) as client:
            with pytest.raises(ExpiredApiKeyError):
                await client.request("GET", "/entities")
        assert calls == 2  # the first key, then the refresh that found nothing new
        assert server.stats(OLD).requests == 1


async def test_refresh_key_and_bad_keys(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    keys = iter([OLD, NEW, "gk_prod_aProductionKeyZZZZ9999"])
    async with FakeGu1Server(plan=PLAN) as server:
        server.add_key(OLD)
        server.add_key(NEW)
        async with client_for(server, key=None, key_provider=lambda: next(keys)) as client:
            assert await client.refresh_key() is True
            await client.request("GET", "/entities")
            with pytest.raises(ConfigurationError):  # a production key against loopback
                await client.refresh_key()
            with pytest.raises(ConfigurationError):
                client.rotate_key("gk_prod_aProductionKeyZZZZ9999")
            await client.request("GET", "/entities")
        assert server.stats(NEW).requests == 2
    async with client_for(server) as fixed:
        with pytest.raises(ConfigurationError):
            await fixed.refresh_key()
    for secret in (OLD, NEW, "aProductionKey"):
        assert secret not in caplog.text


def test_an_async_provider_needs_the_async_constructor() -> None:
    async def vault() -> str:
        return OLD

    with pytest.raises(ConfigurationError, match="from_key_provider"):
        Gu1Client(key_provider=vault, base_url="http://127.0.0.1:9")
