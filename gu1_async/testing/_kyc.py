"""KYC routes (gu1-api.md §2.6, §4): the HTTP side of `_kyc_store.KycStore`."""

from __future__ import annotations

from aiohttp import web

from . import _common as fake
from ._kyc_store import OPEN
from ._state import FakeState, state_of

__all__ = ["add_kyc_routes"]


async def create_validation(request: web.Request) -> web.Response:
    key = fake.require(request, "kyc:create")
    body = await fake.read_json(request)
    entity_id = fake.require_str(body, "entityId")
    fake.require_str(body, "integrationCode")
    state = state_of(request)
    entity = state.entities.fetch(key.organization_id, entity_id)
    if entity["type"] != "person":
        fake.bad_request("KYC validations are for person entities")
    return fake.json_response(state.kyc.create(entity, body, state.now()), status=201)


async def get_validation(request: web.Request) -> web.Response:
    key = fake.require(request, "kyc:read")
    return fake.json_response(
        state_of(request).kyc.fetch(key.organization_id, request.match_info["id"])
    )


async def list_entity_validations(request: web.Request) -> web.Response:
    key = fake.require(request, "kyc:read")
    state = state_of(request)
    entity = state.entities.fetch(key.organization_id, request.match_info["entityId"])
    try:
        page = int(request.query.get("page", 1))
        limit = int(request.query.get("limit", 100))
    except ValueError:
        fake.bad_request("page and limit must be integers")
    if page < 1 or not 1 <= limit <= 100:
        fake.bad_request("page must be >= 1 and limit 1-100")
    found = [v for v in state.kyc.by_id.values() if v["entityId"] == entity["id"]]
    if "status" in request.query:
        found = [v for v in found if v["status"] == request.query["status"]]
    if "isCurrent" in request.query:
        current = request.query["isCurrent"].lower() == "true"
        found = [v for v in found if v["isCurrent"] == current]
    found.reverse()  # newest first
    items = found[(page - 1) * limit : page * limit]
    return fake.json_response(
        {"validations": items, "total": len(found), "page": page, "limit": limit}
    )


async def current_validation(request: web.Request) -> web.Response:
    key = fake.require(request, "kyc:read")
    state = state_of(request)
    entity = state.entities.fetch(key.organization_id, request.match_info["entityId"])
    for validation in state.kyc.by_id.values():
        if validation["entityId"] == entity["id"] and validation["isCurrent"]:
            return fake.json_response(validation)
    fake.not_found("Current validation")


async def _decide(request: web.Request, status: str, allowed_from: frozenset[str]) -> web.Response:
    key = fake.require(request, "kyc:edit")
    body = await fake.read_json(request)
    fake.require_str(body, "reason", min_len=5)
    state = state_of(request)
    validation = state.kyc.fetch(key.organization_id, request.match_info["id"])
    if validation["status"] not in allowed_from:
        fake.bad_request(f"validation is {validation['status']}", code="INVALID_STATUS")
    # The reason goes in first, so the webhook that set_status sends carries it.
    validation["metadata"] = {**validation["metadata"], "reason": body["reason"]}
    state.kyc.set_status(validation, status, state.now())
    return fake.json_response(validation)


async def cancel_validation(request: web.Request) -> web.Response:
    return await _decide(request, "cancelled", OPEN)


async def approve_validation(request: web.Request) -> web.Response:
    return await _decide(request, "approved", frozenset({"in_review"}))


async def reject_validation(request: web.Request) -> web.Response:
    return await _decide(request, "rejected", frozenset({"in_review"}))


def add_kyc_routes(router: web.UrlDispatcher, state: FakeState) -> None:
    """Register the KYC endpoints (note gu1's `/api/kyc` prefix)."""
    state.add_ticker(state.kyc.tick)
    router.add_post("/api/kyc/validations", create_validation)
    router.add_get("/api/kyc/validations/{id}", get_validation)
    router.add_delete("/api/kyc/validations/{id}/cancel", cancel_validation)
    router.add_post("/api/kyc/validations/{id}/approve", approve_validation)
    router.add_post("/api/kyc/validations/{id}/reject", reject_validation)
    router.add_get("/api/kyc/entities/{entityId}/validations", list_entity_validations)
    router.add_get("/api/kyc/entities/{entityId}/current", current_validation)
