"""Fixtures for the fake server's own tests: a hand-moved wall clock, a server, a session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from gu1_async.testing import DEFAULT_KEY, FakeGu1Server
from gu1_async.testing.pytest_plugin import (  # registers the opt-in fixtures here
    fake_gu1,
    fake_gu1_key,
    fake_gu1_options,
)

__all__ = ["WallClock", "auth", "fake_gu1", "fake_gu1_key", "fake_gu1_options"]


class WallClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> WallClock:
    return WallClock()


@pytest.fixture
async def server(clock: WallClock) -> AsyncIterator[FakeGu1Server]:
    async with FakeGu1Server(clock=clock) as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def auth(key: str = DEFAULT_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
