"""Bulk-import jobs, CSV mappings and row failures (`/batch-import`)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from gu1_async.models._base import Gu1Model

__all__ = [
    "TERMINAL_JOB_STATUSES",
    "BatchFailures",
    "BatchJob",
    "ImportFailure",
    "ImportMapping",
    "JobCounts",
    "JobKind",
    "JobStatus",
    "MappingTarget",
]

JobKind = Literal["entity_automatic", "transaction_batch", "user_event_batch"] | str
JobStatus = Literal["queued", "running", "completed", "failed", "cancelled", "interrupted"] | str
MappingTarget = (
    Literal["transaction", "entity_person", "entity_company", "entity_mixed", "user_event"] | str
)

TERMINAL_JOB_STATUSES = frozenset({"completed", "failed", "cancelled", "interrupted"})
"""Job statuses after which a job never changes again."""


@attrs.frozen(kw_only=True, repr=False)
class JobCounts(Gu1Model):
    """What every answer about a bulk job carries: which job, its status, its counters."""

    job_id: str | None = None
    kind: JobKind | None = None
    status: JobStatus | None = None
    total_items: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    skipped: int | None = None


@attrs.frozen(kw_only=True, repr=False)
class BatchJob(JobCounts):
    """An asynchronous bulk job: what a 202 answer starts and what polling reports."""

    heartbeat_at: _dt.datetime | None = None
    lease_expires_at: _dt.datetime | None = None
    worker_error: Any = None
    created_at: _dt.datetime | None = None
    completed_at: _dt.datetime | None = None
    metadata: Mapping[str, Any] | None = None
    job_failure: Any = None
    message: str | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the job is completed, failed, cancelled or interrupted."""
        return self.status in TERMINAL_JOB_STATUSES

    @property
    def processed(self) -> int:
        """Items handled so far (succeeded + failed + skipped)."""
        return (self.succeeded or 0) + (self.failed or 0) + (self.skipped or 0)


@attrs.frozen(kw_only=True, repr=False)
class ImportMapping(Gu1Model):
    """A saved CSV column mapping; pass its `id` as `mapping_id` to an import."""

    id: str | None = None
    name: str | None = None
    target: MappingTarget | None = None
    column_mapping: Mapping[str, Any] | None = None
    default_fields: Mapping[str, Any] | None = None
    headers_snapshot: tuple[Any, ...] | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class ImportFailure(Gu1Model):
    """One failed or skipped row of a bulk job."""

    tax_id: str | None = None
    type: str | None = None
    row_key: str | None = None
    outcome: str | None = None
    code: str | None = None
    message: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class BatchFailures(JobCounts):
    """Row failures (and, for entity jobs, skips) of a bulk job."""

    success: bool | None = None
    failures: tuple[ImportFailure, ...] | None = None
    truncated: bool | None = None
    failures_total: int | None = None
    skips: tuple[ImportFailure, ...] | None = None
    skips_total: int | None = None
