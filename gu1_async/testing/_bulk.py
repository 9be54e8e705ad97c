"""Bulk imports (gu1-api.md §2.2): mappings, JSON and CSV imports, job status, control, failures."""

from __future__ import annotations

import copy
import csv
import io
from typing import Any

from aiohttp import web

from . import _common as fake
from ._jobs import Job, RowOutcome
from ._state import FakeState, state_of

__all__ = ["add_bulk_routes", "entity_row_processor"]

ANY_BULK = ("entities:bulk_import", "transactions:create", "events:create")
KIND_PERMISSION = {
    "entity_automatic": "entities:bulk_import",
    "transaction_batch": "transactions:create",
    "user_event_batch": "events:create",
}
MAPPING_TARGETS = frozenset(
    {"transaction", "entity_person", "entity_company", "entity_mixed", "user_event"}
)
IMPORT_MODES = frozenset({"automatic_enriched", "manual_no_enrichment"})


def entity_row_processor(state: FakeState) -> Any:
    """Create one entity per row, skipping tax ids the organization already has."""

    def process(org: str, row: dict[str, Any], now: float) -> RowOutcome:
        tax_id = row.get("taxId")
        if not isinstance(tax_id, str) or not tax_id.strip():
            return RowOutcome("failed", "VALIDATION_ERROR", "taxId is required")
        if row.get("type") not in ("person", "company"):
            return RowOutcome("failed", "VALIDATION_ERROR", "type must be person or company")
        if state.entities.find_tax(org, tax_id):
            return RowOutcome("skipped", "SKIPPED_DUPLICATE_TAX_ID")
        name = row.get("suggestedName") or row.get("name")
        if row.get("_importMode") == "manual_no_enrichment" and not name:
            return RowOutcome("failed", "VALIDATION_ERROR", "suggestedName is required")
        fields = {k: v for k, v in row.items() if not k.startswith("_")}
        fields["name"] = name or f"Registry {row['type']} {tax_id}"
        fields["countryCode"] = row.get("countryCode") or row.get("country") or row.get("_country")
        try:
            entity = state.entities.create(org, fields, now)
        except fake.ApiError as exc:
            code = "DUPLICATE_EXTERNAL_ID" if exc.status == 409 else "VALIDATION_ERROR"
            return RowOutcome("failed", code, exc.message)
        payload = {"entity": copy.deepcopy(entity), "createdBy": "bulk_import", "metadata": {}}
        state.emit("entity.created", payload, org)
        return RowOutcome("ok")

    return process


def _accepted(job: Job) -> web.Response:
    body = {"success": True, "jobId": job.job_id, "status": job.status, "totalItems": len(job.rows)}
    return fake.json_response(body, status=202)


# -- mappings --------------------------------------------------------------------
async def list_mappings(request: web.Request) -> web.Response:
    key = fake.require(request, *ANY_BULK)
    mappings = state_of(request).mappings.get(key.organization_id, {})
    return fake.json_response({"mappings": list(mappings.values())})


def _check_mapping(body: dict[str, Any], *, creating: bool) -> None:
    if creating:
        fake.require_str(body, "name")
    if (creating or "target" in body) and body.get("target") not in MAPPING_TARGETS:
        fake.bad_request(f"target must be one of: {', '.join(sorted(MAPPING_TARGETS))}")
    if (creating or "columnMapping" in body) and not isinstance(body.get("columnMapping"), dict):
        fake.bad_request("columnMapping is required and must be an object")


async def create_mapping(request: web.Request) -> web.Response:
    key = fake.require(request, *ANY_BULK)
    body = await fake.read_json(request)
    _check_mapping(body, creating=True)
    now = fake.iso(state_of(request).now())
    mapping = {
        "id": fake.new_id(),
        "name": body["name"],
        "target": body["target"],
        "columnMapping": body["columnMapping"],
        "defaultFields": body.get("defaultFields") or {},
        "headersSnapshot": body.get("headersSnapshot") or [],
        "createdAt": now,
        "updatedAt": now,
    }
    state_of(request).mappings.setdefault(key.organization_id, {})[mapping["id"]] = mapping
    return fake.json_response({"mapping": mapping}, status=201)


def _mapping(request: web.Request, org: str, mapping_id: str) -> dict[str, Any]:
    mapping = state_of(request).mappings.get(org, {}).get(mapping_id)
    if mapping is None:
        fake.not_found("Mapping")
    return mapping


