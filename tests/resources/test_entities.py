"""client.entities: request shape and decoding of every method."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aioresponses import aioresponses

from gu1_async._errors import ConfigurationError
from gu1_async._serde import CLEAR
from gu1_async.models import (
    ApiResult,
    AttributesUpdateResult,
    AutomaticEntityResult,
    Entity,
    EntityCreateResult,
    EntityUpdateResult,
    ExternalIdChangeResult,
    RiskAnalysisResult,
    UpsertResult,
)

from .harness import Api, Case, run_case

ENTITY = {
    "id": "ent-1",
    "externalId": "cust-1",
    "type": "person",
    "name": "Ada Lovelace",
    "taxId": "20-12345678-9",
    "countryCode": "AR",
    "riskScore": 12,
    "status": "under_review",
    "createdAt": "2025-01-07T10:00:00.000Z",
}


def _entity(result: Any) -> None:
    assert isinstance(result, Entity)
    assert result.id == "ent-1"
    assert result.tax_id == "20-12345678-9"
    assert result.created_at == dt.datetime(2025, 1, 7, 10, tzinfo=dt.timezone.utc)


def _created(result: Any) -> None:
    assert isinstance(result, EntityCreateResult)
    assert result.entity is not None
    _entity(result.entity)
    assert result.rules_execution_summary is not None
    assert result.rules_execution_summary.total_score == 40


def _automatic(result: Any) -> None:
    assert isinstance(result, AutomaticEntityResult)
    assert result.entity is not None
    assert result.entity.id == "ent-1"


def _entities(result: Any) -> None:
    assert [e.id for e in result] == ["ent-1"]


def _updated(result: Any) -> None:
    assert isinstance(result, EntityUpdateResult)
    assert result.entity is not None and result.entity.name == "Ada L."
    assert result.previous_entity is not None and result.previous_entity.name == "Ada Lovelace"
    assert result.evaluation is not None and result.evaluation.decision == "PENDING"


UPDATE_RESPONSE = {
    "entity": {**ENTITY, "name": "Ada L."},
    "evaluation": {"id": "ev-1", "decision": "PENDING", "evaluationType": "SYSTEM"},
    "previousEntity": ENTITY,
}

CASES = [
    Case(
        id="create",
        call=lambda api: api.entities.create(
            type="person",
            name="Ada Lovelace",
            country_code="AR",
            tax_id="20-12345678-9",
            entity_data={"person": {"firstName": "Ada"}},
            risk_matrix_ids=["rm-1"],
            skip_rules_execution=False,
        ),
        method="POST",
        path="/entities",
        json={
            "type": "person",
            "name": "Ada Lovelace",
            "countryCode": "AR",
            "taxId": "20-12345678-9",
            "entityData": {"person": {"firstName": "Ada"}},
            "riskMatrixIds": ["rm-1"],
            "skipRulesExecution": False,
        },
        response={"success": True, "entity": ENTITY, "rulesExecutionSummary": {"totalScore": 40}},
        check=_created,
    ),
    Case(
        id="create_automatic",
        call=lambda api: api.entities.create_automatic(
            tax_id="30-71234567-1", country="AR", type="company", depth=2
        ),
        method="POST",
        path="/entities/automatic",
        json={"taxId": "30-71234567-1", "country": "AR", "type": "company", "depth": 2},
        response={"success": True, "data": ENTITY},
        check=_automatic,
    ),
    Case(
        id="list",
        call=lambda api: api.entities.list(type="person", country="AR", tax_id="20-1"),
        method="GET",
        path="/entities",
        query={"type": "person", "country": "AR", "taxId": "20-1"},
        response={"entities": [ENTITY]},
        check=_entities,
    ),
    Case(
        id="get",
        call=lambda api: api.entities.get("ent-1"),
        method="GET",
        path="/entities/ent-1",
        response=ENTITY,
        check=_entity,
    ),
    Case(
        id="get_wrapped",
        call=lambda api: api.entities.get("ent-1"),
        method="GET",
        path="/entities/ent-1",
        response={"success": True, "entity": ENTITY},
        check=_entity,
    ),
    Case(
        id="get_by_external_id",
        call=lambda api: api.entities.get_by_external_id("cust 1"),
        method="GET",
        path="/entities/by-external-id/cust%201",
        response=ENTITY,
        check=_entity,
    ),
    Case(
        id="get_by_tax_id",
        call=lambda api: api.entities.get_by_tax_id("20.123.456"),
        method="GET",
        path="/entities/by-tax-id/20.123.456",
        response=ENTITY,
        check=_entity,
    ),
    Case(
        id="update",
        call=lambda api: api.entities.update(
            "ent-1", name="Ada L.", email=CLEAR, status="blocked", reason="fraud ring"
        ),
        method="PATCH",
        path="/entities/ent-1",
        json={"name": "Ada L.", "email": None, "status": "blocked", "reason": "fraud ring"},
        response=UPDATE_RESPONSE,
        check=_updated,
    ),
    Case(
        id="update_by_external_id",
        call=lambda api: api.entities.update_by_external_id(
            "cust-1", name="Ada L.", extra_body={"newField": 1}
        ),
        method="PATCH",
        path="/entities/by-external-id/cust-1",
        json={"name": "Ada L.", "newField": 1},
        response=UPDATE_RESPONSE,
        check=_updated,
    ),
    Case(
        id="update_attributes",
        call=lambda api: api.entities.update_attributes(
            "ent-1", attributes={"segment": "vip"}, mode="replace"
        ),
        method="PATCH",
        path="/entities/ent-1/attributes",
        json={"attributes": {"segment": "vip"}, "mode": "replace"},
        response={
            "success": True,
            "data": {"entityId": "ent-1", "mode": "replace", "attributes": {"segment": "vip"}},
        },
        check=lambda r: (
            isinstance(r, AttributesUpdateResult)
            and r.attributes == {"segment": "vip"}
            and r.entity_id == "ent-1"
        ),
    ),
    Case(
        id="upsert",
        call=lambda api: api.entities.upsert(
            entity={"type": "person", "name": "Ada", "externalId": "cust-1"},
            conflict_resolution="source_wins",
            deduplication_strategy="hybrid",
        ),
        method="PUT",
        path="/entities/upsert",
        json={
            "entity": {"type": "person", "name": "Ada", "externalId": "cust-1"},
            "options": {"conflictResolution": "source_wins", "deduplicationStrategy": "hybrid"},
        },
        response={
            "success": True,
            "action": "updated",
            "entity": ENTITY,
            "previousEntity": None,
            "confidence": 0.93,
            "conflicts": [],
        },
        check=lambda r: (
            isinstance(r, UpsertResult)
            and r.action == "updated"
            and r.confidence == 0.93
            and r.previous_entity is None
        ),
    ),
    Case(
        id="change_external_id",
        call=lambda api: api.entities.change_external_id(
            tax_id="20-12345678-9", new_external_id="cust-2", reason="merged CRM records"
        ),
        method="POST",
        path="/entities/change-external-id",
        json={"taxId": "20-12345678-9", "newExternalId": "cust-2", "reason": "merged CRM records"},
        response={"success": True, "changed": True, "entity": {**ENTITY, "externalId": "cust-2"}},
        check=lambda r: (
            isinstance(r, ExternalIdChangeResult)
            and r.changed is True
            and r.entity is not None
            and r.entity.external_id == "cust-2"
        ),
    ),
    Case(
        id="analyze",
        call=lambda api: api.entities.analyze(
            "ent-1", entity_type="person", enrich_if_needed=True, provider_codes=["x"]
        ),
        method="POST",
        path="/entities/ent-1/analyze",
        json={"entityType": "person", "enrichIfNeeded": True, "providerCodes": ["x"]},
        response={
            "success": True,
            "data": {"id": "aud-1", "overallRiskScore": 55, "riskLevel": "MEDIUM"},
        },
        check=lambda r: (
            isinstance(r, RiskAnalysisResult)
            and r.data is not None
            and r.data.risk_level == "MEDIUM"
            and r.data.overall_risk_score == 55
        ),
    ),
    Case(
        id="refresh",
        call=lambda api: api.entities.refresh("ent-1", refresh_scope="all_active", depth=0),
        method="POST",
        path="/entities/ent-1/refresh",
        json={"depth": 0, "refreshScope": "all_active"},
        response={"success": True, "message": "queued", "enrichments": 3},
        check=lambda r: (
            isinstance(r, ApiResult) and r.message == "queued" and r.extra == {"enrichments": 3}
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_entities(case: Case, api: Api, mock_api: aioresponses) -> None:
    await run_case(case, api, mock_api)


async def test_change_external_id_needs_exactly_one_lookup(
    api: Api, mock_api: aioresponses
) -> None:
    with pytest.raises(ConfigurationError, match="exactly one"):
        await api.entities.change_external_id(
            entity_id="a", tax_id="b", new_external_id="c", reason="because"
        )
    assert not mock_api.requests
