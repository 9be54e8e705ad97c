"""Transactions (KYT) and the results of creating them."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from gu1_async.models._base import Gu1Model, RulesExecutionSummary, personal

__all__ = [
    "CurrencyExchange",
    "PaymentMethod",
    "Transaction",
    "TransactionBatchResult",
    "TransactionCreateResult",
    "TransactionDetail",
    "TransactionParty",
    "TransactionStatus",
    "TransactionType",
]

TransactionType = (
    Literal[
        "PAYMENT",
        "TRANSFER",
        "WITHDRAWAL",
        "DEPOSIT",
        "REFUND",
        "CHARGEBACK",
        "REVERSAL",
        "FEE",
        "ADJUSTMENT",
        "OTHER",
    ]
    | str
)
TransactionStatus = (
    Literal[
        "CREATED",
        "PROCESSING",
        "SUSPENDED",
        "SENT",
        "EXPIRED",
        "DECLINED",
        "REFUNDED",
        "SUCCESSFUL",
    ]
    | str
)
PaymentMethod = (
    Literal[
        "CARD",
        "ACH",
        "PIX",
        "TED",
        "BOLETO",
        "WALLET",
        "SWIFT",
        "IBAN",
        "CBU",
        "CVU",
        "DEBIN",
        "GENERIC_BANK_ACCOUNT",
        "MPESA",
        "UPI",
        "CHECK",
        "ECHECK",
        "QR_CODE",
        "ONLINE_PAYMENT",
        "WITHDRAWAL_ORDER",
    ]
    | str
)


@attrs.frozen(kw_only=True, repr=False)
class TransactionParty(Gu1Model):
    """The origin or destination of a transaction, as the read endpoints nest it."""

    entity_id: str | None = None
    external_id: str | None = None
    name: str | None = personal()
    country: str | None = None
    type: str | None = None
    tax_id: str | None = personal()


@attrs.frozen(kw_only=True, repr=False)
class CurrencyExchange(Gu1Model):
    """One currency conversion gu1 applied to the amount."""

    currency: str | None = None
    exchange_rate: float | None = None
    value: float | None = None


@attrs.frozen(kw_only=True, repr=False)
class Transaction(Gu1Model):
    """A monitored transaction."""

    id: str | None = None
    external_id: str | None = None
    organization_id: str | None = None
    type: TransactionType | None = None
    status: TransactionStatus | None = None
    amount: float | None = None
    currency: str | None = None
    amount_in_usd: float | None = None
    currencies_exchange: tuple[CurrencyExchange, ...] | None = None
    payment_method: PaymentMethod | None = None
    description: str | None = None
    category: str | None = None
    channel: str | None = None
    transacted_at: _dt.datetime | None = None
    origin: TransactionParty | None = None
    destination: TransactionParty | None = None
    origin_entity_id: str | None = None
    destination_entity_id: str | None = None
    metadata: Mapping[str, Any] | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class TransactionCreateResult(Gu1Model):
    """`POST /transactions`: the stored transaction and the rules outcome."""

    transaction: Transaction | None = None
    rules_result: Mapping[str, Any] | None = None
    rules_execution_summary: RulesExecutionSummary | None = None


@attrs.frozen(kw_only=True, repr=False)
class TransactionDetail(Gu1Model):
    """`GET /transactions/{id}`: the transaction plus persisted extras."""

    transaction: Transaction | None = None
    persisted: Mapping[str, Any] | None = None
    base_currency: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class TransactionBatchResult(Gu1Model):
    """`POST /transactions/batch` when it finished within gu1's 30 s synchronous window."""

    success: bool | None = None
    created: int | None = None
    skipped: int | None = None
    failed: int | None = None
    transactions: tuple[Transaction, ...] | None = None
    errors: tuple[Any, ...] | None = None
    processing_time: float | None = None
    summary: Mapping[str, Any] | None = None
    status: str | None = None
    message: str | None = None
