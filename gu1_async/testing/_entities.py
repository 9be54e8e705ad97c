"""`/entities` handlers (gu1-api.md §2.1): create, automatic, list, get, patch, upsert."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from . import _common as fake
from ._state import state_of
from ._store import ENTITY_TYPES

__all__ = ["add_entity_routes"]

READ = ("entities:read",)
CREATE = ("entities:create",)
# `entities:write` is the documented legacy fallback of `entities:edit`.
EDIT = ("entities:edit", "entities:write")
LIST_LIMIT = 100


def _create(request: web.Request, org: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Store a new entity and announce it (the `entity.created` webhook)."""
    state = state_of(request)
    entity = state.entities.create(org, fields, state.now())
    state.emit(
        "entity.created",
        {"entity": copy.deepcopy(entity), "createdBy": "api", "metadata": {}},
        entity["organizationId"],
    )
    return entity


async def create_entity(request: web.Request) -> web.Response:
    key = fake.require(request, *CREATE)
    body = await fake.read_json(request)
    entity = _create(request, key.organization_id, body)
    return fake.json_response({"success": True, "entity": entity}, status=201)


async def create_automatic(request: web.Request) -> web.Response:
    key = fake.require(request, *CREATE)
    body = await fake.read_json(request)
    tax_id = fake.require_str(body, "taxId")
    country = fake.require_str(body, "country")
    if body.get("type") not in ENTITY_TYPES:
        fake.bad_request("type is required and must be one of: person, company")
    # The real API fetches registry data by tax id; the fake invents a plausible name.
    fields: dict[str, Any] = {
        "type": body["type"],
        "name": f"Registry {body['type']} {tax_id}",
        "taxId": tax_id,
        "countryCode": country,
        **{
            k: body[k]
            for k in ("externalId", "nationality", "isClient", "status", "attributes")
            if k in body
        },
    }
    entity = _create(request, key.organization_id, fields)
    return fake.json_response({"success": True, "data": entity}, status=201)


async def list_entities(request: web.Request) -> web.Response:
    key = fake.require(request, *READ)
    query = request.query
    state = state_of(request)
    found = state.entities.in_org(key.organization_id)
    if "taxId" in query:
        found = state.entities.find_tax(key.organization_id, query["taxId"])
    for param, field in (
        ("type", "type"),
        ("country", "countryCode"),
        ("externalId", "externalId"),
    ):
        if param in query:
            found = [e for e in found if e[field] == query[param]]
    return fake.json_response({"entities": found[:LIST_LIMIT]})


def _named_entity(request: web.Request, permissions: tuple[str, ...]) -> dict[str, Any]:
    """The entity the route names by `{id}`, `{externalId}` or `{taxId}`, in the key's
    organization (after the permission check; 404 if there is none)."""
    key = fake.require(request, *permissions)
    store = state_of(request).entities
    org, named = key.organization_id, request.match_info
    if "id" in named:
        return store.fetch(org, named["id"])
    if "externalId" in named:
        return store.by_external(org, named["externalId"])
    return store.by_tax(org, named["taxId"])


async def get_entity(request: web.Request) -> web.Response:
    """GET by id, external id or tax id: gu1 returns the entity unwrapped."""
    return fake.json_response(_named_entity(request, READ))


async def _patch(request: web.Request, entity: dict[str, Any]) -> web.Response:
    body = await fake.read_json(request)
    state = state_of(request)
    previous = copy.deepcopy(entity)
    changes = state.entities.update(entity, body, state.now())
    state.emit_entity_change(entity, changes)
    evaluation = {
        "id": f"eval_{entity['id'][:8]}",
        "entityId": entity["id"],
        "decision": "PENDING",
        "evaluationType": "SYSTEM",
        "reasons": [],
    }
    return fake.json_response(
        {"entity": entity, "evaluation": evaluation, "previousEntity": previous}
    )


async def patch_entity(request: web.Request) -> web.Response:
    """PATCH by id, external id or tax id."""
    return await _patch(request, _named_entity(request, EDIT))


