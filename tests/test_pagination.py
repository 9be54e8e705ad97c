"""AsyncPaginator: every gu1 pagination style, limit=, page_size=, early break, pages()."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pytest

from gu1_async._errors import ConfigurationError
from gu1_async.models import UserEvent
from gu1_async.pagination import (
    AsyncPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    decoder,
)

ITEMS = [{"id": f"i{n}"} for n in range(25)]


@attrs.define
class PagedServer:
    """A Requester serving ITEMS in one of gu1's styles, recording each query."""

    respond: Callable[[Mapping[str, Any]], Any]
    queries: list[dict[str, Any]] = attrs.field(factory=list)
    operations: list[str | None] = attrs.field(factory=list)
    options: list[dict[str, Any]] = attrs.field(factory=list)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        operation: str | None = None,
        **options: Any,
    ) -> Any:
        assert method == "GET"
        assert path == "/things"
        self.queries.append(dict(params or {}))
        self.operations.append(operation)
        self.options.append(options)
        return self.respond(params or {})


def offset_style(*, has_more_flag: bool = True, cap: int | None = None) -> PagedServer:
    def respond(params: Mapping[str, Any]) -> Any:
        limit, offset = int(params["limit"]), int(params["offset"])
        limit = min(limit, cap) if cap else limit
        chunk = ITEMS[offset : offset + limit]
        meta: dict[str, Any] = {"total": len(ITEMS), "limit": limit, "offset": offset}
        if has_more_flag:
            meta["hasMore"] = offset + len(chunk) < len(ITEMS)
        else:
            meta.pop("total")
        return {"success": True, "events": chunk, "pagination": meta}

    return PagedServer(respond)


