"""`send_one` for each kind of item, built from a resource's own methods.

Each builder turns a row (a dict in gu1's camelCase create shape, or a model) into one
call of the resource method at `Priority.BATCH`, and makes that call as idempotent as
gu1 allows:

- **entities** go through `PUT /entities/upsert`, which gu1 keys by `externalId`. A PUT
  whose response was lost is simply sent again (here and in the requester): the second
  one updates the entity the first created. Rows without `externalId` are refused,
  because upsert would then match by tax id at best, and a retry could create a twin.
- **transactions** are `POST /transactions`, keyed by `externalId`, and gu1 answers 409
  to a second one. A POST whose answer was lost (connection dropped, 5xx) is sent again,
  and a 409 then means "the first one landed": the stored transaction is fetched and the
  item succeeds. A 409 on a first attempt (e.g. re-sent after a crash) is read the same
  way.
- **events** (`POST /events/user`) have no key gu1 could de-duplicate on, so they are
  sent at most once per run: a lost answer is a reported failure, never a silent twin.

The resources pass their bound methods in, so this module never imports them.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import attrs

from gu1_async._errors import (
    APIConnectionError,
    ConfigurationError,
    ConflictError,
    RateLimitError,
    ServerError,
)
from gu1_async._serde import to_camel
from gu1_async._types import Priority
from gu1_async.models import TransactionCreateResult, UpsertResult, UserEventCreateResult

from ._engine import DEFAULT_CONCURRENCY, Ingestion

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "EntityIngestOptions",
    "EventIngestOptions",
    "IngestOptions",
    "MissingFieldError",
    "TransactionIngestOptions",
    "entity_sender",
    "event_sender",
    "ingest_entities",
    "ingest_events",
    "ingest_transactions",
    "to_body",
    "transaction_sender",
]

R = TypeVar("R")
Items = Iterable[Any] | AsyncIterable[Any]
_Method = Callable[..., Awaitable[Any]]
DEFAULT_ITEM_RETRIES = 2


class MissingFieldError(ConfigurationError):
    """An input row lacks a field its kind needs (nothing was sent for it)."""


def to_body(item: Any) -> dict[str, Any]:
    """A row as gu1's camelCase JSON object: dicts as given, models by their wire names.

    Raises:
        ConfigurationError: the item is neither a mapping nor an attrs model.
    """
    if isinstance(item, Mapping):
        return dict(item)
    if attrs.has(type(item)):
        body: dict[str, Any] = {}
        for field in attrs.fields(type(item)):
            if field.name in ("extra", "raw"):
                continue
            value = getattr(item, field.name)
            if value is not None:
                body[field.metadata.get("wire", to_camel(field.name))] = _plain(value)
        return body
    raise ConfigurationError(f"an item must be a dict or a gu1 model, got {type(item).__name__}")


def _plain(value: Any) -> Any:
    if attrs.has(type(value)):
        return to_body(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _transient(exc: Exception) -> bool:
    """Worth another try: the answer was lost, a 5xx, or a 429 after the requester's tries."""
    return isinstance(exc, (APIConnectionError, ServerError, RateLimitError))


async def _with_retries(send: Callable[[], Awaitable[R]], item_retries: int) -> R:
    """`send()`, and again after a transient failure, at most `item_retries` more times."""
    for attempt in range(item_retries + 1):
        try:
            return await send()
        except Exception as exc:
            if attempt == item_retries or not _transient(exc):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _require(body: Mapping[str, Any], name: str, kind: str) -> Any:
    value = body.get(name)
    if value is None or value == "":
        raise MissingFieldError(f"{kind} row has no {name!r}; nothing was sent")
    return value


def entity_sender(
    upsert: _Method,
    *,
    item_retries: int = DEFAULT_ITEM_RETRIES,
    max_wait: float | None = None,
    conflict_resolution: str | None = None,
    deduplication_strategy: str | None = None,
) -> Callable[[Any], Awaitable[UpsertResult]]:
    """`send_one` for entity rows: upsert keyed by `externalId`, at BATCH priority.

    Args:
        upsert: the `Entities.upsert` method.
        item_retries: extra whole-item attempts after the requester's own retries gave up
            on a transient failure (safe: upsert is idempotent).
        max_wait: longest governor wait per request, seconds (None: as long as needed).
        conflict_resolution: passed to upsert.
        deduplication_strategy: passed to upsert.
    """

    async def send_one(item: Any) -> UpsertResult:
        body = to_body(item)
        _require(body, "externalId", "entity")
        result: UpsertResult = await _with_retries(
            lambda: upsert(
                entity=body,
                conflict_resolution=conflict_resolution,
                deduplication_strategy=deduplication_strategy,
                priority=Priority.BATCH,
                max_wait=max_wait,
            ),
            item_retries,
        )
        return result

    return send_one


