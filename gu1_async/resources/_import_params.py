"""The keyword specs of `client.bulk_imports`: entity imports and CSV mappings (`_params.py`).

The transaction file import shares `TransactionFileParams` with `transactions.upload`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypedDict

from gu1_async._types import FilePart, RequestOptions
from gu1_async.models import MappingTarget
from gu1_async.resources._entity_params import IntegrationRun
from gu1_async.resources._params import Body

__all__ = [
    "EntityCsvImportParams",
    "EntityImportParams",
    "MappingCreateParams",
    "MappingUpdateParams",
    "UserEventCsvImportParams",
]


class _EntityImportFields(IntegrationRun, total=False):
    """What the JSON and the CSV entity imports share."""

    risk_matrix_person_id: str | None
    risk_matrix_company_id: str | None
    skip_rules_execution: bool | None
    stop_on_first_error: bool | None
    monitoring: Body | None
    report_recipient_emails: Sequence[str] | None


class _ItemsRequired(TypedDict):
    items: Sequence[Body]


class EntityImportParams(_ItemsRequired, _EntityImportFields, total=False):
    """`bulk_imports.import_entities`: JSON rows (`taxId`, `type`, ...) in `items`."""

    import_mode: Literal["automatic_enriched", "manual_no_enrichment"] | str | None
    country: str | None
    email_locale: Literal["en", "es", "pt"] | str | None
    extra_body: Body | None


class _MappedFileRequired(TypedDict):
    file: FilePart
    mapping_id: str


class _EntityCsvRequired(_MappedFileRequired):
    entity_import_mode: Literal["automatic_enriched", "manual_no_enrichment"] | str


class EntityCsvImportParams(_EntityCsvRequired, _EntityImportFields, total=False):
    """`bulk_imports.import_entities_csv`: `file`, `mapping_id`, `entity_import_mode`.

    `entity_import_mode` is required here because gu1's pages disagree on its default.
    """

    is_client: bool | None
    status: str | None
    nationality: str | None
    email_locale: str | None
    attributes: Body | None
    extra_fields: Body | None


class UserEventCsvImportParams(_MappedFileRequired, RequestOptions, total=False):
    """`bulk_imports.import_user_events_csv`: a CSV file and its saved mapping."""

    execute_rules: bool | None
    with_auto_entity: bool | None
    extra_fields: Body | None


class _MappingFields(RequestOptions, total=False):
    default_fields: Body | None
    headers_snapshot: Sequence[str] | None
    extra_body: Body | None


class _MappingRequired(TypedDict):
    name: str
    target: MappingTarget
    column_mapping: Body


class MappingCreateParams(_MappingRequired, _MappingFields, total=False):
    """`bulk_imports.create_mapping`: `name`, `target` and `column_mapping` are required."""


class MappingUpdateParams(_MappingFields, total=False):
    """`bulk_imports.update_mapping`: the create keys, every one optional."""

    name: str | None
    target: MappingTarget | None
    column_mapping: Body | None
