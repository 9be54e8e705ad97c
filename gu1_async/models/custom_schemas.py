"""Custom schemas and field mappings (the data-ingestion section)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from gu1_async.models._base import Gu1Model

__all__ = ["CustomSchema", "FieldMapping", "SchemaCategory", "SchemaType"]

SchemaType = Literal["database", "api", "file", "custom"] | str
SchemaCategory = Literal["financial", "identity", "compliance", "transaction", "general"] | str


@attrs.frozen(kw_only=True, repr=False)
class CustomSchema(Gu1Model):
    """A description of your source data."""

    id: str | None = None
    name: str | None = None
    version: str | None = None
    description: str | None = None
    type: SchemaType | None = None
    category: SchemaCategory | None = None
    schema_data: Mapping[str, Any] | None = None
    is_public: bool | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None


@attrs.frozen(kw_only=True, repr=False)
class FieldMapping(Gu1Model):
    """A mapping from a custom schema onto gu1's entity model."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    source_schema_id: str | None = None
    target_schema_type: str | None = None
    mapping_data: Mapping[str, Any] | None = None
    industry: str | None = None
    created_at: _dt.datetime | None = None
