"""`client.risk_matrices`: risk matrices (gu1-api.md §2.7)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from gu1_async._serde import structure, unwrap, unwrap_list
from gu1_async.models import RiskMatrix, RiskMatrixCreateResult
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources._intelligence_params import RiskMatrixCreateParams, RiskMatrixUpdateParams

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import RequestOptions

__all__ = ["RiskMatrices"]


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
    async def create(self, **params: Unpack[RiskMatrixCreateParams]) -> RiskMatrixCreateResult:
        """Create a risk matrix (`RiskMatrixUpdateParams` describes the fields)."""
        data = await self._send("risk_matrices.create", RiskMatrixCreateParams, params)
        return RiskMatrixCreateResult.from_api(data)

    @endpoint("PUT", "/risk-matrices/{matrix_id}", operation="risk_matrices.update", doc=63)
    async def update(self, matrix_id: str, **params: Unpack[RiskMatrixUpdateParams]) -> RiskMatrix:
        """Update a risk matrix (all fields optional); returns its new state."""
        data = await self._send(
            "risk_matrices.update", RiskMatrixUpdateParams, params, {"matrix_id": matrix_id}
        )
        return RiskMatrix.from_api(unwrap(data, "riskMatrix"))
