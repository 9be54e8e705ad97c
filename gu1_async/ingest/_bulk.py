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

from gu1_async.models import UpsertResult

from ._batcher import Batcher, BulkSettings
from ._bulk_settle import (
    BulkRowResult,
    BulkUnavailableError,
)
from ._engine import FATAL_ERRORS, Ingestion
from ._report import Outcome
from ._senders import (
    DEFAULT_ITEM_RETRIES,
    IngestOptions,
    Items,
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
        batcher: Batcher,
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
    settings = BulkSettings(
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
        Batcher(settings),
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
