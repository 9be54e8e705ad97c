"""User events and devices (gu1-api.md §2.4, §2.5), with offset pagination."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from . import _common as fake
from ._jobs import RowOutcome
from ._state import FakeState, state_of

__all__ = ["add_event_routes", "record_event"]

AUTO_ENTITY_COUNTRY = "AR"
"""Country given to entities the fake auto-creates from an event's taxId (gu1 infers it)."""
DEVICE_FIELDS = [
    "platform",
    "manufacturer",
    "model",
    "brand",
    "deviceName",
    "osVersion",
    "systemName",
    "systemVersion",
    "browser",
    "browserVersion",
    "latitude",
    "longitude",
    "city",
    "region",
    "country",
    "countryCode",
    "ipAddress",
    "isEmulator",
    "isRooted",
]


def _resolve_entity(
    state: FakeState, org: str, body: dict[str, Any], auto: bool, now: float
) -> tuple[dict[str, Any], bool]:
    entities = state.entities
    if body.get("entityId"):
        return entities.fetch(org, body["entityId"]), False
    if body.get("entityExternalId"):
        found = entities.find_external(org, body["entityExternalId"])
        if found:
            return found, False
    if body.get("taxId"):
        matches = entities.find_tax(org, body["taxId"])
        if matches:
            return matches[0], False
        if auto:
            fields = {
                "type": "person",
                "name": f"Auto-created {body['taxId']}",
                "taxId": body["taxId"],
                "countryCode": body.get("country") or AUTO_ENTITY_COUNTRY,
                "externalId": body.get("entityExternalId"),
            }
            entity = entities.create(org, fields, now)
            payload = {"entity": copy.deepcopy(entity), "createdBy": "event", "metadata": {}}
            state.emit("entity.created", payload, org)
            return entity, True
    fake.not_found("Entity")


def _touch_device(
    state: FakeState, entity: dict[str, Any], fields: dict[str, Any], now: float
) -> dict[str, Any]:
    devices = state.devices.setdefault(entity["id"], {})
    device_id = fields.get("deviceId") or fake.new_id()
    stamp = fake.iso(now)
    device = devices.get(device_id)
    if device is None:
        device = devices[device_id] = {
            "id": fake.new_id(),
            "deviceId": device_id,
            "externalId": None,
            "entityId": entity["id"],
            "entityExternalId": entity["externalId"],
            "entityTaxId": entity["taxId"],
            "metadata": {},
            "isBlocked": False,
            "isTrusted": False,
            "firstSeenAt": stamp,
            "createdAt": stamp,
        }
    device.update({k: fields[k] for k in DEVICE_FIELDS if k in fields})
    device.update({"lastSeenAt": stamp, "updatedAt": stamp})
    return device


