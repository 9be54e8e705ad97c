"""Shared plumbing of the fake server's handlers: errors, auth context, JSON and time helpers."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable
from typing import Any, NoReturn

from aiohttp import web

from ._keys import FakeKey

__all__ = [
    "KEY",
    "ApiError",
    "bad_request",
    "bearer_token",
    "error_response",
    "iso",
    "json_response",
    "new_id",
    "normalize_tax_id",
    "not_found",
    "optional_str",
    "read_json",
    "require",
    "require_str",
]

KEY: web.RequestKey[FakeKey] = web.RequestKey("gu1_fake_key", FakeKey)


class ApiError(Exception):
    """Raised by a handler; the server turns it into gu1's `{success, error}` body."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body gu1 sends for this error (the newer `{code, message}` shape)."""
        return {
            "success": False,
            "error": {"code": self.code, "message": self.message},
            **self.extra,
        }


def bad_request(message: str, code: str = "VALIDATION_ERROR") -> NoReturn:
    """Raise a 400 with gu1's validation error code."""
    raise ApiError(400, code, message)


def not_found(what: str) -> NoReturn:
    """Raise a 404; gu1 says the same for unknown ids and another organization's ids."""
    raise ApiError(404, "NOT_FOUND", f"{what} not found")


def require(request: web.Request, *any_of: str) -> FakeKey:
    """Return the request's key, or raise 403 unless it holds one of `any_of`.

    The first permission named is the one reported as `requiredPermission`.
    """
    key = request[KEY]
    if not key.allows(any_of):
        raise ApiError(
            403,
            "FORBIDDEN",
            f"Missing permission {any_of[0]}",
            requiredPermission=any_of[0],
        )
    return key


def require_all(request: web.Request, *groups: Iterable[str]) -> FakeKey:
    """Like `require`, for endpoints needing several permissions (each group: any of)."""
    key = request[KEY]
    for group in groups:
        require(request, *group)
    return key


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body, or a 400 like gu1's for anything else."""
    raw = await request.read()
    if not raw:
        bad_request("Request body is required")
    try:
        body = json.loads(raw)
    except ValueError:
        bad_request("Request body is not valid JSON", code="INVALID_JSON")
    if not isinstance(body, dict):
        bad_request("Request body must be a JSON object")
    return body


def require_str(body: dict[str, Any], field: str, *, min_len: int = 1) -> str:
    """A required string field, or a 400 naming it."""
    value = body.get(field)
    if not isinstance(value, str) or len(value.strip()) < min_len:
        if min_len > 1:
            bad_request(f"{field} is required and must be at least {min_len} characters")
        bad_request(f"{field} is required")
    return value


def optional_str(body: dict[str, Any], field: str) -> str | None:
    """An optional string field (None when absent), or a 400 when it is not a string."""
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        bad_request(f"{field} must be a string")
    return value


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response (compact, like gu1's)."""
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, default=str))


def iso(epoch: float) -> str:
    """ISO 8601 UTC with milliseconds and `Z`, as gu1 writes timestamps."""
    stamp = dt.datetime.fromtimestamp(epoch, dt.timezone.utc)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    """A fresh UUID string, like gu1's ids."""
    return str(uuid.uuid4())


_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def normalize_tax_id(tax_id: str) -> str:
    """Compare tax ids as gu1 does: punctuation-insensitive (§6.6), case-insensitive."""
    return _NOT_ALNUM.sub("", tax_id).upper()


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    """A gu1 error answer: `{"success": false, "error": {"code", "message"}}` and `extra`."""
    return json_response(ApiError(status, code, message, **extra).body(), status=status)


def bearer_token(request: web.Request) -> str | None:
    """The key presented as `Authorization: Bearer <key>`, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
