"""Fault knobs: 503s, dropped connections before and after processing, latency; all seeded."""

from __future__ import annotations

import time

import aiohttp
import pytest

from gu1_async.testing import FakeGu1Server

from .conftest import auth

PERSON = {"type": "person", "name": "Ada Lovelace", "countryCode": "AR"}


async def _outcomes(session: aiohttp.ClientSession, url: str, n: int) -> list[str]:
    outcomes = []
    for _ in range(n):
        try:
            async with session.get(f"{url}/entities", headers=auth()) as response:
                outcomes.append(str(response.status))
        except aiohttp.ServerDisconnectedError:
            outcomes.append("dropped")
    return outcomes


async def test_same_seed_gives_the_same_faults(session: aiohttp.ClientSession) -> None:
    runs = []
    for _ in range(2):
        async with FakeGu1Server(seed=7, error_rate=0.3, drop_rate=0.2) as server:
            runs.append(await _outcomes(session, server.url, 30))
    assert runs[0] == runs[1]
    assert {"200", "503", "dropped"} <= set(runs[0])


async def test_503_body_and_headers(session: aiohttp.ClientSession) -> None:
    async with FakeGu1Server(error_rate=1.0) as server:
        async with session.get(f"{server.url}/entities", headers=auth()) as response:
            assert response.status == 503
            body = await response.json()
            assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert "X-RateLimit-Remaining" in response.headers
        assert server.stats().by_status == {503: 1}


async def test_drop_before_processing_changes_nothing(session: aiohttp.ClientSession) -> None:
    async with FakeGu1Server(drop_rate=1.0) as server:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with session.post(f"{server.url}/entities", json=PERSON, headers=auth()):
                pass
        assert len(server.entities) == 0
        assert server.stats().dropped == 1


async def test_drop_after_processing_keeps_the_change(session: aiohttp.ClientSession) -> None:
    async with FakeGu1Server(drop_after_rate=1.0) as server:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with session.post(f"{server.url}/entities", json=PERSON, headers=auth()):
                pass
        assert len(server.entities) == 1  # the client cannot know it succeeded
        server.set_faults(drop_after_rate=0.0)
        async with session.get(f"{server.url}/entities", headers=auth()) as response:
            assert len((await response.json())["entities"]) == 1


async def test_latency_delays_each_answer(session: aiohttp.ClientSession) -> None:
    async with FakeGu1Server(latency=0.05) as server:
        started = time.monotonic()
        async with session.get(f"{server.url}/entities", headers=auth()) as response:
            assert response.status == 200
        assert time.monotonic() - started >= 0.05  # a lower bound only: never flaky


def test_fault_rates_are_validated() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        FakeGu1Server(error_rate=1.5)
    server = FakeGu1Server()
    with pytest.raises(ValueError, match="latency"):
        server.set_faults(latency=-1)
