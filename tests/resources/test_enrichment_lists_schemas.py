"""client.enrichment, data_lists, custom_schemas: request shape and decoding."""

from __future__ import annotations

import pytest
from aioresponses import aioresponses

from gu1_async.models import (
    CustomSchema,
    DataList,
    DataListBulkResult,
    DataListCheckResult,
    DataListItem,
    DataListItemsResult,
    EnrichmentResult,
    FieldMapping,
    HeadlessExecution,
    HeadlessResult,
)

from .harness import Api, Case, run_case

ENRICHMENT = {
    "success": True,
    "entityId": "ent-1",
    "results": [{"success": True, "integrationCode": "ar_afip_enrichment", "costCents": 5}],
    "totalCostCents": 5,
}
SCHEMA = {"id": "sch-1", "name": "CRM", "type": "api", "category": "identity"}

CASES = [
    Case(
        id="enrichment.enrich",
        call=lambda api: api.enrichment.enrich(
            entity_id="ent-1", integration_codes=["ar_afip_enrichment"]
        ),
        method="POST",
        path="/integration-execution/marketplace/enrichment",
        json={"entityId": "ent-1", "integrationCodes": ["ar_afip_enrichment"]},
        response=ENRICHMENT,
        check=lambda r: (
            isinstance(r, EnrichmentResult)
            and r.results is not None
            and r.results[0].integration_code == "ar_afip_enrichment"
            and r.total_cost_cents == 5
        ),
    ),
    Case(
        id="enrichment.enrich_by_external_id",
        call=lambda api: api.enrichment.enrich_by_external_id(
            external_id="cust-1", enrichment_group_refs=["kyc-basic"]
        ),
        method="POST",
        path="/integration-execution/marketplace/enrichment-by-external-id",
        json={"externalId": "cust-1", "enrichmentGroupRefs": ["kyc-basic"]},
        response={**ENRICHMENT, "externalId": "cust-1"},
        check=lambda r: isinstance(r, EnrichmentResult) and r.external_id == "cust-1",
    ),
    Case(
        id="enrichment.execute_without_entity",
        call=lambda api: api.enrichment.execute_without_entity(
            integration_code="ar_afip_enrichment",
            country="AR",
            type="person",
            tax_id="20-1",
            cached=True,
        ),
        method="POST",
        path="/integration-execution/execute-without-entity",
        query={"cached": "true"},
        json={
            "integrationCode": "ar_afip_enrichment",
            "country": "AR",
            "type": "person",
            "taxId": "20-1",
        },
        response={"success": True, "cached": True, "enrichmentSuccess": True, "result": {}},
        check=lambda r: isinstance(r, HeadlessResult) and r.cached is True,
    ),
    Case(
        id="enrichment.list_headless_executions",
        call=lambda api: api.enrichment.list_headless_executions(status="ok", page_size=50),
        method="GET",
        path="/integration-execution/headless-executions",
        query={"status": "ok", "page": "1", "perPage": "50"},
        response={"success": True, "items": [{"id": "h-1"}], "total": 1, "totalPages": 1},
        check=lambda r: r == [HeadlessExecution(id="h-1")],
    ),
    Case(
        id="data_lists.create",
        call=lambda api: api.data_lists.create(
            name="Blocked IPs", type="ip_blocklist", source="manual_entry", list_priority=80
        ),
        method="POST",
        path="/data-lists",
        json={
            "name": "Blocked IPs",
            "type": "ip_blocklist",
            "source": "manual_entry",
            "priority": 80,
        },
        status=201,
        response={"success": True, "data": {"id": "dl-1", "name": "Blocked IPs"}, "took": 3},
        check=lambda r: isinstance(r, DataList) and r.id == "dl-1",
    ),
    Case(
        id="data_lists.add_items",
        call=lambda api: api.data_lists.add_items(
            "dl-1", items=[{"primaryValue": "203.0.113.9"}], options={"ignoreDuplicates": True}
        ),
        method="POST",
        path="/data-lists/dl-1/items",
        json={"items": [{"primaryValue": "203.0.113.9"}], "options": {"ignoreDuplicates": True}},
        status=201,
        response={"success": True, "processed": 1, "duplicates": 0},
        check=lambda r: isinstance(r, DataListItemsResult) and r.processed == 1,
    ),
    Case(
        id="data_lists.bulk_import_items",
        call=lambda api: api.data_lists.bulk_import_items(
            "dl-1", items=[{"primaryValue": "x"}], replace_existing=True
        ),
        method="POST",
        path="/data-lists/dl-1/items/bulk",
        json={"items": [{"primaryValue": "x"}], "replaceExisting": True},
        response={"successful": 1, "errors": 0, "errorDetails": []},
        check=lambda r: isinstance(r, DataListBulkResult) and r.successful == 1,
    ),
    Case(
        id="data_lists.add_items_by_type",
        call=lambda api: api.data_lists.add_items_by_type(
            "ip_blocklist", items=[{"primaryValue": "203.0.113.9"}]
        ),
        method="POST",
        path="/data-lists/ip_blocklist/items",
        json={"items": [{"primaryValue": "203.0.113.9"}]},
        status=201,
        response={"success": True, "listId": "dl-1", "processed": 1},
        check=lambda r: isinstance(r, DataListItemsResult) and r.list_id == "dl-1",
    ),
    Case(
        id="data_lists.list_items",
        call=lambda api: api.data_lists.list_items("dl-1", category="fraud", limit=10),
        method="GET",
        path="/data-lists/dl-1/items",
        query={"category": "fraud", "page": "1", "limit": "10"},
        response={
            "success": True,
            "items": [{"id": "it-1", "primaryValue": "203.0.113.9", "searchKeys": ["a"]}],
            "total": 1,
            "page": 1,
            "limit": 10,
            "totalPages": 1,
        },
        check=lambda r: (
            r == [DataListItem(id="it-1", primary_value="203.0.113.9", search_keys=("a",))]
        ),
    ),
    Case(
        id="data_lists.check",
        call=lambda api: api.data_lists.check(
            "ip_blocklist", search_value="203.0.113.9", use_cache=False
        ),
        method="POST",
        path="/data-lists/ip_blocklist/check",
        json={"searchValue": "203.0.113.9", "options": {"useCache": False}},
        response={"found": True, "listType": "ip_blocklist", "matchCount": 1, "matches": [{}]},
        check=lambda r: isinstance(r, DataListCheckResult) and r.found is True,
    ),
    Case(
        id="custom_schemas.create",
        call=lambda api: api.custom_schemas.create(
            name="CRM", type="api", category="identity", schema_data={"fields": []}
        ),
        method="POST",
        path="/custom-schemas",
        json={"name": "CRM", "type": "api", "category": "identity", "schemaData": {"fields": []}},
        status=201,
        response={"success": True, "data": SCHEMA},
        check=lambda r: isinstance(r, CustomSchema) and r.category == "identity",
    ),
    Case(
        id="custom_schemas.list",
        call=lambda api: api.custom_schemas.list(type="api", is_public=False),
        method="GET",
        path="/custom-schemas",
        query={"type": "api", "isPublic": "false"},
        response={"success": True, "data": [SCHEMA]},
        check=lambda r: [s.id for s in r] == ["sch-1"],
    ),
    Case(
        id="custom_schemas.create_mapping",
        call=lambda api: api.custom_schemas.create_mapping(
            name="CRM to entity",
            mapping_data={"mappings": []},
            source_schema_id="sch-1",
            target_schema_type="gueno_entity",
        ),
        method="POST",
        path="/custom-schemas/mappings",
        json={
            "name": "CRM to entity",
            "mappingData": {"mappings": []},
            "sourceSchemaId": "sch-1",
            "targetSchemaType": "gueno_entity",
        },
        status=201,
        response={"id": "fm-1", "name": "CRM to entity"},
        check=lambda r: isinstance(r, FieldMapping) and r.id == "fm-1",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_enrichment_lists_schemas(case: Case, api: Api, mock_api: aioresponses) -> None:
    await run_case(case, api, mock_api)
