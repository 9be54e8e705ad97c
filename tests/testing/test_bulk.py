"""Bulk imports: 202 + jobId, jobs progressing over (injected) time, failures, control."""

from __future__ import annotations

from typing import Any

import aiohttp

from gu1_async.testing import FakeGu1Server

from .conftest import WallClock, auth


async def call(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None
) -> tuple[int, Any]:
    async with session.request(method, url, json=body, headers=auth()) as response:
        return response.status, await response.json()


def _items(n: int) -> list[dict[str, Any]]:
    return [{"taxId": f"20-{10_000_000 + i}-1", "type": "person"} for i in range(n)]


async def test_json_bulk_job_progresses_and_reports_failures(
    server: FakeGu1Server, session: aiohttp.ClientSession, clock: WallClock
) -> None:
    await call(
        session,
        "POST",
        f"{server.url}/entities",
        {"type": "person", "name": "Existing", "countryCode": "AR", "taxId": "20-10000000-1"},
    )
    items = [*_items(40), {"type": "person"}]  # the last row has no taxId
    status, accepted = await call(
        session, "POST", f"{server.url}/entities/automatic/bulk", {"items": items, "country": "AR"}
    )
    assert status == 202
    job_url = f"{server.url}/batch-import/jobs/{accepted['jobId']}"

    _, body = await call(session, "GET", job_url)
    assert body["job"]["status"] == "queued"
    clock.advance(1.5)  # queued for 1 s, then 20 rows per second: 10 rows done
    _, body = await call(session, "GET", job_url)
    job = body["job"]
    assert (job["status"], job["succeeded"], job["skipped"]) == ("running", 9, 1)
    clock.advance(10)
    _, body = await call(session, "GET", job_url)
    job = body["job"]
    assert job["status"] == "completed"
    assert (job["totalItems"], job["succeeded"], job["skipped"], job["failed"]) == (41, 39, 1, 1)
    assert len(server.entities) == 40

    failures_url = f"{server.url}/batch-import/entity-jobs/{accepted['jobId']}/failures"
    _, failures = await call(session, "GET", failures_url)
    assert failures["failures"] == [
        {
            "taxId": None,
            "type": "person",
            "outcome": "failed",
            "code": "VALIDATION_ERROR",
            "message": "taxId is required",
        }
    ]
    assert failures["skips"][0]["code"] == "SKIPPED_DUPLICATE_TAX_ID"
    async with session.get(f"{failures_url}.csv", headers=auth()) as response:
        text = await response.text()
    assert text.splitlines()[0] == "tax_id,type,outcome,code,error_message"


async def test_time_scale_speeds_jobs_up(clock: WallClock, session: aiohttp.ClientSession) -> None:
    async with FakeGu1Server(time_scale=10, clock=clock) as server:
        _, accepted = await call(
            session,
            "POST",
            f"{server.url}/entities/automatic/bulk",
            {"items": _items(20), "country": "AR"},
        )
        clock.advance(0.2)  # 2 API seconds: queued 1 s + 20 rows in 1 s
        _, body = await call(session, "GET", f"{server.url}/batch-import/jobs/{accepted['jobId']}")
        assert body["job"]["status"] == "completed"


async def test_cancel_and_pause(
    server: FakeGu1Server, session: aiohttp.ClientSession, clock: WallClock
) -> None:
    _, accepted = await call(
        session, "POST", f"{server.url}/entities/automatic/bulk", {"items": _items(100)}
    )
    job_id = accepted["jobId"]
    control = f"{server.url}/batch-import/jobs/{job_id}/control"
    clock.advance(1.5)
    _, paused = await call(
        session, "POST", control, {"kind": "entity_automatic", "action": "pause"}
    )
    assert paused["job"]["metadata"]["paused"] is True
    done = paused["job"]["succeeded"]
    clock.advance(5)
    _, body = await call(session, "GET", f"{server.url}/batch-import/jobs/{job_id}")
    assert body["job"]["succeeded"] == done  # nothing moves while paused
    _, cancelled = await call(
        session, "POST", control, {"kind": "entity_automatic", "action": "cancel"}
    )
    assert cancelled["job"]["metadata"]["batchCancelRequested"] is True
    _, body = await call(session, "GET", f"{server.url}/batch-import/jobs/{job_id}")
    assert body["job"]["status"] == "cancelled"
    status, _ = await call(session, "POST", control, {"kind": "transaction_batch", "action": "x"})
    assert status == 400


async def test_csv_import_with_mapping(
    server: FakeGu1Server, session: aiohttp.ClientSession, clock: WallClock
) -> None:
    status, created = await call(
        session,
        "POST",
        f"{server.url}/batch-import/mappings",
        {
            "name": "people",
            "target": "entity_person",
            "columnMapping": {"doc": "taxId", "full_name": "suggestedName", "ref": "externalId"},
            "defaultFields": {"countryCode": "BR"},
        },
    )
    assert status == 201
    form = aiohttp.FormData()
    csv_text = "doc,full_name,ref\n111.222.333-44,Ana,r1\n555.666.777-88,,r2\n"
    form.add_field("file", csv_text.encode(), filename="people.csv", content_type="text/csv")
    form.add_field("mappingId", created["mapping"]["id"])
    form.add_field("entityImportMode", "manual_no_enrichment")
    async with session.post(
        f"{server.url}/batch-import/import/entities", data=form, headers=auth()
    ) as response:
        assert response.status == 202
        job_id = (await response.json())["jobId"]
    clock.advance(5)
    _, body = await call(
        session, "GET", f"{server.url}/batch-import/jobs/{job_id}?include=failures"
    )
    assert (body["job"]["succeeded"], body["job"]["failed"]) == (1, 1)
    assert body["failures"]["failures"][0]["message"] == "suggestedName is required"
    (entity,) = server.entities.values()
    assert (entity["name"], entity["countryCode"], entity["externalId"]) == ("Ana", "BR", "r1")
    _, listed = await call(session, "GET", f"{server.url}/batch-import/mappings")
    assert [m["name"] for m in listed["mappings"]] == ["people"]
    mapping_url = f"{server.url}/batch-import/mappings/{created['mapping']['id']}"
    assert await call(session, "DELETE", mapping_url) == (200, {"ok": True})
    status, _ = await call(session, "DELETE", mapping_url)
    assert status == 404


async def test_bulk_needs_both_permissions(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    server.add_key("gk_test_bulk_only", permissions={"entities:bulk_import"})
    async with session.post(
        f"{server.url}/entities/automatic/bulk",
        json={"items": _items(1)},
        headers=auth("gk_test_bulk_only"),
    ) as response:
        assert response.status == 403
        assert (await response.json())["requiredPermission"] == "entities:create"


async def test_unknown_job_is_404(server: FakeGu1Server, session: aiohttp.ClientSession) -> None:
    status, body = await call(session, "GET", f"{server.url}/batch-import/jobs/nope")
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
