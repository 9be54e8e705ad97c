"""Shared vocabulary: JSON aliases, request options, and the Requester protocol.

Resources depend on `Requester` only — never on the client — so each API area can be
tested with any object that can send a request.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypedDict

import attrs

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "JSON",
    "FilePart",
    "FormFields",
    "JSONObject",
    "PageOptions",
    "Params",
    "Priority",
    "RequestBody",
    "RequestCall",
    "RequestOptions",
    "Requester",
    "Timeout",
    "UNSET",
]

JSON: TypeAlias = dict[str, Any] | list[Any] | str | int | float | bool | None
JSONObject: TypeAlias = dict[str, Any]
Params: TypeAlias = Mapping[str, str | int | float | bool | Sequence[str] | None]

UNSET: Any = object()
"""An argument not given, where None already means something (`max_wait=None`: no limit)."""


class Priority(enum.IntEnum):
    """Who goes first when the quota is short: lower values are served first."""

    INTERACTIVE = 0
    """A user is waiting (web handlers); may use the reserved share of each window."""
    BATCH = 1
    """Background work (ingestion jobs); never touches the interactive reserve."""


@attrs.frozen
class Timeout:
    """Timeouts in seconds: `total` for the whole attempt, `connect` for the connection."""

    total: float | None = 60.0
    connect: float | None = 10.0

    @classmethod
    def coerce(cls, value: float | Timeout | None) -> Timeout | None:
        """Accept a bare number as the total timeout."""
        if value is None or isinstance(value, Timeout):
            return value
        return cls(total=float(value), connect=min(float(value), 10.0))


@attrs.frozen
class FilePart:
    """One file of a multipart upload (e.g. a CSV for a bulk import)."""

    filename: str
    content: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    content_type: str = "application/octet-stream"


FormFields: TypeAlias = Mapping[str, "FilePart | str | Sequence[FilePart]"]
"""Multipart form fields: a file, a plain value, or several files under one name."""


class RequestOptions(TypedDict, total=False):
    """Per-call options every resource method accepts as keyword arguments."""

    timeout: float | Timeout | None
    priority: Priority
    max_wait: float | None
    extra_headers: Mapping[str, str] | None


class PageOptions(RequestOptions, total=False):
    """A list method's keywords for walking its pages, besides the per-call options."""

    page_size: int | None
    """Items per request (None: the endpoint's documented maximum)."""
    limit: int | None
    """Stop after this many items in total (None: all of them)."""


class RequestBody(TypedDict, total=False):
    """What one request carries: a query string, and a JSON body or a multipart form."""

    params: Params | None
    json: JSON
    files: FormFields | None


class RequestCall(RequestBody, RequestOptions, total=False):
    """`Requester.request`'s keywords: the body, the per-call options, the registry name."""

    operation: str | None


class Requester(Protocol):
    """Sends one logical request (with governor and retries) and returns decoded JSON."""

    async def request(self, method: str, path: str, **call: Unpack[RequestCall]) -> Any: ...
