"""Webhook signature vectors, both envelope shapes, timestamps, tolerance and dedupe keys."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gu1_async._errors import ConfigurationError, Gu1Error, WebhookVerificationError
from gu1_async.webhooks import (
    DEFAULT_TOLERANCE,
    KYC_FINAL_EVENTS,
    SIGNATURE_HEADER,
    WebhookEvent,
    WebhookEventType,
    check_timestamp,
    construct_event,
    dedupe_key,
    is_valid_signature,
    parse_event,
    sign_payload,
    verify_signature,
)

SECRET = "whsec_test_not_a_real_secret"
UTC = dt.timezone.utc
BODY = json.dumps(
    {
        "event": "kyc.validation_approved",
        "timestamp": "2025-01-07T10:00:00.000Z",
        "organizationId": "org-1111",
        "payload": {"id": "val-1", "entityId": "ent-1", "status": "approved", "taxId": "TAX-999"},
    }
).encode()


def digest(body: bytes = BODY, secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


# --- signing -------------------------------------------------------------------------


def test_sign_payload_matches_a_published_hmac_sha256_vector() -> None:
    # The classic HMAC-SHA256 test vector (key "key", the quick brown fox).
    signed = sign_payload(b"The quick brown fox jumps over the lazy dog", "key")
    assert signed == "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"


def test_sign_payload_is_lowercase_hex_with_prefix_and_header_name_is_gu1s() -> None:
    signed = sign_payload(BODY, SECRET)
    assert signed == "sha256=" + digest().hex()
    assert SIGNATURE_HEADER == "X-Webhook-Signature"


def test_bytes_and_str_secrets_sign_the_same() -> None:
    assert sign_payload(BODY, SECRET.encode()) == sign_payload(BODY, SECRET)


# --- accepted encodings (the documented assumption) ----------------------------------


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(digest().hex(), id="lower-hex"),
        pytest.param(digest().hex().upper(), id="upper-hex"),
        pytest.param("sha256=" + digest().hex(), id="prefixed-hex"),
        pytest.param("SHA256=" + digest().hex().upper(), id="prefixed-upper"),
        pytest.param(base64.b64encode(digest()).decode(), id="base64"),
        pytest.param(base64.b64encode(digest()).decode().rstrip("="), id="base64-unpadded"),
        pytest.param(base64.urlsafe_b64encode(digest()).decode(), id="base64-urlsafe"),
        pytest.param("sha256=" + base64.b64encode(digest()).decode(), id="prefixed-base64"),
        pytest.param("  sha256=" + digest().hex() + "\n", id="surrounding-whitespace"),
    ],
)
def test_accepted_signature_encodings(header: str) -> None:
    verify_signature(BODY, header, SECRET)
    assert is_valid_signature(BODY, header, SECRET)


def test_bytearray_and_memoryview_bodies_are_accepted_at_runtime() -> None:
    # Typed as bytes, but some frameworks hand out other buffers; they verify the same.
    header = sign_payload(BODY, SECRET)
    verify_signature(bytearray(BODY), header, SECRET)  # type: ignore[arg-type]
    verify_signature(memoryview(BODY), header, SECRET)  # type: ignore[arg-type]


# --- rejections ----------------------------------------------------------------------


def test_wrong_secret_is_rejected() -> None:
    header = sign_payload(BODY, "whsec_test_other_secret")
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_signature(BODY, header, SECRET)


def test_tampered_body_is_rejected() -> None:
    header = sign_payload(BODY, SECRET)
    tampered = BODY.replace(b"approved", b"rejected", 1)
    assert tampered != BODY
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_signature(tampered, header, SECRET)


def test_reserialised_json_does_not_verify() -> None:
    # Why the raw body matters: same data, different bytes.
    header = sign_payload(BODY, SECRET)
    reserialised = json.dumps(json.loads(BODY), indent=2).encode()
    assert not is_valid_signature(reserialised, header, SECRET)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header_is_rejected(header: str | None) -> None:
    with pytest.raises(WebhookVerificationError, match="missing X-Webhook-Signature"):
        verify_signature(BODY, header, SECRET)
    assert not is_valid_signature(BODY, header, SECRET)


@pytest.mark.parametrize(
    "header",
    [
        "sha256=",
        "not a signature",
        digest().hex()[:63],
        digest().hex()[:40],
        base64.b64encode(digest()[:20]).decode(),
        digest().hex() + "00",
        "sha256=" + "g" * 64,
    ],
)
def test_malformed_header_is_rejected(header: str) -> None:
    with pytest.raises(WebhookVerificationError, match="not an HMAC-SHA256 digest"):
        verify_signature(BODY, header, SECRET)


def test_other_algorithm_prefix_is_rejected_by_name() -> None:
    header = "sha1=" + hashlib.sha1(BODY).hexdigest()
    with pytest.raises(WebhookVerificationError, match="'sha1'; only sha256"):
        verify_signature(BODY, header, SECRET)


def test_error_messages_never_contain_secret_or_expected_digest() -> None:
    expected = digest()
    forbidden = [
        SECRET,
        expected.hex(),
        expected.hex().upper(),
        base64.b64encode(expected).decode(),
    ]
    for header in (None, "garbage", "sha256=" + "0" * 64, "sha1=abcdef"):
        with pytest.raises(WebhookVerificationError) as info:
            verify_signature(BODY, header, SECRET)
        text = str(info.value) + repr(info.value)
        assert not any(secret in text for secret in forbidden)


def test_verification_error_is_a_gu1_error_and_a_value_error() -> None:
    with pytest.raises(WebhookVerificationError) as info:
        verify_signature(BODY, None, SECRET)
    assert isinstance(info.value, Gu1Error)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("secret", ["", b""])
def test_empty_secret_is_a_configuration_error(secret: str | bytes) -> None:
    header = sign_payload(BODY, SECRET)
    with pytest.raises(ConfigurationError, match="secret is empty"):
        verify_signature(BODY, header, secret)
    with pytest.raises(ConfigurationError):
        is_valid_signature(BODY, header, secret)  # a setup bug, not "invalid"
    with pytest.raises(ConfigurationError):
        sign_payload(BODY, secret)
    with pytest.raises(ConfigurationError):
        construct_event(BODY, header, secret)


def test_non_text_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="str or bytes"):
        verify_signature(BODY, "sha256=" + "0" * 64, 12345)  # type: ignore[arg-type]


def test_str_body_is_a_type_error_that_explains_the_raw_body() -> None:
    header = sign_payload(BODY, SECRET)
    with pytest.raises(TypeError, match="raw request body as bytes"):
        verify_signature(BODY.decode(), header, SECRET)  # type: ignore[arg-type]


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=40))
def test_any_body_round_trips_and_any_flipped_byte_fails(body: bytes, secret: str) -> None:
    header = sign_payload(body, secret)
    verify_signature(body, header, secret)
    if body:
        flipped = bytes([body[0] ^ 0x01]) + body[1:]
        assert not is_valid_signature(flipped, header, secret)
    assert not is_valid_signature(body + b" ", header, secret)


# --- parsing -------------------------------------------------------------------------


def test_parse_current_envelope() -> None:
    event = parse_event(BODY)
    assert event.event == WebhookEventType.KYC_VALIDATION_APPROVED
    assert event.timestamp == dt.datetime(2025, 1, 7, 10, 0, tzinfo=UTC)
    assert event.organization_id == "org-1111"
    assert event.payload["id"] == "val-1"
    assert event.raw["organizationId"] == "org-1111"


def test_parse_accepts_str_bodies() -> None:
    assert parse_event(BODY.decode()) == parse_event(BODY)


def test_parse_older_type_data_shape() -> None:
    body = json.dumps({"type": "kyc.validation_rejected", "data": {"validationId": "v-9"}})
    event = parse_event(body)
    assert event.event == "kyc.validation_rejected"
    assert event.payload == {"validationId": "v-9"}
    assert event.timestamp is None
    assert event.organization_id is None


def test_event_wins_over_type_when_both_are_present() -> None:
    event = parse_event(json.dumps({"event": "entity.created", "type": "old", "payload": {}}))
    assert event.event == "entity.created"


def test_organization_id_falls_back_to_the_payload_row() -> None:
    body = json.dumps({"event": "kyc.validation_created", "payload": {"organizationId": "org-2"}})
    assert parse_event(body).organization_id == "org-2"


def test_unknown_event_types_and_extra_keys_pass_through() -> None:
    body = json.dumps({"event": "device.teleported", "deliveryId": "d-1", "payload": {"x": [1]}})
    event = parse_event(body)
    assert event.event == "device.teleported"
    assert event.raw["deliveryId"] == "d-1"
    assert event.payload == {"x": [1]}


def test_missing_or_null_payload_becomes_empty_mapping() -> None:
    assert parse_event(b'{"event": "entity.deleted"}').payload == {}
    assert parse_event(b'{"event": "entity.deleted", "payload": null}').payload == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe\xfa", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"payload": {}}', "names no event type"),
        (b'{"event": "", "payload": {}}', "names no event type"),
        (b'{"event": 42}', "names no event type"),
        (b'{"event": "entity.created", "payload": [1]}', "payload is not a JSON object"),
    ],
)
def test_bad_bodies_are_rejected(body: bytes, message: str) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        parse_event(body)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-01-07T10:00:00.000Z", dt.datetime(2025, 1, 7, 10, tzinfo=UTC)),
        ("2025-01-07T10:00:00Z", dt.datetime(2025, 1, 7, 10, tzinfo=UTC)),
        ("2025-01-07T12:00:00+02:00", dt.datetime(2025, 1, 7, 10, tzinfo=UTC)),
        ("2025-01-07T10:00:00.123456789Z", dt.datetime(2025, 1, 7, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2025-01-07T10:00:00.5Z", dt.datetime(2025, 1, 7, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2025-01-07T10:00:00", dt.datetime(2025, 1, 7, 10, tzinfo=UTC)),  # naive: UTC
        (1736244000, dt.datetime(2025, 1, 7, 10, tzinfo=UTC)),  # epoch seconds
        (1736244000000, dt.datetime(2025, 1, 7, 10, tzinfo=UTC)),  # epoch milliseconds
        ("yesterday", None),
        (True, None),
        (None, None),
        ({"at": 1}, None),
    ],
)
def test_timestamps(raw: Any, expected: dt.datetime | None) -> None:
    event = parse_event(json.dumps({"event": "entity.created", "timestamp": raw}))
    assert event.timestamp == expected
    if event.timestamp is not None:
        assert event.timestamp.utcoffset() is not None


def test_repr_leaves_personal_data_out() -> None:
    text = repr(parse_event(BODY))
    assert "kyc.validation_approved" in text
    assert "TAX-999" not in text


def test_events_are_frozen_and_hashable() -> None:
    event = parse_event(BODY)
    assert hash(event) == hash(parse_event(BODY))
    with pytest.raises(AttributeError):
        event.event = "changed"  # type: ignore[misc]


def test_event_type_constants() -> None:
    assert WebhookEventType.ENTITY_CREATED == "entity.created"
    assert WebhookEventType.ENTITY_STATUS_CHANGED == "entity.status_changed"
    assert WebhookEventType.KYC_VALIDATION_IN_REVIEW == "kyc.validation_in_review"
    assert WebhookEventType.RULE_TRIGGERED == "rule.triggered"
    assert WebhookEventType.RISK_ANALYSIS_ENTITY_EXECUTED == "risk_analysis_entity_executed"
    assert WebhookEventType.ALERT_STATUS_CHANGED == "alert.status_changed"
    assert WebhookEventType.KYC_VALIDATION_IN_REVIEW not in KYC_FINAL_EVENTS
    assert WebhookEventType.KYC_VALIDATION_EXPIRED in KYC_FINAL_EVENTS
    assert len(KYC_FINAL_EVENTS) == 5


# --- construct_event and the optional tolerance ---------------------------------------


def test_construct_event_verifies_then_parses() -> None:
    event = construct_event(BODY, sign_payload(BODY, SECRET), SECRET, tolerance=None)
    assert event == parse_event(BODY)


def test_construct_event_checks_the_signature_before_parsing() -> None:
    with pytest.raises(WebhookVerificationError, match="does not match"):
        construct_event(b"not json", sign_payload(b"other", SECRET), SECRET)
    with pytest.raises(WebhookVerificationError, match="not valid JSON"):
        construct_event(b"not json", sign_payload(b"not json", SECRET), SECRET)


SENT_AT = dt.datetime(2025, 1, 7, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("offset", [0.0, 299.0, -299.0])
def test_tolerance_accepts_recent_envelopes(offset: float) -> None:
    now = SENT_AT + dt.timedelta(seconds=offset)
    event = construct_event(BODY, sign_payload(BODY, SECRET), SECRET, tolerance=300, now=now)
    assert event.timestamp == SENT_AT


@pytest.mark.parametrize("offset", [301.0, -301.0, 86_400.0])
def test_tolerance_rejects_old_and_future_envelopes(offset: float) -> None:
    now = SENT_AT + dt.timedelta(seconds=offset)
    with pytest.raises(WebhookVerificationError, match="beyond the 300 s tolerance"):
        construct_event(BODY, sign_payload(BODY, SECRET), SECRET, tolerance=300, now=now)


def test_the_age_is_checked_by_default() -> None:
    # A correctly signed delivery from 2020 used to be accepted: the check was opt-in.
    late = SENT_AT + dt.timedelta(seconds=DEFAULT_TOLERANCE + 1)
    assert DEFAULT_TOLERANCE == 300
    with pytest.raises(WebhookVerificationError, match="beyond the 300 s tolerance"):
        construct_event(BODY, sign_payload(BODY, SECRET), SECRET, now=late)
    with pytest.raises(WebhookVerificationError, match="beyond the 300 s tolerance"):
        construct_event(BODY, sign_payload(BODY, SECRET), SECRET)  # the system clock: 2025+


def test_tolerance_none_accepts_any_age() -> None:
    far_future = SENT_AT + dt.timedelta(days=3650)
    event = construct_event(
        BODY, sign_payload(BODY, SECRET), SECRET, tolerance=None, now=far_future
    )
    assert event.timestamp == SENT_AT


def test_tolerance_rejects_envelopes_without_a_timestamp() -> None:
    body = b'{"type": "kyc.validation_approved", "data": {}}'
    with pytest.raises(WebhookVerificationError, match="no readable timestamp"):
        construct_event(body, sign_payload(body, SECRET), SECRET, tolerance=300)


def test_tolerance_defaults_now_to_the_system_clock() -> None:
    body = json.dumps({"event": "entity.created", "timestamp": dt.datetime.now(UTC).isoformat()})
    event = construct_event(
        body.encode(), sign_payload(body.encode(), SECRET), SECRET, tolerance=60
    )
    assert event.event == "entity.created"


def test_tolerance_configuration_errors() -> None:
    event = parse_event(BODY)
    with pytest.raises(ConfigurationError, match="tolerance"):
        check_timestamp(event, -1, SENT_AT)
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        check_timestamp(event, 60, dt.datetime(2025, 1, 7, 10))


# --- dedupe keys ---------------------------------------------------------------------


def envelope(
    event: str = "entity.updated", ts: str | None = "2025-01-07T10:00:00Z", **payload: Any
) -> WebhookEvent:
    document: dict[str, Any] = {"event": event, "payload": payload}
    if ts is not None:
        document["timestamp"] = ts
    return parse_event(json.dumps(document))


def test_redelivery_with_different_byte_layout_has_the_same_key() -> None:
    again = json.dumps(json.loads(BODY), indent=4, sort_keys=True)
    assert dedupe_key(parse_event(again)) == dedupe_key(parse_event(BODY))


def test_key_combines_event_payload_id_and_timestamp() -> None:
    key = dedupe_key(parse_event(BODY))
    assert key == "kyc.validation_approved|val-1|2025-01-07T10:00:00+00:00"


def test_equal_instants_in_different_offsets_share_a_key() -> None:
    a = envelope(ts="2025-01-07T10:00:00.000Z", entity={"id": "e-1"})
    b = envelope(ts="2025-01-07T11:00:00+01:00", entity={"id": "e-1"})
    assert dedupe_key(a) == dedupe_key(b)


def test_keys_differ_by_event_timestamp_and_id() -> None:
    base = envelope(entity={"id": "e-1"})
    assert dedupe_key(base) == "entity.updated|e-1|2025-01-07T10:00:00+00:00"
    assert dedupe_key(envelope("entity.status_changed", entity={"id": "e-1"})) != dedupe_key(base)
    assert dedupe_key(envelope(ts="2025-01-07T10:00:01Z", entity={"id": "e-1"})) != dedupe_key(base)
    assert dedupe_key(envelope(entity={"id": "e-2"})) != dedupe_key(base)


@pytest.mark.parametrize(
    ("payload", "expected_id"),
    [
        ({"id": "val-1", "entityId": "ent-1"}, "val-1"),
        ({"validationId": "val-2", "entityId": "ent-1"}, "val-2"),
        ({"ruleId": "r-1", "evaluationId": "ev-1", "entityId": "ent-1"}, "ev-1"),
        ({"auditId": "au-1", "entity": {"id": "ent-1"}}, "au-1"),
        ({"auditId": None, "entity": {"id": "ent-1"}}, "ent-1"),
        ({"transaction": {"id": 42}}, "42"),
    ],
)
def test_payload_id_is_found_where_each_event_keeps_it(
    payload: dict[str, Any], expected_id: str
) -> None:
    assert dedupe_key(envelope(**payload)).split("|")[1] == expected_id


def test_without_id_or_timestamp_the_payload_digest_keeps_events_apart() -> None:
    a = envelope(ts=None, changes={"name": "A"})
    b = envelope(ts=None, changes={"name": "B"})
    assert dedupe_key(a) != dedupe_key(b)
    assert dedupe_key(a) == dedupe_key(envelope(ts=None, changes={"name": "A"}))
    # Legacy shape: an id but no timestamp still separates two status changes' payloads.
    legacy_1 = parse_event(b'{"type": "entity.updated", "data": {"entityId": "e", "v": 1}}')
    legacy_2 = parse_event(b'{"type": "entity.updated", "data": {"entityId": "e", "v": 2}}')
    assert dedupe_key(legacy_1) != dedupe_key(legacy_2)


def test_public_surface() -> None:
    import gu1_async.webhooks as module

    assert sorted(module.__all__) == [
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
    assert all(hasattr(module, name) for name in module.__all__)
    assert module.WebhookVerificationError is WebhookVerificationError
