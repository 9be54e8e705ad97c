"""`client.entities`: persons and companies (gu1-api.md §2.1)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from gu1_async._errors import ConfigurationError
from gu1_async._serde import compact, structure, unwrap, unwrap_list
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
    EntityUpdateResult,
    ExternalIdChangeResult,
    RiskAnalysisResult,
    UpsertResult,
)
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources._entity_params import (
    AttributesUpdateParams,
    EntityAnalyzeParams,
    EntityAutomaticParams,
    EntityCreateParams,
    EntityListParams,
    EntityRefreshParams,
    EntityUpdateParams,
    EntityUpsertParams,
    ExternalIdChangeParams,
)
from gu1_async.resources._params import given
from gu1_async.resources.bulk_imports import BulkImports

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Iterable

    from typing_extensions import Unpack

    from gu1_async._types import RequestOptions
    from gu1_async.ingest import EntityBulkIngestOptions, EntityIngestOptions

__all__ = ["Entities"]


class Entities(Resource):
    """Create, read and update persons and companies.

    Each method's keywords are declared once, in its spec (`EntityCreateParams`, ...):
    body fields plus the per-call request options. Nested objects (`entity_data`,
    `attributes`, `monitoring`...) are sent as given, so use gu1's camelCase keys inside
    them. `extra_body` adds or overrides top-level body fields verbatim; pass `CLEAR` to a
    field documented as "send null to clear".
    """

    @endpoint("POST", "/entities", operation="entities.create", doc=1)
    async def create(self, **params: Unpack[EntityCreateParams]) -> EntityCreateResult:
        """Create a person or company (409 ConflictError if the taxId already exists)."""
        data = await self._send("entities.create", EntityCreateParams, params)
        return EntityCreateResult.from_api(data)

    @endpoint("POST", "/entities/automatic", operation="entities.create_automatic", doc=2)
    async def create_automatic(
        self, **params: Unpack[EntityAutomaticParams]
    ) -> AutomaticEntityResult:
        """Create an entity from tax ID + country; gu1 fetches and enriches the rest."""
        data = await self._send("entities.create_automatic", EntityAutomaticParams, params)
        return AutomaticEntityResult.from_api(data)

    @endpoint(
        "GET",
        "/entities",
        operation="entities.list",
        doc=3,
        note="Not paginated: gu1 returns up to 100 entities per request.",
    )
    async def list(self, **params: Unpack[EntityListParams]) -> builtins.list[Entity]:
        """List entities matching the filters (at most 100; gu1 documents no paging)."""
        data = await self._send("entities.list", EntityListParams, params, into="query")
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
        self, entity_id: str, **params: Unpack[EntityUpdateParams]
    ) -> EntityUpdateResult:
        """Partially update an entity; `email`/`phone`/`nationality` accept `CLEAR`.

        `reason` is required by gu1 when setting status blocked, suspended or rejected.
        The external id cannot be changed here: use `change_external_id`.
        """
        data = await self._send(
            "entities.update", EntityUpdateParams, params, {"entity_id": entity_id}
        )
        return EntityUpdateResult.from_api(data)

    @endpoint(
        "PATCH",
        "/entities/by-external-id/{external_id}",
        operation="entities.update_by_external_id",
        doc=8,
    )
    async def update_by_external_id(
        self, external_id: str, **params: Unpack[EntityUpdateParams]
    ) -> EntityUpdateResult:
        """Same as `update`, keyed by your external id."""
        operation = "entities.update_by_external_id"
        data = await self._send(operation, EntityUpdateParams, params, {"external_id": external_id})
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
        self, entity_id: str, **params: Unpack[AttributesUpdateParams]
    ) -> AttributesUpdateResult:
        """Change only custom attributes: `merge` (default, shallow) or `replace` the map."""
        data = await self._send(
            "entities.update_attributes", AttributesUpdateParams, params, {"entity_id": entity_id}
        )
        return AttributesUpdateResult.from_api(unwrap(data, "data"))

    @endpoint("PUT", "/entities/upsert", operation="entities.upsert", doc=11)
    async def upsert(self, **params: Unpack[EntityUpsertParams]) -> UpsertResult:
        """Create or update with de-duplication; `entity` has the create body's shape.

        The other keys (`conflict_resolution`, `deduplication_strategy`,
        `create_relationships`) go into the body's `options` object; `EntityUpsertParams`
        lists the values gu1 accepts.
        """
        call = given(params, EntityUpsertParams, call="entities.upsert")
        entity = call.fields.pop("entity")
        body = compact({"entity": entity, "options": compact(call.fields) or None}, call.extra)
        data = await self._request("entities.upsert", json=body, **call.options)
        return UpsertResult.from_api(data)

    @endpoint(
        "POST",
        "/entities/change-external-id",
        operation="entities.change_external_id",
        doc=12,
    )
    async def change_external_id(
        self, **params: Unpack[ExternalIdChangeParams]
    ) -> ExternalIdChangeResult:
        """Change an entity's external id, found by exactly one of the three lookups.

        Raises:
            ConfigurationError: not exactly one of entity_id, external_id, tax_id given.
        """
        call = given(params, ExternalIdChangeParams, call="entities.change_external_id")
        lookups = ("entityId", "externalId", "taxId")
        if sum(call.fields.get(key) is not None for key in lookups) != 1:
            raise ConfigurationError(
                "change_external_id needs exactly one of entity_id, external_id, tax_id"
            )
        body = compact(call.fields, call.extra)
        data = await self._request("entities.change_external_id", json=body, **call.options)
        return ExternalIdChangeResult.from_api(data)

    @endpoint("POST", "/entities/{entity_id}/analyze", operation="entities.analyze", doc=13)
    async def analyze(
        self, entity_id: str, **params: Unpack[EntityAnalyzeParams]
    ) -> RiskAnalysisResult:
        """Run a manual risk analysis (the entity's risk matrices) now."""
        data = await self._send(
            "entities.analyze", EntityAnalyzeParams, params, {"entity_id": entity_id}
        )
        return RiskAnalysisResult.from_api(data)

    @endpoint("POST", "/entities/{entity_id}/refresh", operation="entities.refresh", doc=14)
    async def refresh(self, entity_id: str, **params: Unpack[EntityRefreshParams]) -> ApiResult:
        """Re-run enrichments (and optionally shareholders and rules) for an entity."""
        data = await self._send(
            "entities.refresh", EntityRefreshParams, params, {"entity_id": entity_id}
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
