"""`RedisStore`: one API key's quota shared by many workers (processes, containers, hosts).

Each window's numbers live in Redis, per API key; every operation is one Lua script (loaded
once, called by SHA), atomic and timed by Redis `TIME`, so the workers' clocks never mix.
Waiters queue in Redis too, one FIFO queue per priority for the fleet, granted by pub/sub
(`_redis_fleet.py`); while Redis is away, a local share answers (`_redis_local.py`).

Use: `Gu1Client(store=RedisStore.from_url("redis://...", on_store_error="local"))`, then
`await store.aclose()` (docs/distributed.md). Needs the extra: `pip install
'gu1-async[redis]'` (redis-py's asyncio client, imported only when a store is built).
"""

from __future__ import annotations

import logging
import math
import secrets
import weakref
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from .._errors import ConfigurationError
from ._observation import Observation
from ._quota import Quota
from ._redis_cluster import ClusterLink, make_client, socket_timeout, store_errors
from ._redis_fleet import Fleet, FleetStore
from ._redis_keys import KEY_PREFIX
from ._redis_local import LocalShare, SyncView
from ._redis_lua import NOPLAN, Link, Lost
from ._snapshot_redis import snapshot_redis

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from typing_extensions import Unpack

__all__ = ["KEY_PREFIX", "RedisStore", "snapshot_redis"]

_log = logging.getLogger("gu1_async.governor.redis")
OnStoreError = Literal["raise", "local"]


class RedisStoreOptions(TypedDict, total=False):
    """`RedisStore`'s keywords besides the client and its timeout (defaults: the class's)."""

    namespace: str
    on_store_error: OnStoreError
    local_share: float
    lease: float
    recheck: float
    probe_interval: float
    fleet_queue: bool


def _check_options(
    namespace: str,
    on_store_error: str,
    local_share: float,
    timeout: float | None,
    lease: float,
    recheck: float,
) -> None:
    """Refuse a `RedisStore` option that cannot work, naming it and what it must be."""
    if not namespace or any(c.isspace() for c in namespace):
        raise ConfigurationError("namespace must be non-empty, without whitespace")
    if on_store_error not in ("raise", "local"):
        raise ConfigurationError(
            f"on_store_error must be 'raise' or 'local', got {on_store_error!r}"
        )
    if not 0.0 < local_share <= 1.0:
        raise ConfigurationError(f"local_share must be in (0, 1], got {local_share!r}")
    if timeout is not None and not timeout > 0:
        raise ConfigurationError(f"timeout must be > 0 or None, got {timeout!r}")
    for name, value in (("lease", lease), ("recheck", recheck)):
        if not value > 0:
            raise ConfigurationError(f"{name} must be > 0, got {value!r}")


def _number(value: float | None) -> str:
    return "-" if value is None else repr(float(value))


