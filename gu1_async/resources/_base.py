"""The Resource base class and the endpoint registry every resource method is listed in.

Each public resource method carries an `@endpoint(...)` decorator naming its HTTP method,
path template, registry `operation` name, the gu1 docs' permission(s) and the endpoint's
number in gu1-api.md. The registry is the single source of truth for three things:

* the request itself: `Resource._request(operation, ...)` takes method and path from it;
* `permissions_for(operation)` (and so `Gu1Client.permissions_used()`);
* the generated `docs/endpoints.md` and `docs/permissions.md`.

Path templates use the Python argument names (`/entities/{entity_id}`), so a bad id is
reported under the name the caller used.
"""

from __future__ import annotations

import functools
import inspect
import string
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import quote

import attrs

from gu1_async._errors import APIResponseError, ConfigurationError
from gu1_async._paths import has_dot_segment
from gu1_async._serde import compact, form_fields, query, to_camel
from gu1_async._types import FilePart, Requester
from gu1_async.pagination import AsyncPaginator, OffsetPaginator, PageNumberPaginator, decoder
from gu1_async.resources._params import given

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import PageOptions, RequestOptions

__all__ = ["ENDPOINTS", "Endpoint", "Resource", "endpoint", "permissions_for"]

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")

PAGINATION_STYLES = ("offset", "page+pageSize", "page+limit", "page+perPage")


@attrs.frozen
class Endpoint:
    """One gu1 endpoint as an SDK method uses it.

    Attributes:
        method: HTTP method.
        path: path template with `{python_argument}` placeholders.
        operation: registry name, `"<resource>.<method>"` (e.g. `"entities.create"`).
        permissions: every `resource:action` the gu1 docs say the call needs (all of them).
        any_of: alternatives the docs accept (any one of them suffices).
        doc: the endpoint's number in gu1-api.md §2.
        paginated: the pagination style (see `PAGINATION_STYLES`), or None.
        note: caveats worth a line in the docs.
    """

    method: str
    path: str
    operation: str
    permissions: frozenset[str] = frozenset()
    any_of: frozenset[str] = frozenset()
    doc: int | None = None
    paginated: str | None = None
    note: str = ""

    @property
    def path_params(self) -> tuple[str, ...]:
        """Placeholder names of the path template, in order."""
        return tuple(f for _, f, _, _ in string.Formatter().parse(self.path) if f)


_REGISTRY: dict[str, Endpoint] = {}
ENDPOINTS: list[Endpoint] = []
"""Every registered endpoint, in registration (module) order."""


def endpoint(
    method: str,
    path: str,
    *,
    operation: str,
    doc: int | None,
    permissions: tuple[str, ...] = (),
    any_of: tuple[str, ...] = (),
    paginated: str | None = None,
    note: str = "",
) -> Callable[[_F], _F]:
    """Register the decorated resource method as the SDK's way to call one endpoint.

    Raises:
        ValueError: the operation is registered twice, or the pagination style is unknown.
    """
    if operation in _REGISTRY:
        raise ValueError(f"operation {operation!r} is registered twice")
    if paginated is not None and paginated not in PAGINATION_STYLES:
        raise ValueError(f"unknown pagination style {paginated!r}")
    entry = Endpoint(
        method=method.upper(),
        path=path,
        operation=operation,
        permissions=frozenset(permissions),
        any_of=frozenset(any_of),
        doc=doc,
        paginated=paginated,
        note=note,
    )
    _REGISTRY[operation] = entry
    ENDPOINTS.append(entry)

    def decorate(fn: _F) -> _F:
        if inspect.iscoroutinefunction(fn):
            fn = _naming_errors(fn, entry)
        fn.__gu1_endpoint__ = entry  # type: ignore[attr-defined]
        return fn

    return decorate


