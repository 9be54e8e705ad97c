"""client.events, client.devices, client.kyc: request shape and decoding."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aioresponses import aioresponses

from gu1_async.models import Device, EventStat, KycValidation, UserEvent, UserEventCreateResult

from .harness import Api, Case, run_case

EVENT = {
    "id": "evt-1",
    "eventType": "LOGIN_FAILED",
    "userId": "u-1",
    "entityId": "ent-1",
    "timestamp": "2025-01-07T10:00:00.123456789Z",
    "isVpn": True,
}
DEVICE = {
    "id": "dev-1",
    "deviceId": "abc",
    "platform": "ios",
    "isEmulator": False,
    "lastSeenAt": "2025-01-07T10:00:00Z",
}
VALIDATION = {
    "id": "kyc-1",
    "entityId": "ent-1",
    "status": "pending",
    "providerSessionUrl": "https://verify.example/s/1",
    "isCurrent": True,
    "expiresAt": "2025-01-14T10:00:00Z",
}
ONE_PAGE = {"total": 1, "hasMore": False}


def _events(r: Any) -> bool:
    return (
        [e.id for e in r] == ["evt-1"]
        and isinstance(r[0], UserEvent)
        and r[0].is_vpn is True
        # 9 fraction digits are read (truncated to microseconds), not rejected.
        and r[0].timestamp == dt.datetime(2025, 1, 7, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)
    )


def _validation(status: str = "pending") -> Any:
    return lambda r: (
        isinstance(r, KycValidation)
        and r.id == "kyc-1"
        and r.status == status
        and r.provider_session_url == "https://verify.example/s/1"
    )


CASES = [
    Case(
        id="events.create",
        call=lambda api: api.events.create(
            event_type="LOGIN_FAILED",
            user_id="u-1",
            tax_id="20-1",
            ip_address="203.0.113.9",
            failed_attempts_count=3,
            with_auto_entity=True,
        ),
        method="POST",
        path="/events/user",
        query={"withAutoEntity": "true"},
        json={
            "eventType": "LOGIN_FAILED",
            "userId": "u-1",
            "taxId": "20-1",
            "ipAddress": "203.0.113.9",
            "failedAttemptsCount": 3,
        },
        status=201,
        response={"success": True, "event": EVENT, "entity": {"id": "ent-1", "wasCreated": True}},
        check=lambda r: (
            isinstance(r, UserEventCreateResult)
            and r.event is not None
            and r.event.event_type == "LOGIN_FAILED"
            and r.entity is not None
            and r.entity.was_created is True
        ),
    ),
    Case(
        id="events.list",
        call=lambda api: api.events.list(
            user_id="u-1", event_type="LOGIN_FAILED", start_date="2025-01-01T00:00:00Z"
        ),
        method="GET",
        path="/events/user",
        query={
            "user_id": "u-1",
            "event_type": "LOGIN_FAILED",
            "start_date": "2025-01-01T00:00:00Z",
            "limit": "1000",
            "offset": "0",
        },
        response={"success": True, "events": [EVENT], "pagination": ONE_PAGE},
        check=_events,
    ),
    Case(
        id="events.list_by_entity",
        call=lambda api: api.events.list_by_entity("ent-1", page_size=100),
        method="GET",
        path="/events/user/entity/ent-1",
        query={"limit": "100", "offset": "0"},
        response={
            "events": [EVENT],
            "pagination": ONE_PAGE,
            "entity": {"id": "ent-1", "external_id": "c-1"},
        },
        check=_events,
    ),
    Case(
        id="events.stats",
        call=lambda api: api.events.stats(user_id="u-1"),
        method="GET",
        path="/events/user/stats",
        query={"user_id": "u-1"},
        response={
            "success": True,
            "stats": [
                {
                    "event_type": "LOGIN_FAILED",
                    "count": 7,
                    "last_occurrence": "2025-01-07T10:00:00Z",
                }
            ],
        },
        check=lambda r: (
            r
            == [
                EventStat(
                    event_type="LOGIN_FAILED",
                    count=7,
                    last_occurrence=dt.datetime(2025, 1, 7, 10, tzinfo=dt.timezone.utc),
                )
            ]
        ),
    ),
    Case(
        id="devices.register",
        call=lambda api: api.devices.register(
            "ent-1", device_id="abc", platform="ios", is_rooted=False, latitude=-34.6
        ),
        method="POST",
        path="/devices/entity/ent-1",
        json={"deviceId": "abc", "platform": "ios", "isRooted": False, "latitude": -34.6},
        status=201,
        response={"success": True, "device": DEVICE},
        check=lambda r: isinstance(r, Device) and r.device_id == "abc" and r.is_emulator is False,
    ),
    Case(
        id="devices.list",
        call=lambda api: api.devices.list("ent-1"),
        method="GET",
        path="/devices/entity/ent-1",
        query={"limit": "1000", "offset": "0"},
        response={"success": True, "devices": [DEVICE], "pagination": ONE_PAGE},
        check=lambda r: [d.platform for d in r] == ["ios"],
    ),
    Case(
        id="kyc.create",
        call=lambda api: api.kyc.create(entity_id="ent-1", double_check_renaper=True),
        method="POST",
        path="/api/kyc/validations",
        json={
            "entityId": "ent-1",
            "integrationCode": "global_gueno_validation_kyc",
            "doubleCheckRenaper": True,
        },
        status=201,
        response=VALIDATION,
        check=_validation(),
    ),
    Case(
        id="kyc.get",
        call=lambda api: api.kyc.get("kyc-1"),
        method="GET",
        path="/api/kyc/validations/kyc-1",
        response={"success": True, "validation": VALIDATION},
        check=_validation(),
    ),
    Case(
        id="kyc.list_for_entity",
        call=lambda api: api.kyc.list_for_entity("ent-1", status="approved"),
        method="GET",
        path="/api/kyc/entities/ent-1/validations",
        query={"status": "approved", "page": "1", "limit": "100"},
        response={"validations": [VALIDATION], "total": 1, "page": 1, "limit": 100},
        check=lambda r: [v.id for v in r] == ["kyc-1"],
    ),
    Case(
        id="kyc.get_current",
        call=lambda api: api.kyc.get_current("ent-1"),
        method="GET",
        path="/api/kyc/entities/ent-1/current",
        response=VALIDATION,
        check=_validation(),
    ),
    Case(
        id="kyc.cancel",
        call=lambda api: api.kyc.cancel("kyc-1", reason="customer asked"),
        method="DELETE",
        path="/api/kyc/validations/kyc-1/cancel",
        json={"reason": "customer asked"},
        response={**VALIDATION, "status": "cancelled"},
        check=_validation("cancelled"),
    ),
    Case(
        id="kyc.approve",
        call=lambda api: api.kyc.approve("kyc-1", reason="documents verified"),
        method="POST",
        path="/api/kyc/validations/kyc-1/approve",
        json={"reason": "documents verified"},
        response={**VALIDATION, "status": "approved"},
        check=lambda r: _validation("approved")(r) and r.is_final,
    ),
    Case(
        id="kyc.reject",
        call=lambda api: api.kyc.reject("kyc-1", reason="document mismatch"),
        method="POST",
        path="/api/kyc/validations/kyc-1/reject",
        json={"reason": "document mismatch"},
        response={**VALIDATION, "status": "rejected"},
        check=_validation("rejected"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_events_devices_kyc(case: Case, api: Api, mock_api: aioresponses) -> None:
    await run_case(case, api, mock_api)
