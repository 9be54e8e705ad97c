"""The rate-limit governor: permits within every quota window, corrected live from headers.

Pure: numbers and an injected clock in, waiting decisions out. It never sees HTTP; the
client turns each response's headers into an `Observation` and hands it back.
"""

from __future__ import annotations

from .._types import Priority
from ._governor import DEFAULT_PLAN, Governor
from ._observation import Observation
from ._permit import Permit, Slot
from ._quota import Plan, Quota
from ._snapshot import (
    BudgetSnapshot,
    FleetSnapshot,
    WindowSnapshot,
    WorkerSnapshot,
    snapshot_governor,
)
from ._stats import GovernorStats, WindowStats
from ._store import GovernorStore, MemoryStore

__all__ = [
    "BudgetSnapshot",
    "DEFAULT_PLAN",
    "FleetSnapshot",
    "Governor",
    "GovernorStats",
    "GovernorStore",
    "MemoryStore",
    "Observation",
    "Permit",
    "Plan",
    "Priority",
    "Quota",
    "Slot",
    "WindowSnapshot",
    "WindowStats",
    "WorkerSnapshot",
    "snapshot_governor",
]
