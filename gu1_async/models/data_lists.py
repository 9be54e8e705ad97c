"""Data lists: custom block/allow lists the rules engine checks against."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from gu1_async.models._base import Gu1Model

__all__ = [
    "DataList",
    "DataListBulkResult",
    "DataListCheckResult",
    "DataListItem",
    "DataListItemsResult",
    "DataListSource",
    "DataListType",
]

DataListType = (
    Literal["custom", "company_blocklist", "document_blocklist", "keyword_list", "ip_blocklist"]
    | str
)
DataListSource = Literal["manual_entry", "api_integration", "custom_upload", "internal"] | str


@attrs.frozen(kw_only=True, repr=False)
class DataList(Gu1Model):
    """A data list."""

    id: str | None = None
    name: str | None = None
    type: DataListType | None = None
    description: str | None = None
    source: DataListSource | None = None
    config: Mapping[str, Any] | None = None
    field_mappings: Mapping[str, Any] | None = None
    priority: int | None = None
    is_global: bool | None = None
    status: str | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class DataListItem(Gu1Model):
    """One value of a data list."""

    id: str | None = None
    list_id: str | None = None
    primary_value: str | None = None
    secondary_value: str | None = None
    search_keys: tuple[str, ...] | None = None
    category: str | None = None
    risk_score: float | None = None
    severity: str | None = None
    reason: str | None = None
    item_data: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] | None = None
    is_active: bool | None = None
    created_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class DataListItemsResult(Gu1Model):
    """Adding items: counters (processed, errors, duplicates...) and the resolved list id."""

    success: bool | None = None
    list_id: str | None = None
    processed: int | None = None
    errors: Any = None
    duplicates: int | None = None


@attrs.frozen(kw_only=True, repr=False)
class DataListBulkResult(Gu1Model):
    """`POST /data-lists/{id}/items/bulk`."""

    success: bool | None = None
    successful: int | None = None
    errors: Any = None
    error_details: tuple[Any, ...] | None = None


@attrs.frozen(kw_only=True, repr=False)
class DataListCheckResult(Gu1Model):
    """`POST /data-lists/{type}/check`: whether a value is on lists of that type."""

    found: bool | None = None
    list_type: str | None = None
    search_value: Any = None
    matches: tuple[Any, ...] | None = None
    match_count: int | None = None
    performance: Any = None
    cache_hit: bool | None = None
