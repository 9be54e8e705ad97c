"""`client.enrichment`: Marketplace enrichments (gu1-api.md §2.9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from gu1_async._serde import compact, query
from gu1_async.models import EnrichmentResult, HeadlessExecution, HeadlessResult
from gu1_async.pagination import AsyncPaginator
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources._intelligence_params import EnrichByExternalIdParams, EnrichParams
from gu1_async.resources._params import Body

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import PageOptions, RequestOptions

__all__ = ["Enrichment"]

_EXECUTE_NOTE = "Needs the permission to execute enrichments (exact string undocumented)."


class Enrichment(Resource):
    """Run Marketplace enrichments on stored entities or on a bare tax id / name."""

    @endpoint(
        "POST",
        "/integration-execution/marketplace/enrichment",
        operation="enrichment.enrich",
        doc=52,
        note=_EXECUTE_NOTE,
    )
    async def enrich(self, **params: Unpack[EnrichParams]) -> EnrichmentResult:
        """Run enrichments (codes and/or Marketplace groups) on an entity by gu1 id."""
        data = await self._send("enrichment.enrich", EnrichParams, params)
        return EnrichmentResult.from_api(data)

    @endpoint(
        "POST",
        "/integration-execution/marketplace/enrichment-by-external-id",
        operation="enrichment.enrich_by_external_id",
        doc=53,
        note=_EXECUTE_NOTE,
    )
    async def enrich_by_external_id(
        self, **params: Unpack[EnrichByExternalIdParams]
    ) -> EnrichmentResult:
        """Same as `enrich`, keyed by your external id."""
        operation = "enrichment.enrich_by_external_id"
        return EnrichmentResult.from_api(
            await self._send(operation, EnrichByExternalIdParams, params)
        )

    @endpoint(
        "POST",
        "/integration-execution/execute-without-entity",
        operation="enrichment.execute_without_entity",
        doc=54,
        note=_EXECUTE_NOTE,
    )
    async def execute_without_entity(
        self,
        *,
        integration_code: str,
        country: str,
        type: Literal["person", "company"] | str,
        tax_id: str | None = None,
        name: str | None = None,
        parameters: Body | None = None,
        cached: bool | None = None,
        extra_body: Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> HeadlessResult:
        """Run one enrichment on a tax id and/or name; nothing is stored.

        `cached=True` returns only a cached success (NotFoundError `CACHE_MISS` otherwise,
        at no cost).
        """
        body = compact(
            {
                "integrationCode": integration_code,
                "country": country,
                "type": type,
                "taxId": tax_id,
                "name": name,
                "parameters": parameters,
            },
            extra_body,
        )
        data = await self._request(
            "enrichment.execute_without_entity",
            params=query({"cached": cached}),
            json=body,
            **options,
        )
        return HeadlessResult.from_api(data)

    @endpoint(
        "GET",
        "/integration-execution/headless-executions",
        operation="enrichment.list_headless_executions",
        doc=55,
        paginated="page+perPage",
    )
    def list_headless_executions(
        self,
        *,
        integration: str | None = None,
        status: Literal["all", "ok", "fail"] | str | None = None,
        entity_type: Literal["all", "person", "company"] | str | None = None,
        sort_by: Literal["createdAt", "tokens"] | str | None = None,
        sort_dir: Literal["asc", "desc"] | None = None,
        extra_params: Body | None = None,
        **options: Unpack[PageOptions],
    ) -> AsyncPaginator[HeadlessExecution]:
        """Iterate the audit list of headless runs (page size up to 100).

        The free-text search parameter's name is not documented: use `extra_params`.
        """
        params = query(
            {
                "integration": integration,
                "status": status,
                "entityType": entity_type,
                "sortBy": sort_by,
                "sortDir": sort_dir,
            },
            extra_params,
        )
        return self._paginate(
            "enrichment.list_headless_executions",
            HeadlessExecution,
            "items",
            params=params,
            max_page_size=100,
            **options,
        )
