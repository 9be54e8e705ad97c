"""What an ingestion produced: one `Outcome` per item, and a `IngestReport` that adds up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

import attrs

__all__ = ["IngestReport", "Outcome"]

T = TypeVar("T")
R = TypeVar("R")


@attrs.frozen(eq=False)
class Outcome(Generic[T, R]):
    """How one input item ended: `result` on success, `error` on failure (never both).

    Attributes:
        index: the item's 0-based position in the input (skipped items count too).
        item: the input item, as given (so a failure can be written to a rejects file).
        result: what the send returned (e.g. an `UpsertResult`), or None on failure.
        error: the exception that failed the item, or None on success.
    """

    index: int
    item: T
    result: R | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.error is None


@attrs.frozen
class IngestReport:
    """Counters of one ingestion; `read` always equals the sum of the other five.

    Attributes:
        read: items taken from the input so far.
        succeeded: items that ended in success.
        failed: items that ended in a reported failure.
        skipped: items the `skip` predicate excluded (e.g. finished before a resume).
        cancelled: items in flight when the run was aborted: their fate is unknown.
        in_flight: items started and not yet ended (0 once the run is over).
        elapsed: seconds since the first item was read.
        exhausted: the whole input was read.
        stopped: the run stopped before the input ended (`stop()`, `abort()` or a fatal
            error).
        stop_reason: why it stopped, or None.
        errors: failures per exception class name.
    """

    read: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    in_flight: int = 0
    elapsed: float = 0.0
    exhausted: bool = False
    stopped: bool = False
    stop_reason: str | None = None
    errors: Mapping[str, int] = attrs.field(factory=dict)

    @property
    def finished(self) -> int:
        """Items that ended in success or a reported failure."""
        return self.succeeded + self.failed

    @property
    def adds_up(self) -> bool:
        """Every item read is accounted for exactly once."""
        parts = self.succeeded + self.failed + self.skipped + self.cancelled + self.in_flight
        return parts == self.read

    def summary(self) -> str:
        """`N succeeded, N failed` (plus skipped and cancelled counts when non-zero)."""
        text = f"{self.succeeded} succeeded, {self.failed} failed"
        if self.skipped:
            text += f", {self.skipped} skipped"
        if self.cancelled:
            text += f", {self.cancelled} cancelled in flight"
        return text
