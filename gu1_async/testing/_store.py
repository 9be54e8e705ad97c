"""The fake's in-memory entities, with gu1's validation, de-duplication and update rules.

Handlers (``_entities.py``) and bulk imports (``_bulk.py``) both create entities through
this store, so a row imported in bulk is checked exactly like a `POST /entities`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from ._common import ApiError, bad_request, iso, new_id, normalize_tax_id, not_found

__all__ = ["ENTITY_TYPES", "REASON_REQUIRED", "EntityStore", "validate_entity_fields"]

JSONDict = dict[str, Any]

ENTITY_TYPES = frozenset({"person", "company"})
REASON_REQUIRED = frozenset({"blocked", "suspended", "rejected"})
_PATCHABLE = ("name", "taxId", "countryCode", "email", "phone", "nationality", "status")
_NULLABLE = frozenset({"email", "phone", "nationality"})


def _is_country(value: object) -> bool:
    return isinstance(value, str) and len(value) == 2 and value.isalpha()


def validate_entity_fields(body: Mapping[str, Any], *, creating: bool) -> None:
    """Check an entity body like gu1's validator does, raising a 400 on the first problem."""
    if creating:
        if body.get("type") not in ENTITY_TYPES:
            bad_request("type is required and must be one of: person, company")
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            bad_request("name is required")
        if not _is_country(body.get("countryCode")):
            bad_request("countryCode is required (ISO 3166-1 alpha-2)")
    elif "countryCode" in body and not _is_country(body["countryCode"]):
        bad_request("countryCode must be ISO 3166-1 alpha-2")
    for field in ("externalId", "taxId", "name", "status"):
        if field in body and body[field] is not None and not isinstance(body[field], str):
            bad_request(f"{field} must be a string")
    for field in _NULLABLE:
        if body.get(field) is not None and not isinstance(body[field], str):
            bad_request(f"{field} must be a string or null")
    for field in ("attributes", "entityData", "metadata"):
        if field in body and not isinstance(body[field], dict):
            bad_request(f"{field} must be an object")
    status = body.get("status")
    if status in REASON_REQUIRED and not body.get("reason"):
        bad_request(f"reason is required when status is {status}")


