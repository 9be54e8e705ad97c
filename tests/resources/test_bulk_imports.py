"""client.bulk_imports: request shape and decoding of every method, and wait()."""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import aioresponses

from gu1_async._errors import APITimeoutError, ConfigurationError
from gu1_async._types import FilePart
from gu1_async.models import ApiResult, BatchFailures, BatchJob, ImportMapping
from gu1_async.resources import BulkImports

from .conftest import FakeRequester
from .harness import Api, Case, run_case

CSV = FilePart("people.csv", b"tax_id,name\n1,Ada\n", "text/csv")
MAPPING = {
    "id": "map-1",
    "name": "People",
    "target": "entity_person",
    "columnMapping": {"tax_id": "taxId"},
    "defaultFields": {"countryCode": "AR"},
}
JOB = {
    "jobId": "job-1",
    "kind": "entity_automatic",
    "status": "running",
    "totalItems": 10,
    "succeeded": 4,
    "failed": 1,
    "skipped": 0,
    "createdAt": "2025-01-07T10:00:00Z",
}


def _job(status: str = "queued") -> Any:
    return lambda r: isinstance(r, BatchJob) and r.job_id == "job-1" and r.status == status


def _mapping(r: Any) -> bool:
    return isinstance(r, ImportMapping) and r.id == "map-1" and r.target == "entity_person"


