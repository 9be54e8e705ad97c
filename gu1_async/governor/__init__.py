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
from ._stats import GovernorStats, WindowStats
from ._store import GovernorStore, MemoryStore

__all__ = [
    "DEFAULT_PLAN",
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
    "WindowStats",
]
