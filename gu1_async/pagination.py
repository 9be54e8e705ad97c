"""Lazy async iteration over gu1's paginated list endpoints.

gu1 pages its lists in four ways (gu1-api.md §2.12): `limit`/`offset` with a
`pagination.hasMore` flag (events, devices), and `page` plus a page-size parameter named
`pageSize` (rules), `limit` (KYC history, data-list items) or `perPage` (headless
executions). One `AsyncPaginator` family hides the difference:

```python
async for event in client.events.list(event_type="LOGIN_FAILED", limit=500):
    ...
async for page in client.rules.list().pages():
    print(page.number, len(page.items), page.total)
```

Nothing is fetched until iteration starts, and each page is fetched only when the
previous one is used up, so breaking out early costs no extra request.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from gu1_async._errors import APIResponseError, ConfigurationError
from gu1_async._serde import converter
from gu1_async._types import Requester

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import RequestOptions

__all__ = ["AsyncPaginator", "OffsetPaginator", "Page", "PageNumberPaginator"]

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One page of results.

    Attributes:
        items: the decoded items of this page.
        raw: the decoded JSON body of the page.
        number: the 1-based page number (page-numbered endpoints), else None.
        offset: the offset of the first item (offset endpoints), else None.
        total: the total number of items gu1 reports, if it does.
        has_more: whether another page follows.
    """

    items: tuple[T, ...]
    raw: Mapping[str, Any] = attrs.field(eq=False, repr=False)
    number: int | None = None
    offset: int | None = None
    total: int | None = None
    has_more: bool = False