CASES = [
    Case(
        id="import_entities",
        call=lambda api: api.bulk_imports.import_entities(
            items=[{"taxId": "20-1", "type": "person"}],
            import_mode="manual_no_enrichment",
            report_recipient_emails=["ops@example.com"],
            email_locale="es",
        ),
        method="POST",
        path="/entities/automatic/bulk",
        json={
            "items": [{"taxId": "20-1", "type": "person"}],
            "importMode": "manual_no_enrichment",
            "reportRecipientEmails": ["ops@example.com"],
            "emailLocale": "es",
        },
        status=202,
        response={"success": True, "jobId": "job-1", "status": "queued"},
        check=_job(),
    ),
    Case(
        id="import_entities_csv",
        call=lambda api: api.bulk_imports.import_entities_csv(
            file=CSV,
            mapping_id="map-1",
            entity_import_mode="automatic_enriched",
            skip_rules_execution=True,
            depth=1,
            monitoring={"main": {"global_gueno_sanctions_enrichment": True}},
        ),
        method="POST",
        path="/batch-import/import/entities",
        form={
            "file": "<file people.csv>",
            "mappingId": "map-1",
            "entityImportMode": "automatic_enriched",
            "skipRulesExecution": "true",
            "depth": "1",
            "monitoring": '{"main":{"global_gueno_sanctions_enrichment":true}}',
        },
        status=202,
        response={"jobId": "job-1", "status": "queued"},
        check=_job(),
    ),
    Case(
        id="import_user_events_csv",
        call=lambda api: api.bulk_imports.import_user_events_csv(
            file=CSV, mapping_id="map-2", with_auto_entity=False
        ),
        method="POST",
        path="/batch-import/import/user-events",
        form={"file": "<file people.csv>", "mappingId": "map-2", "withAutoEntity": "false"},
        status=202,
        response={"jobId": "job-1", "status": "queued"},
        check=_job(),
    ),
    Case(
        id="import_transactions",
        call=lambda api: api.bulk_imports.import_transactions(
            file=CSV, column_mapping={"amt": "amount"}, validate_gap=True
        ),
        method="POST",
        path="/batch-import/import/transactions",
        query={"validateGap": "true"},
        form={"file": "<file people.csv>", "columnMapping": '{"amt":"amount"}'},
        status=202,
        response={"jobId": "job-1", "status": "queued"},
        check=_job(),
    ),
    Case(
        id="list_mappings",
        call=lambda api: api.bulk_imports.list_mappings(),
        method="GET",
        path="/batch-import/mappings",
        response={"mappings": [MAPPING]},
        check=lambda r: len(r) == 1 and _mapping(r[0]),
    ),
    Case(
        id="create_mapping",
        call=lambda api: api.bulk_imports.create_mapping(
            name="People", target="entity_person", column_mapping={"tax_id": "taxId"}
        ),
        method="POST",
        path="/batch-import/mappings",
        json={"name": "People", "target": "entity_person", "columnMapping": {"tax_id": "taxId"}},
        status=201,
        response={"mapping": MAPPING},
        check=_mapping,
    ),
    Case(
        id="update_mapping",
        call=lambda api: api.bulk_imports.update_mapping(
            "map-1", default_fields={"countryCode": "AR"}
        ),
        method="PATCH",
        path="/batch-import/mappings/map-1",
        json={"defaultFields": {"countryCode": "AR"}},
        response={"mapping": MAPPING},
        check=_mapping,
    ),
    Case(
        id="delete_mapping",
        call=lambda api: api.bulk_imports.delete_mapping("map-1"),
        method="DELETE",
        path="/batch-import/mappings/map-1",
        response={"ok": True},
        check=lambda r: r is True,
    ),
    Case(
        id="get_job",
        call=lambda api: api.bulk_imports.get_job("job-1"),
        method="GET",
        path="/batch-import/jobs/job-1",
        response={"success": True, "job": JOB},
        check=lambda r: _job("running")(r) and r.processed == 5 and not r.is_terminal,
    ),
    Case(
        id="get_job_with_failures",
        call=lambda api: api.bulk_imports.get_job("job-1", include_failures=True),
        method="GET",
        path="/batch-import/jobs/job-1",
        query={"include": "failures"},
        response={"success": True, "job": {**JOB, "status": "completed"}},
        check=lambda r: _job("completed")(r) and r.is_terminal,
    ),
    Case(
        id="control_job",
        call=lambda api: api.bulk_imports.control_job(
            "job-1", kind="entity_automatic", action="cancel"
        ),
        method="POST",
        path="/batch-import/jobs/job-1/control",
        json={"kind": "entity_automatic", "action": "cancel"},
        response={"success": True, "message": "cancel requested"},
        check=lambda r: isinstance(r, ApiResult) and r.message == "cancel requested",
    ),
    Case(
        id="entity_job_failures",
        call=lambda api: api.bulk_imports.entity_job_failures("job-1"),
        method="GET",
        path="/batch-import/entity-jobs/job-1/failures",
        response={
            "success": True,
            "jobId": "job-1",
            "failures": [{"taxId": "1", "outcome": "failed", "code": "VALIDATION_ERROR"}],
            "skips": [{"taxId": "2", "outcome": "skipped_existing"}],
            "failuresTotal": 1,
            "truncated": False,
        },
        check=lambda r: (
            isinstance(r, BatchFailures)
            and r.failures is not None
            and r.failures[0].code == "VALIDATION_ERROR"
            and r.skips is not None
            and r.skips[0].outcome == "skipped_existing"
        ),
    ),
    Case(
        id="user_event_job_failures",
        call=lambda api: api.bulk_imports.user_event_job_failures("job-1"),
        method="GET",
        path="/batch-import/user-event-jobs/job-1/failures",
        response={"jobId": "job-1", "failures": [{"rowKey": "r7", "code": "PROCESSING_ERROR"}]},
        check=lambda r: r.failures is not None and r.failures[0].row_key == "r7",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bulk_imports(case: Case, api: Api, mock_api: aioresponses) -> None:
    await run_case(case, api, mock_api)


# The CSV downloads: the requester must hand back text for non-JSON bodies, which the
# HTTP requester does not do yet, so these run against the recording fake requester.
@pytest.mark.parametrize(
    ("method_name", "path"),
    [
        ("entity_job_failures_csv", "/batch-import/entity-jobs/job%201/failures.csv"),
        (
            "entity_job_failures_csv_legacy",
            "/entities/automatic/bulk/imports/job%201/failures.csv",
        ),
        ("user_event_job_failures_csv", "/batch-import/user-event-jobs/job%201/failures.csv"),
    ],
)
async def test_failure_csv_downloads(requester: FakeRequester, method_name: str, path: str) -> None:
    requester.queue(b"tax_id,type,outcome,code,error_message\n1,person,failed,X,bad\n")
    csv_text = await getattr(BulkImports(requester), method_name)("job 1")
    assert csv_text.startswith("tax_id,type")
    assert (requester.last.method, requester.last.path) == ("GET", path)
    assert requester.last.operation == f"bulk_imports.{method_name}"


def _job_body(status: str, succeeded: int) -> dict[str, Any]:
    return {"success": True, "job": {**JOB, "status": status, "succeeded": succeeded}}


async def test_wait_polls_until_terminal_with_progress(requester: FakeRequester) -> None:
    requester.queue(_job_body("queued", 0), _job_body("running", 5), _job_body("completed", 10))
    sleeps: list[float] = []
    seen: list[tuple[str | None, int | None]] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def on_progress(job: BatchJob) -> None:  # async callbacks are awaited
        seen.append((job.status, job.succeeded))

    job = await BulkImports(requester).wait(
        "job-1", poll_interval=3, on_progress=on_progress, sleep=fake_sleep
    )
    assert job.status == "completed"
    assert seen == [("queued", 0), ("running", 5), ("completed", 10)]
    assert sleeps == [3, 3]
    assert {c.path for c in requester.calls} == {"/batch-import/jobs/job-1"}
    assert {c.operation for c in requester.calls} == {"bulk_imports.get_job"}


async def test_wait_returns_failed_jobs_and_accepts_sync_callbacks(
    requester: FakeRequester,
) -> None:
    requester.queue(_job_body("interrupted", 3))
    seen: list[BatchJob] = []
    job = await BulkImports(requester).wait("job-1", on_progress=seen.append)
    assert job.status == "interrupted"
    assert seen == [job]


async def test_wait_times_out_with_a_clear_error(requester: FakeRequester) -> None:
    requester.queue(*[_job_body("running", 5)] * 4)
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    with pytest.raises(APITimeoutError, match=r"job-1 still 'running' after 5 s \(6/10") as err:
        await BulkImports(requester).wait("job-1", poll_interval=2, timeout=5, sleep=fake_sleep)
    assert isinstance(err.value, TimeoutError)
    assert sleeps == [2, 2, 1]  # the last sleep is trimmed to the deadline
    assert len(requester.calls) == 4


@pytest.mark.parametrize(("interval", "timeout"), [(0, None), (-1, None), (1, -1)])
async def test_wait_rejects_bad_arguments(
    requester: FakeRequester, interval: float, timeout: float | None
) -> None:
    with pytest.raises(ConfigurationError):
        await BulkImports(requester).wait("job-1", poll_interval=interval, timeout=timeout)
    assert requester.calls == []
