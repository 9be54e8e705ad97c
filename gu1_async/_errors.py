"""The one exception tree of gu1-async.

Every error the SDK raises on purpose derives from :class:`Gu1Error`. Errors carry
plain data only (status, code, message, request id, body, method, path) — never an
aiohttp object and never the API key — so they can be logged, pickled and compared.

```
Gu1Error
├── ConfigurationError (ValueError)      bad argument or setting, found before any request
│   ├── InvalidApiKeyFormatError         empty key, or one with a non-printable-ASCII char
│   └── EnvironmentMismatchError         a production key for a sandbox host, or the reverse
├── APIConnectionError                   the request could not be completed on the wire
│   └── APITimeoutError (TimeoutError)   connect or total timeout elapsed
├── APIStatusError                       gu1 answered with a 3xx/4xx/5xx status
│   ├── UnexpectedRedirectError          3xx: not followed (gu1 does not redirect); `location`
│   ├── BadRequestError                  400
│   ├── AuthenticationError              401
│   │   ├── MissingApiKeyError           no key given (also raised locally, at construction)
│   │   ├── InvalidApiKeyError           the key is unknown or revoked
│   │   └── ExpiredApiKeyError           the key passed its expiry date
│   ├── PermissionDeniedError            403, with the missing `resource:action` if named
│   ├── NotFoundError                    404
│   ├── ConflictError                    409
│   ├── UnprocessableEntityError         422
│   ├── RateLimitError                   429, with limit / remaining / reset / retry_after
│   └── ServerError                      5xx
├── APIResponseError                     an answer the SDK cannot read as that endpoint's
│   ├── ResponseShapeError (TypeError)   the JSON is not the shape the endpoint returns
│   └── ResponseTooLargeError            the decoded body passed `max_response_size`
├── QuotaExhaustedError                  the governor cannot grant a slot within max_wait
├── GovernorStoreError                   the shared (Redis) governor store failed
└── WebhookVerificationError (ValueError)  a webhook signature or body is not valid
```
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "EnvironmentMismatchError",
    "ExpiredApiKeyError",
    "GovernorStoreError",
    "Gu1Error",
    "InvalidApiKeyError",
    "InvalidApiKeyFormatError",
    "MissingApiKeyError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExhaustedError",
    "RateLimitError",
    "ResponseShapeError",
    "ResponseTooLargeError",
    "ServerError",
    "UnexpectedRedirectError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
]


class Gu1Error(Exception):
    """Root of every error gu1-async raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(Gu1Error, ValueError):
    """An argument or setting is invalid; found before any request was sent."""


class InvalidApiKeyFormatError(ConfigurationError):
    """The API key is empty or has whitespace, a control or a non-ASCII character."""


class EnvironmentMismatchError(ConfigurationError):
    """The key's environment contradicts the base URL's host (see docs/keys.md)."""

    def __init__(self, message: str, *, key_environment: str | None, host: str) -> None:
        super().__init__(message)
        self.key_environment = key_environment
        self.host = host


class APIConnectionError(Gu1Error):
    """The request could not be completed on the wire (refused, reset, DNS, TLS)."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        sent: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        # Whether the request may have reached the server: False means it certainly did
        # not (so even a POST may be retried), None means we cannot tell.
        self.sent = sent


class APITimeoutError(APIConnectionError, TimeoutError):
    """The connect or total timeout elapsed before gu1 answered."""


class APIStatusError(Gu1Error):
    """gu1 answered with an error status (4xx or 5xx), or a redirect the SDK did not follow."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.body = body
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f"{self.method} {self.path} -> " if self.method and self.path else ""
        code = f" [{self.code}]" if self.code else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{where}{self.status}{code}: {self.message}{rid}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, method={self.method!r}, path={self.path!r})"
        )


class UnexpectedRedirectError(APIStatusError):
    """3xx: gu1's API does not redirect, so a redirect is not followed; `location` says where."""

    def __init__(self, message: str, *, location: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.location = location


class BadRequestError(APIStatusError):
    """400: gu1 rejected the request as malformed or invalid."""


class AuthenticationError(APIStatusError):
    """401: the request was not authenticated."""


class MissingApiKeyError(AuthenticationError):
    """No API key was supplied (raised locally at construction, or 401 from gu1)."""

    def __str__(self) -> str:
        if self.method is None and self.path is None:
            return self.message  # raised locally: nothing was sent, so no "401" was said
        return super().__str__()


class InvalidApiKeyError(AuthenticationError):
    """401: the API key is unknown or has been revoked."""


class ExpiredApiKeyError(AuthenticationError):
    """401: the API key has passed its expiration date."""


class PermissionDeniedError(APIStatusError):
    """403: the key lacks a permission; `permission` names it when gu1 does."""

    def __init__(self, message: str, *, permission: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.permission = permission


class NotFoundError(APIStatusError):
    """404: no such resource (or it belongs to another organization)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with existing state (e.g. a duplicate taxId)."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was understood but cannot be processed."""


class RateLimitError(APIStatusError):
    """429: the key's quota is spent; see `retry_after` and `reset`."""

    def __init__(
        self,
        message: str,
        *,
        limit: int | None = None,
        remaining: int | None = None,
        reset: _dt.datetime | None = None,
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: gu1 failed to handle the request."""


class APIResponseError(Gu1Error):
    """gu1 answered, but not with something the SDK can read as that endpoint's answer.

    `operation` names the SDK method (e.g. "entities.get") when one was called, `expected`
    what it expected; `body_excerpt` is the start of what came instead.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body_excerpt: str = "",
        method: str | None = None,
        path: str | None = None,
        operation: str | None = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body_excerpt = body_excerpt
        self.method = method
        self.path = path
        self.operation = operation
        self.expected = expected

    def __str__(self) -> str:
        where = f"{self.method} {self.path}" if self.method and self.path else ""
        if self.operation:
            where = f"{self.operation} ({where})" if where else self.operation
        return f"{where}: {self.message}" if where else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(operation={self.operation!r}, status={self.status!r}, "
            f"method={self.method!r}, path={self.path!r}, message={self.message!r})"
        )


class ResponseShapeError(APIResponseError, TypeError):
    """The body is JSON, but not the shape the endpoint returns (a list for an object...)."""


class ResponseTooLargeError(APIResponseError):
    """The decoded body passed the client's `max_response_size`; reading stopped there."""

    def __init__(self, message: str, *, limit: int, size: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.limit = limit
        # The declared Content-Length when the server sent one, else None (counted to limit+1).
        self.size = size


class QuotaExhaustedError(Gu1Error):
    """The governor cannot grant a request slot within the caller's `max_wait`."""

    def __init__(self, message: str, *, retry_after: float, retry_at: _dt.datetime) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.retry_at = retry_at


class GovernorStoreError(Gu1Error):
    """The shared governor store (Redis) failed; the request was not sent."""


class WebhookVerificationError(Gu1Error, ValueError):
    """A webhook's signature does not match, or its body cannot be parsed."""
