"""`client.alerts`: alerts raised by the rules engine (gu1-api.md §2.8)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gu1_async._serde import compact, query, structure, unwrap_list
from gu1_async.models import Alert, AlertActionResult, AlertStatus, Severity
from gu1_async.resources._base import Resource, endpoint

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import RequestOptions

__all__ = ["Alerts"]


class Alerts(Resource):
    """List, acknowledge and resolve alerts."""

    @endpoint(
        "GET",
        "/intelligence/alerts",
        operation="alerts.list",
        doc=64,
        note="Not paginated; the playground marks entityId required.",
    )
    async def list(
        self,
        *,
        entity_id: str | None = None,
        status: AlertStatus | None = None,
        severity: Severity | None = None,
        category: str | None = None,
        extra_params: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> builtins.list[Alert]:
        """Alerts matching the filters (of one entity, or org-wide where gu1 allows it)."""
        params = query(
            {"entityId": entity_id, "status": status, "severity": severity, "category": category},
            extra_params,
        )
        data = await self._request("alerts.list", params=params, **options)
        return structure(unwrap_list(data, "alerts"), builtins.list[Alert])

    @endpoint(
        "POST",
        "/intelligence/alerts/{alert_id}/acknowledge",
        operation="alerts.acknowledge",
        doc=65,
    )
    async def acknowledge(
        self, alert_id: str, **options: Unpack[RequestOptions]
    ) -> AlertActionResult:
        """Mark an alert ACKNOWLEDGED (BadRequestError if it already is)."""
        data = await self._request("alerts.acknowledge", {"alert_id": alert_id}, **options)
        return AlertActionResult.from_api(data)

    @endpoint("POST", "/intelligence/alerts/{alert_id}/resolve", operation="alerts.resolve", doc=66)
    async def resolve(
        self,
        alert_id: str,
        *,
        resolution_notes: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AlertActionResult:
        """Mark an alert RESOLVED, optionally with notes."""
        body = compact({"resolutionNotes": resolution_notes})
        data = await self._request("alerts.resolve", {"alert_id": alert_id}, json=body, **options)
        return AlertActionResult.from_api(data)
