"""`client.data_lists`: block/allow lists used by rules (gu1-api.md §2.10)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gu1_async._serde import compact, query, unwrap
from gu1_async.models import (
    DataList,
    DataListBulkResult,
    DataListCheckResult,
    DataListItem,
    DataListItemsResult,
    DataListSource,
    DataListType,
)
from gu1_async.pagination import AsyncPaginator
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources._params import Body

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import PageOptions, RequestOptions

__all__ = ["DataLists"]

_UPDATE_NOTE = "Needs the permission to update the list (exact string undocumented)."


class DataLists(Resource):
    """Create data lists, add items, page through them and check values."""

    @endpoint("POST", "/data-lists", operation="data_lists.create", doc=71)
    async def create(
        self,
        *,
        name: str,
        type: DataListType,
        source: DataListSource,
        description: str | None = None,
        config: Body | None = None,
        field_mappings: Body | None = None,
        list_priority: int | None = None,
        extra_body: Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> DataList:
        """Create a data list.

        `list_priority` is gu1's `priority` field (1-100, default 50), renamed because
        `priority=` is the request option of the rate-limit governor.
        """
        body = compact(
            {
                "name": name,
                "type": type,
                "source": source,
                "description": description,
                "config": config,
                "fieldMappings": field_mappings,
                "priority": list_priority,
            },
            extra_body,
        )
        data = await self._request("data_lists.create", json=body, **options)
        return DataList.from_api(unwrap(data, "data"))

    @endpoint(
        "POST",
        "/data-lists/{list_id}/items",
        operation="data_lists.add_items",
        doc=72,
        note=_UPDATE_NOTE + " 1-1000 items per request.",
    )
    async def add_items(
        self,
        list_id: str,
        *,
        items: Sequence[Body],
        options: Body | None = None,
        extra_body: Body | None = None,
        **request_options: Unpack[RequestOptions],
    ) -> DataListItemsResult:
        """Add 1-1000 items (`{primaryValue, searchKeys, category, ...}`) to a list.

        `options` is gu1's body field `{batchSize, ignoreDuplicates, updateExisting}`.
        """
        path = {"list_id": list_id}
        operation = "data_lists.add_items"
        return await self._add_items(operation, path, items, options, extra_body, request_options)

    @endpoint(
        "POST",
        "/data-lists/{list_id}/items/bulk",
        operation="data_lists.bulk_import_items",
        doc=73,
        note="Needs the bulk import permission for data lists (exact string undocumented).",
    )
    async def bulk_import_items(
        self,
        list_id: str,
        *,
        items: Sequence[Body],
        skip_validation_errors: bool | None = None,
        replace_existing: bool | None = None,
        extra_body: Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> DataListBulkResult:
        """Import many items at once (more than the 1000 `add_items` allows)."""
        body = compact(
            {
                "items": items,
                "skipValidationErrors": skip_validation_errors,
                "replaceExisting": replace_existing,
            },
            extra_body,
        )
        data = await self._request(
            "data_lists.bulk_import_items", {"list_id": list_id}, json=body, **options
        )
        return DataListBulkResult.from_api(unwrap(data, "data"))

    @endpoint(
        "POST",
        "/data-lists/{list_type}/items",
        operation="data_lists.add_items_by_type",
        doc=74,
        note="Legacy shortcut: adds to the first active list of that type (404 if none). "
        "Same path shape as #72: gu1 tells a list id from a type.",
    )
    async def add_items_by_type(
        self,
        list_type: DataListType,
        *,
        items: Sequence[Body],
        options: Body | None = None,
        extra_body: Body | None = None,
        **request_options: Unpack[RequestOptions],
    ) -> DataListItemsResult:
        """Add items to the first active list of `list_type`; the result names `list_id`."""
        path = {"list_type": list_type}
        operation = "data_lists.add_items_by_type"
        return await self._add_items(operation, path, items, options, extra_body, request_options)

    @endpoint(
        "GET",
        "/data-lists/{list_id}/items",
        operation="data_lists.list_items",
        doc=75,
        paginated="page+limit",
        note="403 for marketplace-only global lists.",
    )
    def list_items(
        self,
        list_id: str,
        *,
        category: str | None = None,
        extra_params: Body | None = None,
        **options: Unpack[PageOptions],
    ) -> AsyncPaginator[DataListItem]:
        """Iterate a list's items (page size up to 50,000, the default here).

        The text-search parameter's name is not documented: use `extra_params`.
        """
        return self._paginate(
            "data_lists.list_items",
            DataListItem,
            "items",
            {"list_id": list_id},
            params=query({"category": category}, extra_params),
            max_page_size=50_000,
            **options,
        )

    @endpoint("POST", "/data-lists/{list_type}/check", operation="data_lists.check", doc=77)
    async def check(
        self,
        list_type: DataListType,
        *,
        search_value: Any,
        include_metadata: bool | None = None,
        use_cache: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> DataListCheckResult:
        """Whether `search_value` is on the lists of `list_type`."""
        opts = compact({"includeMetadata": include_metadata, "useCache": use_cache})
        body = compact({"searchValue": search_value, "options": opts or None})
        data = await self._request(
            "data_lists.check", {"list_type": list_type}, json=body, **options
        )
        return DataListCheckResult.from_api(unwrap(data, "data"))

    async def _add_items(
        self,
        operation: str,
        path: Mapping[str, str],
        items: Sequence[Body],
        options: Body | None,
        extra_body: Body | None,
        request_options: RequestOptions,
    ) -> DataListItemsResult:
        """Add items to a list found by id or by type (`operation`)."""
        body = compact({"items": items, "options": options}, extra_body)
        data = await self._request(operation, path, json=body, **request_options)
        return DataListItemsResult.from_api(unwrap(data, "data"))
