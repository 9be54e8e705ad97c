"""`client.custom_schemas`: custom schemas and field mappings (gu1-api.md §2.11, §5.1)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gu1_async._serde import compact, query, structure, unwrap, unwrap_list
from gu1_async.models import CustomSchema, FieldMapping, SchemaCategory, SchemaType
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources._params import Body

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import RequestOptions

__all__ = ["CustomSchemas"]


def _schemas(body: Any) -> builtins.list[Any]:
    # The list endpoint's envelope key is not documented; accept the likely ones.
    for key in ("schemas", "customSchemas", "data", "items"):
        found = unwrap_list(body, key)
        if found:
            return found
    return []


class CustomSchemas(Resource):
    """Describe your source data and map it onto gu1's entity model."""

    @endpoint("POST", "/custom-schemas", operation="custom_schemas.create", doc=82)
    async def create(
        self,
        *,
        name: str,
        type: SchemaType,
        category: SchemaCategory,
        schema_data: Body,
        version: str | None = None,
        description: str | None = None,
        is_public: bool | None = None,
        extra_body: Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> CustomSchema:
        """Create a schema; `schema_data` is `{fields[], metadata{}, analysisResults{}}`."""
        body = compact(
            {
                "name": name,
                "type": type,
                "category": category,
                "schemaData": schema_data,
                "version": version,
                "description": description,
                "isPublic": is_public,
            },
            extra_body,
        )
        data = await self._request("custom_schemas.create", json=body, **options)
        return CustomSchema.from_api(unwrap(data, "schema", "data"))

    @endpoint(
        "GET",
        "/custom-schemas",
        operation="custom_schemas.list",
        doc=83,
        note="Not paginated.",
    )
    async def list(
        self,
        *,
        type: SchemaType | None = None,
        category: SchemaCategory | None = None,
        is_public: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> builtins.list[CustomSchema]:
        """Schemas matching the filters."""
        params = query({"type": type, "category": category, "isPublic": is_public})
        data = await self._request("custom_schemas.list", params=params, **options)
        return structure(_schemas(data), builtins.list[CustomSchema])

    @endpoint("POST", "/custom-schemas/mappings", operation="custom_schemas.create_mapping", doc=85)
    async def create_mapping(
        self,
        *,
        name: str,
        mapping_data: Body,
        description: str | None = None,
        source_schema_id: str | None = None,
        source_schema_name: str | None = None,
        target_schema_type: str | None = None,
        target_schema_name: str | None = None,
        industry: str | None = None,
        collaborators: Sequence[str] | None = None,
        extra_body: Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> FieldMapping:
        """Create a field mapping (`mapping_data` = `{mappings[], templates[], ...}`)."""
        body = compact(
            {
                "name": name,
                "mappingData": mapping_data,
                "description": description,
                "sourceSchemaId": source_schema_id,
                "sourceSchemaName": source_schema_name,
                "targetSchemaType": target_schema_type,
                "targetSchemaName": target_schema_name,
                "industry": industry,
                "collaborators": collaborators,
            },
            extra_body,
        )
        data = await self._request("custom_schemas.create_mapping", json=body, **options)
        return FieldMapping.from_api(unwrap(data, "mapping", "data"))