class EntityStore(Mapping[str, JSONDict]):
    """Every entity the fake holds, by id (read it in tests; change it through the API)."""

    def __init__(self) -> None:
        self._by_id: dict[str, JSONDict] = {}
        # Indexes keep creates O(1) for benchmarks that load many thousands of entities.
        self._by_external: dict[tuple[str, str], str] = {}
        self._by_tax: dict[tuple[str, str], list[str]] = {}

    # -- Mapping: tests read the store directly ------------------------------------
    def __getitem__(self, entity_id: str) -> JSONDict:
        return self._by_id[entity_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    # -- lookups, always within one organization (other orgs' data is a 404) -------
    def in_org(self, org: str) -> list[JSONDict]:
        """The organization's entities, oldest first."""
        return [e for e in self._by_id.values() if e["organizationId"] == org]

    def fetch(self, org: str, entity_id: str) -> JSONDict:
        """The entity with this id in `org`, or a 404."""
        entity = self._by_id.get(entity_id)
        if entity is None or entity["organizationId"] != org:
            not_found("Entity")
        return entity

    def find_external(self, org: str, external_id: str) -> JSONDict | None:
        """The entity with this externalId in `org`, if any."""
        entity_id = self._by_external.get((org, external_id))
        return None if entity_id is None else self._by_id[entity_id]

    def find_tax(self, org: str, tax_id: str) -> list[JSONDict]:
        """Entities whose taxId matches, punctuation-insensitively."""
        ids = self._by_tax.get((org, normalize_tax_id(tax_id)), [])
        return [self._by_id[i] for i in ids]

    def _index(self, entity: JSONDict) -> None:
        org = entity["organizationId"]
        self._by_external[(org, entity["externalId"])] = entity["id"]
        if entity["taxId"]:
            self._by_tax.setdefault((org, normalize_tax_id(entity["taxId"])), []).append(
                entity["id"]
            )

    def _unindex(self, entity: JSONDict) -> None:
        org = entity["organizationId"]
        self._by_external.pop((org, entity["externalId"]), None)
        if entity["taxId"]:
            ids = self._by_tax.get((org, normalize_tax_id(entity["taxId"])), [])
            if entity["id"] in ids:
                ids.remove(entity["id"])

    def by_external(self, org: str, external_id: str) -> JSONDict:
        """The entity with this externalId, or a 404."""
        entity = self.find_external(org, external_id)
        if entity is None:
            not_found("Entity")
        return entity

    def by_tax(self, org: str, tax_id: str) -> JSONDict:
        """The entity with this taxId, a 404, or a 409 when several match."""
        found = self.find_tax(org, tax_id)
        if not found:
            not_found("Entity")
        if len(found) > 1:
            raise ApiError(409, "AMBIGUOUS_TAX_ID_LOOKUP", "Several entities have this taxId")
        return found[0]

    # -- changes -----------------------------------------------------------------
    def _check_unique(self, org: str, entity_id: str | None, body: Mapping[str, Any]) -> None:
        tax_id = body.get("taxId")
        if tax_id and any(e["id"] != entity_id for e in self.find_tax(org, tax_id)):
            raise ApiError(
                409,
                "DUPLICATE_TAX_ID",
                "An entity with this taxId already exists in the organization",
            )
        external_id = body.get("externalId")
        other = self.find_external(org, external_id) if external_id else None
        if other is not None and other["id"] != entity_id:
            raise ApiError(
                409, "DUPLICATE_EXTERNAL_ID", "An entity with this externalId already exists"
            )

    def create(self, org: str, body: Mapping[str, Any], now: float) -> JSONDict:
        """Validate and store a new entity (400 on bad fields, 409 on a duplicate)."""
        validate_entity_fields(body, creating=True)
        self._check_unique(org, None, body)
        stamp = iso(now)
        entity: JSONDict = {
            "id": new_id(),
            "externalId": body.get("externalId") or f"ext_{new_id()[:12]}",
            "organizationId": org,
            "type": body["type"],
            "name": body["name"],
            "taxId": body.get("taxId"),
            "countryCode": body["countryCode"].upper(),
            "nationality": body.get("nationality"),
            "email": body.get("email"),
            "phone": body.get("phone"),
            "riskScore": 0,
            "riskFactors": [],
            "status": body.get("status") or "under_review",
            "isClient": bool(body.get("isClient", False)),
            "kycVerified": False,
            "kycProvider": None,
            "kycData": None,
            "entityData": copy.deepcopy(body.get("entityData") or {}),
            "attributes": copy.deepcopy(body.get("attributes") or {}),
            "currentEvaluation": None,
            "createdAt": stamp,
            "updatedAt": stamp,
            "deletedAt": None,
        }
        self._by_id[entity["id"]] = entity
        self._index(entity)
        return entity

    def update(self, entity: JSONDict, body: Mapping[str, Any], now: float) -> JSONDict:
        """Apply a PATCH in place; return `{field: {old, new}}` for what changed.

        `type` is immutable and `externalId` is ignored (newer docs: change it through
        `POST /entities/change-external-id`).
        """
        validate_entity_fields(body, creating=False)
        if "type" in body and body["type"] != entity["type"]:
            bad_request("type cannot be changed")
        self._check_unique(entity["organizationId"], entity["id"], {"taxId": body.get("taxId")})
        changes: dict[str, Any] = {}
        self._unindex(entity)
        for field in _PATCHABLE:
            if field in body and body[field] != entity.get(field):
                changes[field] = {"old": entity.get(field), "new": body[field]}
                entity[field] = body[field]
        self._index(entity)
        for field in ("attributes", "entityData"):
            if isinstance(body.get(field), dict) and body[field]:
                merged = {**entity[field], **copy.deepcopy(body[field])}
                if merged != entity[field]:
                    changes[field] = {"old": entity[field], "new": merged}
                    entity[field] = merged
        if changes:
            entity["updatedAt"] = iso(now)
        return changes

    def set_attributes(
        self, entity: JSONDict, attributes: Mapping[str, Any], mode: str, now: float
    ) -> dict[str, Any]:
        """Merge (shallow) or replace the custom attributes; return the change record."""
        old = entity["attributes"]
        new = dict(attributes) if mode == "replace" else {**old, **attributes}
        entity["attributes"] = copy.deepcopy(new)
        entity["updatedAt"] = iso(now)
        return {"attributes": {"old": old, "new": entity["attributes"]}}

    def change_external_id(self, entity: JSONDict, new_external_id: str, now: float) -> bool:
        """Give the entity a new externalId (409 if taken); False when it is unchanged."""
        if entity["externalId"] == new_external_id:
            return False
        self._check_unique(entity["organizationId"], entity["id"], {"externalId": new_external_id})
        self._unindex(entity)
        entity["externalId"] = new_external_id
        self._index(entity)
        entity["updatedAt"] = iso(now)
        return True
