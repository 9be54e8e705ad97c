"""Verify and parse gu1 webhook deliveries, with no web framework involved.

gu1 signs each delivery with HMAC-SHA256 over the raw request body, keyed with the
webhook secret shown once in the dashboard, and sends the digest in the
`X-Webhook-Signature` header. The docs do not show how the digest is encoded, so this
module accepts every common encoding (an assumption, see `verify_signature`):

* lowercase or uppercase hex, 64 characters;
* the same with a `sha256=` prefix (what `sign_payload` produces, and what the SDK's fake
  gu1 server sends);
* base64, standard or URL-safe, with or without padding.

Always verify the bytes exactly as received: parsing the JSON and serialising it again
changes whitespace and key order, and the signature will not match.

Typical use, in any framework::

    event = construct_event(raw_body, headers.get(SIGNATURE_HEADER), secret)

`WebhookVerificationError` is re-exported here so handlers need only this module.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Final

import attrs

from gu1_async._errors import ConfigurationError, WebhookVerificationError
from gu1_async._webhook_signature import (
    SIGNATURE_HEADER,
    is_valid_signature,
    sign_payload,
    verify_signature,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "KYC_FINAL_EVENTS",
    "SIGNATURE_HEADER",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookVerificationError",
    "check_timestamp",
    "construct_event",
    "dedupe_key",
    "is_valid_signature",
    "parse_event",
    "sign_payload",
    "verify_signature",
]

DEFAULT_TOLERANCE: Final = 300.0
"""Seconds an envelope's `timestamp` may be from now (either way) unless told otherwise."""


class WebhookEventType:
    """The event types gu1 documents; `WebhookEvent.event` stays an open string.

    gu1 mixes dotted names (`kyc.validation_approved`) and snake_case names
    (`risk_analysis_entity_executed`), and says more types exist than it lists, so
    compare against these constants but expect values that are not here.
    """

    ENTITY_CREATED: Final = "entity.created"
    ENTITY_UPDATED: Final = "entity.updated"
    ENTITY_STATUS_CHANGED: Final = "entity.status_changed"
    ENTITY_DELETED: Final = "entity.deleted"  # announced as "coming soon"

    KYC_VALIDATION_CREATED: Final = "kyc.validation_created"
    KYC_VALIDATION_IN_PROGRESS: Final = "kyc.validation_in_progress"
    KYC_VALIDATION_IN_REVIEW: Final = "kyc.validation_in_review"
    KYC_VALIDATION_APPROVED: Final = "kyc.validation_approved"
    KYC_VALIDATION_REJECTED: Final = "kyc.validation_rejected"
    KYC_VALIDATION_ABANDONED: Final = "kyc.validation_abandoned"
    KYC_VALIDATION_EXPIRED: Final = "kyc.validation_expired"
    KYC_VALIDATION_CANCELLED: Final = "kyc.validation_cancelled"

    RULE_TRIGGERED: Final = "rule.triggered"

    RISK_ANALYSIS_ENTITY_EXECUTED: Final = "risk_analysis_entity_executed"
    RISK_ANALYSIS_TRANSACTION_EXECUTED: Final = "risk_analysis_transaction_executed"

    # Announced as "coming soon".
    TRANSACTION_CREATED: Final = "transaction.created"
    TRANSACTION_UPDATED: Final = "transaction.updated"
    TRANSACTION_FLAGGED: Final = "transaction.flagged"
    ALERT_CREATED: Final = "alert.created"
    ALERT_RESOLVED: Final = "alert.resolved"
    ALERT_STATUS_CHANGED: Final = "alert.status_changed"


KYC_FINAL_EVENTS: Final = frozenset(
    {
        WebhookEventType.KYC_VALIDATION_APPROVED,
        WebhookEventType.KYC_VALIDATION_REJECTED,
        WebhookEventType.KYC_VALIDATION_ABANDONED,
        WebhookEventType.KYC_VALIDATION_EXPIRED,
        WebhookEventType.KYC_VALIDATION_CANCELLED,
    }
)
"""KYC events after which the validation will not change again (`in_review` is not one)."""


@attrs.frozen
class WebhookEvent:
    """One webhook delivery, decoded from either envelope shape gu1 has used.

    The payload and the raw envelope are left out of the repr: KYC and entity payloads
    carry personal data that should not reach logs by accident.

    Attributes:
        event: The event type, e.g. `"kyc.validation_approved"`; see `WebhookEventType`.
        timestamp: When gu1 stamped the envelope (timezone-aware, UTC if gu1 sent no
            offset), or None if absent or unreadable.
        organization_id: The organization (environment) the event belongs to, if given.
        payload: The event data (`payload`, or `data` in the older `{type, data}` shape).
        raw: The whole decoded JSON body, for anything the fields above do not cover.
    """

    event: str
    timestamp: _dt.datetime | None
    organization_id: str | None
    payload: Mapping[str, Any] = attrs.field(repr=False, hash=False)
    raw: Mapping[str, Any] = attrs.field(repr=False, hash=False)


_ISO_FRACTION = re.compile(r"\.(\d+)")


