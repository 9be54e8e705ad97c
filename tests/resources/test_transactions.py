"""client.transactions: request shape and decoding of every method."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aioresponses import aioresponses

from gu1_async._types import FilePart
from gu1_async.models import (
    BatchJob,
    TransactionBatchResult,
    TransactionCreateResult,
    TransactionDetail,
)

from .harness import Api, Case, run_case

TX = {
    "id": "tx-1",
    "externalId": "pay-1",
    "type": "PAYMENT",
    "status": "CREATED",
    "amount": "125.50",
    "currency": "BRL",
    "amountInUsd": 25.1,
    "paymentMethod": "PIX",
    "origin": {"entityId": "ent-1", "name": "Ada", "type": "person"},
    "currenciesExchange": [{"currency": "USD", "exchangeRate": 0.2, "value": 25.1}],
}


def _detail(r: Any) -> bool:
    return (
        isinstance(r, TransactionDetail)
        and r.transaction is not None
        and r.transaction.amount == 125.5
        and r.transaction.origin is not None
        and r.transaction.origin.entity_id == "ent-1"
        and r.base_currency == "USD"
    )


CASES = [
    Case(
        id="create",
        call=lambda api: api.transactions.create(
            external_id="pay-1",
            type="PAYMENT",
            amount=125.5,
            currency="BRL",
            payment_method="PIX",
            transacted_at=dt.datetime(2025, 1, 7, 10, tzinfo=dt.timezone.utc),
            origin_entity_id="ent-1",
            metadata={"channel": "app"},
        ),
        method="POST",
        path="/transactions",
        json={
            "externalId": "pay-1",
            "type": "PAYMENT",
            "amount": 125.5,
            "currency": "BRL",
            "paymentMethod": "PIX",
            "transactedAt": "2025-01-07T10:00:00+00:00",
            "originEntityId": "ent-1",
            "metadata": {"channel": "app"},
        },
        status=201,
        response={"transaction": TX, "rulesExecutionSummary": {"matchedRulesCount": 2}},
        check=lambda r: (
            isinstance(r, TransactionCreateResult)
            and r.transaction is not None
            and r.transaction.payment_method == "PIX"
            and r.rules_execution_summary is not None
            and r.rules_execution_summary.matched_rules_count == 2
        ),
    ),
    Case(
        id="create_batch_sync",
        call=lambda api: api.transactions.create_batch(
            transactions=[{"externalId": "pay-1"}], skip_duplicates=True
        ),
        method="POST",
        path="/transactions/batch",
        json={"transactions": [{"externalId": "pay-1"}], "skipDuplicates": True},
        response={"success": True, "created": 1, "skipped": 0, "failed": 0, "transactions": [TX]},
        check=lambda r: (
            isinstance(r, TransactionBatchResult)
            and r.created == 1
            and r.transactions is not None
            and r.transactions[0].id == "tx-1"
        ),
    ),
    Case(
        id="create_batch_202",
        call=lambda api: api.transactions.create_batch(transactions=[{"externalId": "pay-1"}]),
        method="POST",
        path="/transactions/batch",
        json={"transactions": [{"externalId": "pay-1"}]},
        status=202,
        response={"success": True, "jobId": "job-9", "status": "queued", "message": "moved"},
        check=lambda r: (
            isinstance(r, BatchJob)
            and r.job_id == "job-9"
            and r.message == "moved"
            and not r.is_terminal
        ),
    ),
    Case(
        id="create_batch_background",
        call=lambda api: api.transactions.create_batch_background(
            transactions=[{"externalId": "pay-1"}], execute_rules=False
        ),
        method="POST",
        path="/transactions/batch/background",
        json={"transactions": [{"externalId": "pay-1"}], "executeRules": False},
        status=202,
        response={"jobId": "job-9", "status": "queued"},
        check=lambda r: isinstance(r, BatchJob) and r.job_id == "job-9",
    ),
    Case(
        id="create_batch_background_multi",
        call=lambda api: api.transactions.create_batch_background_multi(
            sources=[{"name": "a.json", "transactions": []}]
        ),
        method="POST",
        path="/transactions/batch/background-multi",
        json={"sources": [{"name": "a.json", "transactions": []}]},
        status=202,
        response={"jobId": "job-9", "status": "queued", "fileCount": 1},
        check=lambda r: isinstance(r, BatchJob) and r.extra == {"fileCount": 1},
    ),
    Case(
        id="upload",
        call=lambda api: api.transactions.upload(
            file=FilePart("tx.csv", b"a,b\n", "text/csv"),
            mapping_id="map-9",
            batch_error_handling="continue_collect_errors",
        ),
        method="POST",
        path="/transactions/batch/upload",
        form={
            "file": "<file tx.csv>",
            "mappingId": "map-9",
            "batchErrorHandling": "continue_collect_errors",
        },
        status=202,
        response={"jobId": "job-9", "status": "queued"},
        check=lambda r: isinstance(r, BatchJob) and r.job_id == "job-9",
    ),
    Case(
        id="get",
        call=lambda api: api.transactions.get("tx-1", include_rules_summary=True),
        method="GET",
        path="/transactions/tx-1",
        query={"includeRulesSummary": "full"},
        response={"transaction": TX, "persisted": {}, "baseCurrency": "USD"},
        check=_detail,
    ),
    Case(
        id="get_by_external_id",
        call=lambda api: api.transactions.get_by_external_id("pay-1"),
        method="GET",
        path="/transactions/external/pay-1",
        response={"transaction": TX, "baseCurrency": "USD"},
        check=_detail,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_transactions(case: Case, api: Api, mock_api: aioresponses) -> None:
    await run_case(case, api, mock_api)
