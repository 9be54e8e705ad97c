"""The batcher behind bulk ingestion: rows into chunks, chunks into jobs, jobs to outcomes.

`BulkIngestion` (`_bulk.py`) hands the engine the batcher's `send_one`: each row joins the
open chunk and gets a future that its job resolves, once the job is terminal and its
failures and skips are read (`_bulk_settle`). The module docstring of `_bulk.py` says when
a chunk goes out and why re-sending one is safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    Awaitable,
    Callable,
    Mapping,
)
from typing import Any

import attrs

from gu1_async._errors import (
    APIConnectionError,
    APITimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from gu1_async._types import Priority
from gu1_async.models import BatchFailures, BatchJob

from ._bulk_settle import (
    BulkUnavailableError,
    Settled,
    all_created,
    settle_rows,
    tax_key,
)
from ._engine import DEFAULT_CONCURRENCY
from ._senders import (
    MissingFieldError,
    _Method,
)

__all__ = ["BulkSettings", "Batcher", "unavailable"]


def _transient(exc: BaseException) -> bool:
    """Worth sending again: the answer was lost, a 5xx, or a 429 after the requester's tries."""
    return isinstance(exc, (APIConnectionError, ServerError, RateLimitError))


@attrs.frozen
class BulkSettings:
    import_entities: _Method
    get_job: _Method
    job_failures: _Method
    bulk_size: int
    jobs: int
    request: Mapping[str, Any]  # import_mode, country and bulk_options for import_entities
    poll_interval: float
    job_timeout: float | None
    item_retries: int
    max_wait: float | None
    linger: float | None
    body_of: Callable[[Any], Mapping[str, Any]]
    fallback: Callable[[Any], Awaitable[Any]] | None  # via="auto": the upsert send_one


@attrs.define
class _Row:
    future: asyncio.Future[Any]
    item: Any
    body: Mapping[str, Any]
    key: str


