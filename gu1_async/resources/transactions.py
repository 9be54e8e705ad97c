"""`client.transactions`: transaction monitoring / KYT (gu1-api.md §2.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gu1_async._serde import query, unwrap
from gu1_async.ingest import Ingestion, ingest_transactions
from gu1_async.models import (
    BatchJob,
    TransactionBatchResult,
    TransactionCreateResult,
    TransactionDetail,
)
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources._transaction_params import (
    BatchSourcesParams,
    TransactionBatchParams,
    TransactionCreateParams,
    TransactionFileParams,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Iterable

    from typing_extensions import Unpack

    from gu1_async._types import RequestOptions
    from gu1_async.ingest import TransactionIngestOptions

__all__ = ["Transactions"]


def _batch_outcome(body: Any) -> TransactionBatchResult | BatchJob:
    """A finished batch, or (202: gu1 moved it to the background) the job to wait on."""
    data = body if isinstance(body, Mapping) else {}
    if data.get("jobId"):
        return BatchJob.from_api(data)
    return TransactionBatchResult.from_api(data)


class Transactions(Resource):
    """Send transactions to gu1's monitoring, one at a time or in batches."""

    @endpoint("POST", "/transactions", operation="transactions.create", doc=32)
    async def create(self, **params: Unpack[TransactionCreateParams]) -> TransactionCreateResult:
        """Record one transaction; gu1 runs the rules unless `execute_rules=False`."""
        data = await self._send("transactions.create", TransactionCreateParams, params)
        return TransactionCreateResult.from_api(data)

    @endpoint(
        "POST",
        "/transactions/batch",
        operation="transactions.create_batch",
        doc=33,
        note="Synchronous for up to 30 s, then 202 + jobId: use a timeout above 30 s.",
    )
    async def create_batch(
        self, **params: Unpack[TransactionBatchParams]
    ) -> TransactionBatchResult | BatchJob:
        """Create up to 100,000 transactions (each in the `create` body's camelCase shape).

        Returns the finished `TransactionBatchResult`, or, when gu1 answers 202 after its
        30-second synchronous window, a `BatchJob` to pass to `bulk_imports.wait()`.
        """
        data = await self._send("transactions.create_batch", TransactionBatchParams, params)
        return _batch_outcome(data)

    @endpoint(
        "POST",
        "/transactions/batch/background",
        operation="transactions.create_batch_background",
        doc=34,
        note="Always 202 + jobId.",
    )
    async def create_batch_background(self, **params: Unpack[TransactionBatchParams]) -> BatchJob:
        """Queue a batch in the background; returns the job."""
        operation = "transactions.create_batch_background"
        data = await self._send(operation, TransactionBatchParams, params)
        return BatchJob.from_api(unwrap(data, "job"))

    @endpoint(
        "POST",
        "/transactions/batch/background-multi",
        operation="transactions.create_batch_background_multi",
        doc=35,
        note="Up to 5 sources x 100,000 transactions, 150 MB; always 202.",
    )
    async def create_batch_background_multi(self, **params: Unpack[BatchSourcesParams]) -> BatchJob:
        """Queue up to five sources (file-like batches) in the background; returns the job."""
        operation = "transactions.create_batch_background_multi"
        data = await self._send(operation, BatchSourcesParams, params)
        return BatchJob.from_api(unwrap(data, "job"))

    @endpoint(
        "POST",
        "/transactions/batch/upload",
        operation="transactions.upload",
        doc=36,
        note="multipart/form-data; needs the batchUploadEnabled organization flag.",
    )
    async def upload(
        self, **params: Unpack[TransactionFileParams]
    ) -> TransactionBatchResult | BatchJob:
        """Upload a CSV/Excel/JSON file of transactions (omit both mappings: native parser)."""
        data = await self._send(
            "transactions.upload",
            TransactionFileParams,
            params,
            into="form",
            in_query=("validate_gap",),
        )
        return _batch_outcome(data)

    @endpoint(
        "GET",
        "/transactions/{transaction_id}",
        operation="transactions.get",
        doc=37,
        permissions=("transactions:read",),
    )
    async def get(
        self,
        transaction_id: str,
        *,
        include_rules_summary: bool = False,
        **options: Unpack[RequestOptions],
    ) -> TransactionDetail:
        """Fetch one transaction by gu1 id (`include_rules_summary` adds `persisted`)."""
        path = {"transaction_id": transaction_id}
        return await self._detail("transactions.get", path, include_rules_summary, options)

    @endpoint(
        "GET",
        "/transactions/external/{external_id}",
        operation="transactions.get_by_external_id",
        doc=38,
        permissions=("transactions:read",),
    )
    async def get_by_external_id(
        self,
        external_id: str,
        *,
        include_rules_summary: bool = False,
        **options: Unpack[RequestOptions],
    ) -> TransactionDetail:
        """Fetch one transaction by your external id."""
        path = {"external_id": external_id}
        operation = "transactions.get_by_external_id"
        return await self._detail(operation, path, include_rules_summary, options)

    async def _detail(
        self,
        operation: str,
        path: Mapping[str, str],
        include_rules_summary: bool,
        options: RequestOptions,
    ) -> TransactionDetail:
        """One transaction, by gu1 id or by external id (`operation`)."""
        params = query({"includeRulesSummary": "full" if include_rules_summary else None})
        data = await self._request(operation, path, params=params, **options)
        return TransactionDetail.from_api(data)

    def ingest(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        **options: Unpack[TransactionIngestOptions],
    ) -> Ingestion[Any, TransactionCreateResult]:
        """Create every row once, de-duplicated by `externalId`, at BATCH priority."""
        return ingest_transactions(self.create, self.get_by_external_id, items, **options)
