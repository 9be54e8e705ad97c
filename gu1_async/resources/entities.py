"""`client.entities`: persons and companies (gu1-api.md §2.1)."""

from __future__ import annotations

import builtins
import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from gu1_async._errors import ConfigurationError
from gu1_async._serde import ClearType, compact, query, structure, unwrap, unwrap_list
from gu1_async.ingest import (
    BulkIngestion,
    BulkRowResult,
    Ingestion,
    ingest_entities,
    ingest_entities_auto,
    ingest_entities_bulk,
)
from gu1_async.models import (
    ApiResult,
    AttributesUpdateResult,
    AutomaticEntityResult,
    Entity,
    EntityCreateResult,
    EntityStatus,
    EntityType,
    EntityUpdateResult,
    ExternalIdChangeResult,
    RiskAnalysisResult,
    UpsertResult,
)
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources.bulk_imports import BulkImports

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Iterable

    from typing_extensions import Unpack

    from gu1_async._types import RequestOptions
    from gu1_async.ingest import EntityBulkIngestOptions, EntityIngestOptions

__all__ = ["Entities"]

_Body = Mapping[str, Any]


def _update_body(
    *,
    name: str | None,
    tax_id: str | None,
    country_code: str | None,
    email: str | ClearType | None,
    phone: str | ClearType | None,
    nationality: str | ClearType | None,
    attributes: _Body | None,
    entity_data: _Body | None,
    status: EntityStatus | None,
    reason: str | None,
    risk_matrix_id: str | Sequence[str] | None,
    metadata: _Body | None,
    extra_body: _Body | None,
) -> Any:
    return compact(
        {
            "name": name,
            "taxId": tax_id,
            "countryCode": country_code,
            "email": email,
            "phone": phone,
            "nationality": nationality,
            "attributes": attributes,
            "entityData": entity_data,
            "status": status,
            "reason": reason,
            "riskMatrixId": risk_matrix_id,
            "metadata": metadata,
        },
        extra_body,
    )