def _parse_timestamp(value: Any) -> _dt.datetime | None:
    """Read gu1's envelope timestamp (ISO 8601, "Z" suffix) into an aware datetime."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        # Not seen in the docs; accept epoch seconds, or milliseconds (JavaScript style).
        seconds = value / 1000 if abs(value) >= 1e11 else value
        try:
            return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat takes only 3 or 6 fractional digits; pad or cut to 6.
    text = _ISO_FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_event(raw_body: bytes | str) -> WebhookEvent:
    """Decode a webhook body into a `WebhookEvent`, without checking its signature.

    Accepts the current envelope `{event, timestamp, organizationId, payload}` and the
    older `{type, data}` shape. Unknown event types and extra keys pass through.

    Raises:
        WebhookVerificationError: The body is not a JSON object, names no event type,
            or has a non-object payload.
    """
    try:
        document = json.loads(raw_body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise WebhookVerificationError("webhook body is not valid JSON") from exc
    if not isinstance(document, dict):
        raise WebhookVerificationError("webhook body is not a JSON object")

    event = document.get("event")
    if event is None:
        event = document.get("type")
    if not isinstance(event, str) or not event:
        raise WebhookVerificationError("webhook body names no event type ('event' or 'type')")

    payload = document["payload"] if "payload" in document else document.get("data")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise WebhookVerificationError("webhook payload is not a JSON object")

    return WebhookEvent(
        event=event,
        timestamp=_parse_timestamp(document.get("timestamp")),
        # Some examples omit the envelope field; the KYC payload row carries it too.
        organization_id=_optional_str(document.get("organizationId"))
        or _optional_str(payload.get("organizationId")),
        payload=payload,
        raw=document,
    )


def check_timestamp(event: WebhookEvent, tolerance: float, now: _dt.datetime | None = None) -> None:
    """Reject an event whose envelope `timestamp` is more than `tolerance` s from `now`.

    Raises:
        WebhookVerificationError: No readable timestamp, or too far from `now`.
        ConfigurationError: Negative tolerance, or a naive `now`.
    """
    if tolerance < 0:
        raise ConfigurationError("tolerance must be >= 0 seconds")
    if now is None:
        now = _dt.datetime.now(_dt.timezone.utc)
    elif now.tzinfo is None:
        raise ConfigurationError("now must be a timezone-aware datetime")
    if event.timestamp is None:
        raise WebhookVerificationError(
            "webhook has no readable timestamp, so its age cannot be checked "
            "(tolerance=None accepts such deliveries)"
        )
    skew = abs((now - event.timestamp).total_seconds())
    if skew > tolerance:
        raise WebhookVerificationError(
            f"webhook timestamp is {skew:.0f} s away from now, beyond the {tolerance:g} s "
            "tolerance (a replay, a clock out of sync, or a late retry: see `tolerance`)"
        )


def construct_event(
    raw_body: bytes,
    signature_header: str | None,
    secret: str | bytes,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: _dt.datetime | None = None,
) -> WebhookEvent:
    """Verify a delivery's signature, then parse it and check its age; what most handlers need.

    Args:
        raw_body: The request body exactly as received.
        signature_header: The value of the `X-Webhook-Signature` header (None if absent).
        secret: The webhook secret from the gu1 dashboard.
        tolerance: Reject envelopes whose `timestamp` is more than this many seconds from
            `now` (either way), or that have none, so a captured delivery cannot be
            replayed for ever (300 s, as Stripe does). The timestamp is inside the signed
            body. gu1 does not say whether a retry keeps the first attempt's timestamp:
            widen the window if late retries are refused; None turns the check off.
        now: The current time (timezone-aware); defaults to the system clock in UTC.

    Raises:
        WebhookVerificationError: Bad or missing signature, bad body, too old or no timestamp.
        ConfigurationError: Empty secret, negative tolerance, or naive `now`.
    """
    verify_signature(raw_body, signature_header, secret)
    event = parse_event(raw_body)
    if tolerance is not None:
        check_timestamp(event, tolerance, now)
    return event


# Where each documented payload keeps the id of the thing the event is about, most
# specific first: KYC rows use `id` (older pages `validationId`), rule events
# `evaluationId`, risk-analysis events `auditId`, entity events the nested `entity.id`.
_ID_KEYS: Final = ("id", "validationId", "evaluationId", "auditId", "transactionId", "entityId")
_NESTED_ID_KEYS: Final = ("entity", "transaction", "alert", "validation")


def _payload_id(payload: Mapping[str, Any]) -> str | None:
    for key in _ID_KEYS:
        value = payload.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
            return str(value)
    for key in _NESTED_ID_KEYS:
        nested = payload.get(key)
        if isinstance(nested, dict):
            value = nested.get("id")
            if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
                return str(value)
    return None


def dedupe_key(event: WebhookEvent) -> str:
    """A key that is equal for redeliveries of one event, to make handlers idempotent.

    gu1 documents no delivery id, so the key is the event type + the payload's id +
    the envelope timestamp. When the id or the timestamp is missing, a digest of the
    payload is added, so that two different events are never merged (processing a
    duplicate is safer than dropping a real event).
    """
    payload_id = _payload_id(event.payload)
    stamp = event.timestamp.astimezone(_dt.timezone.utc).isoformat() if event.timestamp else ""
    parts = [event.event, payload_id or "", stamp]
    if payload_id is None or event.timestamp is None:
        canonical = json.dumps(event.payload, sort_keys=True, separators=(",", ":"), default=str)
        parts.append(hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32])
    return "|".join(parts)
