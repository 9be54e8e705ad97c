"""User events (behavioural / fraud signals) and devices."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from gu1_async.models._base import Gu1Model, RulesExecutionSummary, personal

__all__ = [
    "Device",
    "DevicePlatform",
    "EventEntityRef",
    "EventStat",
    "UserEvent",
    "UserEventCreateResult",
    "UserEventType",
]

UserEventType = (
    Literal[
        "LOGIN_SUCCESS",
        "LOGIN_FAILED",
        "LOGOUT",
        "TRANSFER_SUCCESS",
        "TRANSFER_FAILED",
        "PROFILE_UPDATED",
        "PASSWORD_CHANGE",
    ]
    | str
)
DevicePlatform = Literal["android", "ios", "web"] | str


@attrs.frozen(kw_only=True, repr=False)
class UserEvent(Gu1Model):
    """One recorded user event."""

    id: str | None = None
    event_type: UserEventType | None = None
    user_id: str | None = None
    entity_id: str | None = None
    entity_external_id: str | None = None
    tax_id: str | None = personal()
    timestamp: _dt.datetime | None = None
    event_date: str | None = None
    device_id: str | None = None
    ip_address: str | None = personal()
    country: str | None = None
    is_vpn: bool | None = None
    is_proxy: bool | None = None
    metadata: Mapping[str, Any] | None = None
    created_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class EventEntityRef(Gu1Model):
    """The entity an event was attached to (`was_created` when gu1 auto-created it)."""

    id: str | None = None
    was_created: bool | None = None
    external_id: str | None = None
    tax_id: str | None = personal()
    name: str | None = personal()
    type: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class UserEventCreateResult(Gu1Model):
    """`POST /events/user`: the stored event, its entity and the rules outcome."""

    success: bool | None = None
    event: UserEvent | None = None
    entity: EventEntityRef | None = None
    rules_result: Mapping[str, Any] | None = None
    rules_execution_summary: RulesExecutionSummary | None = None


@attrs.frozen(kw_only=True, repr=False)
class EventStat(Gu1Model):
    """How often one event type occurred (gu1 sends these keys in snake_case)."""

    event_type: str | None = attrs.field(default=None, metadata={"wire": "event_type"})
    count: int | None = None
    last_occurrence: _dt.datetime | None = attrs.field(
        default=None, metadata={"wire": "last_occurrence"}
    )


@attrs.frozen(kw_only=True, repr=False)
class Device(Gu1Model):
    """A device seen for an entity (auto-registered from events, or registered by hand)."""

    id: str | None = None
    device_id: str | None = None
    external_id: str | None = None
    entity_id: str | None = None
    entity_external_id: str | None = None
    entity_tax_id: str | None = None
    device_name: str | None = None
    metadata: Mapping[str, Any] | None = None
    platform: DevicePlatform | None = None
    manufacturer: str | None = None
    model: str | None = None
    brand: str | None = None
    os_name: str | None = None
    os_version: str | None = None
    browser: str | None = None
    browser_version: str | None = None
    latitude: float | None = personal()
    longitude: float | None = personal()
    city: str | None = None
    region: str | None = None
    country: str | None = None
    country_code: str | None = None
    ip_address: str | None = personal()
    is_emulator: bool | None = None
    is_rooted: bool | None = None
    is_blocked: bool | None = None
    is_trusted: bool | None = None
    first_seen_at: _dt.datetime | None = None
    last_seen_at: _dt.datetime | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None
