"""gu1-async: the asyncio SDK for the gu1 compliance API.

Every request goes through a rate-limit governor seeded from the key's plan and corrected
live from gu1's `X-RateLimit-*` headers, so callers get every request the quota allows,
as fast as it allows, and almost never a 429.
"""

from ._auth import ApiKey
from ._client import DEFAULT_MAX_RESPONSE_SIZE, Gu1Client
from ._errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    EnvironmentMismatchError,
    ExpiredApiKeyError,
    GovernorStoreError,
    Gu1Error,
    InvalidApiKeyError,
    InvalidApiKeyFormatError,
    MissingApiKeyError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExhaustedError,
    RateLimitError,
    ResponseShapeError,
    ResponseTooLargeError,
    ServerError,
    UnexpectedRedirectError,
    UnprocessableEntityError,
    WebhookVerificationError,
)
from ._ratelimit_headers import RateLimitSnapshot
from ._retry import RetryPolicy
from ._serde import CLEAR
from ._types import FilePart, Priority, Timeout
from ._version import __version__
from .governor import Plan, Quota
from .pagination import AsyncPaginator, Page

__all__ = (
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "ApiKey",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "CLEAR",
    "ConfigurationError",
    "ConflictError",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "EnvironmentMismatchError",
    "ExpiredApiKeyError",
    "FilePart",
    "GovernorStoreError",
    "Gu1Client",
    "Gu1Error",
    "InvalidApiKeyError",
    "InvalidApiKeyFormatError",
    "MissingApiKeyError",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "Plan",
    "Priority",
    "Quota",
    "QuotaExhaustedError",
    "RateLimitError",
    "RateLimitSnapshot",
    "ResponseShapeError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "Timeout",
    "UnexpectedRedirectError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
    "__version__",
)

# Show public names as gu1_async.X in reprs, tracebacks and docs (as httpx does).
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("gu1_async._"):
        _obj.__module__ = "gu1_async"
del _name, _obj
