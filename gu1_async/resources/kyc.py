"""`client.kyc`: KYC identity validations under `/api/kyc` (gu1-api.md §2.6, §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gu1_async._serde import compact, query, unwrap
from gu1_async.models import KycStatus, KycValidation
from gu1_async.pagination import AsyncPaginator
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources._params import Body

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import PageOptions, RequestOptions

__all__ = ["DEFAULT_KYC_INTEGRATION", "Kyc"]

DEFAULT_KYC_INTEGRATION = "global_gueno_validation_kyc"
"""Document + selfie + face match + liveness; works in sandbox with no setup."""


def _validation(body: Any) -> KycValidation:
    return KycValidation.from_api(unwrap(body, "validation", "data"))


class Kyc(Resource):
    """Start, follow and decide KYC validations of person entities."""

    @endpoint("POST", "/api/kyc/validations", operation="kyc.create", doc=45)
    async def create(
        self,
        *,
        entity_id: str,
        integration_code: str = DEFAULT_KYC_INTEGRATION,
        double_check_renaper: bool | None = None,
        workflow_id: str | None = None,
        webhook_url: str | None = None,
        metadata: Body | None = None,
        extra_body: Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> KycValidation:
        """Start a validation session for a person; hand `provider_session_url` to them.

        `workflow_id`, `webhook_url` and `metadata` come from older docs pages.
        """
        body = compact(
            {
                "entityId": entity_id,
                "integrationCode": integration_code,
                "doubleCheckRenaper": double_check_renaper,
                "workflowId": workflow_id,
                "webhookUrl": webhook_url,
                "metadata": metadata,
            },
            extra_body,
        )
        return _validation(await self._request("kyc.create", json=body, **options))

    @endpoint("GET", "/api/kyc/validations/{validation_id}", operation="kyc.get", doc=46)
    async def get(self, validation_id: str, **options: Unpack[RequestOptions]) -> KycValidation:
        """A validation's status, decision and hosted URL."""
        data = await self._request("kyc.get", {"validation_id": validation_id}, **options)
        return _validation(data)

    @endpoint(
        "GET",
        "/api/kyc/entities/{entity_id}/validations",
        operation="kyc.list_for_entity",
        doc=47,
        paginated="page+limit",
    )
    def list_for_entity(
        self,
        entity_id: str,
        *,
        status: KycStatus | None = None,
        extra_params: Body | None = None,
        **options: Unpack[PageOptions],
    ) -> AsyncPaginator[KycValidation]:
        """Iterate an entity's validation history, newest first (page size up to 100).

        The current/historical filter's parameter name is not documented: pass it
        through `extra_params` once known.
        """
        return self._paginate(
            "kyc.list_for_entity",
            KycValidation,
            "validations",
            {"entity_id": entity_id},
            params=query({"status": status}, extra_params),
            max_page_size=100,
            **options,
        )

    @endpoint("GET", "/api/kyc/entities/{entity_id}/current", operation="kyc.get_current", doc=48)
    async def get_current(self, entity_id: str, **options: Unpack[RequestOptions]) -> KycValidation:
        """The entity's current validation (NotFoundError if it has none)."""
        data = await self._request("kyc.get_current", {"entity_id": entity_id}, **options)
        return _validation(data)

    @endpoint(
        "DELETE",
        "/api/kyc/validations/{validation_id}/cancel",
        operation="kyc.cancel",
        doc=49,
        note="DELETE with a JSON body {reason}.",
    )
    async def cancel(
        self, validation_id: str, *, reason: str, **options: Unpack[RequestOptions]
    ) -> KycValidation:
        """Cancel a pending / in-progress / in-review validation (reason: 5+ chars)."""
        return await self._decide("kyc.cancel", validation_id, reason, options)

    @endpoint(
        "POST", "/api/kyc/validations/{validation_id}/approve", operation="kyc.approve", doc=50
    )
    async def approve(
        self, validation_id: str, *, reason: str, **options: Unpack[RequestOptions]
    ) -> KycValidation:
        """Approve a validation in review (reason: 5+ chars)."""
        return await self._decide("kyc.approve", validation_id, reason, options)

    @endpoint("POST", "/api/kyc/validations/{validation_id}/reject", operation="kyc.reject", doc=51)
    async def reject(
        self, validation_id: str, *, reason: str, **options: Unpack[RequestOptions]
    ) -> KycValidation:
        """Reject a validation in review (reason: 5+ chars)."""
        return await self._decide("kyc.reject", validation_id, reason, options)

    async def _decide(
        self, operation: str, validation_id: str, reason: str, options: RequestOptions
    ) -> KycValidation:
        """Cancel, approve or reject (`operation`) with its `{reason}` body."""
        path = {"validation_id": validation_id}
        data = await self._request(operation, path, json={"reason": reason}, **options)
        return _validation(data)
