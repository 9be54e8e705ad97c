"""Fixtures for the hostile-server tests: the server, a second origin, and clients for them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any, TypeVar

import pytest

from gu1_async import Gu1Client, RetryPolicy

from .server import HostileServer, RawServer

KEY = "gk_test_hostileKEY0001"
T = TypeVar("T")

# No retry waits worth the name: a hostile answer must fail fast in these tests.
FAST_RETRY = RetryPolicy(max_retries=1, backoff_base=0.001, backoff_max=0.002)


def client_for(url: str, **options: Any) -> Gu1Client:
    """A client of the server at `url` (a roomy plan: the governor never waits)."""
    options.setdefault("plan", "professional")
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("timeout", 5.0)
    return Gu1Client(api_key=KEY, base_url=url, **options)


@pytest.fixture
async def hostile() -> AsyncIterator[HostileServer]:
    server = await HostileServer().start()
    try:
        yield server
    finally:
        await server.aclose()


@pytest.fixture
async def foreign() -> AsyncIterator[HostileServer]:
    """Another origin (another port): where a redirect must never take the SDK."""
    server = await HostileServer().start()
    try:
        yield server
    finally:
        await server.aclose()


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    server = await RawServer().start()
    try:
        yield server
    finally:
        await server.aclose()


@pytest.fixture
async def client(hostile: HostileServer) -> AsyncIterator[Gu1Client]:
    async with client_for(hostile.url) as gu1:
        yield gu1


class LoopHarness:
    """One event loop, one hostile server and one client, kept across Hypothesis examples.

    (Hypothesis runs examples synchronously; the loop stays open between them so the
    client's connection pool sees every answer in turn, as a long-lived client would.)
    """

    def __init__(self, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = self.run(HostileServer().start())
        self.client = client_for(self.server.url, **options)

    def run(self, awaitable: Awaitable[T]) -> T:
        return self.loop.run_until_complete(awaitable)

    def close(self) -> None:
        self.run(self.client.aclose())
        self.run(self.server.aclose())
        self.loop.close()


@pytest.fixture
def harness() -> Iterator[LoopHarness]:
    running = LoopHarness()
    try:
        yield running
    finally:
        running.close()
