"""Marketplace enrichments, with or without a stored entity."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import attrs

from gu1_async.models._base import Gu1Model, RulesExecutionSummary

__all__ = [
    "EnrichmentOutcome",
    "EnrichmentResult",
    "HeadlessExecution",
    "HeadlessResult",
]


@attrs.frozen(kw_only=True, repr=False)
class EnrichmentOutcome(Gu1Model):
    """The result of one integration in an enrichment run."""

    success: bool | None = None
    enrichment_id: str | None = None
    integration_code: str | None = None
    integration_name: str | None = None
    result: Mapping[str, Any] | None = None
    execution_time: float | None = None
    cost_cents: float | None = None
    error: Any = None


@attrs.frozen(kw_only=True, repr=False)
class EnrichmentResult(Gu1Model):
    """An enrichment run on a stored entity."""

    success: bool | None = None
    entity_id: str | None = None
    external_id: str | None = None
    results: tuple[EnrichmentOutcome, ...] | None = None
    total_cost_cents: float | None = None
    total_execution_time: float | None = None
    rules_result: Mapping[str, Any] | None = None
    rules_execution_summary: RulesExecutionSummary | None = None


@attrs.frozen(kw_only=True, repr=False)
class HeadlessResult(Gu1Model):
    """A "headless" enrichment: one integration run on a tax ID/name, nothing persisted."""

    success: bool | None = None
    cached: bool | None = None
    integration_code: str | None = None
    country: str | None = None
    type: str | None = None
    enrichment_success: bool | None = None
    result: Any = None
    errors: tuple[Any, ...] | None = None
    total_cost_cents: float | None = None
    execution_time_ms: float | None = None
    probe_entity_id: str | None = None
    billing: Any = None


@attrs.frozen(kw_only=True, repr=False)
class HeadlessExecution(Gu1Model):
    """One entry of the headless-execution audit list (fields mostly in `extra`)."""

    id: str | None = None
    integration_code: str | None = None
    status: str | None = None
    entity_type: str | None = None
    country: str | None = None
    created_at: _dt.datetime | None = None
