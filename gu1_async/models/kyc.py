"""KYC identity validations (document + selfie sessions)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from gu1_async.models._base import Gu1Model, personal

__all__ = ["KycStatus", "KycValidation"]

KycStatus = (
    Literal[
        "pending",
        "in_progress",
        "in_review",
        "approved",
        "rejected",
        "expired",
        "abandoned",
        "cancelled",
    ]
    | str
)


@attrs.frozen(kw_only=True, repr=False)
class KycValidation(Gu1Model):
    """One KYC validation session; hand `provider_session_url` to the person."""

    id: str | None = None
    entity_id: str | None = None
    organization_id: str | None = None
    session_id: str | None = None
    validation_session_id: str | None = None
    status: KycStatus | None = None
    provider: str | None = None
    provider_session_url: str | None = personal()
    is_current: bool | None = None
    decision: Mapping[str, Any] | None = None
    documents_verified: tuple[Any, ...] | None = personal()
    biometric_result: Any = personal()
    risk_assessment: Any = None
    verified_fields: tuple[Any, ...] | None = personal()
    extracted_data: Mapping[str, Any] | None = personal()
    warnings: tuple[Any, ...] | None = None
    expires_at: _dt.datetime | None = None
    verified_at: _dt.datetime | None = None
    metadata: Mapping[str, Any] | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None

    @property
    def is_final(self) -> bool:
        """True once the validation can no longer change status."""
        return self.status in {"approved", "rejected", "expired", "abandoned", "cancelled"}
