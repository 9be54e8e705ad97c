"""One ingestion run for the CLI: rows -> senders on the client's resources -> a report.

`gu1 ingest` (`_ingest.py`) and `gu1 demo` call `run_ingestion`; the click command around
it (options, files, checkpoint, summary) lives in `_ingest.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rich.console import Console

from .. import Gu1Client
from ..ingest import (
    DEFAULT_BULK_SIZE,
    DEFAULT_CONCURRENCY,
    DEFAULT_POLL_INTERVAL,
    Ingestion,
    IngestReport,
    entity_sender,
    event_sender,
    ingest_entities_auto,
    ingest_entities_bulk,
    to_body,
    transaction_sender,
)
from ..resources import Entities, Events, Transactions
from ._checkpoint import Checkpoint
from ._common import (
    route_signals,
)
from ._progress import IngestProgress
from ._rejects import Rejects
from ._rows import (
    BadRow,
    Row,
)
from ._shard import ShardedRows

__all__ = ["KINDS", "VIAS", "run_ingestion", "sender_for"]

KINDS = ("entities", "transactions", "events")
VIAS = ("upsert", "bulk", "auto")
SendOne = Callable[[Any], Awaitable[Any]]


def sender_for(client: Gu1Client, kind: str, *, max_wait: float | None) -> SendOne:
    """The `send_one` of `kind`, built on the client's resources; unreadable rows fail."""
    send = _resource_sender(client, kind, max_wait)

    async def send_one(row: Row | BadRow) -> Any:
        if isinstance(row, BadRow):
            raise row.error  # reported and written to the rejects file; nothing sent
        return await send(row)

    return send_one


def _resource_sender(client: Gu1Client, kind: str, max_wait: float | None) -> SendOne:
    # `client.<area>` once Gu1Client attaches its resources; until then, the same class on
    # the client's requester.
    requester = client._requester
    if kind == "entities":
        entities: Entities = getattr(client, "entities", None) or Entities(requester)
        return entity_sender(entities.upsert, max_wait=max_wait)
    if kind == "transactions":
        txs: Transactions = getattr(client, "transactions", None) or Transactions(requester)
        return transaction_sender(txs.create, txs.get_by_external_id, max_wait=max_wait)
    events: Events = getattr(client, "events", None) or Events(requester)
    return event_sender(events.create, max_wait=max_wait)


def _row_body(row: Row | BadRow) -> dict[str, Any]:
    if isinstance(row, BadRow):
        raise row.error  # reported and written to the rejects file; nothing sent
    return to_body(row)


def _bulk_run(
    client: Gu1Client,
    rows: Iterable[Row | BadRow],
    via: str,
    *,
    concurrency: int,
    bulk_size: int,
    poll_interval: float,
    skip: Callable[[int], bool] | None,
    max_wait: float | None,
) -> Ingestion[Any, Any]:
    bulk = client.bulk_imports
    endpoints = (bulk.import_entities, bulk.get_job, bulk.entity_job_failures)
    options: dict[str, Any] = {
        "concurrency": concurrency,
        "bulk_size": bulk_size,
        "poll_interval": poll_interval,
        "skip": skip,
        "max_wait": max_wait,
    }
    if via == "auto":
        upsert = client.entities.upsert
        return ingest_entities_auto(*endpoints, upsert, rows, body_of=_row_body, **options)
    return ingest_entities_bulk(*endpoints, rows, body_of=_row_body, **options)


async def run_ingestion(
    client: Gu1Client,
    kind: str,
    rows: Iterable[Row | BadRow],
    *,
    total: int | None,
    concurrency: int = DEFAULT_CONCURRENCY,
    checkpoint: Checkpoint | None = None,
    rejects: Rejects | None = None,
    progress: bool = True,
    console: Console | None = None,
    max_wait: float | None = None,
    description: str = "ingest",
    via: str = "upsert",
    bulk_size: int = DEFAULT_BULK_SIZE,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    first_errors: dict[str, BaseException] | None = None,
) -> tuple[IngestReport, int]:
    """Run one ingestion with signals, checkpoint, rejects and progress; return the report
    and how many Ctrl-Cs arrived. `first_errors` collects the first error of each class.

    Raises:
        BulkUnavailableError: `via="bulk"` and the account has no bulk import.
    """
    skip: Callable[[int], bool] | None = checkpoint.is_done if checkpoint is not None else None
    # A shard's rows are numbered within the shard; rejects name the row's number in the file.
    numbers = rows if isinstance(rows, ShardedRows) else None
    if numbers is not None and skip is not None:
        skip = numbers.skipping(skip)
    run: Ingestion[Any, Any]
    rows_per_request = 1.0
    if via == "upsert":
        run = Ingestion(
            rows, sender_for(client, kind, max_wait=max_wait), concurrency=concurrency, skip=skip
        )
    else:
        run = _bulk_run(
            client,
            rows,
            via,
            concurrency=concurrency,
            bulk_size=bulk_size,
            poll_interval=poll_interval,
            skip=skip,
            max_wait=max_wait,
        )
        # An estimate for the ETA: a submit, a couple of polls and a listing per job.
        rows_per_request = bulk_size / 4
    console = console or Console(stderr=True)
    interrupts = 0

    def on_interrupt() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            run.stop("interrupted")
            console.print(
                "[yellow]Ctrl-C: finishing the rows in flight, then writing the checkpoint "
                "(Ctrl-C again to abort at once)"
            )
        elif not run.report().in_flight:
            pass  # the run is over: the summary and checkpoint are being written
        else:
            run.abort("aborted")
            console.print("[red]Ctrl-C again: abandoning the rows in flight")

    with (
        route_signals(on_interrupt),
        IngestProgress(
            run,
            client,
            total=total,
            description=description,
            console=console,
            enabled=progress,
            rows_per_request=rows_per_request,
        ),
    ):
        async with run:
            async for outcome in run:
                number = numbers.number_of(outcome.index) if numbers else outcome.index
                if not outcome.ok:
                    assert outcome.error is not None
                    if rejects is not None:
                        rejects.write(number, outcome.item, outcome.error)
                    if first_errors is not None:
                        first_errors.setdefault(type(outcome.error).__name__, outcome.error)
                if checkpoint is not None:
                    checkpoint.record(outcome.index)
    return run.report(), interrupts
