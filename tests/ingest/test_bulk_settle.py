"""Matching a bulk job's failure listing to the rows sent: never a failure turned success."""

from __future__ import annotations

from typing import Any

from gu1_async.ingest import BulkRowError, BulkRowResult
from gu1_async.ingest._bulk_settle import settle_rows, tax_key
from gu1_async.models import BatchFailures, BatchJob

KEYS = [tax_key(t) for t in ("20-111-3", "20-222-3", "20-333-3", "20-444-3")]


def job(status: str = "completed", **counts: Any) -> BatchJob:
    return BatchJob.from_api({"jobId": "j1", "status": status, "totalItems": 4, **counts})


def listing(failures: list[dict[str, Any]], skips: list[dict[str, Any]] = (), **extra: Any) -> Any:
    body = {"jobId": "j1", "failures": failures, "skips": list(skips), **extra}
    return BatchFailures.from_api(body)


def fail(tax_id: str | None = None, code: str = "VALIDATION_ERROR", **extra: Any) -> dict[str, Any]:
    entry = {"outcome": "failed", "code": code, "message": "bad row", **extra}
    if tax_id is not None:
        entry["taxId"] = tax_id
    return entry


def skip(tax_id: str) -> dict[str, Any]:
    return {"taxId": tax_id, "outcome": "skipped_existing", "code": "SKIPPED_DUPLICATE_TAX_ID"}


def shape(results: list[Any]) -> list[str]:
    return [
        r.status if isinstance(r, BulkRowResult) else f"{r.code}{'' if r.confirmed else '?'}"
        for r in results
    ]


def test_counters_alone_show_every_row_created() -> None:
    results = settle_rows("j1", job(succeeded=4, failed=0, skipped=0), KEYS, None)
    assert shape(results) == ["created"] * 4
    assert all(isinstance(r, BulkRowResult) and r.job_id == "j1" for r in results)


def test_failures_and_skips_are_placed_by_tax_id_whatever_its_punctuation() -> None:
    found = listing([fail("20222 3", code="DUPLICATE_EXTERNAL_ID")], [skip("20.444.3")])
    results = settle_rows("j1", job(succeeded=2, failed=1, skipped=1), KEYS, found)
    assert shape(results) == ["created", "DUPLICATE_EXTERNAL_ID", "created", "skipped"]
    error = results[1]
    assert isinstance(error, BulkRowError) and error.confirmed and error.job_id == "j1"
    assert "bad row" in str(error) and "j1" in str(error)


def test_a_row_key_without_tax_id_is_an_index_of_unknown_base() -> None:
    # gu1 does not say whether rowKey counts from 0 or 1: both rows may be the failed one.
    found = listing([fail(rowKey="2")])
    results = settle_rows("j1", job(succeeded=3, failed=1), KEYS, found)
    assert shape(results) == ["created", "UNCONFIRMED?", "UNCONFIRMED?", "created"]


def test_a_failure_tied_to_no_row_fails_every_row_it_may_be() -> None:
    found = listing([fail("99-999-9")], [skip("20-111-3")])
    results = settle_rows("j1", job(succeeded=2, failed=1, skipped=1), KEYS, found)
    assert shape(results) == ["skipped", "UNCONFIRMED?", "UNCONFIRMED?", "UNCONFIRMED?"]


def test_an_incomplete_listing_leaves_unlisted_rows_unconfirmed() -> None:
    for found, counts in [
        (listing([fail("20-111-3")], truncated=True), {"failed": 1}),
        (listing([fail("20-111-3")], failuresTotal=2), {"failed": 2}),
        (listing([fail("20-111-3")]), {"failed": 2}),  # the job counted more failures
    ]:
        results = settle_rows("j1", job(**counts), KEYS, found)
        assert shape(results) == ["VALIDATION_ERROR"] + ["UNCONFIRMED?"] * 3


def test_an_unreadable_listing_confirms_nothing() -> None:
    error = ConnectionError("gone")
    results = settle_rows("j1", job(succeeded=3, failed=1), KEYS, None, listing_error=error)
    assert shape(results) == ["UNCONFIRMED?"] * 4
    assert "ConnectionError" in str(results[0])


def test_a_job_that_ended_early_confirms_only_its_skips_and_names_its_failures() -> None:
    found = listing([fail("20-333-3")], [skip("20-111-3")])
    results = settle_rows("j1", job("interrupted", succeeded=1), KEYS, found)
    assert shape(results) == ["skipped", "JOB_INTERRUPTED?", "VALIDATION_ERROR", "JOB_INTERRUPTED?"]
    assert all(r.job_status == "interrupted" for r in results if isinstance(r, BulkRowError))


def test_a_skip_tied_to_no_row_still_leaves_every_unlisted_row_a_success() -> None:
    found = listing([fail("20-222-3")], [skip("77")])
    results = settle_rows("j1", job(succeeded=2, failed=1, skipped=1), KEYS, found)
    assert shape(results) == ["imported", "VALIDATION_ERROR", "imported", "imported"]


def test_two_entries_naming_one_row_spread_the_second_over_the_others() -> None:
    found = listing([fail("20-111-3"), fail("20-111-3", code="PROCESSING_ERROR")])
    results = settle_rows("j1", job(succeeded=2, failed=2), KEYS, found)
    assert shape(results) == ["VALIDATION_ERROR"] + ["UNCONFIRMED?"] * 3
