"""Lifecycle, stats, the standalone runner, webhook filters and the pytest plugin fixtures."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import aiohttp
import pytest

from gu1_async.testing import DEFAULT_KEY, FakeGu1Server, serve

from .conftest import WallClock, auth


async def test_url_before_start_is_an_error() -> None:
    server = FakeGu1Server()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url
    assert "not started" in repr(server)
    await server.start()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
        with pytest.raises(RuntimeError, match="already started"):
            await server.start()
    finally:
        await server.close()
        await server.close()  # idempotent


async def test_stats_per_key_and_overall(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    server.add_key("gk_test_second")
    for key in (DEFAULT_KEY, DEFAULT_KEY, "gk_test_second", "gk_test_unknown"):
        async with session.get(f"{server.url}/entities", headers=auth(key)):
            pass
    mine = server.stats(DEFAULT_KEY)
    assert (mine.requests, dict(mine.by_status)) == (2, {200: 2})
    (hourly, daily) = mine.windows
    assert (hourly.limit, hourly.used, hourly.remaining) == (100, 2, 98)
    assert (daily.period, daily.used) == (86_400.0, 2)
    overall = server.stats()
    assert (overall.requests, dict(overall.by_status)) == (4, {200: 3, 401: 1})
    assert server.stats("gk_test_never_seen").requests == 0


async def test_serve_runs_until_cancelled(capsys: pytest.CaptureFixture[str]) -> None:
    task = asyncio.create_task(serve(0, plan="starter", keys=["gk_test_cli_key"]))
    output = ""
    for _ in range(500):
        await asyncio.sleep(0.01)
        output += capsys.readouterr().out
        if "Ctrl+C" in output:
            break
    url = re.search(r"http://\S+", output)
    assert url is not None
    assert "gk_test_cli_key" in output  # a fake key: printing it helps, and is harmless
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{url.group(0)}/entities", headers=auth("gk_test_cli_key")) as response,
    ):
        assert response.headers["X-RateLimit-Limit"] == "300"
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_webhook_event_filters(clock: WallClock, session: aiohttp.ClientSession) -> None:
    async with FakeGu1Server(clock=clock) as server:
        server.add_webhook("http://127.0.0.1:9/kyc-only", "s3cret", events=("kyc.*",))
        body = {"type": "person", "name": "No Hook", "countryCode": "AR"}
        async with session.post(f"{server.url}/entities", json=body, headers=auth()):
            pass
        await server.drain_webhooks()
        assert server.webhook_deliveries == []


@pytest.fixture
def fake_gu1_options(clock: WallClock) -> dict[str, Any]:
    return {"plan": [(2, 60)], "clock": clock}


async def test_plugin_fixtures(
    fake_gu1: FakeGu1Server, fake_gu1_key: str, session: aiohttp.ClientSession
) -> None:
    statuses = []
    for _ in range(3):
        async with session.get(f"{fake_gu1.url}/entities", headers=auth(fake_gu1_key)) as r:
            statuses.append(r.status)
    assert statuses == [200, 200, 429]
