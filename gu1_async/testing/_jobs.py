"""Async batch jobs that progress over scaled time: queued -> running -> completed.

Jobs advance lazily: before each request the server calls `JobStore.tick(now)`, which
processes the rows whose (scaled) time has come. Tests that inject a clock therefore see
exact, repeatable progress; nothing runs in the background.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

from ._common import iso, new_id, not_found

__all__ = ["QUEUED_SECONDS", "ROWS_PER_SECOND", "TERMINAL", "Job", "JobStore", "RowOutcome"]

QUEUED_SECONDS = 1.0
"""API seconds a job waits in `queued` before it starts running."""
ROWS_PER_SECOND = 20.0
"""Rows a running job processes per API second."""
TERMINAL = frozenset({"completed", "failed", "cancelled", "interrupted"})


@attrs.frozen
class RowOutcome:
    """What processing one row did: `ok`, `failed` (with a code) or `skipped`."""

    outcome: str
    code: str | None = None
    message: str | None = None


RowProcessor = Callable[[str, dict[str, Any], float], RowOutcome]
"""(organization id, row, now) -> outcome; creates the entity, event or transaction."""


@attrs.define
class Job:
    """One batch job and its progress."""

    job_id: str
    kind: str
    organization_id: str
    rows: list[dict[str, Any]]
    created_at: float
    options: dict[str, Any] = attrs.field(factory=dict)
    status: str = "queued"
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[dict[str, Any]] = attrs.field(factory=list)
    skips: list[dict[str, Any]] = attrs.field(factory=list)
    clock_mark: float = 0.0  # real time up to which progress has been accounted
    paused: bool = False
    cancel_requested: bool = False
    completed_at: float | None = None
    heartbeat_at: float | None = None
    end_early: tuple[str, int] | None = None  # test hook: (status, after this many rows)

    def to_api(self) -> dict[str, Any]:
        """The `job` object of `GET /batch-import/jobs/{jobId}`."""
        metadata: dict[str, Any] = {"paused": self.paused, **self.options.get("metadata", {})}
        if self.cancel_requested and self.status not in TERMINAL:
            metadata["batchCancelRequested"] = True
        return {
            "jobId": self.job_id,
            "kind": self.kind,
            "status": self.status,
            "totalItems": len(self.rows),
            "succeeded": self.succeeded,
            "failed": self.failed,
            "skipped": self.skipped,
            "heartbeatAt": iso(self.heartbeat_at) if self.heartbeat_at else None,
            "leaseExpiresAt": None,
            "workerError": None,
            "createdAt": iso(self.created_at),
            "completedAt": iso(self.completed_at) if self.completed_at else None,
            "metadata": metadata,
            "jobFailure": None,
        }


class JobStore:
    """Every job, by id; rows are processed by the processor registered for the job's kind."""

    def __init__(self, time_scale: float) -> None:
        self._scale = time_scale
        self._jobs: dict[str, Job] = {}
        self._processors: dict[str, RowProcessor] = {}
        self._lost_answers: list[int | None] = []
        self._early_ends: list[tuple[str, int]] = []

    def register(self, kind: str, processor: RowProcessor) -> None:
        """Process rows of jobs of `kind` with `processor`."""
        self._processors[kind] = processor

    def submit(
        self, kind: str, org: str, rows: list[dict[str, Any]], now: float, **options: Any
    ) -> Job:
        """Queue a job; it starts after QUEUED_SECONDS of API time."""
        job = Job(new_id(), kind, org, rows, created_at=now, options=options)
        if self._early_ends:
            job.end_early = self._early_ends.pop(0)
        self._jobs[job.job_id] = job
        return job

    # -- test hooks ------------------------------------------------------------------
    def lose_next_answers(self, n: int = 1, *, status: int | None = None) -> None:
        """Test hook: the next `n` imports start their job, then their answer is lost.

        With `status=None` the connection closes unanswered (the client cannot tell whether
        the job started); with a status (e.g. 503) that error is answered instead of 202.
        """
        self._lost_answers.extend([status] * n)

    def take_lost_answer(self) -> tuple[bool, int | None]:
        """Whether the import being answered loses its answer, and the status to send."""
        if not self._lost_answers:
            return False, None
        return True, self._lost_answers.pop(0)

    def end_next_jobs(self, status: str, *, after_rows: int = 0, n: int = 1) -> None:
        """Test hook: the next `n` jobs end `status` after processing `after_rows` rows.

        `status` is `failed`, `cancelled` or `interrupted` (a worker lost mid-job).
        """
        if status not in TERMINAL or status == "completed":
            raise ValueError(f"status must be failed, cancelled or interrupted, got {status!r}")
        self._early_ends.extend([(status, after_rows)] * n)

    def get(self, org: str, job_id: str) -> Job:
        """The job, or a 404 (also for another organization's job)."""
        job = self._jobs.get(job_id)
        if job is None or job.organization_id != org:
            not_found("Job")
        return job

    def all(self) -> list[Job]:
        """Every job, oldest first (for tests)."""
        return list(self._jobs.values())

    def tick(self, now: float) -> None:
        """Bring every unfinished job up to `now`."""
        for job in self._jobs.values():
            if job.status not in TERMINAL:
                self._advance(job, now)

    def control(self, job: Job, action: str, now: float) -> None:
        """Pause, resume or cancel, cooperatively (between rows), as gu1 does."""
        self._advance(job, now)
        if job.status in TERMINAL:
            return
        if action == "pause":
            job.paused = True
        elif action == "resume":
            job.paused = False
            job.clock_mark = max(job.clock_mark, now)
        elif action == "cancel":
            # Shown as running + batchCancelRequested until the next tick stops it.
            job.cancel_requested = True

    def _advance(self, job: Job, now: float) -> None:
        if job.status == "queued":
            start = job.created_at + QUEUED_SECONDS / self._scale
            if job.cancel_requested:
                self._finish(job, "cancelled", now)
                return
            if now < start:
                return
            job.status, job.clock_mark = "running", start
        if job.cancel_requested:
            self._finish(job, "cancelled", now)
            return
        if job.paused:
            job.clock_mark = now
            return
        seconds_per_row = 1.0 / (ROWS_PER_SECOND * self._scale)
        due = math.floor((now - job.clock_mark) / seconds_per_row + 1e-9)
        todo = min(due, len(job.rows) - job.processed)
        if job.end_early is not None:
            todo = max(0, min(todo, job.end_early[1] - job.processed))
        processor = self._processors[job.kind]
        for _ in range(todo):
            row = job.rows[job.processed]
            job.processed += 1
            self._record(job, row, processor(job.organization_id, row, now))
            if job.failed and job.options.get("stopOnFirstError"):
                self._finish(job, "failed", now)
                return
        job.clock_mark += todo * seconds_per_row
        job.heartbeat_at = now
        if job.end_early is not None and job.processed >= job.end_early[1]:
            self._finish(job, job.end_early[0], now)
        elif job.processed == len(job.rows):
            self._finish(job, "completed", now)

    @staticmethod
    def _record(job: Job, row: dict[str, Any], result: RowOutcome) -> None:
        if result.outcome == "ok":
            job.succeeded += 1
            return
        item: dict[str, Any] = {"rowKey": row.get("_rowKey", str(job.processed))}
        if job.kind == "entity_automatic":
            item = {"taxId": row.get("taxId"), "type": row.get("type")}
        if result.outcome == "skipped":
            job.skipped += 1
            job.skips.append({**item, "outcome": "skipped_existing", "code": result.code})
        else:
            job.failed += 1
            outcome = {"outcome": "failed"} if job.kind == "entity_automatic" else {}
            job.failures.append({**item, **outcome, "code": result.code, "message": result.message})

    @staticmethod
    def _finish(job: Job, status: str, now: float) -> None:
        job.status, job.completed_at, job.heartbeat_at = status, now, now