def record_event(
    state: FakeState, org: str, body: dict[str, Any], now: float, *, auto_entity: bool
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """Validate and store one user event; returns (event, entity, entity was created)."""
    event_type = fake.require_str(body, "eventType")
    if not any(body.get(k) for k in ("entityId", "entityExternalId", "taxId")):
        fake.bad_request("At least one of entityId, entityExternalId or taxId is required")
    entity, created = _resolve_entity(state, org, body, auto_entity, now)
    stamp = fake.iso(now)
    event = {
        "id": fake.new_id(),
        "eventType": event_type,
        "userId": body.get("userId"),
        "entityId": entity["id"],
        "entityExternalId": entity["externalId"],
        "taxId": entity["taxId"],
        "timestamp": body.get("timestamp") or stamp,
        "eventDate": body.get("eventDate"),
        "deviceId": body.get("deviceId"),
        "ipAddress": body.get("ipAddress"),
        "country": body.get("country"),
        "isVpn": bool(body.get("isVpn", False)),
        "isProxy": bool(body.get("isProxy", False)),
        "metadata": body.get("metadata") or {},
        "organizationId": org,
        "createdAt": stamp,
    }
    state.events.append(event)
    if body.get("deviceId"):
        details = {**(body.get("deviceDetails") or {}), "deviceId": body["deviceId"]}
        _touch_device(state, entity, details, now)
    return event, entity, created


async def create_event(request: web.Request) -> web.Response:
    key = fake.require(request, "events:create")
    body = await fake.read_json(request)
    state = state_of(request)
    auto = request.query.get("withAutoEntity", "false").lower() == "true"
    event, entity, created = record_event(
        state, key.organization_id, body, state.now(), auto_entity=auto
    )
    return fake.json_response(
        {"success": True, "event": event, "entity": {"id": entity["id"], "wasCreated": created}},
        status=201,
    )


def _page(request: web.Request, default: int) -> tuple[int, int]:
    try:
        limit = int(request.query.get("limit", default))
        offset = int(request.query.get("offset", 0))
    except ValueError:
        fake.bad_request("limit and offset must be integers")
    if not 1 <= limit <= 1000 or offset < 0:
        fake.bad_request("limit must be 1-1000 and offset >= 0")
    return limit, offset


def _paginated(name: str, items: list[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    page = items[offset : offset + limit]
    pagination = {
        "total": len(items),
        "limit": limit,
        "offset": offset,
        "hasMore": offset + len(page) < len(items),
    }
    return {"success": True, name: page, "pagination": pagination}


def _newest_first(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda e: (e["timestamp"], e["createdAt"]), reverse=True)


async def list_events(request: web.Request) -> web.Response:
    key = fake.require(request, "events:read")
    limit, offset = _page(request, 100)
    q = request.query
    found = [e for e in state_of(request).events if e["organizationId"] == key.organization_id]
    ids = {
        ("entityId", q.get("entity_id")),
        ("entityExternalId", q.get("entity_external_id")),
        ("taxId", q.get("tax_id")),
    }
    wanted = {(k, v) for k, v in ids if v}
    if wanted:  # entity identifiers are OR-ed
        found = [e for e in found if any(e[k] == v for k, v in wanted)]
    if "user_id" in q:
        found = [e for e in found if e["userId"] == q["user_id"]]
    if "event_type" in q:
        found = [e for e in found if e["eventType"] == q["event_type"]]
    if "start_date" in q:
        found = [e for e in found if e["timestamp"] >= q["start_date"]]
    if "end_date" in q:
        found = [e for e in found if e["timestamp"] <= q["end_date"]]
    return fake.json_response(_paginated("events", _newest_first(found), limit, offset))


async def list_entity_events(request: web.Request) -> web.Response:
    key = fake.require(request, "events:read")
    limit, offset = _page(request, 100)
    state = state_of(request)
    entity = state.entities.fetch(key.organization_id, request.match_info["entityId"])
    found = [e for e in state.events if e["entityId"] == entity["id"]]
    body = _paginated("events", _newest_first(found), limit, offset)
    body["entity"] = {
        "id": entity["id"],
        "external_id": entity["externalId"],
        "tax_id": entity["taxId"],
        "name": entity["name"],
        "type": entity["type"],
    }
    return fake.json_response(body)


async def register_device(request: web.Request) -> web.Response:
    key = fake.require(request, "devices:create")
    body = await fake.read_json(request)
    state = state_of(request)
    entity = state.entities.fetch(key.organization_id, request.match_info["entityId"])
    device = _touch_device(state, entity, body, state.now())
    return fake.json_response({"success": True, "device": device}, status=201)


async def list_devices(request: web.Request) -> web.Response:
    key = fake.require(request, "devices:read")
    limit, offset = _page(request, 50)
    state = state_of(request)
    entity = state.entities.fetch(key.organization_id, request.match_info["entityId"])
    devices = sorted(
        state.devices.get(entity["id"], {}).values(), key=lambda d: d["lastSeenAt"], reverse=True
    )
    return fake.json_response(_paginated("devices", devices, limit, offset))


def event_row_processor(state: FakeState) -> Any:
    """Record one user event per CSV row, auto-creating entities by taxId."""

    def process(org: str, row: dict[str, Any], now: float) -> RowOutcome:
        body = {k: v for k, v in row.items() if not k.startswith("_")}
        try:
            record_event(state, org, body, now, auto_entity=True)
        except fake.ApiError as exc:
            code = "ENTITY_NOT_FOUND" if exc.status == 404 else "VALIDATION_ERROR"
            return RowOutcome("failed", code, exc.message)
        return RowOutcome("ok")

    return process


def add_event_routes(router: web.UrlDispatcher, state: FakeState) -> None:
    """Register the event and device endpoints and the user-event row processor."""
    state.jobs.register("user_event_batch", event_row_processor(state))
    router.add_post("/events/user", create_event)
    router.add_get("/events/user", list_events)
    router.add_get("/events/user/entity/{entityId}", list_entity_events)
    router.add_post("/devices/entity/{entityId}", register_device)
    router.add_get("/devices/entity/{entityId}", list_devices)
