"""Entities through the bulk endpoint: end to end against FakeGu1Server, and with a stub API.

The fake runs on scaled time (an API hour in 0.2 s, a 100-row job in under a millisecond),
and its test hooks lose a submit's answer or end a job early, deterministically.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from gu1_async import (
    ConfigurationError,
    Gu1Client,
    NotFoundError,
    Plan,
    Priority,
    Quota,
    RetryPolicy,
)
from gu1_async.ingest import (
    BulkRowError,
    BulkRowResult,
    BulkUnavailableError,
    MissingFieldError,
    Outcome,
    ingest_entities_auto,
    ingest_entities_bulk,
)
from gu1_async.models import BatchFailures, BatchJob, UpsertResult
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

TIME_SCALE = 18_000.0
HOURLY = 4_000
SERVER_PLAN = [(HOURLY, 3600), (10**6, 86_400)]
FAST_RETRY = RetryPolicy(backoff_base=0.002, backoff_max=0.02)
POLL = 2.0 / TIME_SCALE  # gu1's recommended 2 s between polls, in scaled time
NO_BULK_KEY = "gk_test_no_bulk_import_0001"


def client_for(server: FakeGu1Server, key: str = DEFAULT_KEY) -> Gu1Client:
    plan = Plan.custom(Quota(HOURLY, 3600), Quota(10**6, 86_400)).scaled(TIME_SCALE)
    return Gu1Client(key, base_url=server.url, plan=plan, retry=FAST_RETRY)


def person(i: int, **extra: Any) -> dict[str, Any]:
    row = {
        "taxId": f"20-{i:08d}-3",
        "type": "person",
        "name": f"Person {i}",
        "countryCode": "AR",
        "externalId": f"ext-{i:06d}",
    }
    row.update(extra)
    return row


def tax_ids(server: FakeGu1Server) -> list[str]:
    return [str(e["taxId"]).replace("-", "") for e in server.entities.values()]


async def collect(run: Any) -> list[Outcome[Any, Any]]:
    async with run:
        return [outcome async for outcome in run]


def by_index(outcomes: list[Outcome[Any, Any]]) -> dict[int, Outcome[Any, Any]]:
    counts = collections.Counter(o.index for o in outcomes)
    assert set(counts.values()) == {1}, "an index came out twice"
    return {o.index: o for o in outcomes}


# -- end to end ------------------------------------------------------------------------


async def test_1200_rows_with_bad_ones_through_faults_each_accounted_once() -> None:
    count = 1_200
    expected_fail: dict[int, str] = {}  # index -> code (or exception class name)
    rows: list[dict[str, Any]] = []
    for i in range(count):
        row = person(i)
        if i % 97 == 5:
            del row["taxId"]
            expected_fail[i] = "MissingFieldError"
        elif i % 89 == 1:
            row["type"] = "robot"
            expected_fail[i] = "VALIDATION_ERROR"
        elif i % 83 == 2:
            row["countryCode"] = "ZZZ"
            expected_fail[i] = "VALIDATION_ERROR"
        elif i % 71 == 3:
            row["externalId"] = "ext-taken"  # a fresh tax id, an external id already used
            expected_fail[i] = "DUPLICATE_EXTERNAL_ID"
        rows.append(row)
    # A tax id seen again later in the input (written another way): both rows succeed.
    twins = {i: i - 40 for i in range(400, 1_200, 150) if i - 40 not in expected_fail}
    for i, first in twins.items():
        rows[i] = person(first, taxId=f"20{first:08d}3", externalId=f"twin-{i}")
        expected_fail.pop(i, None)
    # Already in the organization: skipped, and a skip is a success.
    existing = [i for i in range(10, 1_200, 120) if i not in expected_fail and i not in twins]
    async with FakeGu1Server(
        plan=SERVER_PLAN, time_scale=TIME_SCALE, error_rate=0.03, drop_after_rate=0.03, seed=11
    ) as server:
        async with client_for(server) as client:
            await client.entities.upsert(entity=person(99_999, externalId="ext-taken"))
            for i in existing:
                await client.entities.upsert(entity=person(i, externalId=f"old-{i}"))
            before = server.stats().requests
            run = client.entities.ingest(
                iter(rows),
                via="bulk",
                bulk_size=100,
                concurrency=3,
                poll_interval=POLL,
                item_retries=6,
            )
            outcomes = await collect(run)
        stats = server.stats()
        stored = tax_ids(server)

    got = by_index(outcomes)
    assert sorted(got) == list(range(count))
    report = run.report()
    assert report.read == count and report.adds_up and report.exhausted
    for i, outcome in got.items():
        if i in expected_fail:
            assert not outcome.ok, i
            error = outcome.error
            if isinstance(error, BulkRowError):
                assert (error.code, error.confirmed) == (expected_fail[i], True), i
            else:
                assert type(error).__name__ == expected_fail[i], (i, error)
        else:
            assert outcome.ok, (i, outcome.error)
            assert isinstance(outcome.result, BulkRowResult)
    for i in existing:
        result = got[i].result
        assert result is not None and result.status == "skipped", i
        assert result.code == "SKIPPED_DUPLICATE_TAX_ID"
    # No duplicate in the store, and every row that succeeded is there.
    assert len(stored) == len(set(stored))
    wanted = {str(rows[i]["taxId"]).replace("-", "") for i in got if got[i].ok}
    assert wanted <= set(stored)
    # The faults hit, and the run still used one request per many rows.
    assert stats.by_status.get(503, 0) > 0 and stats.dropped > 0
    assert stats.requests - before < count / 4


@pytest.mark.parametrize("status", [None, 503])
async def test_a_lost_202_resends_the_chunk_and_creates_no_twin(status: int | None) -> None:
    async with FakeGu1Server(plan=SERVER_PLAN, time_scale=TIME_SCALE) as server:
        server.state.jobs.lose_next_answers(1, status=status)
        async with client_for(server) as client:
            run = client.entities.ingest(
                (person(i) for i in range(300)), via="bulk", bulk_size=100, poll_interval=POLL
            )
            outcomes = await collect(run)
        jobs = server.state.jobs.all()
        stored = tax_ids(server)
    assert len(outcomes) == 300 and all(o.ok for o in outcomes), run.report().errors
    # The lost job ran, and its chunk was sent again: 4 jobs for 3 chunks, no twin.
    assert len(jobs) == 4 and len(stored) == len(set(stored)) == 300
    statuses = collections.Counter(o.result.status for o in outcomes if o.result)
    # The resent chunk's rows were created by the lost job: the second one skipped them.
    assert statuses == {"created": 200, "skipped": 100}


@pytest.mark.parametrize("status", ["failed", "cancelled", "interrupted"])
async def test_a_job_that_ends_early_fails_its_unconfirmed_rows(status: str) -> None:
    rows = [person(i) for i in range(120)]
    async with FakeGu1Server(plan=SERVER_PLAN, time_scale=TIME_SCALE) as server:
        server.state.jobs.end_next_jobs(status, after_rows=10)
        async with client_for(server) as client:
            opts: dict[str, Any] = {"bulk_size": 50, "concurrency": 1, "poll_interval": POLL}
            first = await collect(client.entities.ingest(rows, via="bulk", **opts))
            failed = [o for o in first if not o.ok]
            # The rows the job never confirmed fail, naming its status; 10 of them exist.
            assert sorted(o.index for o in failed) == list(range(50))
            for outcome in failed:
                assert isinstance(outcome.error, BulkRowError)
                assert outcome.error.code == f"JOB_{status.upper()}"
                assert outcome.error.job_status == status and not outcome.error.confirmed
            assert len(server.entities) == 80  # 10 by the ended job, 70 by the others
            # Sending the failed rows again is safe: what the first job created is skipped.
            second = await collect(
                client.entities.ingest([o.item for o in failed], via="bulk", **opts)
            )
        stored = tax_ids(server)
    assert all(o.ok for o in second)
    statuses = collections.Counter(o.result.status for o in second if o.result)
    assert statuses == {"skipped": 10, "created": 40}
    assert len(stored) == len(set(stored)) == 120


async def test_stop_on_first_error_names_the_failed_row_and_the_job_status() -> None:
    rows = [person(i) for i in range(20)]
    rows[7]["type"] = "robot"
    async with (
        FakeGu1Server(plan=SERVER_PLAN, time_scale=TIME_SCALE) as server,
        client_for(server) as client,
    ):
        run = client.entities.ingest(
            rows,
            via="bulk",
            poll_interval=POLL,
            bulk_options={"stop_on_first_error": True},
        )
        got = by_index(await collect(run))
    errors = {i: o.error for i, o in got.items()}
    assert all(isinstance(e, BulkRowError) and e.job_status == "failed" for e in errors.values())
    assert isinstance(errors[7], BulkRowError)
    assert (errors[7].code, errors[7].confirmed) == ("VALIDATION_ERROR", True)
    assert {e.code for i, e in errors.items() if i != 7 and isinstance(e, BulkRowError)} == {
        "JOB_FAILED"
    }


async def test_without_the_bulk_permission_the_first_chunk_raises_a_clear_error() -> None:
    async with FakeGu1Server(plan=SERVER_PLAN, time_scale=TIME_SCALE) as server:
        server.add_key(NO_BULK_KEY, permissions={"entities:create", "entities:edit"})
        async with client_for(server, NO_BULK_KEY) as client:
            run = client.entities.ingest(
                (person(i) for i in range(1_000)), via="bulk", bulk_size=50, poll_interval=POLL
            )
            with pytest.raises(BulkUnavailableError) as caught:
                await collect(run)
        requests = server.stats().requests
        stored = len(server.entities)
    assert caught.value.status == 403
    assert 'via="upsert"' in str(caught.value) and "entities:bulk_import" in str(caught.value)
    # The first chunk was probed alone: one request, nothing created, the report adds up.
    assert (requests, stored) == (1, 0)
    report = run.report()
    assert report.adds_up and report.stopped and report.errors["BulkUnavailableError"] >= 1


async def test_auto_falls_back_to_upsert_for_every_row_of_the_run() -> None:
    async with FakeGu1Server(plan=SERVER_PLAN, time_scale=TIME_SCALE) as server:
        server.add_key(NO_BULK_KEY, permissions={"entities:create", "entities:edit"})
        async with client_for(server, NO_BULK_KEY) as client:
            run = client.entities.ingest(
                (person(i) for i in range(250)), via="auto", bulk_size=40, poll_interval=POLL
            )
            outcomes = await collect(run)
        by_status = server.stats().by_status
        stored = len(server.entities)
    assert sorted(o.index for o in outcomes) == list(range(250))
    assert all(o.ok and isinstance(o.result, UpsertResult) for o in outcomes)
    assert by_status.get(403) == 1 and stored == 250


async def test_resume_skips_by_input_index() -> None:
    rows = [person(i) for i in range(90)]
    async with FakeGu1Server(plan=SERVER_PLAN, time_scale=TIME_SCALE) as server:
        async with client_for(server) as client:
            run = client.entities.ingest(
                rows, via="bulk", bulk_size=20, poll_interval=POLL, skip=lambda i: i % 3 == 0
            )
            outcomes = await collect(run)
        stored = set(tax_ids(server))
    assert sorted(o.index for o in outcomes) == [i for i in range(90) if i % 3]
    assert all(o.item is rows[o.index] for o in outcomes)
    assert stored == {rows[i]["taxId"].replace("-", "") for i in range(90) if i % 3}
    report = run.report()
    assert (report.succeeded, report.skipped, report.read) == (60, 30, 90)


async def test_a_generator_is_read_lazily_and_at_most_concurrency_chunks_are_held() -> None:
    read = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal read
        for i in range(10_000):
            read += 1
            yield person(i)

    async with (
        FakeGu1Server(plan=SERVER_PLAN, time_scale=TIME_SCALE) as server,
        client_for(server) as client,
    ):
        run = client.entities.ingest(
            rows(), via="bulk", bulk_size=50, concurrency=2, poll_interval=POLL
        )
        async with run:
            async for _ in run:
                read_at_first = read
                held = run.report().in_flight
                break
    assert read_at_first <= 2 * 50 + 1
    assert held <= 2 * 50


async def test_an_async_input_that_stalls_still_gets_its_rows_sent() -> None:
    first_seen = asyncio.Event()

    async def rows() -> AsyncIterator[dict[str, Any]]:
        for i in range(3):
            yield person(i)
        await first_seen.wait()  # the producer waits for the consumer: the chunk must go
        yield person(3)

    async with FakeGu1Server(plan=SERVER_PLAN, time_scale=TIME_SCALE) as server:
        async with client_for(server) as client:
            run = client.entities.ingest(rows(), via="bulk", poll_interval=POLL, linger=0.01)
            indexes = []
            async with run:
                async for outcome in run:
                    indexes.append(outcome.index)
                    first_seen.set()
        assert len(server.state.jobs.all()) == 2
    assert sorted(indexes) == [0, 1, 2, 3]


async def test_leaving_early_leaves_no_task_behind() -> None:
    async with (
        FakeGu1Server(plan=SERVER_PLAN, time_scale=TIME_SCALE) as server,
        client_for(server) as client,
    ):
        run = client.entities.ingest(
            (person(i) for i in range(2_000)), via="bulk", bulk_size=25, poll_interval=POLL
        )
        async with run:
            async for _ in run:
                break
        others = asyncio.all_tasks() - {asyncio.current_task()}
        report = run.report()
    assert not [t for t in others if "_run" in repr(t.get_coro())]
    assert report.adds_up and report.in_flight == 0 and report.cancelled > 0


def test_an_unknown_via_is_refused() -> None:
    from gu1_async.resources import Entities

    entities = Entities(requester=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="via"):
        entities.ingest([], via="fast")  # type: ignore[call-overload]


# -- against a stub API: priorities, bounds, a 404 -------------------------------------


class StubBulk:
    """import_entities / get_job / entity_job_failures in memory; a row's `fail` is its code."""

    def __init__(self, *, polls_to_finish: int = 3) -> None:
        self.polls_to_finish = polls_to_finish
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.submit_errors: list[Exception] = []
        self.running = self.peak = 0

    async def import_entities(self, *, items: list[dict[str, Any]], **kw: Any) -> BatchJob:
        self.calls.append(("submit", kw))
        await asyncio.sleep(0)
        if self.submit_errors:
            raise self.submit_errors.pop(0)
        job_id = f"job-{len(self.jobs)}"
        self.jobs[job_id] = {"rows": list(items), "polls": 0}
        self.running += 1
        self.peak = max(self.peak, self.running)
        return BatchJob.from_api({"jobId": job_id, "status": "queued"})

    async def get_job(self, job_id: str, **kw: Any) -> BatchJob:
        self.calls.append(("poll", kw))
        await asyncio.sleep(0)
        job = self.jobs[job_id]
        job["polls"] += 1
        if job["polls"] < self.polls_to_finish:
            return BatchJob.from_api({"jobId": job_id, "status": "running"})
        if job["polls"] == self.polls_to_finish:
            self.running -= 1
        failed = sum(1 for r in job["rows"] if r.get("fail"))
        return BatchJob.from_api(
            {
                "jobId": job_id,
                "status": "completed",
                "totalItems": len(job["rows"]),
                "succeeded": len(job["rows"]) - failed,
                "failed": failed,
                "skipped": 0,
            }
        )

    async def entity_job_failures(self, job_id: str, **kw: Any) -> BatchFailures:
        self.calls.append(("failures", kw))
        rows = self.jobs[job_id]["rows"]
        failures = [
            {"taxId": r["taxId"], "type": r["type"], "outcome": "failed", "code": r["fail"]}
            for r in rows
            if r.get("fail")
        ]
        return BatchFailures.from_api({"jobId": job_id, "failures": failures})

    def endpoints(self) -> tuple[Any, Any, Any]:
        return self.import_entities, self.get_job, self.entity_job_failures


