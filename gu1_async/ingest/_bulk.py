"""Entities through the bulk endpoint: rows grouped into jobs, each job followed to its end.

`client.entities.ingest(items, via="bulk")` sends rows as `POST /entities/automatic/bulk`
jobs of `bulk_size` rows (gu1-api.md §2.2), polls each job to a terminal status and reads
its failures and skips, so that every row still ends as its own `Outcome`.

It reuses the engine rather than being a second one: `BulkIngestion` is an `Ingestion`
whose `send_one` is the batcher's. The engine calls `send_one` as it takes each row, in
input order; the batcher adds the row to the open chunk and hands back a future that the
chunk's job resolves. Indexes, `skip(index)`, the report, stop and abort are therefore
the engine's, per row. The engine's bound becomes `concurrency * bulk_size` rows, so at
most `concurrency` chunks are held; a semaphore keeps at most `concurrency` jobs in flight.

A chunk goes out when it is full, when a row's tax id is already in it (one tax id per
chunk lets gu1's listing, which names rows by tax id, name exactly one row), when the input
ends, when the run stops, or (async inputs only, which may stall) after `linger` seconds.

**Why re-sending a chunk is safe.** gu1 has no idempotency key, so a submit whose answer
was lost (connection dropped, 5xx) may have started a job. It is sent again anyway: gu1
skips a row whose tax id the organization already has (`SKIPPED_DUPLICATE_TAX_ID`), and a
skip counts as success, because the entity is there. The rows the lost job created come
back as skips in the second job; none is created twice. The same holds for a resume after
a crash. The second job is the one whose listing decides the rows' outcomes.

**When the account has no bulk import.** The first chunk is submitted alone, and the
others wait for its answer. A 403 (the key lacks `entities:bulk_import` or
`entities:create`) or 404 (the organization's feature flag is off) then raises
`BulkUnavailableError` out of the iteration; with `via="auto"` every row of the run goes
through upsert instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from typing import TYPE_CHECKING, Any, TypeVar

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
from gu1_async.models import BatchFailures, BatchJob, UpsertResult

from ._bulk_settle import (
    BulkRowResult,
    BulkUnavailableError,
    Settled,
    all_created,
    settle_rows,
    tax_key,
)
from ._engine import DEFAULT_CONCURRENCY, FATAL_ERRORS, Ingestion
from ._report import Outcome
from ._senders import (
    DEFAULT_ITEM_RETRIES,
    IngestOptions,
    Items,
    MissingFieldError,
    _Method,
    entity_sender_for,
    to_body,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "DEFAULT_BULK_CONCURRENCY",
    "DEFAULT_BULK_SIZE",
    "DEFAULT_LINGER",
    "DEFAULT_POLL_INTERVAL",
    "BulkIngestion",
    "EntityBulkIngestOptions",
    "ingest_entities_auto",
    "ingest_entities_bulk",
]

R = TypeVar("R")

DEFAULT_BULK_SIZE = 500
"""Rows per bulk job."""
DEFAULT_BULK_CONCURRENCY = 4
"""Bulk jobs in flight at once."""
DEFAULT_POLL_INTERVAL = 2.0
"""Seconds between job polls (gu1 recommends 2-5 s)."""
DEFAULT_LINGER = 1.0
"""Seconds an async input may stall before a partly filled chunk goes out anyway."""


class EntityBulkIngestOptions(IngestOptions, total=False):
    """Options of `client.entities.ingest(items, via="bulk" | "auto")`.

    Here `concurrency` counts bulk jobs in flight (default 4), not rows.
    """

    bulk_size: int
    """Rows per job (default 500)."""
    import_mode: str | None
    """`automatic_enriched` (gu1's default) or `manual_no_enrichment`."""
    country: str | None
    """ISO-2 country for rows that name none."""
    bulk_options: Mapping[str, Any]
    """More keyword arguments of `client.bulk_imports.import_entities` (e.g. `depth`)."""
    poll_interval: float
    """Seconds between polls of a job (default 2)."""
    job_timeout: float | None
    """Fail a job's rows (as unconfirmed) when it runs longer than this (default: wait)."""
    item_retries: int
    """Re-sends of a chunk, or re-polls, after a transient failure (default 2)."""
    linger: float
    """Async inputs: seconds a partly filled chunk waits for more rows (default 1)."""
    conflict_resolution: str | None
    """`via="auto"` only: passed to upsert when it falls back."""
    deduplication_strategy: str | None
    """`via="auto"` only: passed to upsert when it falls back."""


def _transient(exc: BaseException) -> bool:
    """Worth sending again: the answer was lost, a 5xx, or a 429 after the requester's tries."""
    return isinstance(exc, (APIConnectionError, ServerError, RateLimitError))


@attrs.frozen
class _Settings:
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


class _Batcher:
    """Groups rows into chunks and runs one job per chunk; `send_one` is the engine's."""

    def __init__(self, settings: _Settings) -> None:
        self._s = settings
        self._open: list[_Row] = []
        self._keys: set[str] = set()
        self._opened = 0  # chunks opened so far: tells a linger timer its chunk is gone
        self._linger: asyncio.TimerHandle | None = None
        self._slots = asyncio.Semaphore(settings.jobs)
        self._fallback_slots = asyncio.Semaphore(DEFAULT_CONCURRENCY)
        self._probe: asyncio.Event | None = None  # set once the first submit is answered
        self._unavailable: BulkUnavailableError | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.lingering = False  # only async inputs can stall; set by BulkIngestion

    # -- what the engine calls -------------------------------------------------------

    def send_one(self, item: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        if self._unavailable is not None and self._s.fallback is not None:
            return loop.create_task(self._fallback_one(item, check=True))
        future: asyncio.Future[Any] = loop.create_future()
        if self._unavailable is not None:
            future.set_exception(self._unavailable)
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
        if self._unavailable is None:
            try:
                job_id = await self._submit(rows)
            except BulkUnavailableError as exc:
                self._unavailable = exc
                probe.set()  # the waiting chunks now fail (or fall back) without a request
            else:
                probe.set()  # the account has bulk import: the waiting chunks may go
                job = await self._poll(job_id)
                for row, outcome in zip(rows, await self._settle(job_id, job, rows), strict=True):
                    _resolve(row.future, outcome)
                return
        if self._s.fallback is None:
            for row in rows:
                _resolve(row.future, self._unavailable)
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
                raise _unavailable(exc) from exc
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


def _unavailable(exc: PermissionDeniedError | NotFoundError) -> BulkUnavailableError:
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


def _watch_sync(items: Iterable[Any], on_end: Callable[[], None]) -> Iterator[Any]:
    yield from items
    on_end()  # the input ran out: the last, partly filled chunk goes out now


async def _watch_async(items: AsyncIterable[Any], on_end: Callable[[], None]) -> AsyncIterator[Any]:
    async for item in items:
        yield item
    on_end()


class BulkIngestion(Ingestion[Any, R]):
    """An `Ingestion` whose rows go out as bulk jobs (see the module docstring).

    Iterate it, read `report()`, `stop()` and `abort()` it exactly like the upsert one:
    outcomes are per input row, with the input index. A row's outcome arrives when its
    job is terminal.

    Raises (from the iteration):
        BulkUnavailableError: the bulk endpoint answered 403/404 (not with `via="auto"`).
    """

    def __init__(
        self,
        items: Items,
        batcher: _Batcher,
        *,
        jobs: int,
        bulk_size: int,
        skip: Callable[[int], bool] | None = None,
    ) -> None:
        if jobs < 1 or bulk_size < 1:
            raise ValueError(
                f"concurrency and bulk_size must be at least 1, got {jobs}, {bulk_size}"
            )
        self._batcher = batcher
        watched: Items
        if isinstance(items, AsyncIterable):
            batcher.lingering = True
            watched = _watch_async(items, batcher.flush)
        else:
            watched = _watch_sync(items, batcher.flush)
        super().__init__(
            watched,
            batcher.send_one,
            concurrency=jobs * bulk_size,
            skip=skip,
            fatal=(*FATAL_ERRORS, BulkUnavailableError),
        )

    def stop(self, reason: str = "stopped") -> None:
        """Take no new rows; the open chunk goes out now and its job is still followed."""
        super().stop(reason)
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop: nothing is running that could send it
            return
        self._batcher.flush()

    async def aclose(self) -> None:
        """Abort, then cancel the jobs' tasks (the jobs themselves go on inside gu1)."""
        await super().aclose()
        await self._batcher.aclose()

    async def __anext__(self) -> Outcome[Any, R]:
        outcome = await super().__anext__()
        if isinstance(outcome.error, BulkUnavailableError):
            raise outcome.error
        return outcome


def _build(
    import_entities: _Method,
    get_job: _Method,
    job_failures: _Method,
    items: Items,
    fallback: Callable[[Any], Awaitable[Any]] | None,
    body_of: Callable[[Any], Mapping[str, Any]],
    options: EntityBulkIngestOptions,
) -> BulkIngestion[Any]:
    request: dict[str, Any] = dict(options.get("bulk_options") or {})
    for name in ("import_mode", "country"):
        if options.get(name) is not None:
            request[name] = options.get(name)
    poll_interval = options.get("poll_interval", DEFAULT_POLL_INTERVAL)
    if poll_interval <= 0:
        raise ValueError(f"poll_interval must be > 0, got {poll_interval}")
    settings = _Settings(
        import_entities=import_entities,
        get_job=get_job,
        job_failures=job_failures,
        bulk_size=options.get("bulk_size", DEFAULT_BULK_SIZE),
        jobs=options.get("concurrency", DEFAULT_BULK_CONCURRENCY),
        request=request,
        poll_interval=poll_interval,
        job_timeout=options.get("job_timeout"),
        item_retries=options.get("item_retries", DEFAULT_ITEM_RETRIES),
        max_wait=options.get("max_wait"),
        linger=options.get("linger", DEFAULT_LINGER),
        body_of=body_of,
        fallback=fallback,
    )
    return BulkIngestion(
        items,
        _Batcher(settings),
        jobs=settings.jobs,
        bulk_size=settings.bulk_size,
        skip=options.get("skip"),
    )


def ingest_entities_bulk(
    import_entities: _Method,
    get_job: _Method,
    job_failures: _Method,
    items: Items,
    *,
    body_of: Callable[[Any], Mapping[str, Any]] = to_body,
    **options: Unpack[EntityBulkIngestOptions],
) -> BulkIngestion[BulkRowResult]:
    """Import every entity row through bulk jobs (`via="bulk"`).

    Rows are dicts in the bulk endpoint's row shape (`taxId`, `type`, and optionally
    `externalId`, `suggestedName`, `countryCode`...) or models; a row without `taxId` or
    `type` fails with `MissingFieldError` and is not sent.

    Args:
        import_entities: the `BulkImports.import_entities` method.
        get_job: the `BulkImports.get_job` method.
        job_failures: the `BulkImports.entity_job_failures` method.
        items: any iterable or async iterable, read lazily.
        body_of: turns an item into its JSON row; raise to refuse the item.
        **options: see `EntityBulkIngestOptions`.
    """
    return _build(import_entities, get_job, job_failures, items, None, body_of, options)


def ingest_entities_auto(
    import_entities: _Method,
    get_job: _Method,
    job_failures: _Method,
    upsert: _Method,
    items: Items,
    *,
    body_of: Callable[[Any], Mapping[str, Any]] = to_body,
    **options: Unpack[EntityBulkIngestOptions],
) -> BulkIngestion[BulkRowResult | UpsertResult]:
    """Like `ingest_entities_bulk`, but every row goes through upsert (`entities.upsert`,
    keyed by `externalId`) when the bulk endpoint answers 403/404 (`via="auto"`)."""
    send_one = entity_sender_for(upsert, options)

    async def fallback(item: Any) -> UpsertResult:
        return await send_one(item)

    return _build(import_entities, get_job, job_failures, items, fallback, body_of, options)
