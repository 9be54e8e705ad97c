"""The engine alone: bounded concurrency, streaming, accounting, stop/abort, inputs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from gu1_async import AuthenticationError, BadRequestError
from gu1_async.ingest import Ingestion, IngestReport, Outcome, ingest


async def echo(item: int) -> int:
    await asyncio.sleep(0)
    return item * 10


def assert_adds_up(report: IngestReport, read: int) -> None:
    assert report.read == read
    assert report.adds_up
    assert report.in_flight == 0


async def test_every_item_ends_as_one_outcome() -> None:
    outcomes: list[Outcome[int, int]] = []
    async with ingest(range(100), echo, concurrency=7) as run:
        async for outcome in run:
            outcomes.append(outcome)
    assert sorted(o.index for o in outcomes) == list(range(100))
    assert all(o.ok and o.result == o.item * 10 for o in outcomes)
    report = run.report()
    assert_adds_up(report, 100)
    assert (report.succeeded, report.failed, report.exhausted) == (100, 0, True)
    assert report.summary() == "100 succeeded, 0 failed"


async def test_concurrency_is_bounded_and_input_is_read_lazily() -> None:
    running = peak = 0
    read = 0

    def rows() -> Iterator[int]:
        nonlocal read
        for i in range(200):
            read += 1
            yield i

    async def send(item: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        running -= 1
        return item

    yielded = 0
    run = ingest(rows(), send, concurrency=5)
    async for _ in run:
        yielded += 1
        # Items held (started, or finished and not yet yielded) never exceed the bound.
        assert read - yielded <= 5
    assert peak == 5
    assert yielded == 200


async def test_async_iterable_input() -> None:
    async def rows() -> AsyncIterator[int]:
        for i in range(50):
            await asyncio.sleep(0)
            yield i

    report = await ingest(rows(), echo, concurrency=4).run()
    assert_adds_up(report, 50)
    assert report.succeeded == 50


async def test_failures_are_reported_with_their_error() -> None:
    async def send(item: int) -> int:
        if item % 10 == 3:
            raise BadRequestError("bad row", status=400)
        return item

    failures: list[Outcome[int, int]] = []
    async for outcome in ingest(range(40), send):
        if not outcome.ok:
            failures.append(outcome)
    assert [f.index for f in sorted(failures, key=lambda f: f.index)] == [3, 13, 23, 33]
    assert all(isinstance(f.error, BadRequestError) and f.result is None for f in failures)


async def test_report_counts_errors_by_class() -> None:
    async def send(item: int) -> int:
        if item < 3:
            raise BadRequestError("bad", status=400)
        return item

    report = await ingest(range(10), send).run()
    assert report.errors == {"BadRequestError": 3}
    assert (report.succeeded, report.failed) == (7, 3)


async def test_a_fatal_error_stops_taking_items() -> None:
    async def send(item: int) -> int:
        raise AuthenticationError("invalid key", status=401)

    report = await ingest(range(1000), send, concurrency=4).run()
    assert report.stopped and not report.exhausted
    assert report.stop_reason is not None and "AuthenticationError" in report.stop_reason
    assert report.read < 1000
    assert_adds_up(report, report.read)
    assert report.failed == report.read


async def test_skipped_items_are_counted_not_sent() -> None:
    sent: list[int] = []

    async def send(item: int) -> int:
        sent.append(item)
        return item

    report = await ingest(range(20), send, skip=lambda i: i < 15).run()
    assert sorted(sent) == [15, 16, 17, 18, 19]
    assert (report.skipped, report.succeeded) == (15, 5)
    assert report.summary() == "5 succeeded, 0 failed, 15 skipped"
    assert_adds_up(report, 20)


async def test_stop_lets_in_flight_items_finish() -> None:
    release = asyncio.Event()

    async def send(item: int) -> int:
        await release.wait()
        return item

    run = ingest(range(100), send, concurrency=8)
    first = asyncio.ensure_future(run.__anext__())
    await asyncio.sleep(0.01)
    run.stop()
    release.set()
    outcomes = [await first] + [o async for o in run]
    report = run.report()
    assert len(outcomes) == 8 and all(o.ok for o in outcomes)
    assert report.stopped and report.read == 8
    assert_adds_up(report, 8)


async def test_abort_cancels_in_flight_items_and_keeps_finished_ones() -> None:
    async def send(item: int) -> int:
        if item >= 2:
            await asyncio.Event().wait()  # never finishes on its own
        return item

    run = ingest(range(100), send, concurrency=6)
    first = await run.__anext__()
    second = await run.__anext__()
    run.abort()
    rest = [o async for o in run]
    report = run.report()
    assert {first.index, second.index} == {0, 1} and rest == []
    assert (report.succeeded, report.cancelled, report.read) == (2, 4, 6)
    assert report.summary() == "2 succeeded, 0 failed, 4 cancelled in flight"
    assert_adds_up(report, 6)


async def test_leaving_the_context_early_cancels_what_is_in_flight() -> None:
    started: list[asyncio.Task[object] | None] = []

    async def send(item: int) -> int:
        started.append(asyncio.current_task())
        await asyncio.sleep(0 if item == 0 else 3600)
        return item

    async with ingest(range(10), send, concurrency=3) as run:
        async for _ in run:
            break
    assert all(t is not None and t.done() for t in started)
    report = run.report()
    assert report.cancelled == 2
    assert_adds_up(report, 3)


async def test_an_input_error_is_raised_after_in_flight_items_end() -> None:
    def rows() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("disk gone")

    run = ingest(rows(), echo, concurrency=4)
    seen: list[int] = []

    async def consume() -> None:
        async for outcome in run:
            seen.append(outcome.index)

    with pytest.raises(OSError, match="disk gone"):
        await consume()
    assert sorted(seen) == [0, 1]
    assert_adds_up(run.report(), 2)


async def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        Ingestion([1], echo, concurrency=0)