async def patch_attributes(request: web.Request) -> web.Response:
    key = fake.require(request, *EDIT)
    body = await fake.read_json(request)
    attributes = body.get("attributes")
    if not isinstance(attributes, dict):
        fake.bad_request("attributes is required and must be an object")
    mode = body.get("mode", "merge")
    if mode not in ("merge", "replace"):
        fake.bad_request("mode must be merge or replace")
    state = state_of(request)
    entity = state.entities.fetch(key.organization_id, request.match_info["id"])
    changes = state.entities.set_attributes(entity, attributes, mode, state.now())
    state.emit_entity_change(entity, changes)
    data = {"entityId": entity["id"], "mode": mode, "attributes": entity["attributes"]}
    return fake.json_response({"success": True, "data": data})


async def upsert_entity(request: web.Request) -> web.Response:
    key = fake.require_all(request, CREATE, EDIT)
    body = await fake.read_json(request)
    fields = body.get("entity")
    if not isinstance(fields, dict):
        fake.bad_request("entity is required and must be an object")
    state = state_of(request)
    org = key.organization_id
    # De-duplicate by externalId first, then taxId: the same externalId sent twice
    # always lands on the same entity, so a retried upsert never creates a second one.
    existing = (
        state.entities.find_external(org, fields["externalId"])
        if fields.get("externalId")
        else None
    )
    if existing is None and fields.get("taxId"):
        matches = state.entities.find_tax(org, fields["taxId"])
        existing = matches[0] if matches else None
    if existing is None:
        entity = _create(request, org, fields)
        action, previous = "created", None
    else:
        previous = copy.deepcopy(existing)
        changes = state.entities.update(existing, fields, state.now())
        state.emit_entity_change(existing, changes)
        entity, action = existing, "updated"
    return fake.json_response(
        {
            "success": True,
            "action": action,
            "entity": entity,
            "previousEntity": previous,
            "confidence": 1.0,
            "reasoning": "exact match on externalId or taxId" if previous else "no match found",
            "conflicts": [],
        }
    )


async def change_external_id(request: web.Request) -> web.Response:
    key = fake.require(request, *EDIT)
    body = await fake.read_json(request)
    lookups = [f for f in ("entityId", "externalId", "taxId") if body.get(f)]
    if len(lookups) != 1:
        fake.bad_request("Provide exactly one of entityId, externalId or taxId")
    new_external_id = fake.require_str(body, "newExternalId").strip()
    reason = fake.require_str(body, "reason", min_len=5)
    if len(reason) > 4000:
        fake.bad_request("reason must be at most 4000 characters")
    state = state_of(request)
    org = key.organization_id
    lookup = lookups[0]
    if lookup == "entityId":
        entity = state.entities.fetch(org, body["entityId"])
    elif lookup == "externalId":
        entity = state.entities.by_external(org, body["externalId"])
    else:
        entity = state.entities.by_tax(org, body["taxId"])
    old = entity["externalId"]
    changed = state.entities.change_external_id(entity, new_external_id, state.now())
    if changed:
        state.emit_entity_change(entity, {"externalId": {"old": old, "new": new_external_id}})
    return fake.json_response({"success": True, "changed": changed, "entity": entity})


def add_entity_routes(router: web.UrlDispatcher) -> None:
    """Register the entity endpoints (static paths before `{id}` ones)."""
    router.add_post("/entities", create_entity)
    router.add_post("/entities/automatic", create_automatic)
    router.add_get("/entities", list_entities)
    router.add_put("/entities/upsert", upsert_entity)
    router.add_post("/entities/change-external-id", change_external_id)
    router.add_get("/entities/by-external-id/{externalId}", get_entity)
    router.add_get("/entities/by-tax-id/{taxId}", get_entity)
    router.add_patch("/entities/by-external-id/{externalId}", patch_entity)
    router.add_patch("/entities/by-tax-id/{taxId}", patch_entity)
    router.add_patch("/entities/{id}/attributes", patch_attributes)
    router.add_get("/entities/{id}", get_entity)
    router.add_patch("/entities/{id}", patch_entity)
