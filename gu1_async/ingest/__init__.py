"""Batch ingestion: every item sent once, at the pace the quota allows, and accounted for.

`Ingestion` is the engine (bounded concurrency over any iterable or async iterable,
outcomes streamed, a report that adds up); `ingest_entities`, `ingest_transactions` and
`ingest_events` build it from a resource's methods, which is what `client.entities.ingest`
and its siblings call. `ingest_entities_bulk` (and `ingest_entities_auto`) send entity rows
as bulk jobs instead, through the same engine (`BulkIngestion`).
"""

from __future__ import annotations

from ._bulk import (
    DEFAULT_BULK_CONCURRENCY,
    DEFAULT_BULK_SIZE,
    DEFAULT_POLL_INTERVAL,
    BulkIngestion,
    EntityBulkIngestOptions,
    ingest_entities_auto,
    ingest_entities_bulk,
)
from ._bulk_settle import BulkRowError, BulkRowResult, BulkUnavailableError
from ._engine import DEFAULT_CONCURRENCY, FATAL_ERRORS, Ingestion, ingest
from ._report import IngestReport, Outcome
from ._senders import (
    EntityIngestOptions,
    EventIngestOptions,
    IngestOptions,
    MissingFieldError,
    TransactionIngestOptions,
    entity_sender,
    event_sender,
    ingest_entities,
    ingest_events,
    ingest_transactions,
    to_body,
    transaction_sender,
)

__all__ = [
    "DEFAULT_BULK_CONCURRENCY",
    "DEFAULT_BULK_SIZE",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_POLL_INTERVAL",
    "FATAL_ERRORS",
    "BulkIngestion",
    "BulkRowError",
    "BulkRowResult",
    "BulkUnavailableError",
    "EntityBulkIngestOptions",
    "EntityIngestOptions",
    "EventIngestOptions",
    "IngestOptions",
    "IngestReport",
    "Ingestion",
    "MissingFieldError",
    "Outcome",
    "TransactionIngestOptions",
    "entity_sender",
    "event_sender",
    "ingest",
    "ingest_entities",
    "ingest_entities_auto",
    "ingest_entities_bulk",
    "ingest_events",
    "ingest_transactions",
    "to_body",
    "transaction_sender",
]
