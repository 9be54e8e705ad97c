"""Entities (persons and companies) and the results of entity operations."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from gu1_async.models._base import Gu1Model, RulesExecutionSummary, personal

__all__ = [
    "AttributesUpdateResult",
    "AutomaticEntityResult",
    "Entity",
    "EntityCreateResult",
    "EntityEvaluation",
    "EntityStatus",
    "EntityType",
    "EntityUpdateResult",
    "ExternalIdChangeResult",
    "RiskAnalysis",
    "RiskAnalysisResult",
    "RiskFactor",
    "UpsertResult",
]

# Open string types: the listed values are the documented ones; any other string passes.
EntityType = Literal["person", "company"] | str
EntityStatus = (
    Literal[
        "active",
        "inactive",
        "blocked",
        "under_review",
        "suspended",
        "expired",
        "deleted",
        "rejected",
    ]
    | str
)


@attrs.frozen(kw_only=True, repr=False)
class RiskFactor(Gu1Model):
    """One contribution to an entity's risk score."""

    factor: str | None = None
    impact: float | None = None
    description: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class EntityEvaluation(Gu1Model):
    """An evaluation of an entity (current evaluation, or the one an update queued)."""

    id: str | None = None
    entity_id: str | None = None
    evaluation_type: str | None = None
    result: Any = None
    decision: str | None = None
    confidence: float | None = None
    reasons: tuple[Any, ...] | None = None
    evaluated_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class Entity(Gu1Model):
    """A person or company known to gu1."""

    id: str | None = None
    external_id: str | None = None
    organization_id: str | None = None
    type: EntityType | None = None
    name: str | None = personal()
    tax_id: str | None = personal()
    country_code: str | None = None
    nationality: str | None = None
    email: str | None = personal()
    phone: str | None = personal()
    risk_score: float | None = None
    risk_factors: tuple[RiskFactor, ...] | None = None
    status: EntityStatus | None = None
    is_client: bool | None = None
    kyc_verified: bool | None = None
    kyc_provider: str | None = None
    kyc_data: Mapping[str, Any] | None = personal()
    entity_data: Mapping[str, Any] | None = personal()
    attributes: Mapping[str, Any] | None = None
    current_evaluation: EntityEvaluation | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None
    deleted_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class EntityCreateResult(Gu1Model):
    """`POST /entities`: the new entity and, when rules ran, their outcome."""

    success: bool | None = None
    entity: Entity | None = None
    rules_result: Mapping[str, Any] | None = None
    rules_execution_summary: RulesExecutionSummary | None = None


@attrs.frozen(kw_only=True, repr=False)
class AutomaticEntityResult(Gu1Model):
    """`POST /entities/automatic`: the entity gu1 built from registry data (`data`)."""

    success: bool | None = None
    data: Entity | None = None
    rules_result: Mapping[str, Any] | None = None
    rules_execution_summary: RulesExecutionSummary | None = None

    @property
    def entity(self) -> Entity | None:
        """The created entity (gu1 returns it under `data` on this route)."""
        return self.data


@attrs.frozen(kw_only=True, repr=False)
class EntityUpdateResult(Gu1Model):
    """`PATCH /entities/...`: the new state, the queued evaluation and the previous state."""

    entity: Entity | None = None
    evaluation: EntityEvaluation | None = None
    previous_entity: Entity | None = None


@attrs.frozen(kw_only=True, repr=False)
class AttributesUpdateResult(Gu1Model):
    """`PATCH /entities/{id}/attributes`: the resulting attribute map."""

    entity_id: str | None = None
    mode: str | None = None
    attributes: Mapping[str, Any] | None = None


@attrs.frozen(kw_only=True, repr=False)
class UpsertResult(Gu1Model):
    """`PUT /entities/upsert`: what happened (`created` or `updated`) and why."""

    success: bool | None = None
    action: Literal["created", "updated"] | str | None = None
    entity: Entity | None = None
    previous_entity: Entity | None = None
    confidence: float | None = None
    reasoning: Any = None
    conflicts: tuple[Any, ...] | None = None


@attrs.frozen(kw_only=True, repr=False)
class ExternalIdChangeResult(Gu1Model):
    """`POST /entities/change-external-id`: whether it changed, and the entity after."""

    success: bool | None = None
    changed: bool | None = None
    entity: Entity | None = None


@attrs.frozen(kw_only=True, repr=False)
class RiskAnalysis(Gu1Model):
    """The audit record of one manual risk analysis."""

    id: str | None = None
    entity_id: str | None = None
    entity_type: str | None = None
    overall_risk_score: float | None = None
    risk_level: str | None = None
    confidence: float | None = None
    rules_triggered: int | None = None
    rules_executed: int | None = None
    execution_time_ms: float | None = None
    risk_factors: tuple[Any, ...] | None = None
    recommendations: tuple[Any, ...] | None = None
    analyzed_at: _dt.datetime | None = None
    triggered_by: str | None = None
    metadata: Mapping[str, Any] | None = None


@attrs.frozen(kw_only=True, repr=False)
class RiskAnalysisResult(Gu1Model):
    """`POST /entities/{entityId}/analyze`: the analysis and the rules outcome."""

    success: bool | None = None
    data: RiskAnalysis | None = None
    rules_result: Mapping[str, Any] | None = None
    rules_execution_summary: RulesExecutionSummary | None = None
