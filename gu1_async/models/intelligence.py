"""Alerts and investigations (`/intelligence`)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from gu1_async.models._base import Gu1Model

__all__ = [
    "Alert",
    "AlertActionResult",
    "AlertStatus",
    "Investigation",
    "InvestigationAlerts",
    "InvestigationAssignment",
    "InvestigationStatus",
    "InvestigationStatusResult",
    "Severity",
]

Severity = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"] | str
AlertStatus = Literal["PENDING", "ACKNOWLEDGED", "RESOLVED"] | str
InvestigationStatus = Literal["OPEN", "IN_PROGRESS", "PENDING_REVIEW", "CLOSED"] | str


@attrs.frozen(kw_only=True, repr=False)
class Alert(Gu1Model):
    """An alert raised by the rules engine."""

    id: str | None = None
    name: str | None = None
    category: str | None = None
    severity: Severity | None = None
    status: AlertStatus | None = None
    risk_contribution: float | None = None
    mini_analysis: Any = None
    investigation_id: str | None = None
    target_entity_id: str | None = None
    trigger_condition: Mapping[str, Any] | None = None
    source_system: str | None = None
    consolidated_at: _dt.datetime | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class AlertActionResult(Gu1Model):
    """Acknowledge/resolve: the alert's new status."""

    success: bool | None = None
    alert_id: str | None = None
    status: AlertStatus | None = None
    message: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class Investigation(Gu1Model):
    """An investigation grouping alerts about an entity."""

    id: str | None = None
    name: str | None = None
    investigation_number: str | None = None
    status: InvestigationStatus | None = None
    priority: Severity | None = None
    risk_score: float | None = None
    alert_count: int | None = None
    created_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class InvestigationAlerts(Gu1Model):
    """`GET /intelligence/investigations/{id}/alerts`."""

    investigation: Investigation | None = None
    alerts: tuple[Alert, ...] | None = None
    summary: Mapping[str, Any] | None = None


@attrs.frozen(kw_only=True, repr=False)
class InvestigationAssignment(Gu1Model):
    """`PUT /intelligence/investigations/{id}/assign`."""

    assignment_id: str | None = None
    assigned_to: str | None = None
    assigned_to_type: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class InvestigationStatusResult(Gu1Model):
    """`PATCH /intelligence/investigations/{id}/status`."""

    success: bool | None = None
    investigation_id: str | None = None
    status: InvestigationStatus | None = None
    message: str | None = None
