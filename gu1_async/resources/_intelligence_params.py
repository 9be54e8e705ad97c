"""The keyword specs of `client.enrichment` and `client.risk_matrices` (see `_params.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from gu1_async._types import RequestOptions
from gu1_async.resources._params import Body

__all__ = [
    "EnrichByExternalIdParams",
    "EnrichParams",
    "RiskMatrixCreateParams",
    "RiskMatrixUpdateParams",
]


class _EnrichFields(RequestOptions, total=False):
    integration_codes: Sequence[str] | None
    enrichment_group_refs: Sequence[str] | None
    parameters: Body | None
    extra_body: Body | None


class _EntityIdRequired(TypedDict):
    entity_id: str


class EnrichParams(_EntityIdRequired, _EnrichFields, total=False):
    """`enrichment.enrich`: the entity by gu1 id; integration codes and/or group refs."""


class _ExternalIdRequired(TypedDict):
    external_id: str


class EnrichByExternalIdParams(_ExternalIdRequired, _EnrichFields, total=False):
    """`enrichment.enrich_by_external_id`: the entity by your external id."""


class _MatrixFields(RequestOptions, total=False):
    description: str | None
    category: str | None
    status: str | None
    scoring_config: Body | None
    triggers: Sequence[Body] | None
    tags: Sequence[str] | None
    extra_body: Body | None


class _MatrixRequired(TypedDict):
    name: str


class RiskMatrixCreateParams(_MatrixRequired, _MatrixFields, total=False):
    """`risk_matrices.create`: `name` is required; see `RiskMatrixUpdateParams` for the rest."""


class RiskMatrixUpdateParams(_MatrixFields, total=False):
    """`risk_matrices.update`: every field optional.

    `category`: aml, kyc, fraud, sanctions, transaction_monitoring, customer_risk,
    regulatory or custom. `status`: draft, active, shadow or inactive.
    `scoring_config`: `{minScore, maxScore, thresholds{low, medium, high}}`.
    `triggers`: `[{name, description, condition{field, operator, value}, action,
    priority}]`. `tags`: labels.
    """

    name: str | None
