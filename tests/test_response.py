from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gu1_async._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ExpiredApiKeyError,
    InvalidApiKeyError,
    MissingApiKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)
from gu1_async._ratelimit_headers import RateLimitSnapshot, parse_rate_limit_headers
from gu1_async._response import InvalidJSONBody, decode_json, error_from_response

EMPTY = RateLimitSnapshot()


def err(status: int, body: object | bytes, snapshot: RateLimitSnapshot = EMPTY) -> APIStatusError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return error_from_response(
        status, raw, method="POST", path="/entities", request_id="req-1", snapshot=snapshot
    )


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (418, APIStatusError),
    ],
)
def test_status_picks_class(status: int, cls: type[APIStatusError]) -> None:
    error = err(status, {"error": "boom"})
    assert type(error) is cls
    assert error.status == status
    assert error.message == "boom"
    assert (error.method, error.path, error.request_id) == ("POST", "/entities", "req-1")
    assert "POST /entities" in str(error) and str(status) in str(error)


def test_error_object_shape() -> None:
    error = err(
        403,
        {
            "success": False,
            "error": {"code": "FORBIDDEN", "message": "Insufficient permissions to read events"},
        },
    )
    assert error.code == "FORBIDDEN"
    assert error.message == "Insufficient permissions to read events"
    assert isinstance(error.body, dict)


def test_flat_string_shape_keeps_context() -> None:
    error = err(400, {"error": "Alert already acknowledged", "currentStatus": "ACKNOWLEDGED"})
    assert error.message == "Alert already acknowledged"
    assert isinstance(error.body, dict) and error.body["currentStatus"] == "ACKNOWLEDGED"


def test_flat_code_and_message_shape() -> None:
    error = err(409, {"code": "AMBIGUOUS_TAX_ID_LOOKUP", "message": "several entities"})
    assert (error.code, error.message) == ("AMBIGUOUS_TAX_ID_LOOKUP", "several entities")


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        ({"error": {"code": "MISSING_API_KEY", "message": "Missing API key"}}, MissingApiKeyError),
        ({"error": {"code": "INVALID_API_KEY", "message": "Invalid API key"}}, InvalidApiKeyError),
        (
            {"error": {"code": "UNAUTHORIZED", "message": "Invalid or missing API key"}},
            InvalidApiKeyError,
        ),
        ({"error": {"code": "EXPIRED_API_KEY", "message": "API key expired"}}, ExpiredApiKeyError),
        ({"error": "Unauthorized"}, AuthenticationError),
    ],
)
def test_401_variants(body: object, cls: type[AuthenticationError]) -> None:
    assert type(err(401, body)) is cls


@pytest.mark.parametrize(
    "body",
    [
        {
            "error": {
                "code": "FORBIDDEN",
                "message": "nope",
                "requiredPermission": "entities:create",
            }
        },
        {"error": "Missing permission entities:create for this route"},
        {"error": "forbidden", "permission": "entities:create"},
    ],
)
def test_403_names_permission(body: object) -> None:
    error = err(403, body)
    assert isinstance(error, PermissionDeniedError)
    assert error.permission == "entities:create"


def test_403_without_permission() -> None:
    error = err(403, {"error": "Insufficient permissions to read events"})
    assert isinstance(error, PermissionDeniedError)
    assert error.permission is None


def test_429_carries_quota() -> None:
    snapshot = parse_rate_limit_headers(
        {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "2026-11-26T07:00:00Z",
            "Date": "Thu, 26 Nov 2026 06:59:30 GMT",
        }
    )
    error = err(429, {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "slow down"}}, snapshot)
    assert isinstance(error, RateLimitError)
    assert (error.limit, error.remaining) == (100, 0)
    assert error.reset == dt.datetime(2026, 11, 26, 7, tzinfo=dt.timezone.utc)
    assert error.retry_after == 30.0


@pytest.mark.parametrize(
    "body", [b"", b"<html>502 Bad Gateway</html>", b'{"error": {"code": "X", "mes', b"\xff\xfe"]
)
def test_non_json_bodies_still_map_by_status(body: bytes) -> None:
    error = err(502, body)
    assert isinstance(error, ServerError)
    assert error.status == 502
    assert error.message  # an excerpt or a note that the body was empty
    assert len(error.message) <= 210


def test_decode_json() -> None:
    assert decode_json(b"") is None
    assert decode_json(b'{"a": 1}') == {"a": 1}
    assert decode_json(b"  \n") is None
    # Not plain UTF-8: still JSON (json's own encoding detection takes over).
    assert decode_json('\ufeff{"a": "é"}'.encode("utf-8")) == {"a": "é"}  # BOM
    assert decode_json('{"a": "é"}'.encode("utf-16")) == {"a": "é"}
    with pytest.raises(InvalidJSONBody):
        decode_json(b"\xff\xfe\xfa")
    with pytest.raises(InvalidJSONBody) as info:
        decode_json(b"x" * 500)
    assert len(info.value.excerpt) <= 201


def test_decode_json_rejects_what_follows_a_value() -> None:
    assert decode_json(b'{"a": 1} \r\n\t') == {"a": 1}
    for body in (b'{"a": 1} x', b'{"a": 1}{"b": 2}', b"[1]\x0c", b'"a" "b"'):
        with pytest.raises(InvalidJSONBody):
            decode_json(body)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_json_space = st.text(alphabet=" \t\n\r", max_size=3)


@given(
    value=_json_values,
    before=_json_space,
    after=_json_space,
    garbage=st.sampled_from(["", "x", "\x0c", "]", "0", "\u00a0", '"']),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_decode_json_agrees_with_json_loads(
    value: object, before: str, after: str, garbage: str, encoding: str
) -> None:
    # The fast path calls json's C scanner directly: it must accept and reject exactly what
    # json.loads does (an empty body aside, which is None rather than an error).
    body = (before + json.dumps(value, ensure_ascii=False) + after + garbage).encode(encoding)
    try:
        expected = json.loads(body)
    except ValueError:
        with pytest.raises(InvalidJSONBody):
            decode_json(body)
    else:
        assert decode_json(body) == expected
