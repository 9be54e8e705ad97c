"""Transaction routes (gu1-api.md §2.3): create, get, by external id, JSON batch with a job."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import _common as fake
from ._jobs import RowOutcome
from ._state import FakeState, state_of
from ._transaction_store import SYNC_BATCH_LIMIT

__all__ = ["add_transaction_routes", "transaction_row_processor"]


async def create_transaction(request: web.Request) -> web.Response:
    key = fake.require(request, "transactions:create")
    body = await fake.read_json(request)
    state = state_of(request)
    transaction = state.transactions.create(key.organization_id, body, state.now())
    return fake.json_response({"transaction": transaction}, status=201)


def _read(transaction: dict[str, Any]) -> web.Response:
    return fake.json_response({"transaction": transaction, "persisted": {}, "baseCurrency": "USD"})


async def get_transaction(request: web.Request) -> web.Response:
    key = fake.require(request, "transactions:read")
    transaction = state_of(request).transactions.by_id.get(request.match_info["id"])
    if transaction is None or transaction["organizationId"] != key.organization_id:
        fake.not_found("Transaction")
    return _read(transaction)


async def get_by_external_id(request: web.Request) -> web.Response:
    key = fake.require(request, "transactions:read")
    store = state_of(request).transactions
    transaction = store.find_external(key.organization_id, request.match_info["externalId"])
    if transaction is None:
        fake.not_found("Transaction")
    return _read(transaction)


def transaction_row_processor(state: FakeState) -> Any:
    """Create one transaction per batch row; a duplicate externalId is skipped or failed."""

    def process(org: str, row: dict[str, Any], now: float) -> RowOutcome:
        try:
            state.transactions.create(org, row, now)
        except fake.ApiError as exc:
            if exc.status == 409 and row.get("_skipDuplicates"):
                return RowOutcome("skipped", "SKIPPED_DUPLICATE_EXTERNAL_ID")
            return RowOutcome("failed", exc.code, exc.message)
        return RowOutcome("ok")

    return process


async def _batch(request: web.Request, *, background: bool) -> web.Response:
    key = fake.require(request, "transactions:create")
    body = await fake.read_json(request)
    items = body.get("transactions")
    if not isinstance(items, list) or not items or not all(isinstance(t, dict) for t in items):
        fake.bad_request("transactions is required and must be a non-empty array of objects")
    if len(items) > 100_000:
        fake.bad_request("at most 100000 transactions per request")
    state = state_of(request)
    skip = bool(body.get("skipDuplicates"))
    rows = [{**t, "_skipDuplicates": skip, "_rowKey": t.get("externalId")} for t in items]
    if background or len(rows) > SYNC_BATCH_LIMIT:
        job = state.jobs.submit("transaction_batch", key.organization_id, rows, state.now())
        body = {"success": True, "jobId": job.job_id, "status": job.status, "message": "queued"}
        return fake.json_response(body, status=202)
    created, errors, skipped = [], [], 0
    for row in rows:
        try:
            created.append(state.transactions.create(key.organization_id, row, state.now()))
        except fake.ApiError as exc:
            if exc.status == 409 and skip:
                skipped += 1
            else:
                errors.append({"externalId": row.get("externalId"), "error": exc.message})
    return fake.json_response(
        {
            "success": not errors,
            "created": len(created),
            "skipped": skipped,
            "failed": len(errors),
            "transactions": created,
            "errors": errors,
            "status": "completed",
        }
    )


async def create_batch(request: web.Request) -> web.Response:
    return await _batch(request, background=False)


async def create_batch_background(request: web.Request) -> web.Response:
    return await _batch(request, background=True)


def add_transaction_routes(router: web.UrlDispatcher, state: FakeState) -> None:
    """Register the transaction endpoints and the batch row processor."""
    state.jobs.register("transaction_batch", transaction_row_processor(state))
    router.add_post("/transactions", create_transaction)
    router.add_post("/transactions/batch", create_batch)
    router.add_post("/transactions/batch/background", create_batch_background)
    router.add_get("/transactions/external/{externalId}", get_by_external_id)
    router.add_get("/transactions/{id}", get_transaction)