class RedisStore(SyncView, FleetStore):
    """A `GovernorStore` in Redis, shared by every worker that uses the same namespace.

    Args:
        client: a `redis.asyncio.Redis`, or a `redis.asyncio.cluster.RedisCluster`
            (`decode_responses` either way). Give it socket timeouts; without them every
            call is bounded by `timeout` here.
        namespace: which budget this store spends; `bind()` makes one per API key. Keys
            are `gu1:gov:<namespace>:state`. Never put the API key itself in it.
        on_store_error: `"raise"` (default): a Redis failure raises `GovernorStoreError`
            and the request is not sent. `"local"`: fall back to an in-process store
            holding `local_share` of each window, warn once, and rejoin Redis when it
            answers again (tried at most every `probe_interval` seconds).
        local_share: the fraction (0 < share <= 1) of each window a worker may spend on
            its own while Redis is away; about 1 / the number of workers.
        timeout: seconds any one Redis call may take, the client's retries included
            (None: the client's socket timeout, or 1 s if it has none).
        lease: seconds after which the tokens of a worker Redis has not heard from are
            released (taken for dead); a governor with requests in flight calls every
            `lease / 3` s, so it bounds how long a dead worker holds the budget.
        recheck: when only another worker's response can free a slot (its probe is in
            flight), look again after this many seconds.
        probe_interval: seconds between attempts to rejoin Redis after a failure.
        fleet_queue: waiters queue in Redis, one FIFO queue per priority for every
            worker, granted by pub/sub (default); False: each worker queues its own and
            retakes when the store's wait ends (the earlier behaviour, kept to compare).

    Raises:
        ConfigurationError: a bad argument, or redis-py is not installed.
    """

    is_local = False

    def __init__(
        self,
        client: Redis,
        *,
        namespace: str = "default",
        on_store_error: OnStoreError = "raise",
        local_share: float = 0.25,
        timeout: float | None = None,
        lease: float = 15.0,
        recheck: float = 0.05,
        probe_interval: float = 5.0,
        fleet_queue: bool = True,
    ) -> None:
        _check_options(namespace, on_store_error, local_share, timeout, lease, recheck)
        self._client = client
        self._namespace = namespace
        self._on_error = on_store_error
        self._local_share = local_share
        self._lease = lease
        self.heartbeat = lease / 3  # seconds between a busy governor's `aheartbeat` calls
        self._recheck = recheck
        self._probe_interval = probe_interval
        self._timeout = timeout
        if timeout is None:
            self._timeout = None if socket_timeout(client) else 1.0
        self._errors = store_errors()
        # Plain callbacks (exception, fell back to local?) for metrics; bind() shares them.
        self._error_listeners: list[Callable[[BaseException, bool], None]] = []
        # Redis Cluster: grants go by sharded pub/sub, to the node of the keys' slot.
        self._sharded = hasattr(client, "get_node_from_key")
        self._pooled = getattr(client, "connection_pool", None) is not None
        self._fleet_queue = fleet_queue
        self._link: Link | ClusterLink = (
            ClusterLink(client, self._timeout) if self._sharded else Link(client, self._timeout)
        )
        self._owns_client = False
        # One {hash tag} for every key of a budget: one Redis Cluster slot.
        self._key = f"{KEY_PREFIX}{{{namespace}}}:state"
        self._keys = (self._key.encode(), f"{KEY_PREFIX}{{{namespace}}}:q".encode())
        # Each store is one worker: its in-flight tokens are leased under this id.
        self._worker = secrets.token_hex(8)
        self._fleet = Fleet(
            self._connector,
            f"{KEY_PREFIX}{{{namespace}}}:w:{self._worker}".encode(),
            sharded=self._sharded,
            bound=self._link.bound,
            give_back=self._give_back_granted,
            dispatch=self._dispatch,
        )
        self._children: weakref.WeakSet[RedisStore] = weakref.WeakSet()
        self._lease_arg = repr(float(lease))
        # The take's argument when nobody waits ahead (most takes), built once.
        self._take_args = {
            reserved: f"{self._worker} - {int(reserved)} 0 {self._lease_arg}".encode()
            for reserved in (False, True)
        }
        self._plan = b""  # b"reserve lend limit period ...": sent only after a NOPLAN answer
        self._share = LocalShare(local_share)
        self._fallback = self._share.store
        self._degraded = False
        self._next_probe = -math.inf
        self._local_out = 0  # tokens taken from the fallback and not yet ended
        # The last answer: (local now, Redis now, in flight, the state as stored).
        self._last: tuple[float, float, int, bytes] | None = None
        self._test_time_base: int | None = None
        """TEST ONLY: when set, every script runs at `base + now` microseconds instead of
        Redis `TIME` (see `_lua/lib/prelude.lua`, ARGV[2]); never set in production."""

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        timeout: float = 1.0,
        cluster: bool = False,
        **options: Unpack[RedisStoreOptions],
    ) -> RedisStore:
        """A store on its own Redis client; each call to Redis takes at most `timeout` s.

        Within that bound a dropped connection is retried once (a restarted Redis), never
        more. `cluster=True`: `url` is any node of a Redis Cluster (a `RedisCluster`
        client). The other keywords (and their defaults) are the constructor's.
        `aclose()` closes the client.
        """
        store = cls(make_client(url, timeout, cluster=cluster), timeout=None, **options)
        store._owns_client = True
        return store

    def bind(self, namespace: str) -> RedisStore:
        """A store for one budget (one API key) on the same client and settings.

        The client calls this once per API key with `"<environment>:<key fingerprint>"`.
        """
        store = RedisStore(
            self._client,
            namespace=namespace,
            on_store_error=self._on_error,
            local_share=self._local_share,
            timeout=self._timeout,
            lease=self._lease,
            recheck=self._recheck,
            probe_interval=self._probe_interval,
            fleet_queue=self._fleet_queue,
        )
        store._link = self._link  # one set of connections per client
        store._error_listeners = self._error_listeners
        self._children.add(store)
        return store

    @property
    def namespace(self) -> str:
        """Which budget this store spends."""
        return self._namespace

    @property
    def key(self) -> str:
        """The Redis key holding the state (a hash)."""
        return self._key

    @property
    def fleet(self) -> bool:
        """Whether waiters queue in Redis (one FIFO queue per priority for every worker):
        for a client with a connection pool, or a Redis Cluster client."""
        return self._fleet_queue and (self._pooled or self._sharded)

    @property
    def round_trips(self) -> int:
        """Calls to Redis so far by this store and the stores bound from it (benchmarks)."""
        return self._link.calls

    async def aclose(self) -> None:
        """Send what is still on its way to Redis, then close the store's connections.

        Permit ends reach Redis from background tasks: those the governor started just
        before (a response's end, the give-back of a permit whose waiter was cancelled as
        it was granted, a 429 pause) are sent first, so no token stays in flight in Redis
        until its lease runs out. Waits at most about four `timeout`s. Closes the
        connections of every store `bind()` made from this one, and the Redis client if
        `from_url` made it (a client you passed is yours to close).
        """
        await self._link.settle(4 * self._link.bound)
        for store in (self, *list(self._children)):
            await store._fleet.aclose()
        await self._link.settle(4 * self._link.bound)
        await self._link.aclose()
        if self._owns_client:
            await self._client.aclose()

    # -- GovernorStore: configuration and the synchronous view ---------------------------

    def configure(
        self, quotas: Sequence[Quota], reserve: float, now: float, lend: float = 0.0
    ) -> None:
        """Remember the plan; Redis creates the windows on first use (and after a restart)."""
        if self._plan:
            return
        self._plan = " ".join(
            [
                repr(float(reserve)),
                repr(float(lend)),
                *(f"{q.limit} {float(q.period)!r}" for q in quotas),
            ]
        ).encode()
        self._share.configure(quotas, reserve, now, lend)

    # -- GovernorStore: one round trip each ----------------------------------------------

    async def atake(self, now: float, reserved: bool, ahead: int) -> tuple[bool, float]:
        if ahead or self._test_time_base is not None:
            args = self._args(now, "1" if reserved else "0", str(ahead), self._lease_arg)
        else:
            args = self._take_args[reserved]
        reply = await self._run("take", now, args, partial(self._abandoned, now, None))
        if reply is None:
            granted, wait = await self._fallback.atake(now, reserved, ahead)
            self._local_out += granted
            return granted, wait
        if reply[0] == 1:
            return True, 0.0
        # 0: only a response (maybe another worker's) can free the room: look again soon.
        return False, reply[1] / 1e6 or self._recheck

    async def aestimate(self, now: float, ahead: int, reserved: bool) -> float:
        reply = await self._run(
            "estimate", now, self._args(now, "1" if reserved else "0", str(ahead))
        )
        if reply is None:
            return await self._fallback.aestimate(now, ahead, reserved)
        return float(reply[1] / 1e6)

    async def aend(self, now: float, sent: bool, observation: Observation | None) -> None:
        if self._local_out:
            # Tokens the fallback handed out go back to it (ends balance takes per store).
            self._local_out -= 1
            if sent:
                self._share.sent(now)
            await self._fallback.aend(now, sent, self._share.localize(observation, now))
            return
        obs = observation
        answered = "0" if obs is None else "1"
        limit, remaining, reset = (None, None, None) if obs is None else _window_of(obs)
        args = self._args(
            now,
            "1" if sent else "0",
            answered,
            _number(limit),
            _number(remaining),
            _number(reset),
            _number(None if obs is None else obs.window),
        )
        reply = await self._run("end", now, args)
        if reply is None and obs is not None:
            await self._fallback.arecord(now, self._share.localize(obs, now) or obs)

    async def arecord(self, now: float, observation: Observation) -> None:
        limit, remaining, reset = _window_of(observation)
        args = self._args(
            now, _number(limit), _number(remaining), _number(reset), _number(observation.window)
        )
        reply = await self._run("record", now, args)
        if reply is None:
            local = self._share.localize(observation, now)
            if local is not None:
                await self._fallback.arecord(now, local)

    async def apause(self, now: float, seconds: float) -> bool:
        reply = await self._run("pause", now, self._args(now, repr(float(seconds))))
        if reply is None:
            return await self._fallback.apause(now, seconds)
        return bool(reply[0] == 1)

    async def aheartbeat(self, now: float) -> None:
        """Keep this worker's lease: any script does; the estimate changes nothing else."""
        await self._run("estimate", now, self._args(now, "0", "0"))

    # -- internals ------------------------------------------------------------------------

    def _args(self, now: float, *fields: str) -> bytes:
        """A script's one argument: worker id, clock (test only), the operation's fields."""
        clock = (
            "-" if self._test_time_base is None else str(self._test_time_base + round(now * 1e6))
        )
        return " ".join((self._worker, clock, *fields)).encode()

    async def _run(
        self, operation: str, now: float, args: bytes, lost: Lost | None = None
    ) -> list[Any] | None:
        """Run one script; None when the local fallback must answer instead.

        `lost` gets the answer if the caller goes away once the script is on its way.

        Raises:
            GovernorStoreError: Redis failed and `on_store_error="raise"`.
        """
        if not self._plan:
            raise ConfigurationError("RedisStore.configure() was not called (use a Governor)")
        if self._degraded and now < self._next_probe:
            return None
        try:
            reply = await self._link.call(operation, self._keys, (args,), lost)
            if reply[0] == NOPLAN:  # no state yet (or it expired): create it
                with_plan = (args, self._plan)
                reply = await self._link.call(operation, self._keys, with_plan, lost)
        except self._errors as exc:
            self._failed(now, exc)
            return None
        if self._degraded:
            self._degraded = False
            _log.warning("governor store: Redis answers again; %s rejoined", self._namespace)
        self._last = (now, reply[2] + reply[3] / 1e6, reply[4], reply[5])
        return reply


def _window_of(observation: Observation) -> tuple[int | None, int | None, float | None]:
    """The window an observation describes, or Nones (then it only ends the permit)."""
    if not observation.has_window:
        return None, None, None
    return observation.limit, observation.remaining, observation.reset_after