def _as_int(value: Any) -> int | None:
    # gu1 documents some totals as strings ("total": "42"); a bad one is simply unknown.
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class AsyncPaginator(abc.ABC, Generic[T]):
    """Walks every page of one list endpoint lazily; iterate it for items.

    Args:
        requester: sends the requests.
        path: the (already quoted) request path.
        operation: the registry name of the calling method, e.g. `"events.list"`.
        items_key: the key holding the page's list in the response body.
        decode: turns one JSON item into a model.
        params: the endpoint's filters, sent with every page.
        page_size: items per request; defaults to the endpoint's documented maximum.
        max_page_size: the documented maximum.
        limit: stop after this many items in total (None: all of them).
        size_param: the query parameter that names the page size (`"limit"`; page-number
            endpoints also use `"pageSize"` or `"perPage"`).
        options: per-call request options (timeout, priority...), used for every page.

    Raises:
        ConfigurationError: `page_size` outside 1..max_page_size, or a negative `limit`.
    """

    def __init__(
        self,
        requester: Requester,
        path: str,
        *,
        operation: str,
        items_key: str,
        decode: Callable[[Any], T],
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        max_page_size: int,
        limit: int | None = None,
        size_param: str = "limit",
        **options: Unpack[RequestOptions],
    ) -> None:
        size = max_page_size if page_size is None else page_size
        if not 1 <= size <= max_page_size:
            raise ConfigurationError(
                f"page_size must be between 1 and {max_page_size} for {operation}, got {size}"
            )
        if limit is not None and limit < 0:
            raise ConfigurationError(f"limit must be >= 0, got {limit}")
        self._requester = requester
        self._path = path
        self._operation = operation
        self._items_key = items_key
        self._decode = decode
        self._params = dict(params or {})
        self._page_size = self._walk_page_size(size, limit)
        self._limit = limit
        self._size_param = size_param
        self._options = options

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self._operation}, path={self._path!r}, "
            f"page_size={self._page_size}, limit={self._limit})"
        )

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iter_items()

    async def _iter_items(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Yield pages one by one (trimmed so that no more than `limit` items appear)."""
        seen = 0
        state = self._first_state()
        while self._limit is None or seen < self._limit:
            wanted = self._page_size if self._limit is None else self._limit - seen
            params = {**self._params, **self._page_params(state, wanted)}
            try:
                body = await self._requester.request(
                    "GET", self._path, params=params, operation=self._operation, **self._options
                )
                body = body if isinstance(body, Mapping) else {}
                raw_items = body.get(self._items_key)
                items = list(raw_items) if isinstance(raw_items, list) else []
                page = self._make_page(state, body, [self._decode(i) for i in items])
            except APIResponseError as exc:
                # Name the list endpoint, as every other resource method does.
                if exc.operation is None:
                    exc.operation, exc.method, exc.path = self._operation, "GET", self._path
                raise
            if self._limit is not None and len(page.items) > self._limit - seen:
                page = attrs.evolve(page, items=page.items[: self._limit - seen])
            seen += len(page.items)
            yield page
            # An empty page ends the walk even if gu1 says "more": never loop forever.
            if not items or not page.has_more:
                return
            state = self._next_state(state, len(items))

    async def collect(self) -> list[T]:
        """Fetch every page (up to `limit` items) and return the items as a list."""
        return [item async for item in self]

    def _walk_page_size(self, size: int, limit: int | None) -> int:
        """The page size asked for: `size`, unless the paging style needs `limit` in it."""
        return size

    @abc.abstractmethod
    def _first_state(self) -> int:
        """The position of the first page (an offset or a page number)."""

    @abc.abstractmethod
    def _page_params(self, state: int, wanted: int) -> dict[str, Any]:
        """Query parameters that select the page at `state`."""

    @abc.abstractmethod
    def _next_state(self, state: int, received: int) -> int:
        """The position after a page of `received` items."""

    @abc.abstractmethod
    def _make_page(self, state: int, body: Mapping[str, Any], items: list[T]) -> Page[T]:
        """Read totals and the has-more signal from the body."""


class OffsetPaginator(AsyncPaginator[T]):
    """`limit`/`offset` pagination with a `pagination{total, limit, offset, hasMore}` block."""

    def _first_state(self) -> int:
        return 0

    def _page_params(self, state: int, wanted: int) -> dict[str, Any]:
        # Offsets are absolute, so the last request can shrink to what `limit` still needs.
        return {self._size_param: min(self._page_size, wanted), "offset": state}

    def _next_state(self, state: int, received: int) -> int:
        # Advance by what arrived, not by what was asked: gu1 may cap a page.
        return state + received

    def _make_page(self, state: int, body: Mapping[str, Any], items: list[T]) -> Page[T]:
        meta = body.get("pagination")
        meta = meta if isinstance(meta, Mapping) else {}
        total = _as_int(meta.get("total", body.get("total")))
        has_more = meta.get("hasMore")
        if not isinstance(has_more, bool):
            if total is not None:
                has_more = state + len(items) < total
            else:
                # No signal at all: a full page suggests more may follow.
                has_more = len(items) >= (_as_int(meta.get("limit")) or self._page_size)
        return Page(tuple(items), body, offset=state, total=total, has_more=has_more)


class PageNumberPaginator(AsyncPaginator[T]):
    """1-based `page` pagination; the page-size parameter's name varies by endpoint.

    Its `size_param` is `"pageSize"`, `"limit"` or `"perPage"` (arguments as for
    AsyncPaginator).
    """

    def _walk_page_size(self, size: int, limit: int | None) -> int:
        # Page numbers depend on the page size, so it must stay fixed for the whole walk;
        # a small `limit` shrinks it once, up front.
        return limit if limit is not None and 0 < limit < size else size

    def _first_state(self) -> int:
        return 1

    def _page_params(self, state: int, wanted: int) -> dict[str, Any]:
        return {"page": state, self._size_param: self._page_size}

    def _next_state(self, state: int, received: int) -> int:
        return state + 1

    def _make_page(self, state: int, body: Mapping[str, Any], items: list[T]) -> Page[T]:
        total = _as_int(body.get("total"))
        total_pages = _as_int(body.get("totalPages"))
        size = _as_int(body.get(self._size_param)) or self._page_size
        if total_pages is not None:
            has_more = state < total_pages
        elif total is not None:
            has_more = (state - 1) * size + len(items) < total
        else:
            has_more = len(items) >= size
        return Page(tuple(items), body, number=state, total=total, has_more=has_more)


def decoder(model: type[T]) -> Callable[[Any], T]:
    """A `decode` function that builds `model` with the SDK's converter."""
    return lambda item: converter.structure(item, model)