def _naming_errors(fn: _F, entry: Endpoint) -> _F:
    """Wrap a resource method so that an answer it cannot read names the endpoint.

    The decoders (models, `unwrap_list`, the requester's JSON check) raise APIResponseError
    without knowing which SDK call they serve; here, where the call is known, the error
    gets its operation, method and path. (Paginated methods are plain functions; their
    paginator does the same for every page.)
    """

    @functools.wraps(fn)
    async def call(self: Resource, *args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(self, *args, **kwargs)
        except APIResponseError as exc:
            if exc.operation is None:
                exc.operation = entry.operation
                exc.method = entry.method
                exc.path = exc.path or _called_path(fn, entry, self, args, kwargs)
            raise

    return cast("_F", call)


def _called_path(
    fn: Callable[..., Any], entry: Endpoint, resource: Resource, args: Any, kwargs: Any
) -> str:
    """The path a call went to, rebuilt from its arguments (only when an error needs it)."""
    try:
        bound = inspect.signature(fn).bind(resource, *args, **kwargs).arguments
        return resource._path(entry, bound)
    except (TypeError, KeyError, ConfigurationError):
        return entry.path


def permissions_for(operation: str) -> frozenset[str]:
    """The permissions the gu1 docs say `operation` needs (empty when undocumented).

    Raises:
        KeyError: no such operation.
    """
    return _REGISTRY[operation].permissions


def get_endpoint(operation: str) -> Endpoint:
    """The registry entry of `operation`."""
    return _REGISTRY[operation]


def path_segment(name: str, value: object) -> str:
    """Validate one path parameter and URL-quote it (every reserved character escaped).

    Raises:
        ConfigurationError: empty, whitespace-only, `/`-containing or dot-segment values
            (they would address another resource), or a value that is not a str or int.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigurationError(f"{name} must be a string id, got {type(value).__name__}")
    text = str(value)
    if not text.strip():
        raise ConfigurationError(f"{name} must not be empty or whitespace")
    if "/" in text or has_dot_segment(text):
        raise ConfigurationError(
            f"{name} must not contain '/' or read as '.' or '..' (also once %-decoded, or "
            f"cut at ';' or '\\'), got {text!r}"
        )
    return quote(text, safe="")


class Resource:
    """Base of every API area: holds the Requester and turns operations into requests."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _path(self, entry: Endpoint, path_params: Mapping[str, object]) -> str:
        return entry.path.format_map(
            {name: path_segment(name, path_params[name]) for name in entry.path_params}
        )

    async def _request(
        self,
        operation: str,
        path_params: Mapping[str, object] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Mapping[str, FilePart | str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Any:
        """Send the request registered as `operation`; return the decoded body."""
        entry = _REGISTRY[operation]
        path = self._path(entry, path_params or {})
        return await self._requester.request(
            entry.method,
            path,
            params=params or None,
            json=json,
            files=files,
            operation=operation,
            **options,
        )

    async def _send(
        self,
        operation: str,
        spec: type[Any],
        params: Mapping[str, object],
        path_params: Mapping[str, object] | None = None,
        *,
        into: Literal["json", "form", "query"] = "json",
        in_query: tuple[str, ...] = (),
    ) -> Any:
        """Check a call's keywords against its spec and send them as the JSON body (or the
        multipart form, or the query string) of the request registered as `operation`.

        `in_query` names spec keys gu1 reads from the query string even when the rest
        travels in a body (`validate_gap` of a transaction file upload).
        """
        call = given(params, spec, call=operation)
        fields = dict(call.fields)
        in_query_fields = {to_camel(k): fields.pop(to_camel(k), None) for k in in_query}
        sent: dict[str, Any] = {"params": query(in_query_fields)}
        if into == "query":
            sent["params"] = query(fields, call.extra)
        elif into == "form":
            sent["files"] = form_fields(fields, call.extra)
        else:
            sent["json"] = compact(fields, call.extra)
        return await self._request(operation, path_params, **sent, **call.options)

    def _paginate(
        self,
        operation: str,
        model: type[_T],
        items_key: str,
        path_params: Mapping[str, object] | None = None,
        *,
        params: Mapping[str, Any],
        max_page_size: int,
        **options: Unpack[PageOptions],
    ) -> AsyncPaginator[_T]:
        """A lazy paginator over the list endpoint registered as `operation`."""
        entry = _REGISTRY[operation]
        # Validate ids now, not at the first iteration: errors surface where the call is.
        path = self._path(entry, path_params or {})
        common: dict[str, Any] = {
            "operation": operation,
            "items_key": items_key,
            "decode": decoder(model),
            "params": params,
            "max_page_size": max_page_size,
        }
        if entry.paginated == "offset":
            return OffsetPaginator(self._requester, path, **common, **options)
        if entry.paginated is None:
            raise ValueError(f"{operation} is not registered as paginated")
        size_param = entry.paginated.split("+", 1)[1]
        return PageNumberPaginator(
            self._requester, path, size_param=size_param, **common, **options
        )