def stub_rows(n: int, *, failing: frozenset[int] = frozenset()) -> Iterator[dict[str, Any]]:
    for i in range(n):
        row: dict[str, Any] = {"taxId": f"T{i}", "type": "company"}
        if i in failing:
            row["fail"] = "PROCESSING_ERROR"
        yield row


async def test_every_request_goes_at_batch_priority_and_jobs_in_flight_are_bounded() -> None:
    stub = StubBulk()
    run = ingest_entities_bulk(
        *stub.endpoints(),
        stub_rows(1_000, failing=frozenset({3, 555})),
        bulk_size=40,
        concurrency=3,
        poll_interval=0.001,
        max_wait=12.5,
        country="AR",
        import_mode="manual_no_enrichment",
    )
    got = by_index(await collect(run))
    assert len(got) == 1_000 and {i for i, o in got.items() if not o.ok} == {3, 555}
    assert stub.peak == 3
    kinds = collections.Counter(kind for kind, _ in stub.calls)
    assert kinds["submit"] == 25 and kinds["failures"] == 2
    assert all(kw["priority"] is Priority.BATCH and kw["max_wait"] == 12.5 for _, kw in stub.calls)
    submits = [kw for kind, kw in stub.calls if kind == "submit"]
    assert all(kw["country"] == "AR" for kw in submits)
    assert all(kw["import_mode"] == "manual_no_enrichment" for kw in submits)


