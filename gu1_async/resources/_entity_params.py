"""The keyword specs of `client.entities`, each method's keywords declared once (`_params.py`)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Literal, TypedDict

from gu1_async._serde import ClearType
from gu1_async._types import RequestOptions
from gu1_async.models import EntityStatus, EntityType
from gu1_async.resources._params import Body

__all__ = [
    "AttributesUpdateParams",
    "EntityAnalyzeParams",
    "EntityAutomaticParams",
    "EntityCreateParams",
    "EntityListParams",
    "EntityRefreshParams",
    "EntityUpdateParams",
    "EntityUpsertParams",
    "ExternalIdChangeParams",
    "IntegrationRun",
]


class IntegrationRun(RequestOptions, total=False):
    """Which integrations run on a new or refreshed entity, and how deep among its
    shareholders (the automatic create, the refresh and the bulk entity imports)."""

    depth: int | None
    auto_execute_integrations: Body | None
    auto_execute_integrations_shareholders: Body | None


class _Enrichment(IntegrationRun, total=False):
    """What the automatic create and refresh share: the integration run, as JSON."""

    extra_body: Body | None


class _CreateRequired(TypedDict):
    type: EntityType
    name: str
    country_code: str


class EntityCreateParams(_CreateRequired, RequestOptions, total=False):
    """`entities.create`: `type`, `name` and `country_code` are required."""

    external_id: str | None
    tax_id: str | None
    email: str | None
    phone: str | None
    nationality: str | None
    registration_date: _dt.datetime | int | str | None
    operational_hours: Body | None
    attributes: Body | None
    risk_factors: Body | None
    entity_data: Body | None
    is_client: bool | None
    risk_matrix_id: str | Sequence[str] | None
    risk_matrix_ids: Sequence[str] | None
    skip_rules_execution: bool | None
    shareholder_depth: int | None
    status: EntityStatus | None
    auto_execute_integrations: Body | None
    monitoring: Body | None
    extra_body: Body | None


class _AutomaticRequired(TypedDict):
    tax_id: str
    country: str
    type: EntityType


class EntityAutomaticParams(_AutomaticRequired, _Enrichment, total=False):
    """`entities.create_automatic`: `tax_id`, `country` and `type` are required."""

    external_id: str | None
    nationality: str | None
    is_client: bool | None
    risk_matrix_id: str | Sequence[str] | None
    risk_matrix_ids: Sequence[str] | None
    skip_rules_execution: bool | None
    status: EntityStatus | None
    operational_hours: Body | None
    custom_data: Body | None
    attributes: Body | None
    monitoring: Body | None


class EntityListParams(RequestOptions, total=False):
    """`entities.list`: the filters (query parameters); `extra_params` adds more."""

    type: EntityType | None
    country: str | None
    tax_id: str | None
    external_id: str | None
    extra_params: Body | None


class EntityUpdateParams(RequestOptions, total=False):
    """`entities.update` and `entities.update_by_external_id`: a partial update.

    `email`, `phone` and `nationality` accept `CLEAR` (send null). `reason` is required
    by gu1 when setting status blocked, suspended or rejected.
    """

    name: str | None
    tax_id: str | None
    country_code: str | None
    email: str | ClearType | None
    phone: str | ClearType | None
    nationality: str | ClearType | None
    attributes: Body | None
    entity_data: Body | None
    status: EntityStatus | None
    reason: str | None
    risk_matrix_id: str | Sequence[str] | None
    metadata: Body | None
    extra_body: Body | None


class _AttributesRequired(TypedDict):
    attributes: Body


class AttributesUpdateParams(_AttributesRequired, RequestOptions, total=False):
    """`entities.update_attributes`: `merge` (gu1's default, shallow) or `replace`."""

    mode: Literal["merge", "replace"] | str | None
    skip_rules_execution: bool | None
    extra_body: Body | None


class _UpsertRequired(TypedDict):
    entity: Body


class EntityUpsertParams(_UpsertRequired, RequestOptions, total=False):
    """`entities.upsert`: `entity` in gu1's camelCase create shape, plus the options.

    `conflict_resolution`: `source_wins`, `target_wins`, `manual_review` or
    `smart_merge` (gu1's default). `deduplication_strategy`: `exact_match`,
    `fuzzy_match`, `ai_similarity` or `hybrid`. `create_relationships`: gu1 defaults
    to true.
    """

    conflict_resolution: str | None
    deduplication_strategy: str | None
    create_relationships: bool | None
    extra_body: Body | None


class _ExternalIdRequired(TypedDict):
    new_external_id: str
    reason: str


class ExternalIdChangeParams(_ExternalIdRequired, RequestOptions, total=False):
    """`entities.change_external_id`: exactly one of the three lookups finds the entity."""

    entity_id: str | None
    external_id: str | None
    tax_id: str | None
    extra_body: Body | None


class _AnalyzeRequired(TypedDict):
    entity_type: Literal["person", "company", "transaction"] | str


class EntityAnalyzeParams(_AnalyzeRequired, RequestOptions, total=False):
    """`entities.analyze`: `entity_type` is required."""

    enrich_if_needed: bool | None
    provider_codes: Sequence[str] | None
    rules_engine_config: Body | None
    extra_body: Body | None


class EntityRefreshParams(_Enrichment, total=False):
    """`entities.refresh`: every key optional."""

    force_refresh: bool | None
    skip_rules_engine: bool | None
    refresh_scope: Literal["basic_data", "all_active", "selected"] | str | None
    provider_codes: Sequence[str] | None
    preserve_name: bool | None
    preserve_entity_data: bool | None
