"""`snapshot_redis`: every budget a `RedisStore` holds (or one key's), read without changing it.

Budgets are found with SCAN (incremental: Redis keeps serving the fleet between batches),
then each is read by one read-only script (`_lua/snapshot.lua`: the state hash, the fleet
queue and Redis `TIME`, atomically), and decoded as the store's own stats are
(`decode_state`). Windows are rolled to Redis' clock, so resets are never mixed with this
machine's clock. The store's scripts are untouched: a snapshot writes nothing, not even a
key's expiry, and never grants, sweeps or dispatches.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import struct
import time
from importlib import resources
from typing import TYPE_CHECKING, Any

from .._errors import ConfigurationError, GovernorStoreError
from .._types import Priority
from ._redis_keys import KEY_PREFIX
from ._redis_state import _HEAD, _WINDOW, decode_state
from ._snapshot import (
    BudgetSnapshot,
    FleetSnapshot,
    WorkerSnapshot,
    parse_namespace,
    window_snapshot,
)
from ._window import SLOTS, available, roll

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["snapshot_redis"]

_LEASE = struct.Struct("<ddd")  # a worker's lease field: held, last seen, lease seconds
_KEY_ID = re.compile(r"^[0-9a-f]{1,64}$")
_SCAN_COUNT = 500


def _script() -> tuple[str, bytes]:
    source = (
        resources.files(__package__).joinpath("_lua").joinpath("snapshot.lua").read_text("utf-8")
    )
    return source, hashlib.sha1(source.encode()).hexdigest().encode()


async def snapshot_redis(
    redis: str | Redis,
    key_id: str | None = None,
    *,
    timeout: float = 2.0,
) -> FleetSnapshot:
    """Every budget in the Redis store, or those of one key: windows, pause, workers, leases.

    Args:
        redis: a URL (`redis://...`; a client is made and closed here) or a
            `redis.asyncio.Redis` (yours to close; `decode_responses` either way).
        key_id: only the budget(s) of this key: the id `gu1 status` and the hooks print
            (12 hex digits of the key's SHA-256), any prefix of it, or the whole fingerprint.
        timeout: seconds each Redis call may take (URL only).

    Raises:
        ConfigurationError: `key_id` is not hex digits, or redis-py is not installed.
        GovernorStoreError: Redis could not be read (the URL is not repeated: it may hold a
            password).
    """
    if key_id is not None:
        key_id = key_id.strip().lower()
        if not _KEY_ID.match(key_id):
            raise ConfigurationError(
                "key_id must be hex digits (the key id `gu1 status` or a hook event shows), "
                f"got {len(key_id)} characters that are not"
            )
    try:
        from redis.asyncio import Redis
        from redis.client import NEVER_DECODE
        from redis.exceptions import NoScriptError, RedisError
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "snapshot_redis needs redis-py: pip install 'gu1-async[redis]'"
        ) from exc
    client: Any = redis
    if isinstance(redis, str):
        client = Redis.from_url(redis, socket_timeout=timeout, socket_connect_timeout=timeout)
    source, sha = _script()
    pattern = f"{KEY_PREFIX}{{*{'' if key_id is None else ':' + key_id}*}}:state"

    async def read(state_key: bytes) -> list[Any]:
        queue_key = state_key[: -len(b":state")] + b":q"
        command = ("EVALSHA", sha, 2, state_key, queue_key)
        try:
            reply: list[Any] = await client.execute_command(*command, **{NEVER_DECODE: True})
        except NoScriptError:
            await client.execute_command("SCRIPT", "LOAD", source)
            reply = await client.execute_command(*command, **{NEVER_DECODE: True})
        return reply

    budgets = []
    try:
        async for name in client.scan_iter(match=pattern, count=_SCAN_COUNT):
            key = name if isinstance(name, bytes) else name.encode()
            namespace = key[len(KEY_PREFIX) + 1 : -len(b"}:state")].decode(errors="replace")
            budget = _budget(namespace, await read(key))
            if budget is not None:
                budgets.append(budget)
    except (RedisError, OSError, asyncio.TimeoutError) as exc:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise GovernorStoreError(f"cannot read the governor's Redis store ({detail})") from exc
    finally:
        if isinstance(redis, str):
            await client.aclose()
    budgets.sort(key=lambda b: b.namespace)
    return FleetSnapshot(source="redis", taken_at=time.time(), budgets=tuple(budgets))


def _budget(namespace: str, reply: list[Any]) -> BudgetSnapshot | None:
    """One budget from the script's reply; None when it has no state (expired since the
    SCAN) or one of another layout version (another release of gu1-async wrote it)."""
    sec, usec, flat, interactive, batch, queued = reply
    fields = dict(zip(flat[::2], flat[1::2], strict=True))
    raw = fields.get(b"s")
    if raw is None:
        return None
    try:
        state = decode_state(raw, int(float(fields.get(b"n", b"0"))))
    except (ValueError, struct.error):
        return None
    now = (int(sec) - state.epoch) + int(usec) / 1e6
    windows = []
    for i, w in enumerate(state.windows):
        # The sliding count's slices (`r<i>:<slot>`, the one filling kept in the state), so
        # an unconfirmed window's room is counted as the store counts it now.
        rc = _WINDOW.unpack_from(raw, _HEAD.size + i * _WINDOW.size)[12]
        w.ring = [int(float(fields.get(b"r%d:%d" % (i + 1, k), 0))) for k in range(SLOTS + 1)]
        w.ring[w.ring_at % (SLOTS + 1)] = int(rc)
        w.ring_next = (w.ring_at + 1) * w.slice
        roll(w, now)
        windows.append(window_snapshot(w, available(w, 0, now), w.reset_at - now))
    tickets = {
        wk.decode(errors="replace"): int(count)
        for wk, count in zip(queued[::2], queued[1::2], strict=True)
    }
    workers = []
    for field, value in fields.items():
        if not field.startswith(b"k:"):
            continue
        worker = field[2:].decode(errors="replace")
        held, seen, lease = _LEASE.unpack(value)
        workers.append(
            WorkerSnapshot(
                worker_id=worker,
                in_flight=int(held),
                waiting=tickets.pop(worker, 0),
                lease=lease,
                lease_expires_in=seen + lease - now,
            )
        )
    workers += [WorkerSnapshot(worker_id=wk, in_flight=0, waiting=n) for wk, n in tickets.items()]
    workers.sort(key=lambda w: w.worker_id)
    waiting = [0] * len(Priority)
    waiting[Priority.INTERACTIVE], waiting[Priority.BATCH] = int(interactive), int(batch)
    key_id, environment = parse_namespace(namespace)
    return BudgetSnapshot(
        key_id=key_id,
        environment=environment,
        namespace=namespace,
        windows=tuple(windows),
        paused_for=max(0.0, state.pause_until - now),
        in_flight=state.in_flight,
        waiting_by_priority=tuple(waiting),
        workers=tuple(workers),
    )
