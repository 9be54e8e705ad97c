"""The keyword specs of `client.transactions`: one, a batch, a file (see `_params.py`)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TypedDict

from gu1_async._types import FilePart, RequestOptions
from gu1_async.models import PaymentMethod, TransactionStatus, TransactionType
from gu1_async.resources._params import Body

__all__ = [
    "BatchSourcesParams",
    "TransactionBatchParams",
    "TransactionCreateParams",
    "TransactionFileParams",
]


class _CreateRequired(TypedDict):
    external_id: str
    type: TransactionType
    amount: float
    currency: str


class TransactionCreateParams(_CreateRequired, RequestOptions, total=False):
    """`transactions.create`: `external_id`, `type`, `amount` and `currency` are required.

    The `*_details` objects are sent as given, so they use gu1's camelCase keys.
    """

    status: TransactionStatus | None
    payment_method: PaymentMethod | None
    description: str | None
    category: str | None
    transacted_at: _dt.datetime | str | None
    execute_rules: bool | None
    origin_entity_id: str | None
    origin_external_id: str | None
    origin_name: str | None
    origin_country: str | None
    origin_details: Body | None
    destination_entity_id: str | None
    destination_external_id: str | None
    destination_name: str | None
    destination_country: str | None
    destination_details: Body | None
    location_details: Body | None
    device_details: Body | None
    channel: str | None
    reason: str | None
    metadata: Body | None
    extra_body: Body | None


class _FileRequired(TypedDict):
    file: FilePart


class TransactionFileParams(_FileRequired, RequestOptions, total=False):
    """`transactions.upload` and `bulk_imports.import_transactions`: one form, two paths.

    Omit both `mapping_id` and `column_mapping` for gu1's native parser. `validate_gap`
    travels in the query string, the rest in the multipart form.
    """

    mapping_id: str | None
    column_mapping: Body | None
    execute_rules: bool | None
    skip_duplicates: bool | None
    validate_existing_entity: bool | None
    batch_error_handling: str | None
    validate_gap: bool | None
    extra_fields: Body | None


class _BatchFlags(RequestOptions, total=False):
    execute_rules: bool | None
    skip_duplicates: bool | None
    validate_existing_entity: bool | None
    extra_body: Body | None


class _TransactionsRequired(TypedDict):
    transactions: Sequence[Body]


class TransactionBatchParams(_TransactionsRequired, _BatchFlags, total=False):
    """`transactions.create_batch` and `create_batch_background`: rows in `transactions`."""


class _SourcesRequired(TypedDict):
    sources: Sequence[Body]


class BatchSourcesParams(_SourcesRequired, _BatchFlags, total=False):
    """`transactions.create_batch_background_multi`: up to five `sources`."""
