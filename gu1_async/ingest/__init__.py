"""Batch ingestion: every item sent once, at the pace the quota allows, and accounted for.

`Ingestion` is the engine (bounded concurrency over any iterable or async iterable,
outcomes streamed, a report that adds up); `ingest_entities`, `ingest_transactions` and
`ingest_events` build it from a resource's methods, which is what `client.entities.ingest`
and its siblings call.
"""

from __future__ import annotations

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
    "DEFAULT_CONCURRENCY",
    "FATAL_ERRORS",
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
    "ingest_events",
    "ingest_transactions",
    "to_body",
    "transaction_sender",
]