async def update_mapping(request: web.Request) -> web.Response:
    key = fake.require(request, *ANY_BULK)
    mapping = _mapping(request, key.organization_id, request.match_info["id"])
    body = await fake.read_json(request)
    _check_mapping(body, creating=False)
    fields = ("name", "target", "columnMapping", "defaultFields", "headersSnapshot")
    mapping.update({k: body[k] for k in fields if k in body})
    mapping["updatedAt"] = fake.iso(state_of(request).now())
    return fake.json_response({"mapping": mapping})


async def delete_mapping(request: web.Request) -> web.Response:
    key = fake.require(request, *ANY_BULK)
    mapping = _mapping(request, key.organization_id, request.match_info["id"])
    del state_of(request).mappings[key.organization_id][mapping["id"]]
    return fake.json_response({"ok": True})


# -- imports ---------------------------------------------------------------------
def _set_path(row: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        row = row.setdefault(part, {})
    row[leaf] = value


def _apply_mapping(mapping: dict[str, Any], record: dict[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = copy.deepcopy(mapping["defaultFields"])
    for column, target in mapping["columnMapping"].items():
        # A "v2 spec" target is an object; the fake understands its `path`/`target` key.
        path = target.get("path") or target.get("target") if isinstance(target, dict) else target
        if isinstance(path, str) and record.get(column) not in (None, ""):
            _set_path(row, path, record[column])
    return row


async def _csv_rows(
    request: web.Request, org: str, *targets: str
) -> tuple[list[Any], dict[str, Any]]:
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        fake.bad_request("file is required (multipart field `file`)")
    mapping_id = form.get("mappingId")
    if not isinstance(mapping_id, str) or not mapping_id:
        fake.bad_request("mappingId is required")
    mapping = _mapping(request, org, mapping_id)
    if mapping["target"] not in targets:
        fake.bad_request(f"mapping target must be one of: {', '.join(targets)}")
    text = upload.file.read().decode("utf-8-sig")
    records = list(csv.DictReader(io.StringIO(text)))
    rows = [_apply_mapping(mapping, r) | {"_rowKey": str(i + 2)} for i, r in enumerate(records)]
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    fields["_target"] = mapping["target"]
    return rows, fields


async def import_entities_csv(request: web.Request) -> web.Response:
    key = fake.require(request, "entities:bulk_import")
    rows, fields = await _csv_rows(
        request, key.organization_id, "entity_person", "entity_company", "entity_mixed"
    )
    mode = fields.get("entityImportMode", "manual_no_enrichment")
    if mode not in IMPORT_MODES:
        fake.bad_request("entityImportMode must be automatic_enriched or manual_no_enrichment")
    fixed_type = {"entity_person": "person", "entity_company": "company"}.get(fields["_target"])
    for row in rows:
        row["_importMode"] = mode
        if fixed_type:
            row["type"] = fixed_type
    return _submit(request, "entity_automatic", key.organization_id, rows, fields)


async def import_entities_json(request: web.Request) -> web.Response:
    key = fake.require_all(request, ("entities:bulk_import",), ("entities:create",))
    body = await fake.read_json(request)
    items = body.get("items")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        fake.bad_request("items is required and must be a non-empty array of objects")
    mode = body.get("importMode", "automatic_enriched")
    if mode not in IMPORT_MODES:
        fake.bad_request("importMode must be automatic_enriched or manual_no_enrichment")
    rows = [{**item, "_importMode": mode, "_country": body.get("country")} for item in items]
    return _submit(request, "entity_automatic", key.organization_id, rows, body)


async def import_user_events_csv(request: web.Request) -> web.Response:
    key = fake.require(request, "events:create")
    rows, fields = await _csv_rows(request, key.organization_id, "user_event")
    return _submit(request, "user_event_batch", key.organization_id, rows, fields)


def _submit(
    request: web.Request, kind: str, org: str, rows: list[Any], fields: dict[str, Any]
) -> web.Response:
    state = state_of(request)
    stop = fields.get("stopOnFirstError") in (True, "true")
    job = state.jobs.submit(kind, org, rows, state.now(), stopOnFirstError=stop)
    lost, status = state.jobs.take_lost_answer()
    if lost and status is None:  # the job started, the connection closes unanswered
        if request.transport is not None:
            request.transport.close()
        return web.Response()
    if lost and status is not None:
        error = fake.ApiError(status, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
        return fake.json_response(error.body(), status=status)
    return _accepted(job)


# -- jobs ------------------------------------------------------------------------
async def get_job(request: web.Request) -> web.Response:
    key = fake.require(request, *ANY_BULK)
    job = state_of(request).jobs.get(key.organization_id, request.match_info["jobId"])
    body: dict[str, Any] = {"success": True, "job": job.to_api()}
    if request.query.get("include") == "failures":
        body["failures"] = _failures_body(job)
    return fake.json_response(body)


async def control_job(request: web.Request) -> web.Response:
    body = await fake.read_json(request)
    kind, action = body.get("kind"), body.get("action")
    if kind not in KIND_PERMISSION:
        fake.bad_request("kind must be one of: " + ", ".join(sorted(KIND_PERMISSION)))
    if action not in ("pause", "resume", "cancel"):
        fake.bad_request("action must be pause, resume or cancel")
    key = fake.require(request, KIND_PERMISSION[kind])
    state = state_of(request)
    job = state.jobs.get(key.organization_id, request.match_info["jobId"])
    if job.kind != kind:
        fake.bad_request(f"job {job.job_id} is a {job.kind} job")
    state.jobs.control(job, action, state.now())
    return fake.json_response({"success": True, "job": job.to_api()})


def _failures_body(job: Job) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": True,
        "jobId": job.job_id,
        "kind": job.kind,
        "status": job.status,
        "totalItems": len(job.rows),
        "succeeded": job.succeeded,
        "failed": job.failed,
        "skipped": job.skipped,
        "failures": job.failures,
        "truncated": False,
        "failuresTotal": len(job.failures),
    }
    if job.kind == "entity_automatic":
        body |= {"skips": job.skips, "skipsTotal": len(job.skips)}
    return body


def _job_of_kind(request: web.Request, kind: str) -> Job:
    key = fake.require(request, *ANY_BULK)
    job = state_of(request).jobs.get(key.organization_id, request.match_info["jobId"])
    if job.kind != kind:
        fake.not_found("Job")
    return job


async def entity_failures(request: web.Request) -> web.Response:
    return fake.json_response(_failures_body(_job_of_kind(request, "entity_automatic")))


async def user_event_failures(request: web.Request) -> web.Response:
    return fake.json_response(_failures_body(_job_of_kind(request, "user_event_batch")))


def _csv_response(header: list[str], rows: list[list[Any]]) -> web.Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return web.Response(text=out.getvalue(), content_type="text/csv")


async def entity_failures_csv(request: web.Request) -> web.Response:
    job = _job_of_kind(request, "entity_automatic")
    rows = [[f["taxId"], f["type"], f["outcome"], f["code"], f["message"]] for f in job.failures]
    return _csv_response(["tax_id", "type", "outcome", "code", "error_message"], rows)


async def user_event_failures_csv(request: web.Request) -> web.Response:
    job = _job_of_kind(request, "user_event_batch")
    rows = [[f["rowKey"], f["code"], f["message"]] for f in job.failures]
    return _csv_response(["row_key", "code", "error"], rows)


def add_bulk_routes(router: web.UrlDispatcher, state: FakeState) -> None:
    """Register the bulk-import endpoints and the entity row processor."""
    state.jobs.register("entity_automatic", entity_row_processor(state))
    router.add_get("/batch-import/mappings", list_mappings)
    router.add_post("/batch-import/mappings", create_mapping)
    router.add_patch("/batch-import/mappings/{id}", update_mapping)
    router.add_delete("/batch-import/mappings/{id}", delete_mapping)
    router.add_post("/entities/automatic/bulk", import_entities_json)
    router.add_post("/batch-import/import/entities", import_entities_csv)
    router.add_post("/batch-import/import/user-events", import_user_events_csv)
    router.add_get("/batch-import/jobs/{jobId}", get_job)
    router.add_post("/batch-import/jobs/{jobId}/control", control_job)
    router.add_get("/batch-import/entity-jobs/{jobId}/failures", entity_failures)
    router.add_get("/batch-import/entity-jobs/{jobId}/failures.csv", entity_failures_csv)
    router.add_get("/entities/automatic/bulk/imports/{jobId}/failures.csv", entity_failures_csv)
    router.add_get("/batch-import/user-event-jobs/{jobId}/failures", user_event_failures)
    router.add_get("/batch-import/user-event-jobs/{jobId}/failures.csv", user_event_failures_csv)
