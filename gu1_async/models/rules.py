"""Rules and risk matrices."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from gu1_async.models._base import Gu1Model

__all__ = [
    "RiskMatrix",
    "RiskMatrixCreateResult",
    "Rule",
    "RuleCategory",
    "RuleExecutionResult",
    "RuleStatus",
]

RuleCategory = Literal["kyc", "kyb", "aml", "fraud", "compliance", "custom"] | str
RuleStatus = (
    Literal["draft", "active", "shadow", "archived", "inactive", "in_progress", "in_review"] | str
)


@attrs.frozen(kw_only=True, repr=False)
class Rule(Gu1Model):
    """A rule of the rules engine."""

    id: str | None = None
    organization_id: str | None = None
    name: str | None = None
    description: str | None = None
    category: RuleCategory | None = None
    status: RuleStatus | None = None
    enabled: bool | None = None
    priority: int | None = None
    score: float | None = None
    conditions: Mapping[str, Any] | None = None
    condition_code: str | None = None
    actions: tuple[Any, ...] | None = None
    scope: Mapping[str, Any] | None = None
    target_entity_types: tuple[str, ...] | None = None
    evaluation_mode: str | None = None
    risk_matrix_id: str | None = None
    version: int | None = None
    previous_version_id: str | None = None
    tags: tuple[str, ...] | None = None
    stats: Mapping[str, Any] | None = None
    created_by: str | None = None
    created_at: _dt.datetime | None = None
    updated_by: str | None = None
    updated_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class RuleExecutionResult(Gu1Model):
    """`POST /rules/{ruleId}/execute`: whether the rule matched the entity."""

    matched: bool | None = None
    score: float | None = None
    execution_time: float | None = None
    conditions: Any = None
    actions: tuple[Any, ...] | None = None
    debug: Any = None


@attrs.frozen(kw_only=True, repr=False)
class RiskMatrix(Gu1Model):
    """A risk matrix: a scored group of rules with triggers."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    category: str | None = None
    status: str | None = None
    version: int | None = None
    scoring_config: Mapping[str, Any] | None = None
    triggers: tuple[Any, ...] | None = None
    tags: tuple[str, ...] | None = None
    rule_count: int | None = None
    active_rule_count: int | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class RiskMatrixCreateResult(Gu1Model):
    """`POST /risk-matrices`: the new matrix and whether gu1 used its default strategy."""

    risk_matrix: RiskMatrix | None = None
    using_default_strategy: bool | None = None