def page_style(size_param: str, *, total_as_string: bool = False) -> PagedServer:
    def respond(params: Mapping[str, Any]) -> Any:
        page, size = int(params["page"]), int(params[size_param])
        chunk = ITEMS[(page - 1) * size : page * size]
        total: Any = str(len(ITEMS)) if total_as_string else len(ITEMS)
        body = {"events": chunk, "total": total, "page": page, size_param: size}
        if size_param != "limit":  # KYC history sends no totalPages
            body["totalPages"] = -(-len(ITEMS) // size)
        return body

    return PagedServer(respond)


def make(server: PagedServer, style: str, **kwargs: Any) -> AsyncPaginator[UserEvent]:
    common: dict[str, Any] = {
        "operation": "things.list",
        "items_key": "events",
        "decode": decoder(UserEvent),
        "max_page_size": 10,
        "params": {"filter": "x"},
    }
    common.update(kwargs)
    if style == "offset":
        return OffsetPaginator(server, "/things", **common)
    return PageNumberPaginator(server, "/things", size_param=style, **common)


STYLES = ["offset", "pageSize", "limit", "perPage"]


def server_for(style: str) -> PagedServer:
    return offset_style() if style == "offset" else page_style(style)


@pytest.mark.parametrize("style", STYLES)
async def test_walks_every_page_lazily_with_the_maximum_page_size(style: str) -> None:
    server = server_for(style)
    paginator = make(server, style)
    assert server.queries == []  # nothing is fetched before iteration
    ids = [event.id async for event in paginator]
    assert ids == [item["id"] for item in ITEMS]
    assert len(server.queries) == 3  # 10 + 10 + 5
    assert all(q["filter"] == "x" for q in server.queries)
    assert set(server.operations) == {"things.list"}


async def test_offset_query_parameters() -> None:
    server = offset_style()
    await make(server, "offset").collect()
    assert [(q["limit"], q["offset"]) for q in server.queries] == [(10, 0), (10, 10), (10, 20)]


@pytest.mark.parametrize("style", ["pageSize", "limit", "perPage"])
async def test_page_query_parameters(style: str) -> None:
    server = page_style(style)
    await make(server, style, page_size=7).collect()
    assert [(q["page"], q[style]) for q in server.queries] == [(1, 7), (2, 7), (3, 7), (4, 7)]


@pytest.mark.parametrize("style", STYLES)
async def test_limit_caps_the_total_and_fetches_no_more_than_needed(style: str) -> None:
    server = server_for(style)
    ids = [e.id async for e in make(server, style, limit=12)]
    assert ids == [f"i{n}" for n in range(12)]
    assert len(server.queries) == 2


async def test_offset_limit_shrinks_the_last_request() -> None:
    server = offset_style()
    await make(server, "offset", limit=12).collect()
    assert [(q["limit"], q["offset"]) for q in server.queries] == [(10, 0), (2, 10)]


@pytest.mark.parametrize("style", ["pageSize", "limit", "perPage"])
async def test_small_limit_shrinks_the_page_size_once(style: str) -> None:
    server = page_style(style)
    assert len(await make(server, style, limit=3).collect()) == 3
    assert [(q["page"], q[style]) for q in server.queries] == [(1, 3)]


@pytest.mark.parametrize("style", STYLES)
async def test_limit_zero_fetches_nothing(style: str) -> None:
    server = server_for(style)
    assert await make(server, style, limit=0).collect() == []
    assert server.queries == []


@pytest.mark.parametrize("style", STYLES)
async def test_breaking_early_fetches_no_extra_page(style: str) -> None:
    server = server_for(style)
    async for event in make(server, style):
        if event.id == "i3":
            break
    assert len(server.queries) == 1


@pytest.mark.parametrize("style", STYLES)
async def test_pages_yields_models_with_the_raw_page(style: str) -> None:
    server = server_for(style)
    pages = [page async for page in make(server, style).pages()]
    assert [len(p.items) for p in pages] == [10, 10, 5]
    assert [p.has_more for p in pages] == [True, True, False]
    assert all(p.total == 25 for p in pages)
    assert isinstance(pages[0].items[0], UserEvent)
    assert pages[0].raw["events"][0] == {"id": "i0"}
    if style == "offset":
        assert [p.offset for p in pages] == [0, 10, 20]
    else:
        assert [p.number for p in pages] == [1, 2, 3]


async def test_total_sent_as_a_string_is_understood() -> None:
    server = page_style("pageSize", total_as_string=True)
    pages = [p async for p in make(server, "pageSize").pages()]
    assert pages[0].total == 25 and len(pages) == 3


async def test_without_has_more_a_short_page_ends_the_walk() -> None:
    server = offset_style(has_more_flag=False)
    assert len(await make(server, "offset").collect()) == 25
    assert len(server.queries) == 3


async def test_a_server_capping_the_page_size_is_followed_by_offset() -> None:
    server = offset_style(cap=4)
    ids = [e.id async for e in make(server, "offset")]
    assert ids == [item["id"] for item in ITEMS]
    assert [q["offset"] for q in server.queries][:3] == [0, 4, 8]


async def test_an_empty_page_ends_the_walk_even_if_more_is_claimed() -> None:
    server = PagedServer(lambda _: {"events": [], "pagination": {"hasMore": True}})
    assert await make(server, "offset").collect() == []
    assert len(server.queries) == 1


async def test_a_body_without_items_is_an_empty_page() -> None:
    server = PagedServer(lambda _: None)
    assert await make(server, "perPage").collect() == []


async def test_request_options_are_sent_with_every_page() -> None:
    server = offset_style()
    await make(server, "offset", timeout=5.0).collect()
    assert server.options == [{"timeout": 5.0}] * 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page_size": 0}, "page_size must be between 1 and 10"),
        ({"page_size": 11}, "page_size must be between 1 and 10"),
        ({"limit": -1}, "limit must be >= 0"),
    ],
)
def test_bad_sizes_are_rejected_up_front(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make(offset_style(), "offset", **kwargs)


def test_repr_names_the_operation() -> None:
    assert "things.list" in repr(make(offset_style(), "offset"))
