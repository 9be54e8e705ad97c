"""The fake's transactions (gu1-api.md §2.3): stored per organization, no HTTP here."""

from __future__ import annotations

from typing import Any, get_args

from ..models import TransactionType
from ._common import ApiError, bad_request, iso, new_id, require_str

__all__ = ["SYNC_BATCH_LIMIT", "TYPES", "TransactionStore"]

# The types gu1 documents: the SDK's own `TransactionType` literal (one list, not two).
TYPES = frozenset(get_args(get_args(TransactionType)[0]))
SYNC_BATCH_LIMIT = 100
"""Batches up to this size answer 200 at once; larger ones answer 202 with a job (gu1 holds
the connection up to 30 s first; the fake decides by size so tests need not wait)."""


class TransactionStore:
    """Transactions by id, one organization's never visible to another."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}

    def find_external(self, org: str, external_id: str) -> dict[str, Any] | None:
        """The transaction with this externalId in `org`, if any."""
        return next(
            (
                t
                for t in self.by_id.values()
                if t["organizationId"] == org and t["externalId"] == external_id
            ),
            None,
        )

    def create(self, org: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        """Validate a create body (400) and store it in gu1's read shape (409 on a duplicate)."""
        external_id = require_str(body, "externalId")
        if body.get("type") not in TYPES:
            bad_request("type is required and must be one of: " + ", ".join(sorted(TYPES)))
        amount = body.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
            bad_request("amount is required and must be a number >= 0")
        currency = require_str(body, "currency", min_len=3)
        if len(currency) > 4:
            bad_request("currency must be 3-4 characters")
        if self.find_external(org, external_id):
            raise ApiError(
                409, "DUPLICATE_EXTERNAL_ID", "A transaction with this externalId exists"
            )
        stamp = iso(now)

        def party(side: str) -> dict[str, Any]:
            return {
                "entityId": body.get(f"{side}EntityId"),
                "externalId": body.get(f"{side}ExternalId"),
                "name": body.get(f"{side}Name"),
                "country": body.get(f"{side}Country"),
                "type": None,
                "taxId": None,
                **(body.get(f"{side}Details") or {}),
            }

        transaction = {
            "id": new_id(),
            "externalId": external_id,
            "organizationId": org,
            "type": body["type"],
            "status": body.get("status", "CREATED"),
            "amount": amount,
            "currency": currency.upper(),
            # The fake does no FX: only USD amounts have an amountInUsd.
            "amountInUsd": amount if currency.upper() == "USD" else None,
            "currenciesExchange": [],
            "paymentMethod": body.get("paymentMethod"),
            "description": body.get("description"),
            "category": body.get("category"),
            "channel": body.get("channel"),
            "origin": party("origin"),
            "destination": party("destination"),
            "metadata": body.get("metadata") or {},
            "transactedAt": body.get("transactedAt") or stamp,
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        self.by_id[transaction["id"]] = transaction
        return transaction
