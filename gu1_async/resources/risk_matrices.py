"""`client.risk_matrices`: risk matrices (gu1-api.md §2.7)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gu1_async._serde import compact, structure, unwrap, unwrap_list
from gu1_async.models import RiskMatrix, RiskMatrixCreateResult
from gu1_async.resources._base import Resource, endpoint

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import RequestOptions

__all__ = ["RiskMatrices"]

_Body = Mapping[str, Any]


def _matrix_body(
    *,
    name: str | None,
    description: str | None,
    category: str | None,
    status: str | None,
    scoring_config: _Body | None,
    triggers: Sequence[_Body] | None,
    tags: Sequence[str] | None,
    extra_body: _Body | None,
) -> Any:
    return compact(
        {
            "name": name,
            "description": description,
            "category": category,
            "status": status,
            "scoringConfig": scoring_config,
            "triggers": triggers,
            "tags": tags,
        },
        extra_body,
    )


class RiskMatrices(Resource):
    """List, create and update risk matrices (run one with `entities.analyze`)."""

    @endpoint(
        "GET",
        "/risk-matrices",
        operation="risk_matrices.list",
        doc=61,
        note="Not paginated.",
    )
    async def list(self, **options: Unpack[RequestOptions]) -> builtins.list[RiskMatrix]:
        """All risk matrices of the organization."""
        data = await self._request("risk_matrices.list", **options)
        return structure(unwrap_list(data, "riskMatrices"), builtins.list[RiskMatrix])

    @endpoint("POST", "/risk-matrices", operation="risk_matrices.create", doc=62)
    async def create(
        self,
        *,
        name: str,
        description: str | None = None,
        category: str | None = None,
        status: str | None = None,
        scoring_config: _Body | None = None,
        triggers: Sequence[_Body] | None = None,
        tags: Sequence[str] | None = None,
        extra_body: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> RiskMatrixCreateResult:
        """Create a risk matrix.

        Args:
            name: display name.
            description: free text.
            category: aml, kyc, fraud, sanctions, transaction_monitoring, customer_risk,
                regulatory or custom.
            status: draft, active, shadow or inactive.
            scoring_config: `{minScore, maxScore, thresholds{low, medium, high}}`.
            triggers: `[{name, description, condition{field, operator, value}, action,
                priority}]`.
            tags: labels.
            extra_body: extra top-level body fields.
            **options: per-call request options.
        """
        body = _matrix_body(
            name=name,
            description=description,
            category=category,
            status=status,
            scoring_config=scoring_config,
            triggers=triggers,
            tags=tags,
            extra_body=extra_body,
        )
        data = await self._request("risk_matrices.create", json=body, **options)
        return RiskMatrixCreateResult.from_api(data)

    @endpoint("PUT", "/risk-matrices/{matrix_id}", operation="risk_matrices.update", doc=63)
    async def update(
        self,
        matrix_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        category: str | None = None,
        status: str | None = None,
        scoring_config: _Body | None = None,
        triggers: Sequence[_Body] | None = None,
        tags: Sequence[str] | None = None,
        extra_body: _Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> RiskMatrix:
        """Update a risk matrix (all fields optional); returns its new state."""
        body = _matrix_body(
            name=name,
            description=description,
            category=category,
            status=status,
            scoring_config=scoring_config,
            triggers=triggers,
            tags=tags,
            extra_body=extra_body,
        )
        data = await self._request(
            "risk_matrices.update", {"matrix_id": matrix_id}, json=body, **options
        )
        return RiskMatrix.from_api(unwrap(data, "riskMatrix"))
