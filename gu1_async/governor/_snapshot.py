"""Snapshots of a fleet's budgets for `gu1 status`: windows, the pause, workers, their leases.

A snapshot is plain frozen data, safe to print or ship as JSON: a budget is named by its key
id (12 hex digits of the key's SHA-256, as hooks and metrics name it), never by the key.
`snapshot_governor` reads an in-process governor; `snapshot_redis` (in `_snapshot_redis.py`)
reads every budget a Redis store holds, whoever's workers spend it.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import attrs

from .._types import Priority
from ._governor import Governor
from ._quota import Quota
from ._store import MemoryStore
from ._window import WindowState

__all__ = [
    "BudgetSnapshot",
    "FleetSnapshot",
    "WindowSnapshot",
    "WorkerSnapshot",
    "snapshot_governor",
]

_FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")
KEY_ID_LENGTH = 12
"""Hex digits of the key's fingerprint that name a budget (as `hooks` and `otel` do)."""


@attrs.frozen
class WindowSnapshot:
    """One quota window of a budget, as the governor (or the store) believes it now."""

    name: str
    """The window's length as plans write it: `1h`, `1d`, `10s`."""
    limit: int
    """Requests per window: the plan's figure, or the server's once a header named it."""
    remaining: int
    """Requests the server still counts in this window, as far as known (in flight included)."""
    available: int
    """Requests that may start now (in-flight ones deducted; 0 or 1 while the window is
    unconfirmed and one probe request must answer first)."""
    reset_in: float
    """Seconds until the window refills."""
    period: float
    """Window length in seconds."""
    confirmed: bool
    """Whether a response header has described the current window."""
    from_header: bool
    """Whether `limit` came from a header (True) or from the plan (False)."""


@attrs.frozen
class WorkerSnapshot:
    """One worker (a process, or one store in it) spending a budget."""

    worker_id: str
    """The store's random worker id in Redis (`this process` for an in-process governor)."""
    in_flight: int
    """Requests it holds a token for (leased, in Redis) and has not ended."""
    waiting: int
    """Its requests waiting for a token (in the fleet queue, in Redis)."""
    lease: float | None = None
    """Seconds its tokens stay leased without word from it (None: no lease, in-process)."""
    lease_expires_in: float | None = None
    """Seconds until that lease runs out unless it calls Redis again; negative when it has
    run out (the worker is taken for dead and its tokens released at the next sweep)."""


@attrs.frozen
class BudgetSnapshot:
    """One API key's budget: its windows, its pause and who is spending it."""

    key_id: str | None
    """12 hex digits of the key's SHA-256 (never the key); None for a store namespace that
    does not name a key (`RedisStore(namespace="...")` used without a client)."""
    environment: str | None
    """The key's environment segment (`test`, `prod`, ...), when known."""
    namespace: str
    """The store's namespace (`<environment>:<fingerprint>` for a client's key)."""
    windows: tuple[WindowSnapshot, ...]
    paused_for: float
    """Seconds left in the shared pause after a 429 (0: not paused)."""
    in_flight: int
    """Requests holding a token now, all workers together."""
    waiting_by_priority: tuple[int, ...]
    """Requests waiting for a token, per priority (index = `Priority` value)."""
    workers: tuple[WorkerSnapshot, ...]

    @property
    def waiting(self) -> int:
        """Requests waiting for a token, all priorities."""
        return sum(self.waiting_by_priority)


@attrs.frozen
class FleetSnapshot:
    """Every budget one source holds, read at one moment."""

    source: str
    """Where it was read: `redis` or `process` (the URL is never kept: it may hold a password)."""
    taken_at: float
    """When, as Unix time (seconds)."""
    budgets: tuple[BudgetSnapshot, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (`json.dumps` it); infinities become None."""
        data: dict[str, Any] = attrs.asdict(self)
        for budget, raw in zip(self.budgets, data["budgets"], strict=True):
            raw["waiting"] = budget.waiting
        return _finite(data)  # type: ignore[no-any-return]


def _finite(value: Any) -> Any:
    """`value` with every non-finite float replaced by None (JSON has no Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def window_name(period: float) -> str:
    """A window's name from its period, as plans write it (`1h`, `1d`, `0.25s`)."""
    return str(Quota(1, period)).partition("/")[2]


def parse_namespace(namespace: str) -> tuple[str | None, str | None]:
    """(key id, environment) from a store namespace; (None, None) if it names no key."""
    environment, _, fingerprint = namespace.rpartition(":")
    if not environment or not _FINGERPRINT.match(fingerprint):
        return None, None
    return fingerprint[:KEY_ID_LENGTH], environment


def window_snapshot(w: WindowState, available: int, reset_in: float) -> WindowSnapshot:
    """One window from its state (after `roll`) and what may start now."""
    return WindowSnapshot(
        name=window_name(w.period),
        limit=w.limit,
        remaining=max(0, w.left),
        available=max(0, available),
        reset_in=max(0.0, reset_in),
        period=w.period,
        confirmed=w.confirmed,
        from_header=w.identified,
    )


def snapshot_governor(
    governor: Governor,
    *,
    key_id: str | None = None,
    environment: str | None = None,
    namespace: str = "process",
) -> FleetSnapshot:
    """A snapshot of one in-process governor (its budget, seen by this process only).

    Args:
        governor: e.g. `client.governor`.
        key_id: the key's id to show (`gu1_async.hooks` events carry it); never the key.
        environment: the key's environment segment, when known.
        namespace: a name for the budget (an in-process governor has no store namespace).

    With a `RedisStore` behind the governor the windows are those of its last Redis
    answer; `snapshot_redis` reads the whole fleet instead.
    """
    stats = governor.stats()  # rolls the windows to now
    store = governor._store
    states = store.windows_state() if isinstance(store, MemoryStore) else None
    windows = []
    for i, w in enumerate(stats.windows):
        remaining = w.available + w.in_flight if states is None else states[i].left
        windows.append(
            WindowSnapshot(
                name=window_name(w.period),
                limit=w.limit,
                remaining=max(0, remaining),
                available=w.available,
                reset_in=w.reset_in,
                period=w.period,
                confirmed=w.confirmed,
                from_header=w.from_header,
            )
        )
    worker = WorkerSnapshot(
        worker_id=str(getattr(store, "_worker", "this process")),
        in_flight=stats.in_flight,
        waiting=stats.waiters,
    )
    waiting = tuple(stats.waiters_by_priority) or (0,) * len(Priority)
    budget = BudgetSnapshot(
        key_id=key_id,
        environment=environment,
        namespace=namespace,
        windows=tuple(windows),
        paused_for=stats.paused_for,
        in_flight=stats.in_flight,
        waiting_by_priority=waiting,
        workers=(worker,),
    )
    return FleetSnapshot(source="process", taken_at=time.time(), budgets=(budget,))
