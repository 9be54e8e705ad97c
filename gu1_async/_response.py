"""Decode a response body, and turn an error status into the right exception.

gu1 has no single error envelope (gu1-api.md §1.5): `{"error": {"code", "message"}}`,
`{"error": "text", ...context}`, or a bare message. This module reads them all, and a
body that is not JSON (empty, HTML from a proxy, cut off) still gives the right status
error with a short excerpt — never a bare JSONDecodeError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ._errors import (
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
    UnexpectedRedirectError,
    UnprocessableEntityError,
)
from ._ratelimit_headers import RateLimitSnapshot

__all__ = ["InvalidJSONBody", "decode_json", "error_from_response"]

_EXCERPT = 200
_PERMISSION = re.compile(r"\b([a-z][a-z_]*:[a-z][a-z_]*)\b")
_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


class InvalidJSONBody(ValueError):
    """A 2xx body that is not JSON (or nested past what the parser takes); with an excerpt."""

    def __init__(self, excerpt: str, reason: str = "is not JSON") -> None:
        super().__init__(f"gu1 answered with a body that {reason}: {excerpt!r}")
        self.excerpt = excerpt
        self.reason = reason


_TOO_DEEP = "is nested too deeply to decode"


def excerpt(body: bytes) -> str:
    """The start of a body, decoded leniently, for messages."""
    text = body[:_EXCERPT].decode("utf-8", errors="replace")
    return text + ("…" if len(body) > _EXCERPT else "")


# The C scanner that json.loads ends in, called directly. json.loads wraps it in three
# Python calls and two regex matches per body: most of its cost on gu1's small bodies, paid
# on every response. Same decoder settings as json.loads, so the same values.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_JSON_WHITESPACE = " \t\n\r"


def decode_json(body: bytes) -> Any:
    """The JSON value of a body; None for an empty body.

    Raises:
        InvalidJSONBody: the body is not valid JSON.
    """
    try:
        # gu1 sends UTF-8 (as RFC 8259 requires) with the value first; anything else (a BOM,
        # UTF-16, leading whitespace, an empty body) takes the full path below.
        text = body.decode()
        value, end = _scan_once(text, 0)
    except (StopIteration, ValueError):  # (UnicodeDecodeError is a ValueError)
        pass
    except RecursionError:
        # json's C scanner recurses once per level: `[` x 100,000 exhausts the stack.
        raise InvalidJSONBody(excerpt(body), _TOO_DEEP) from None
    else:
        if end == len(text) or not text[end:].strip(_JSON_WHITESPACE):
            return value
        raise InvalidJSONBody(excerpt(body))  # a value, then something that is not JSON
    try:
        return json.loads(body)
    except RecursionError:
        raise InvalidJSONBody(excerpt(body), _TOO_DEEP) from None
    except (ValueError, UnicodeDecodeError):
        if not body.strip():  # checked only now: stripping copies the whole body
            return None
        raise InvalidJSONBody(excerpt(body)) from None


def error_from_response(
    status: int,
    body: bytes,
    *,
    method: str,
    path: str,
    request_id: str | None,
    snapshot: RateLimitSnapshot,
    location: str | None = None,
) -> APIStatusError:
    """The exception for an error status (or a redirect), with code and message read from any
    body shape; `location` is a redirect's Location header."""
    try:
        data: Any = decode_json(body)
    except InvalidJSONBody:
        data = None
    code, message, detail = _read_error(data)
    if message is None:
        message = excerpt(body) if body.strip() else f"HTTP {status} with an empty body"
    common: dict[str, Any] = {
        "status": status,
        "code": code,
        "request_id": request_id,
        "body": data if data is not None else excerpt(body),
        "method": method,
        "path": path,
    }
    if status < 400:
        return _redirect_error(status, location, common)
    if status == 401:
        return _auth_error_class(code, message)(message, **common)
    if status == 403:
        return PermissionDeniedError(message, permission=_permission(detail, message), **common)
    if status == 429:
        return RateLimitError(
            message,
            limit=snapshot.limit,
            remaining=snapshot.remaining,
            reset=snapshot.reset,
            retry_after=snapshot.retry_after
            if snapshot.retry_after is not None
            else snapshot.reset_after,
            **common,
        )
    if status >= 500:
        return ServerError(message, **common)
    return _BY_STATUS.get(status, APIStatusError)(message, **common)


def _redirect_error(
    status: int, location: str | None, common: dict[str, Any]
) -> UnexpectedRedirectError:
    # Location comes from the server: shown cut short, as repr (no control characters).
    shown = location if location is None or len(location) <= _EXCERPT else location[:_EXCERPT]
    where = f"a redirect to {shown!r}" if location is not None else "a redirect without Location"
    message = (
        f"gu1 answered {status}, {where}; the gu1 API does not redirect, so the SDK did not "
        "follow it (nothing was sent there). Check base_url; Gu1Client(follow_redirects=True) "
        "follows same-origin GET redirects only"
    )
    return UnexpectedRedirectError(message, location=shown, **common)


def _read_error(data: Any) -> tuple[str | None, str | None, dict[str, Any]]:
    """(code, message, the dict that held them) from any of gu1's error shapes."""
    if isinstance(data, str):
        return None, data, {}
    if not isinstance(data, dict):
        return None, None, {}
    error = data.get("error")
    if isinstance(error, dict):
        return _str(error.get("code")), _str(error.get("message")), error
    code = _str(data.get("code"))
    message = _str(error) or _str(data.get("message"))
    return code, message, data


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _auth_error_class(code: str | None, message: str) -> type[AuthenticationError]:
    words = f"{code or ''} {message}".lower()
    if "expired" in words:
        return ExpiredApiKeyError
    # gu1's own body says "Invalid or missing API key"; the SDK always sends a key, so
    # that wording means the key was not accepted: only a plain "missing" is Missing.
    if "invalid" in words or "revoked" in words or "unknown" in words:
        return InvalidApiKeyError
    if "missing" in words or "no api key" in words:
        return MissingApiKeyError
    return AuthenticationError


def _permission(detail: dict[str, Any], message: str) -> str | None:
    for key in ("requiredPermission", "permission", "missingPermission", "required"):
        value = detail.get(key)
        if isinstance(value, str) and _PERMISSION.fullmatch(value):
            return value
    match = _PERMISSION.search(message)
    return match.group(1) if match else None
