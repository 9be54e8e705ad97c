"""How each row of a finished bulk job ended: gu1's job listing matched to the chunk's rows.

gu1 reports a bulk job's row failures and skips as a list (`GET /batch-import/entity-jobs/
{jobId}/failures`, gu1-api.md §2.2): each entry names a `taxId` and `type`, and may carry a
`rowKey`. Rows the listing does not name were imported. Matching must never turn a failed
row into a success, so it is deliberately conservative:

- an entry is placed by its tax id (the batcher puts each tax id at most once in a chunk,
  so it names one row), else by a numeric `rowKey` read as an index into the chunk (0- or
  1-based: gu1 does not say which, so both rows are candidates), else on every row;
- a failure that cannot be tied to one row fails every row it might belong to;
- rows the listing does not name are successes only when the listing is complete (not
  truncated, as many failures listed as the job counted, as many rows as were sent) and
  the job `completed`; otherwise they fail with code `UNCONFIRMED` or `JOB_<STATUS>`.

A row reported as a failure that did in fact import costs nothing more than a re-send,
which is safe: gu1 skips a tax id the organization already has, and a skip is a success.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

import attrs

from gu1_async._errors import Gu1Error
from gu1_async.models import BatchFailures, BatchJob, ImportFailure

__all__ = [
    "SKIP_CODES",
    "BulkRowError",
    "BulkRowResult",
    "BulkUnavailableError",
    "Settled",
    "all_created",
    "settle_rows",
    "tax_key",
]

SKIP_CODES = frozenset({"SKIPPED_DUPLICATE_TAX_ID", "SKIPPED_ENTITY_ALREADY_EXISTS"})
"""gu1's skip codes: the entity already exists, which counts as the row's success."""

_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def tax_key(tax_id: Any) -> str:
    """A tax id as gu1 compares them: punctuation- and case-insensitive (gu1-api.md §6.6)."""
    return _NOT_ALNUM.sub("", str(tax_id)).upper()


@attrs.frozen
class BulkRowResult:
    """A row the bulk endpoint imported.

    Attributes:
        job_id: the bulk job that handled the row.
        status: `created` (the job created the entity), `skipped` (the organization
            already had the tax id: the entity is there, so the row succeeded), or
            `imported` (one of the two; the job's listing did not say which).
        code: the skip code for `skipped` (e.g. `SKIPPED_DUPLICATE_TAX_ID`), else None.
    """

    job_id: str
    status: Literal["created", "skipped", "imported"]
    code: str | None = None


class BulkRowError(Gu1Error):
    """A row the bulk job did not import, or could not be shown to have imported.

    Attributes:
        code: gu1's row code (`VALIDATION_ERROR`, `ENTITY_NOT_FOUND`, `PROCESSING_ERROR`,
            `DUPLICATE_EXTERNAL_ID`), or the SDK's `JOB_FAILED` / `JOB_CANCELLED` /
            `JOB_INTERRUPTED` (the job ended before confirming the row) and `UNCONFIRMED`
            (the job's listing could not be read or tied to this row).
        job_id: the bulk job.
        job_status: the job's final status.
        confirmed: True when gu1 named this row as failed; False when the SDK only could
            not confirm its success (it may exist: sending it again is safe).
    """

    def __init__(
        self, message: str, *, code: str, job_id: str, job_status: str, confirmed: bool
    ) -> None:
        super().__init__(message)
        self.code = code
        self.job_id = job_id
        self.job_status = job_status
        self.confirmed = confirmed

    def __str__(self) -> str:
        return f"[{self.code}] {self.message} (bulk job {self.job_id}, {self.job_status})"

    def __repr__(self) -> str:
        return (
            f"BulkRowError(code={self.code!r}, message={self.message!r}, "
            f"job_id={self.job_id!r}, job_status={self.job_status!r}, "
            f"confirmed={self.confirmed!r})"
        )


class BulkUnavailableError(Gu1Error):
    """The bulk endpoint refused the key (403) or is not there (404) for this account.

    gu1 needs both `entities:bulk_import` and `entities:create` on the key and the
    organization's "bulk automatic entity import" feature flag. Ingest with
    `via="upsert"`, or `via="auto"` to fall back to it by itself.

    Attributes:
        status: the HTTP status the bulk endpoint answered.
    """

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


Settled = BulkRowResult | BulkRowError


def _is_skip(entry: ImportFailure) -> bool:
    code = entry.code or ""
    return (
        code in SKIP_CODES
        or code.startswith("SKIPPED_")
        or (entry.outcome or "").startswith("skip")
    )


def _candidates(entry: ImportFailure, keys: Sequence[str]) -> list[int]:
    """The rows `entry` may describe (every row when nothing ties it to one)."""
    if entry.tax_id:
        wanted = tax_key(entry.tax_id)
        by_tax = [i for i, key in enumerate(keys) if key == wanted]
        if by_tax:
            return by_tax
    row_key = (entry.row_key or "").strip()
    if row_key.isdigit():
        k = int(row_key)
        by_row = [i for i in (k, k - 1) if 0 <= i < len(keys)]
        if by_row:
            return by_row
    return list(range(len(keys)))


@attrs.define
class _Placement:
    failed: dict[int, ImportFailure] = attrs.field(factory=dict)  # named as failed
    skipped: dict[int, ImportFailure] = attrs.field(factory=dict)  # named as skipped
    maybe_failed: dict[int, ImportFailure] = attrs.field(factory=dict)  # might have failed
    maybe_skipped: set[int] = attrs.field(factory=set)  # might have been skipped


def _place(entries: Sequence[ImportFailure], keys: Sequence[str]) -> _Placement:
    placed = _Placement()
    spread: list[tuple[ImportFailure, list[int]]] = []
    # Entries that name one row first, so that a vague one can exclude the rows they took.
    for entry in entries:
        rows = _candidates(entry, keys)
        definite = placed.skipped if _is_skip(entry) else placed.failed
        row = rows[0]
        if len(rows) == 1 and row not in placed.failed and row not in placed.skipped:
            definite[row] = entry
        else:
            spread.append((entry, rows))
    for entry, rows in spread:
        free = [i for i in rows if i not in placed.failed and i not in placed.skipped]
        if not free:  # it named a row already named: it may be any other row
            free = [i for i in range(len(keys)) if i not in placed.failed | placed.skipped]
        if _is_skip(entry):
            if len(free) == 1:
                placed.skipped[free[0]] = entry
            else:
                placed.maybe_skipped.update(free)
        else:
            for i in free:
                placed.maybe_failed.setdefault(i, entry)
    return placed


def _listing_complete(job: BatchJob, listing: BatchFailures, rows: int, failures: int) -> bool:
    """Whether every failed row of the job is in the listing."""
    if listing.truncated:
        return False
    if listing.failures_total is not None and listing.failures_total > len(listing.failures or ()):
        return False
    failed = listing.failed if listing.failed is not None else job.failed
    if failed is not None and failed > failures:
        return False
    total = listing.total_items if listing.total_items is not None else job.total_items
    return total is None or total == rows


def all_created(job: BatchJob, rows: int) -> bool:
    """The job's counters alone show every row created (no listing to fetch)."""
    return (
        job.status == "completed"
        and not job.failed
        and not job.skipped
        and job.succeeded == rows
        and job.total_items in (None, rows)
    )


def settle_rows(
    job_id: str,
    job: BatchJob,
    keys: Sequence[str],
    listing: BatchFailures | None,
    *,
    listing_error: BaseException | None = None,
) -> list[Settled]:
    """One result or error per row of a terminal job, in the chunk's order.

    Args:
        job_id: the job's id.
        job: the job as last polled (terminal).
        keys: each row's `tax_key`, in the order the rows were sent.
        listing: the job's failures and skips, or None when it was not needed or could
            not be read.
        listing_error: why the listing could not be read (None when it was not needed).
    """
    status = job.status or "unknown"
    if listing is None and listing_error is None and all_created(job, len(keys)):
        return [BulkRowResult(job_id, "created") for _ in keys]
    entries = [*(listing.failures or ()), *(listing.skips or ())] if listing else []
    placed = _place(entries, keys)
    failures = sum(1 for e in entries if not _is_skip(e))
    complete = listing is not None and _listing_complete(job, listing, len(keys), failures)

    def error(code: str, message: str, *, confirmed: bool) -> BulkRowError:
        return BulkRowError(
            message, code=code, job_id=job_id, job_status=status, confirmed=confirmed
        )

    out: list[Settled] = []
    for i in range(len(keys)):
        if i in placed.failed:
            entry = placed.failed[i]
            code = entry.code or "FAILED"
            out.append(error(code, entry.message or "gu1 failed this row", confirmed=True))
        elif i in placed.skipped:
            out.append(BulkRowResult(job_id, "skipped", placed.skipped[i].code))
        elif i in placed.maybe_failed:
            entry = placed.maybe_failed[i]
            message = (
                f"gu1 reported a {entry.code or 'FAILED'} failure it did not tie to one row; "
                f"this row may be it: {entry.message or 'no message'}"
            )
            out.append(error("UNCONFIRMED", message, confirmed=False))
        elif status != "completed":
            message = f"the job ended {status} before confirming this row"
            out.append(error(f"JOB_{status.upper()}", message, confirmed=False))
        elif not complete:
            why = (
                f"its failure listing could not be read ({type(listing_error).__name__})"
                if listing is None
                else "its failure listing is incomplete"
            )
            out.append(error("UNCONFIRMED", f"the job completed but {why}", confirmed=False))
        elif i in placed.maybe_skipped:
            out.append(BulkRowResult(job_id, "imported"))
        else:
            out.append(BulkRowResult(job_id, "created"))
    return out
