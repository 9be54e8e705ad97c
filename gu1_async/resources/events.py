"""`client.events`: user events (gu1-api.md §2.4)."""

from __future__ import annotations

import builtins
import datetime as _dt
from typing import TYPE_CHECKING, Any

from gu1_async._serde import compact, query, structure, unwrap_list
from gu1_async.ingest import Ingestion, ingest_events
from gu1_async.models import EventStat, UserEvent, UserEventCreateResult, UserEventType
from gu1_async.pagination import AsyncPaginator
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources._params import Body

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Iterable

    from typing_extensions import Unpack

    from gu1_async._types import PageOptions, RequestOptions
    from gu1_async.ingest import EventIngestOptions

__all__ = ["Events"]

_MAX_PAGE = 1000


class Events(Resource):
    """Record user events (logins, transfers, profile changes...) and query them."""

    @endpoint("POST", "/events/user", operation="events.create", doc=39)
    async def create(
        self,
        *,
        event_type: UserEventType,
        user_id: str | None = None,
        entity_id: str | None = None,
        entity_external_id: str | None = None,
        tax_id: str | None = None,
        timestamp: _dt.datetime | str | None = None,
        event_date: _dt.date | str | None = None,
        device_id: str | None = None,
        device_details: Body | None = None,
        ip_address: str | None = None,
        country: str | None = None,
        is_vpn: bool | None = None,
        is_proxy: bool | None = None,
        is_new_device: bool | None = None,
        failed_attempts_count: int | None = None,
        destination_account_id: str | None = None,
        destination_cuit: str | None = None,
        previous_value: str | None = None,
        metadata: Body | None = None,
        user_agent: str | None = None,
        with_auto_entity: bool | None = None,
        extra_body: Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> UserEventCreateResult:
        """Record one event; name the entity by at least one of id, external id, tax id.

        `with_auto_entity=True` lets gu1 create the entity when the tax id is unknown.
        """
        body = compact(
            {
                "eventType": event_type,
                "userId": user_id,
                "entityId": entity_id,
                "entityExternalId": entity_external_id,
                "taxId": tax_id,
                "timestamp": timestamp,
                "eventDate": event_date,
                "deviceId": device_id,
                "deviceDetails": device_details,
                "ipAddress": ip_address,
                "country": country,
                "isVpn": is_vpn,
                "isProxy": is_proxy,
                "isNewDevice": is_new_device,
                "failedAttemptsCount": failed_attempts_count,
                "destinationAccountId": destination_account_id,
                "destinationCuit": destination_cuit,
                "previousValue": previous_value,
                "metadata": metadata,
                "userAgent": user_agent,
            },
            extra_body,
        )
        params = query({"withAutoEntity": with_auto_entity})
        data = await self._request("events.create", params=params, json=body, **options)
        return UserEventCreateResult.from_api(data)

    @endpoint("GET", "/events/user", operation="events.list", doc=40, paginated="offset")
    def list(
        self,
        *,
        user_id: str | None = None,
        entity_id: str | None = None,
        entity_external_id: str | None = None,
        tax_id: str | None = None,
        event_type: UserEventType | None = None,
        start_date: _dt.datetime | str | None = None,
        end_date: _dt.datetime | str | None = None,
        extra_params: Body | None = None,
        **options: Unpack[PageOptions],
    ) -> AsyncPaginator[UserEvent]:
        """Iterate events, newest first (entity identifiers are OR-ed by gu1).

        Args:
            page_size: events per request (gu1 allows at most 1000, the default here).
            limit: stop after this many events in total.
        """
        params = query(
            {
                "user_id": user_id,
                "entity_id": entity_id,
                "entity_external_id": entity_external_id,
                "tax_id": tax_id,
                "event_type": event_type,
                "start_date": start_date,
                "end_date": end_date,
            },
            extra_params,
        )
        return self._paginate(
            "events.list",
            UserEvent,
            "events",
            params=params,
            max_page_size=_MAX_PAGE,
            **options,
        )

    @endpoint(
        "GET",
        "/events/user/entity/{entity_id}",
        operation="events.list_by_entity",
        doc=41,
        paginated="offset",
    )
    def list_by_entity(
        self,
        entity_id: str,
        **options: Unpack[PageOptions],
    ) -> AsyncPaginator[UserEvent]:
        """Iterate all events of one entity (matched by id, external id and tax id)."""
        return self._paginate(
            "events.list_by_entity",
            UserEvent,
            "events",
            {"entity_id": entity_id},
            params={},
            max_page_size=_MAX_PAGE,
            **options,
        )

    @endpoint(
        "GET",
        "/events/user/stats",
        operation="events.stats",
        doc=42,
        note='403 reads "Insufficient permissions to read events" (exact string undocumented).',
    )
    async def stats(
        self, *, user_id: str | None = None, **options: Unpack[RequestOptions]
    ) -> builtins.list[EventStat]:
        """Counts per event type, optionally for one user."""
        data = await self._request("events.stats", params=query({"user_id": user_id}), **options)
        return structure(unwrap_list(data, "stats"), builtins.list[EventStat])

    def ingest(
        self, items: Iterable[Any] | AsyncIterable[Any], **options: Unpack[EventIngestOptions]
    ) -> Ingestion[Any, UserEventCreateResult]:
        """Record every row once at BATCH priority (events cannot be de-duplicated)."""
        return ingest_events(self.create, items, **options)