async def test_a_404_means_no_bulk_import_and_auto_falls_back() -> None:
    stub = StubBulk()
    stub.submit_errors.append(NotFoundError("Route not found", status=404))
    upserted: list[str] = []

    async def upsert(*, entity: dict[str, Any], **kw: Any) -> UpsertResult:
        assert kw["priority"] is Priority.BATCH
        upserted.append(entity["externalId"])
        return UpsertResult.from_api({"success": True, "action": "created"})

    rows = [{"taxId": f"T{i}", "type": "person", "externalId": f"e{i}"} for i in range(30)]
    run = ingest_entities_auto(*stub.endpoints(), upsert, rows, bulk_size=10, poll_interval=0.001)
    outcomes = await collect(run)
    assert sorted(upserted) == sorted(r["externalId"] for r in rows)
    assert len(outcomes) == 30 and all(isinstance(o.result, UpsertResult) for o in outcomes)
    assert [kind for kind, _ in stub.calls] == ["submit"]

    stub = StubBulk()
    stub.submit_errors.append(NotFoundError("Route not found", status=404))
    with pytest.raises(BulkUnavailableError, match="feature flag") as caught:
        await collect(ingest_entities_bulk(*stub.endpoints(), rows, poll_interval=0.001))
    assert caught.value.status == 404