class Entities(Resource):
    """Create, read and update persons and companies.

    Nested objects (`entity_data`, `attributes`, `monitoring`...) are sent as given, so
    use gu1's camelCase keys inside them. `extra_body` adds or overrides top-level body
    fields verbatim; pass `CLEAR` to a field documented as "send null to clear".
    """

    @endpoint("POST", "/entities", operation="entities.create", doc=1)
    async def create(
        self,
        *,
        type: EntityType,
        name: str,
        country_code: str,
        external_id: str | None = None,
        tax_id: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        nationality: str | None = None,
        registration_date: _dt.datetime | int | str | None = None,
        operational_hours: _Body | None = None,
        attributes: _Body | None = None,
        risk_factors: _Body | None = None,
        entity_data: _Body | None = None,
        is_client: bool | None = None,
        risk_matrix_id: str | Sequence[str] | None = None,
        risk_matrix_ids: Sequence[str] | None = None,
        skip_rules_execution: bool | None = None,
        shareholder_depth: int | None = None,
        status: EntityStatus | None = None,
        auto_execute_integrations: _Body | None = None,
        monitoring: _Body | None = None,
        extra_body: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> EntityCreateResult:
        """Create a person or company (409 ConflictError if the taxId already exists)."""
        body = compact(
            {
                "type": type,
                "name": name,
                "countryCode": country_code,
                "externalId": external_id,
                "taxId": tax_id,
                "email": email,
                "phone": phone,
                "nationality": nationality,
                "registrationDate": registration_date,
                "operationalHours": operational_hours,
                "attributes": attributes,
                "riskFactors": risk_factors,
                "entityData": entity_data,
                "isClient": is_client,
                "riskMatrixId": risk_matrix_id,
                "riskMatrixIds": risk_matrix_ids,
                "skipRulesExecution": skip_rules_execution,
                "shareholderDepth": shareholder_depth,
                "status": status,
                "autoExecuteIntegrations": auto_execute_integrations,
                "monitoring": monitoring,
            },
            extra_body,
        )
        data = await self._request("entities.create", json=body, **options)
        return EntityCreateResult.from_api(data)

    @endpoint("POST", "/entities/automatic", operation="entities.create_automatic", doc=2)
    async def create_automatic(
        self,
        *,
        tax_id: str,
        country: str,
        type: EntityType,
        external_id: str | None = None,
        nationality: str | None = None,
        is_client: bool | None = None,
        risk_matrix_id: str | Sequence[str] | None = None,
        risk_matrix_ids: Sequence[str] | None = None,
        skip_rules_execution: bool | None = None,
        status: EntityStatus | None = None,
        operational_hours: _Body | None = None,
        depth: int | None = None,
        auto_execute_integrations: _Body | None = None,
        auto_execute_integrations_shareholders: _Body | None = None,
        custom_data: _Body | None = None,
        attributes: _Body | None = None,
        monitoring: _Body | None = None,
        extra_body: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> AutomaticEntityResult:
        """Create an entity from tax ID + country; gu1 fetches and enriches the rest."""
        body = compact(
            {
                "taxId": tax_id,
                "country": country,
                "type": type,
                "externalId": external_id,
                "nationality": nationality,
                "isClient": is_client,
                "riskMatrixId": risk_matrix_id,
                "riskMatrixIds": risk_matrix_ids,
                "skipRulesExecution": skip_rules_execution,
                "status": status,
                "operationalHours": operational_hours,
                "depth": depth,
                "autoExecuteIntegrations": auto_execute_integrations,
                "autoExecuteIntegrationsShareholders": auto_execute_integrations_shareholders,
                "customData": custom_data,
                "attributes": attributes,
                "monitoring": monitoring,
            },
            extra_body,
        )
        data = await self._request("entities.create_automatic", json=body, **options)
        return AutomaticEntityResult.from_api(data)

    @endpoint(
        "GET",
        "/entities",
        operation="entities.list",
        doc=3,
        note="Not paginated: gu1 returns up to 100 entities per request.",
    )
    async def list(
        self,
        *,
        type: EntityType | None = None,
        country: str | None = None,
        tax_id: str | None = None,
        external_id: str | None = None,
        extra_params: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> builtins.list[Entity]:
        """List entities matching the filters (at most 100; gu1 documents no paging)."""
        params = query(
            {"type": type, "country": country, "taxId": tax_id, "externalId": external_id},
            extra_params,
        )
        data = await self._request("entities.list", params=params, **options)
        return structure(unwrap_list(data, "entities"), builtins.list[Entity])

    @endpoint("GET", "/entities/{entity_id}", operation="entities.get", doc=4)
    async def get(self, entity_id: str, **options: Unpack[RequestOptions]) -> Entity:
        """Fetch one entity by gu1 id."""
        data = await self._request("entities.get", {"entity_id": entity_id}, **options)
        return Entity.from_api(unwrap(data, "entity"))

    @endpoint(
        "GET",
        "/entities/by-external-id/{external_id}",
        operation="entities.get_by_external_id",
        doc=5,
    )
    async def get_by_external_id(
        self, external_id: str, **options: Unpack[RequestOptions]
    ) -> Entity:
        """Fetch one entity by your external id."""
        data = await self._request(
            "entities.get_by_external_id", {"external_id": external_id}, **options
        )
        return Entity.from_api(unwrap(data, "entity"))

    @endpoint("GET", "/entities/by-tax-id/{tax_id}", operation="entities.get_by_tax_id", doc=6)
    async def get_by_tax_id(self, tax_id: str, **options: Unpack[RequestOptions]) -> Entity:
        """Fetch one entity by tax id (as stored in the organization)."""
        data = await self._request("entities.get_by_tax_id", {"tax_id": tax_id}, **options)
        return Entity.from_api(unwrap(data, "entity"))

    @endpoint("PATCH", "/entities/{entity_id}", operation="entities.update", doc=7)
    async def update(
        self,
        entity_id: str,
        *,
        name: str | None = None,
        tax_id: str | None = None,
        country_code: str | None = None,
        email: str | ClearType | None = None,
        phone: str | ClearType | None = None,
        nationality: str | ClearType | None = None,
        attributes: _Body | None = None,
        entity_data: _Body | None = None,
        status: EntityStatus | None = None,
        reason: str | None = None,
        risk_matrix_id: str | Sequence[str] | None = None,
        metadata: _Body | None = None,
        extra_body: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> EntityUpdateResult:
        """Partially update an entity; `email`/`phone`/`nationality` accept `CLEAR`.

        `reason` is required by gu1 when setting status blocked, suspended or rejected.
        The external id cannot be changed here: use `change_external_id`.
        """
        body = _update_body(
            name=name,
            tax_id=tax_id,
            country_code=country_code,
            email=email,
            phone=phone,
            nationality=nationality,
            attributes=attributes,
            entity_data=entity_data,
            status=status,
            reason=reason,
            risk_matrix_id=risk_matrix_id,
            metadata=metadata,
            extra_body=extra_body,
        )
        data = await self._request(
            "entities.update", {"entity_id": entity_id}, json=body, **options
        )
        return EntityUpdateResult.from_api(data)

    @endpoint(
        "PATCH",
        "/entities/by-external-id/{external_id}",
        operation="entities.update_by_external_id",
        doc=8,
    )
    async def update_by_external_id(
        self,
        external_id: str,
        *,
        name: str | None = None,
        tax_id: str | None = None,
        country_code: str | None = None,
        email: str | ClearType | None = None,
        phone: str | ClearType | None = None,
        nationality: str | ClearType | None = None,
        attributes: _Body | None = None,
        entity_data: _Body | None = None,
        status: EntityStatus | None = None,
        reason: str | None = None,
        risk_matrix_id: str | Sequence[str] | None = None,
        metadata: _Body | None = None,
        extra_body: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> EntityUpdateResult:
        """Same as `update`, keyed by your external id."""
        body = _update_body(
            name=name,
            tax_id=tax_id,
            country_code=country_code,
            email=email,
            phone=phone,
            nationality=nationality,
            attributes=attributes,
            entity_data=entity_data,
            status=status,
            reason=reason,
            risk_matrix_id=risk_matrix_id,
            metadata=metadata,
            extra_body=extra_body,
        )
        data = await self._request(
            "entities.update_by_external_id", {"external_id": external_id}, json=body, **options
        )
        return EntityUpdateResult.from_api(data)

    @endpoint(
        "PATCH",
        "/entities/{entity_id}/attributes",
        operation="entities.update_attributes",
        doc=10,
        permissions=("entities:edit",),
        note="Legacy keys may hold `entities:write` instead of `entities:edit`.",
    )
    async def update_attributes(
        self,
        entity_id: str,
        *,
        attributes: _Body,
        mode: Literal["merge", "replace"] | str | None = None,
        skip_rules_execution: bool | None = None,
        extra_body: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> AttributesUpdateResult:
        """Change only custom attributes: `merge` (default, shallow) or `replace` the map."""
        body = compact(
            {"attributes": attributes, "mode": mode, "skipRulesExecution": skip_rules_execution},
            extra_body,
        )
        data = await self._request(
            "entities.update_attributes", {"entity_id": entity_id}, json=body, **options
        )
        return AttributesUpdateResult.from_api(unwrap(data, "data"))

    @endpoint("PUT", "/entities/upsert", operation="entities.upsert", doc=11)
    async def upsert(
        self,
        *,
        entity: _Body,
        conflict_resolution: str | None = None,
        deduplication_strategy: str | None = None,
        create_relationships: bool | None = None,
        extra_body: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> UpsertResult:
        """Create or update with de-duplication; `entity` has the create body's shape.

        Args:
            entity: the entity, in gu1's camelCase create shape.
            conflict_resolution: `source_wins`, `target_wins`, `manual_review` or
                `smart_merge` (gu1's default).
            deduplication_strategy: `exact_match`, `fuzzy_match`, `ai_similarity` or
                `hybrid`.
            create_relationships: gu1 defaults to true.
            extra_body: extra top-level body fields.
            **options: per-call request options.
        """
        opts = compact(
            {
                "conflictResolution": conflict_resolution,
                "deduplicationStrategy": deduplication_strategy,
                "createRelationships": create_relationships,
            }
        )
        body = compact({"entity": entity, "options": opts or None}, extra_body)
        data = await self._request("entities.upsert", json=body, **options)
        return UpsertResult.from_api(data)

    @endpoint(
        "POST",
        "/entities/change-external-id",
        operation="entities.change_external_id",
        doc=12,
    )
    async def change_external_id(
        self,
        *,
        new_external_id: str,
        reason: str,
        entity_id: str | None = None,
        external_id: str | None = None,
        tax_id: str | None = None,
        extra_body: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> ExternalIdChangeResult:
        """Change an entity's external id, found by exactly one of the three lookups.

        Raises:
            ConfigurationError: not exactly one of entity_id, external_id, tax_id given.
        """
        lookups = {"entityId": entity_id, "externalId": external_id, "taxId": tax_id}
        if sum(v is not None for v in lookups.values()) != 1:
            raise ConfigurationError(
                "change_external_id needs exactly one of entity_id, external_id, tax_id"
            )
        body = compact({**lookups, "newExternalId": new_external_id, "reason": reason}, extra_body)
        data = await self._request("entities.change_external_id", json=body, **options)
        return ExternalIdChangeResult.from_api(data)

    @endpoint("POST", "/entities/{entity_id}/analyze", operation="entities.analyze", doc=13)
    async def analyze(
        self,
        entity_id: str,
        *,
        entity_type: Literal["person", "company", "transaction"] | str,
        enrich_if_needed: bool | None = None,
        provider_codes: Sequence[str] | None = None,
        rules_engine_config: _Body | None = None,
        extra_body: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> RiskAnalysisResult:
        """Run a manual risk analysis (the entity's risk matrices) now."""
        body = compact(
            {
                "entityType": entity_type,
                "enrichIfNeeded": enrich_if_needed,
                "providerCodes": provider_codes,
                "rulesEngineConfig": rules_engine_config,
            },
            extra_body,
        )
        data = await self._request(
            "entities.analyze", {"entity_id": entity_id}, json=body, **options
        )
        return RiskAnalysisResult.from_api(data)

    @endpoint("POST", "/entities/{entity_id}/refresh", operation="entities.refresh", doc=14)
    async def refresh(
        self,
        entity_id: str,
        *,
        force_refresh: bool | None = None,
        skip_rules_engine: bool | None = None,
        depth: int | None = None,
        refresh_scope: Literal["basic_data", "all_active", "selected"] | str | None = None,
        provider_codes: Sequence[str] | None = None,
        preserve_name: bool | None = None,
        preserve_entity_data: bool | None = None,
        auto_execute_integrations: _Body | None = None,
        auto_execute_integrations_shareholders: _Body | None = None,
        extra_body: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> ApiResult:
        """Re-run enrichments (and optionally shareholders and rules) for an entity."""
        body = compact(
            {
                "forceRefresh": force_refresh,
                "skipRulesEngine": skip_rules_engine,
                "depth": depth,
                "refreshScope": refresh_scope,
                "providerCodes": provider_codes,
                "preserveName": preserve_name,
                "preserveEntityData": preserve_entity_data,
                "autoExecuteIntegrations": auto_execute_integrations,
                "autoExecuteIntegrationsShareholders": auto_execute_integrations_shareholders,
            },
            extra_body,
        )
        data = await self._request(
            "entities.refresh", {"entity_id": entity_id}, json=body, **options
        )
        return ApiResult.from_api(data if isinstance(data, Mapping) else {})

    @overload
    def ingest(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        via: Literal["upsert"] = "upsert",
        **options: Unpack[EntityIngestOptions],
    ) -> Ingestion[Any, UpsertResult]: ...

    @overload
    def ingest(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        via: Literal["bulk"],
        **options: Unpack[EntityBulkIngestOptions],
    ) -> BulkIngestion[BulkRowResult]: ...

    @overload
    def ingest(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        via: Literal["auto"],
        **options: Unpack[EntityBulkIngestOptions],
    ) -> BulkIngestion[BulkRowResult | UpsertResult]: ...

    def ingest(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        via: Literal["upsert", "bulk", "auto"] = "upsert",
        **options: Any,
    ) -> Ingestion[Any, Any]:
        """Send every row at BATCH priority; iterate the per-row outcomes (docs/batch.md).

        Args:
            items: any iterable or async iterable of rows (dicts or models), read lazily.
            via: `upsert` (default): `PUT /entities/upsert` per row, keyed by
                `externalId`. `bulk`: `POST /entities/automatic/bulk` jobs of `bulk_size`
                rows keyed by `taxId` (creates only; needs `entities:bulk_import`, and the
                organization's feature flag, else `BulkUnavailableError`). `auto`: bulk,
                falling back to upsert for the whole run when the bulk endpoint answers
                403/404.
            **options: `EntityIngestOptions` for upsert, `EntityBulkIngestOptions` else.

        Raises:
            ConfigurationError: an unknown `via`.
        """
        if via not in ("upsert", "bulk", "auto"):
            raise ConfigurationError(f"via must be 'upsert', 'bulk' or 'auto', got {via!r}")
        if via == "upsert":
            return ingest_entities(self.upsert, items, **options)
        bulk = BulkImports(self._requester)
        endpoints = (bulk.import_entities, bulk.get_job, bulk.entity_job_failures)
        if via == "bulk":
            return ingest_entities_bulk(*endpoints, items, **options)
        return ingest_entities_auto(*endpoints, self.upsert, items, **options)
