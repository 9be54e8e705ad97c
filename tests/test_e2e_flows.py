"""SDK-level end-to-end flows against FakeGu1Server: bulk import jobs and their failures."""

from __future__ import annotations

from gu1_async import Gu1Client
from gu1_async.models import BatchJob
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server


async def test_bulk_import_job_is_polled_to_completion_with_row_failures() -> None:
    rows = [
        {"type": "person", "taxId": f"2030{i:07d}", "externalId": f"bulk-{i}", "name": f"B{i}"}
        for i in range(6)
    ]
    rows.append({"type": "person", "externalId": "bulk-bad", "name": "no tax id"})
    progress: list[BatchJob] = []
    async with FakeGu1Server(time_scale=3600.0) as server:
        async with Gu1Client(DEFAULT_KEY, base_url=server.url) as client:
            job = await client.bulk_imports.import_entities(
                items=rows, import_mode="manual_no_enrichment", country="AR"
            )
            assert job.job_id
            done = await client.bulk_imports.wait(
                job.job_id, poll_interval=0.02, timeout=30, on_progress=progress.append
            )
            failures = await client.bulk_imports.entity_job_failures(job.job_id)
            csv_text = await client.bulk_imports.entity_job_failures_csv(job.job_id)
        stored = {e["externalId"] for e in server.entities.values()}
    assert done.status == "completed"
    assert (done.total_items, done.succeeded, done.failed) == (7, 6, 1)
    assert progress
    assert progress[-1].status == "completed"
    assert {f"bulk-{i}" for i in range(6)} <= stored
    assert "bulk-bad" not in stored
    assert failures.failures_total == 1
    assert failures.failures is not None
    [failure] = failures.failures
    assert (failure.code, failure.message) == ("VALIDATION_ERROR", "taxId is required")
    assert isinstance(csv_text, str)
    assert csv_text.count("\n") >= 2  # a header and the failed row