async def test_rows_without_tax_id_or_type_fail_without_a_request() -> None:
    stub = StubBulk()
    rows = [{"type": "person"}, {"taxId": "1"}, {"taxId": "", "type": "person"}]
    outcomes = await collect(ingest_entities_bulk(*stub.endpoints(), rows, poll_interval=0.001))
    assert len(outcomes) == 3 and all(isinstance(o.error, MissingFieldError) for o in outcomes)
    assert stub.calls == []


async def test_a_tax_id_already_in_the_open_chunk_starts_a_new_one() -> None:
    stub = StubBulk(polls_to_finish=1)
    rows = [
        {"taxId": "20-1-3", "type": "person"},
        {"taxId": "B", "type": "person"},
        {"taxId": "2013", "type": "person"},  # the first one, written without dashes
        {"taxId": "C", "type": "person"},
    ]
    outcomes = await collect(ingest_entities_bulk(*stub.endpoints(), rows, poll_interval=0.001))
    assert len(outcomes) == 4 and all(o.ok for o in outcomes)
    sent = [[r["taxId"] for r in job["rows"]] for job in stub.jobs.values()]
    assert sent == [["20-1-3", "B"], ["2013", "C"]]


async def test_a_job_poll_that_never_ends_times_out_as_a_failure() -> None:
    stub = StubBulk(polls_to_finish=10**9)
    rows = list(stub_rows(5))
    run = ingest_entities_bulk(*stub.endpoints(), rows, poll_interval=0.001, job_timeout=0.02)
    outcomes = await collect(run)
    assert len(outcomes) == 5
    assert all(type(o.error).__name__ == "APITimeoutError" for o in outcomes)
    assert "sending them again is safe" in str(outcomes[0].error)


def test_bad_sizes_are_refused() -> None:
    stub = StubBulk()
    with pytest.raises(ValueError, match="bulk_size"):
        ingest_entities_bulk(*stub.endpoints(), [], bulk_size=0)
    with pytest.raises(ValueError, match="poll_interval"):
        ingest_entities_bulk(*stub.endpoints(), [], poll_interval=0)
