"""How a RedisStore reaches Redis Cluster (or a plain Redis): its client, its link, its errors.

On a cluster every key of one budget carries the same {hash tag}, so a store's scripts,
its fleet queue and its workers' grant channels all live in one hash slot, on one master.
`ClusterLink` sends each call to that master over connections of its own (one `Link` per
node: the same pre-packed EVALSHA, per-call bound and reading of abandoned answers as on
a plain Redis) and re-reads the slot table after a node fails: a refused connection,
MOVED, CLUSTERDOWN, TRYAGAIN or a timeout fails the call (the store's `on_store_error`
decides what that costs), and the next call goes to whichever master then owns the slot.
A MOVED answer (the slot has a new owner, which is up) is followed within the same call,
to the address it names.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from .._errors import ConfigurationError
from ._redis_lua import Link, Lost, Words, _scripts, _within

__all__ = ["ClusterLink", "make_client", "socket_timeout", "store_errors"]


def store_errors() -> tuple[type[BaseException], ...]:
    """What a failing Redis (or Redis Cluster node) raises: each goes to `on_store_error`."""
    from redis.exceptions import RedisClusterException, RedisError

    return (RedisError, RedisClusterException, OSError, asyncio.TimeoutError)


def make_client(url: str, timeout: float, *, cluster: bool) -> Any:
    """`from_url`'s client: every socket operation within `timeout`, one retry at most
    (a restarted Redis), never more."""
    try:
        from redis.asyncio import Redis
        from redis.asyncio.cluster import RedisCluster
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
    except ImportError as exc:  # pragma: no cover - depends on the environment
        needs = "RedisStore needs redis-py: pip install 'gu1-async[redis]'"
        raise ConfigurationError(needs) from exc
    factory: Any = RedisCluster if cluster else Redis
    return factory.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 1)
    )


def socket_timeout(client: Any) -> float | None:
    """The client's socket timeout (a `Redis`'s pool's, or a `RedisCluster`'s nodes')."""
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        kwargs = pool.connection_kwargs
    else:
        kwargs = client.get_connection_kwargs() if hasattr(client, "get_connection_kwargs") else {}
    value = kwargs.get("socket_timeout")
    return float(value) if value else None


def _cluster_down(message: str) -> BaseException:
    from redis.exceptions import ClusterDownError

    error: BaseException = ClusterDownError(message)  # type: ignore[no-untyped-call]
    return error


class ClusterLink:
    """How the stores of one `RedisCluster` client reach it; `RedisStore.bind()` shares it.

    Args:
        client: a `redis.asyncio.cluster.RedisCluster` (initialized on first use).
        timeout: seconds each step of a call may take (None: the client's socket
            timeout, or 1 s): reading the slot table again when it is stale, the call,
            and its repeat after a MOVED answer; three bounds at most.
    """

    def __init__(self, client: Any, timeout: float | None) -> None:
        from redis.exceptions import MovedError

        self.client = client
        self.source, self.sha = _scripts(True)  # grants go by SPUBLISH, in the keys' slot
        bounds = [t for t in (timeout, socket_timeout(client)) if t]
        self.bound = min(bounds) if bounds else 1.0
        """Seconds any one call may take, retries included."""
        self.calls = 0
        """Calls made (all stores on this link): benchmarks count round trips with it."""
        self.refreshes = 0
        """Times the slot table was read again after a failure."""
        self._links: dict[str, Link] = {}  # one per node, by "host:port"
        self._stale = False
        self._lock = asyncio.Lock()
        self._moved = MovedError
        self._errors = store_errors()

    @property
    def busy(self) -> int:
        """Calls in flight (all nodes)."""
        return sum(link.busy for link in self._links.values())

    async def call(
        self, operation: str, keys: Words, args: Words, lost: Lost | None = None
    ) -> list[Any]:
        """`Link.call` on the master of the keys' slot.

        Raises:
            redis.exceptions.RedisError: the node failed (the slot table is read again
                before the next call), or the cluster is down.
        """
        self.calls += 1
        link = await self._link_for(keys[0])
        try:
            return await link.call(operation, keys, args, lost)
        except self._moved as exc:
            # The script did not run; the slot's new owner (named in the answer: the slot
            # table of the node asked next may still be the old one) runs it.
            self._stale = True
            moved = await self._link_for(keys[0], (exc.host, int(exc.port)))
            return await moved.call(operation, keys, args, lost)
        except self._errors:
            self._stale = True
            raise

    async def connection(self, key: bytes, again: bool) -> Any:
        """A new connection to the master of `key`'s slot (a grant channel), connected;
        `again`: the channel dropped (a failover, a slot moved): the slot table is read
        first.

        Only the master counts a channel's subscribers when it publishes a grant (a
        subscriber on its replica would pass for a dead worker): a node that says it is
        a replica (a slot table read while the failover spreads) is dropped and the table
        read again, until the call's bound.
        """
        if again:
            self._stale = True
        loop = asyncio.get_running_loop()
        end = loop.time() + self.bound
        while True:
            await self._ready()
            node = self.client.get_node_from_key(key)
            conn = node.connection_class(**node.connection_kwargs)
            try:
                await conn.connect()
                await conn.send_command("ROLE")
                role = await conn.read_response(disable_decoding=True)
            except BaseException:
                await conn.disconnect(nowait=True)
                self._stale = True
                raise
            if role and role[0] == b"master":
                return conn
            await conn.disconnect(nowait=True)
            self._stale = True
            if loop.time() > end:
                raise _cluster_down(f"{node.name} is a replica of the grant channel's slot")
            await asyncio.sleep(0.05)

    async def settle(self, seconds: float) -> None:
        """`Link.settle` on every node, within `seconds` in all."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        for link in list(self._links.values()):
            await link.settle(max(0.0, end - loop.time()))

    async def aclose(self) -> None:
        """Close the link's connections (the client's own are its owner's to close)."""
        for link in list(self._links.values()):
            await link.aclose()

    # -- internals ------------------------------------------------------------------------

    async def _link_for(self, key: bytes, address: tuple[str, int] | None = None) -> Link:
        """The link to the master of `key`'s slot, or to `address` (a MOVED answer's)."""
        if address is None:
            await self._ready()
        node = self.client.get_node_from_key(key)
        kwargs = dict(node.connection_kwargs)
        if address is not None:
            kwargs["host"], kwargs["port"] = address
        name = f"{kwargs['host']}:{kwargs['port']}"
        link = self._links.get(name)
        if link is None:
            make = partial(node.connection_class, **kwargs)
            scripts = (self.source, self.sha)
            link = Link(self.client, self.bound, make=make, scripts=scripts)
            self._links[name] = link
        return link

    async def _ready(self) -> None:
        """The client knows the slot table (read first, or again after a failure)."""
        client = self.client
        if not (self._stale or getattr(client, "_initialize", False)):
            return
        async with self._lock:  # one reading for every call that found the table stale
            if getattr(client, "_initialize", False):
                await _within(self.bound, client.initialize())
            elif self._stale:
                self.refreshes += 1
                await _within(self.bound, client.nodes_manager.initialize())
            self._stale = False