def transaction_sender(
    create: _Method,
    get_by_external_id: _Method,
    *,
    item_retries: int = DEFAULT_ITEM_RETRIES,
    max_wait: float | None = None,
    existing_ok: bool = True,
) -> Callable[[Any], Awaitable[TransactionCreateResult]]:
    """`send_one` for transaction rows (`externalId`, `type`, `amount`, `currency` required).

    Args:
        create: the `Transactions.create` method.
        get_by_external_id: the `Transactions.get_by_external_id` method.
        item_retries: re-sends after a lost answer or a 5xx.
        max_wait: longest governor wait per request, seconds.
        existing_ok: a 409 (the externalId is already stored) succeeds with the stored
            transaction, its `extra["alreadyExisted"]` set; False reports it as a failure.
    """

    async def fetch_existing(external_id: str) -> TransactionCreateResult:
        detail = await get_by_external_id(external_id, priority=Priority.BATCH, max_wait=max_wait)
        stored = detail.raw.get("transaction") if detail.raw else None
        return TransactionCreateResult.from_api({"transaction": stored, "alreadyExisted": True})

    async def send_one(item: Any) -> TransactionCreateResult:
        body = to_body(item)
        required = {
            name: _require(body, wire, "transaction")
            for name, wire in (
                ("external_id", "externalId"),
                ("type", "type"),
                ("amount", "amount"),
                ("currency", "currency"),
            )
        }
        rest = {
            k: v for k, v in body.items() if k not in ("externalId", "type", "amount", "currency")
        }

        async def create_once() -> TransactionCreateResult:
            try:
                result: TransactionCreateResult = await create(
                    **required, extra_body=rest, priority=Priority.BATCH, max_wait=max_wait
                )
                return result
            except ConflictError:
                if not existing_ok:
                    raise
                return await fetch_existing(required["external_id"])

        return await _with_retries(create_once, item_retries)

    return send_one


def event_sender(
    create: _Method,
    *,
    max_wait: float | None = None,
    with_auto_entity: bool | None = None,
) -> Callable[[Any], Awaitable[UserEventCreateResult]]:
    """`send_one` for user-event rows (`eventType` required), sent once each.

    Args:
        create: the `Events.create` method.
        max_wait: longest governor wait per request, seconds.
        with_auto_entity: let gu1 create unknown entities (`?withAutoEntity=true`).
    """

    async def send_one(item: Any) -> UserEventCreateResult:
        body = to_body(item)
        event_type = _require(body, "eventType", "event")
        rest = {k: v for k, v in body.items() if k != "eventType"}
        result: UserEventCreateResult = await create(
            event_type=event_type,
            with_auto_entity=with_auto_entity,
            extra_body=rest,
            priority=Priority.BATCH,
            max_wait=max_wait,
        )
        return result

    return send_one


class IngestOptions(TypedDict, total=False):
    """Options every `ingest` accepts."""

    concurrency: int
    """Most rows in flight at once (default 16)."""
    skip: Callable[[int], bool]
    """`skip(index)` true leaves the row out, counted as skipped (resuming)."""
    max_wait: float | None
    """Longest governor wait per request, seconds (default: as long as the quota needs)."""


class EntityIngestOptions(IngestOptions, total=False):
    """Options of `client.entities.ingest`."""

    item_retries: int
    conflict_resolution: str | None
    deduplication_strategy: str | None


class TransactionIngestOptions(IngestOptions, total=False):
    """Options of `client.transactions.ingest`."""

    item_retries: int
    existing_ok: bool


class EventIngestOptions(IngestOptions, total=False):
    """Options of `client.events.ingest`."""

    with_auto_entity: bool | None


def entity_sender_for(
    upsert: _Method, options: Mapping[str, Any]
) -> Callable[[Any], Awaitable[UpsertResult]]:
    """`entity_sender` set up from an ingest call's options (upsert and bulk fallback)."""
    return entity_sender(
        upsert,
        item_retries=options.get("item_retries", DEFAULT_ITEM_RETRIES),
        max_wait=options.get("max_wait"),
        conflict_resolution=options.get("conflict_resolution"),
        deduplication_strategy=options.get("deduplication_strategy"),
    )


def ingest_entities(
    upsert: _Method, items: Items, **options: Unpack[EntityIngestOptions]
) -> Ingestion[Any, UpsertResult]:
    """Upsert every entity row (dicts in the create body's camelCase shape, or models).

    See `entity_sender` for what is sent and `IngestOptions` for the options.
    """
    return _ingestion(items, entity_sender_for(upsert, options), options)


def ingest_transactions(
    create: _Method,
    get_by_external_id: _Method,
    items: Items,
    **options: Unpack[TransactionIngestOptions],
) -> Ingestion[Any, TransactionCreateResult]:
    """Create every transaction row, de-duplicated by `externalId` (see `transaction_sender`)."""
    send_one = transaction_sender(
        create,
        get_by_external_id,
        item_retries=options.get("item_retries", DEFAULT_ITEM_RETRIES),
        max_wait=options.get("max_wait"),
        existing_ok=options.get("existing_ok", True),
    )
    return _ingestion(items, send_one, options)


def ingest_events(
    create: _Method, items: Items, **options: Unpack[EventIngestOptions]
) -> Ingestion[Any, UserEventCreateResult]:
    """Record every user-event row once (gu1 has no key to de-duplicate events on)."""
    send_one = event_sender(
        create,
        max_wait=options.get("max_wait"),
        with_auto_entity=options.get("with_auto_entity"),
    )
    return _ingestion(items, send_one, options)


def _ingestion(
    items: Items, send_one: Callable[[Any], Awaitable[R]], options: IngestOptions
) -> Ingestion[Any, R]:
    return Ingestion(
        items,
        send_one,
        concurrency=options.get("concurrency", DEFAULT_CONCURRENCY),
        skip=options.get("skip"),
    )
