"""End to end: the engine, the resources and the client against FakeGu1Server with faults."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

import pytest

from gu1_async import Gu1Client, Plan, Quota, RetryPolicy
from gu1_async.ingest import ingest_entities, ingest_events, ingest_transactions
from gu1_async.resources import Entities, Events, Transactions
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

# An API hour lasts 0.2 real seconds, so a run crosses several windows in a few seconds.
TIME_SCALE = 18_000.0
HOURLY = 4_000
SERVER_PLAN = [(HOURLY, 3600), (10**6, 86_400)]  # what client_for() seeds the governor with
FAST_RETRY = RetryPolicy(backoff_base=0.002, backoff_max=0.02)


def resources(client: Gu1Client) -> tuple[Entities, Transactions, Events]:
    # Until Gu1Client attaches the resources itself, build them on its requester.
    requester = client._requester
    return (
        getattr(client, "entities", None) or Entities(requester),
        getattr(client, "transactions", None) or Transactions(requester),
        getattr(client, "events", None) or Events(requester),
    )


def entity_rows(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {
            "externalId": f"ext-{i:06d}",
            "type": "person",
            "name": f"Person {i}",
            "countryCode": "AR",
        }


def client_for(server: FakeGu1Server) -> Gu1Client:
    plan = Plan.custom(Quota(HOURLY, 3600), Quota(10**6, 86_400)).scaled(TIME_SCALE)
    return Gu1Client(DEFAULT_KEY, base_url=server.url, plan=plan, retry=FAST_RETRY)


@pytest.mark.slow
async def test_ten_thousand_entities_through_faults_none_lost_none_duplicated() -> None:
    count = 10_000
    async with FakeGu1Server(
        plan=SERVER_PLAN,
        time_scale=TIME_SCALE,
        error_rate=0.05,
        drop_after_rate=0.01,
        seed=7,
    ) as server:
        async with client_for(server) as client:
            entities, _, _ = resources(client)
            seen: collections.Counter[int] = collections.Counter()
            succeeded_ids: set[str] = set()
            async with (
                entities.ingest(entity_rows(count), concurrency=64)
                if hasattr(entities, "ingest")
                else ingest_entities(entities.upsert, entity_rows(count), concurrency=64) as run
            ):
                async for outcome in run:
                    if len(seen) == 2_000:
                        server.force_429(30)  # a burst of 429s mid-run
                    seen[outcome.index] += 1
                    if outcome.ok:
                        assert outcome.result is not None and outcome.result.entity is not None
                        succeeded_ids.add(outcome.item["externalId"])
            report = run.report()
        stats = server.stats()
        stored = [e["externalId"] for e in server.entities.values()]

    # Every item accounted for, exactly once.
    assert sorted(seen) == list(range(count)) and set(seen.values()) == {1}
    assert report.read == count and report.adds_up and report.exhausted
    assert report.succeeded + report.failed == count
    # The faults really happened, and the retries absorbed them.
    assert stats.by_status.get(503, 0) > 300 and stats.dropped > 50
    assert stats.rate_limited >= 30
    assert report.failed <= 5, report.errors
    # No duplicate: one stored entity per externalId, and every success is stored.
    assert len(stored) == len(set(stored))
    assert succeeded_ids <= set(stored)
    assert len(stored) >= report.succeeded


async def test_rows_without_external_id_fail_without_a_request() -> None:
    async with FakeGu1Server(plan="professional", time_scale=3600) as server:
        async with client_for(server) as client:
            entities, _, _ = resources(client)
            rows = [{"type": "person", "name": "No Id", "countryCode": "AR"}]
            outcomes = [o async for o in ingest_entities(entities.upsert, rows)]
        assert server.stats().requests == 0
    assert len(outcomes) == 1 and not outcomes[0].ok
    assert type(outcomes[0].error).__name__ == "MissingFieldError"


async def test_transactions_are_not_duplicated_when_answers_are_lost() -> None:
    rows = [
        {"externalId": f"tx-{i:04d}", "type": "TRANSFER", "amount": 10 + i, "currency": "USD"}
        for i in range(300)
    ]
    async with FakeGu1Server(
        plan=SERVER_PLAN, time_scale=TIME_SCALE, drop_after_rate=0.1, seed=3
    ) as server:
        async with client_for(server) as client:
            _, transactions, _ = resources(client)
            # Three lost answers in a row fail an item 1 time in 1,000; five make it rare.
            run = ingest_transactions(
                transactions.create,
                transactions.get_by_external_id,
                rows,
                concurrency=16,
                item_retries=4,
            )
            outcomes = [o async for o in run]
        stored = [t["externalId"] for t in server.state.transactions.by_id.values()]
        dropped = server.stats().dropped
    assert dropped > 10
    assert all(o.ok for o in outcomes), run.report().errors
    assert sorted(stored) == sorted(str(r["externalId"]) for r in rows)
    existed = [o for o in outcomes if o.result is not None and o.result.extra.get("alreadyExisted")]
    assert existed and all(o.result.transaction is not None for o in existed if o.result)


async def test_events_are_sent_once_each() -> None:
    rows = [
        {"eventType": "login", "entityExternalId": "ext-000001", "userId": f"u{i}"}
        for i in range(40)
    ]
    async with FakeGu1Server(plan=SERVER_PLAN, time_scale=TIME_SCALE) as server:
        async with client_for(server) as client:
            entities, _, events = resources(client)
            await entities.upsert(
                entity={
                    "externalId": "ext-000001",
                    "type": "person",
                    "name": "A",
                    "countryCode": "AR",
                }
            )
            report = await ingest_events(events.create, rows, concurrency=8).run()
        assert server.stats().by_status.get(201, 0) == 40
    assert (report.succeeded, report.failed) == (40, 0)


async def test_the_resources_ingest_methods_delegate_to_the_engine() -> None:
    async with FakeGu1Server(plan=SERVER_PLAN, time_scale=TIME_SCALE) as server:
        async with client_for(server) as client:
            entities, transactions, events = resources(client)
            people = await entities.ingest(entity_rows(30), concurrency=4).run()
            tx_rows = [
                {"externalId": f"tx-{i}", "type": "PAYMENT", "amount": 1, "currency": "USD"}
                for i in range(10)
            ]
            txs = await transactions.ingest(tx_rows, concurrency=4).run()
            event_rows = [{"eventType": "login", "entityExternalId": "ext-000001"}] * 5
            logins = await events.ingest(event_rows, concurrency=2).run()
        assert len(server.entities) == 30
        assert len(server.state.transactions.by_id) == 10
    assert [r.summary() for r in (people, txs, logins)] == [
        "30 succeeded, 0 failed",
        "10 succeeded, 0 failed",
        "5 succeeded, 0 failed",
    ]