def _resolve(future: asyncio.Future[Any], outcome: Settled | BaseException) -> None:
    if future.done():  # cancelled by an abort
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class Batcher:
    """Groups rows into chunks and runs one job per chunk; `send_one` is the engine's."""

    def __init__(self, settings: BulkSettings) -> None:
        self._s = settings
        self._open: list[_Row] = []
        self._keys: set[str] = set()
        self._opened = 0  # chunks opened so far: tells a linger timer its chunk is gone
        self._linger: asyncio.TimerHandle | None = None
        self._slots = asyncio.Semaphore(settings.jobs)
        self._fallback_slots = asyncio.Semaphore(DEFAULT_CONCURRENCY)
        self._probe: asyncio.Event | None = None  # set once the first submit is answered
        self.unavailable: BulkUnavailableError | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.lingering = False  # only async inputs can stall; set by BulkIngestion

    # -- what the engine calls -------------------------------------------------------

    def send_one(self, item: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        if self.unavailable is not None and self._s.fallback is not None:
            return loop.create_task(self._fallback_one(item, check=True))
        future: asyncio.Future[Any] = loop.create_future()
        if self.unavailable is not None:
            future.set_exception(self.unavailable)
            return future
        try:
            body = self._s.body_of(item)
            for name in ("taxId", "type"):
                if body.get(name) in (None, ""):
                    raise MissingFieldError(f"entity row has no {name!r}; nothing was sent")
        except Exception as exc:  # refused here: nothing is sent for this row
            future.set_exception(exc)
            return future
        key = tax_key(body["taxId"])
        if key in self._keys:
            self.flush()
        self._open.append(_Row(future, item, body, key))
        self._keys.add(key)
        if len(self._open) >= self._s.bulk_size:
            self.flush()
        elif len(self._open) == 1 and self.lingering and self._s.linger is not None:
            self._linger = loop.call_later(self._s.linger, self._linger_out, self._opened)
        return future

    def flush(self) -> None:
        """Send the open chunk now, full or not."""
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if not self._open:
            return
        rows, self._open, self._keys = self._open, [], set()
        self._opened += 1
        first = self._probe is None
        if self._probe is None:
            self._probe = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._run(rows, first))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Cancel the jobs' tasks (their rows were cancelled by the engine's abort)."""
        if self._linger is not None:
            self._linger.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    def _linger_out(self, opened: int) -> None:
        if opened == self._opened:
            self.flush()

    # -- one chunk -------------------------------------------------------------------

    async def _run(self, rows: list[_Row], first: bool) -> None:
        probe = self._probe
        assert probe is not None
        try:
            if not first:
                await probe.wait()
            async with self._slots:
                live = [r for r in rows if not r.future.done()]
                if live:
                    await self._run_live(live, probe)
        except asyncio.CancelledError:
            for row in rows:
                row.future.cancel()
            raise
        except Exception as exc:
            for row in rows:
                _resolve(row.future, exc)
        finally:
            if first:
                probe.set()

    async def _run_live(self, rows: list[_Row], probe: asyncio.Event) -> None:
        if self.unavailable is None:
            try:
                job_id = await self._submit(rows)
            except BulkUnavailableError as exc:
                self.unavailable = exc
                probe.set()  # the waiting chunks now fail (or fall back) without a request
            else:
                probe.set()  # the account has bulk import: the waiting chunks may go
                job = await self._poll(job_id)
                for row, outcome in zip(rows, await self._settle(job_id, job, rows), strict=True):
                    _resolve(row.future, outcome)
                return
        if self._s.fallback is None:
            for row in rows:
                _resolve(row.future, self.unavailable)
            return
        await asyncio.gather(*(self._fallback_row(row) for row in rows))

    async def _submit(self, rows: list[_Row]) -> str:
        s = self._s
        for attempt in range(s.item_retries + 1):
            try:
                job: BatchJob = await s.import_entities(
                    items=[row.body for row in rows],
                    **s.request,
                    priority=Priority.BATCH,
                    max_wait=s.max_wait,
                )
            except (PermissionDeniedError, NotFoundError) as exc:
                raise unavailable(exc) from exc
            except Exception as exc:
                # A lost answer may have started a job: sending the chunk again is safe,
                # gu1 skips the tax ids that job created (see the module docstring).
                if attempt == s.item_retries or not _transient(exc):
                    raise
                continue
            if not job.job_id:
                raise APIConnectionError("the bulk endpoint answered without a jobId")
            return job.job_id
        raise AssertionError("unreachable")  # pragma: no cover

    async def _poll(self, job_id: str) -> BatchJob:
        s = self._s
        loop = asyncio.get_running_loop()
        deadline = None if s.job_timeout is None else loop.time() + s.job_timeout
        misses = 0
        while True:
            # A job just accepted is never finished yet: sleep first, save a request.
            await asyncio.sleep(s.poll_interval)
            try:
                job: BatchJob = await s.get_job(
                    job_id, priority=Priority.BATCH, max_wait=s.max_wait
                )
            except Exception as exc:
                if misses == s.item_retries or not _transient(exc):
                    raise
                misses += 1
                continue
            misses = 0
            if job.is_terminal:
                return job
            if deadline is not None and loop.time() >= deadline:
                raise APITimeoutError(
                    f"bulk job {job_id} still {job.status!r} after {s.job_timeout:g} s "
                    f"({job.processed}/{job.total_items} rows processed); its rows may "
                    "still be imported: sending them again is safe",
                    method="GET",
                    path=f"/batch-import/jobs/{job_id}",
                    sent=True,
                )

    async def _settle(self, job_id: str, job: BatchJob, rows: list[_Row]) -> list[Settled]:
        keys = [row.key for row in rows]
        if all_created(job, len(rows)):
            return settle_rows(job_id, job, keys, None)
        listing: BatchFailures | None = None
        error: BaseException | None = None
        for attempt in range(self._s.item_retries + 1):
            try:
                listing = await self._s.job_failures(
                    job_id, priority=Priority.BATCH, max_wait=self._s.max_wait
                )
                break
            except Exception as exc:
                error = exc
                if attempt == self._s.item_retries or not _transient(exc):
                    break
        return settle_rows(job_id, job, keys, listing, listing_error=error)

    # -- via="auto" after a 403/404 ---------------------------------------------------

    async def _fallback_one(self, item: Any, *, check: bool = False) -> Any:
        fallback = self._s.fallback
        assert fallback is not None
        if check:
            self._s.body_of(item)  # refuse an unreadable row as the bulk path would
        async with self._fallback_slots:
            return await fallback(item)

    async def _fallback_row(self, row: _Row) -> None:
        try:
            result = await self._fallback_one(row.item)
        except Exception as exc:
            _resolve(row.future, exc)
        else:
            _resolve(row.future, result)


def unavailable(exc: PermissionDeniedError | NotFoundError) -> BulkUnavailableError:
    why = (
        "the key lacks entities:bulk_import or entities:create"
        if exc.status == 403
        else "the organization's 'bulk automatic entity import' feature flag is off"
    )
    return BulkUnavailableError(
        f"POST /entities/automatic/bulk answered {exc.status}: {why} (gu1-api.md §2.2). "
        'Ingest with via="upsert" instead, or via="auto" to fall back to it by itself.',
        status=exc.status,
    )
