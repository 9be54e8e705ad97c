"""`client.investigations`: investigations grouping alerts (gu1-api.md §2.8)."""

from __future__ import annotations

import builtins
import datetime as _dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from gu1_async._serde import compact, query, structure, unwrap_list
from gu1_async.models import (
    Investigation,
    InvestigationAlerts,
    InvestigationAssignment,
    InvestigationStatus,
    InvestigationStatusResult,
    Severity,
)
from gu1_async.resources._base import Resource, endpoint

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import RequestOptions

__all__ = ["Investigations"]


class Investigations(Resource):
    """List investigations, read their alerts, assign them and move their status."""

    @endpoint(
        "GET",
        "/intelligence/investigations",
        operation="investigations.list",
        doc=67,
        note="Not paginated.",
    )
    async def list(
        self,
        *,
        entity_id: str,
        status: InvestigationStatus | None = None,
        investigation_priority: Severity | None = None,
        extra_params: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> builtins.list[Investigation]:
        """The investigations of one entity.

        `investigation_priority` filters on gu1's `priority` (`priority=` is the request
        option of the rate-limit governor).
        """
        params = query(
            {"entityId": entity_id, "status": status, "priority": investigation_priority},
            extra_params,
        )
        data = await self._request("investigations.list", params=params, **options)
        return structure(unwrap_list(data, "investigations"), builtins.list[Investigation])

    @endpoint(
        "GET",
        "/intelligence/investigations/{investigation_id}/alerts",
        operation="investigations.alerts",
        doc=68,
    )
    async def alerts(
        self,
        investigation_id: str,
        *,
        category: str | None = None,
        sort_by: Literal["createdAt", "severity", "riskContribution"] | str | None = None,
        **options: Unpack[RequestOptions],
    ) -> InvestigationAlerts:
        """The alerts consolidated into an investigation, with a summary."""
        data = await self._request(
            "investigations.alerts",
            {"investigation_id": investigation_id},
            params=query({"category": category, "sortBy": sort_by}),
            **options,
        )
        return InvestigationAlerts.from_api(data)

    @endpoint(
        "PUT",
        "/intelligence/investigations/{investigation_id}/assign",
        operation="investigations.assign",
        doc=69,
    )
    async def assign(
        self,
        investigation_id: str,
        *,
        assigned_to: str,
        assigned_to_type: Literal["user", "team", "role"] | str | None = None,
        investigation_priority: Severity | None = None,
        due_date: _dt.datetime | str | None = None,
        reason: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> InvestigationAssignment:
        """Assign an investigation to a user, team or role.

        `investigation_priority` is sent as gu1's `priority` field.
        """
        body = compact(
            {
                "assignedTo": assigned_to,
                "assignedToType": assigned_to_type,
                "priority": investigation_priority,
                "dueDate": due_date,
                "reason": reason,
            },
            extra_body,
        )
        data = await self._request(
            "investigations.assign", {"investigation_id": investigation_id}, json=body, **options
        )
        return InvestigationAssignment.from_api(data)

    @endpoint(
        "PATCH",
        "/intelligence/investigations/{investigation_id}/status",
        operation="investigations.update_status",
        doc=70,
    )
    async def update_status(
        self,
        investigation_id: str,
        *,
        status: InvestigationStatus,
        closure_reason: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> InvestigationStatusResult:
        """Move an investigation's status (`closure_reason` is required for CLOSED)."""
        body = compact({"status": status, "closureReason": closure_reason})
        data = await self._request(
            "investigations.update_status",
            {"investigation_id": investigation_id},
            json=body,
            **options,
        )
        return InvestigationStatusResult.from_api(data)
