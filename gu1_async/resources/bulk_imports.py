"""`client.bulk_imports`: bulk imports, CSV mappings and job polling (gu1-api.md §2.2)."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from gu1_async._serde import compact, query, structure, unwrap, unwrap_list
from gu1_async.models import ApiResult, BatchFailures, BatchJob, ImportMapping
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources._import_params import (
    EntityCsvImportParams,
    EntityImportParams,
    MappingCreateParams,
    MappingUpdateParams,
    UserEventCsvImportParams,
)
from gu1_async.resources._jobs import ProgressCallback, poll_job
from gu1_async.resources._transaction_params import TransactionFileParams

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import RequestOptions

__all__ = ["BulkImports", "ProgressCallback"]

# gu1-api.md §1.4: mappings, job status and failures accept any one of these.
_JOB_READERS = ("transactions:create", "entities:bulk_import", "events:create")


def _text(body: Any) -> str:
    """CSV downloads: the requester hands back text (or bytes) instead of JSON."""
    if isinstance(body, bytes):
        return body.decode("utf-8")
    return "" if body is None else str(body)


def _job(body: Any) -> BatchJob:
    return BatchJob.from_api(unwrap(body, "job") if isinstance(body, Mapping) else {})


class BulkImports(Resource):
    """Start bulk imports (202 + job), manage CSV mappings, and follow jobs to the end."""

    @endpoint(
        "POST",
        "/entities/automatic/bulk",
        operation="bulk_imports.import_entities",
        doc=17,
        permissions=("entities:bulk_import", "entities:create"),
        note="Needs the organization feature flag for bulk automatic entity import.",
    )
    async def import_entities(self, **params: Unpack[EntityImportParams]) -> BatchJob:
        """Import entities from JSON rows (`taxId`, `type`, ...); returns the job to wait on."""
        data = await self._send("bulk_imports.import_entities", EntityImportParams, params)
        return _job(data)

    @endpoint(
        "POST",
        "/batch-import/import/entities",
        operation="bulk_imports.import_entities_csv",
        doc=18,
        permissions=("entities:bulk_import",),
        note="multipart/form-data; needs the bulk automatic entity import feature flag.",
    )
    async def import_entities_csv(self, **params: Unpack[EntityCsvImportParams]) -> BatchJob:
        """Import entities from one CSV file with a saved mapping.

        `entity_import_mode` is required here because gu1's pages disagree on its default.
        """
        data = await self._send(
            "bulk_imports.import_entities_csv", EntityCsvImportParams, params, into="form"
        )
        return _job(data)

    @endpoint(
        "POST",
        "/batch-import/import/user-events",
        operation="bulk_imports.import_user_events_csv",
        doc=19,
        permissions=("events:create",),
        note="multipart/form-data.",
    )
    async def import_user_events_csv(self, **params: Unpack[UserEventCsvImportParams]) -> BatchJob:
        """Import user events from one CSV file with a saved mapping (target `user_event`)."""
        operation = "bulk_imports.import_user_events_csv"
        return _job(await self._send(operation, UserEventCsvImportParams, params, into="form"))

    @endpoint(
        "POST",
        "/batch-import/import/transactions",
        operation="bulk_imports.import_transactions",
        doc=20,
        note="multipart/form-data; same form as POST /transactions/batch/upload.",
    )
    async def import_transactions(self, **params: Unpack[TransactionFileParams]) -> BatchJob:
        """Import transactions from a CSV/Excel/JSON file (omit both mappings: native parser)."""
        data = await self._send(
            "bulk_imports.import_transactions",
            TransactionFileParams,
            params,
            into="form",
            in_query=("validate_gap",),
        )
        return _job(data)

    @endpoint(
        "GET",
        "/batch-import/mappings",
        operation="bulk_imports.list_mappings",
        doc=21,
        any_of=_JOB_READERS,
    )
    async def list_mappings(
        self, **options: Unpack[RequestOptions]
    ) -> builtins.list[ImportMapping]:
        """All saved CSV mappings of the organization."""
        data = await self._request("bulk_imports.list_mappings", **options)
        return structure(unwrap_list(data, "mappings"), builtins.list[ImportMapping])

    @endpoint(
        "POST",
        "/batch-import/mappings",
        operation="bulk_imports.create_mapping",
        doc=22,
        any_of=_JOB_READERS,
    )
    async def create_mapping(self, **params: Unpack[MappingCreateParams]) -> ImportMapping:
        """Save a CSV column mapping; pass its id as `mapping_id` to an import."""
        data = await self._send("bulk_imports.create_mapping", MappingCreateParams, params)
        return ImportMapping.from_api(unwrap(data, "mapping"))

    @endpoint(
        "PATCH",
        "/batch-import/mappings/{mapping_id}",
        operation="bulk_imports.update_mapping",
        doc=23,
        any_of=_JOB_READERS,
    )
    async def update_mapping(
        self, mapping_id: str, **params: Unpack[MappingUpdateParams]
    ) -> ImportMapping:
        """Partially update a saved mapping."""
        data = await self._send(
            "bulk_imports.update_mapping", MappingUpdateParams, params, {"mapping_id": mapping_id}
        )
        return ImportMapping.from_api(unwrap(data, "mapping"))

    @endpoint(
        "DELETE",
        "/batch-import/mappings/{mapping_id}",
        operation="bulk_imports.delete_mapping",
        doc=24,
        any_of=_JOB_READERS,
    )
    async def delete_mapping(self, mapping_id: str, **options: Unpack[RequestOptions]) -> bool:
        """Delete a saved mapping; True when gu1 answers `{ok: true}`."""
        data = await self._request(
            "bulk_imports.delete_mapping", {"mapping_id": mapping_id}, **options
        )
        return bool(isinstance(data, Mapping) and data.get("ok"))

    @endpoint(
        "GET",
        "/batch-import/jobs/{job_id}",
        operation="bulk_imports.get_job",
        doc=25,
        any_of=_JOB_READERS,
        note="The canonical polling endpoint for every bulk job; poll every 2-5 s.",
    )
    async def get_job(
        self, job_id: str, *, include_failures: bool = False, **options: Unpack[RequestOptions]
    ) -> BatchJob:
        """The job's status and counters (`include_failures` adds failures to `extra`)."""
        params = query({"include": "failures" if include_failures else None})
        data = await self._request(
            "bulk_imports.get_job", {"job_id": job_id}, params=params, **options
        )
        return _job(data)

    @endpoint(
        "POST",
        "/batch-import/jobs/{job_id}/control",
        operation="bulk_imports.control_job",
        doc=26,
        any_of=_JOB_READERS,
        note="The permission depends on the job kind: transaction_batch needs "
        "transactions:create, user_event_batch events:create, "
        "entity_automatic entities:bulk_import.",
    )
    async def control_job(
        self,
        job_id: str,
        *,
        kind: Literal["transaction_batch", "user_event_batch", "entity_automatic"] | str,
        action: Literal["pause", "resume", "cancel"] | str,
        **options: Unpack[RequestOptions],
    ) -> ApiResult:
        """Pause, resume or cancel a job (cooperative: takes effect between items)."""
        body = compact({"kind": kind, "action": action})
        data = await self._request(
            "bulk_imports.control_job", {"job_id": job_id}, json=body, **options
        )
        return ApiResult.from_api(data if isinstance(data, Mapping) else {})

    @endpoint(
        "GET",
        "/batch-import/entity-jobs/{job_id}/failures",
        operation="bulk_imports.entity_job_failures",
        doc=27,
        any_of=_JOB_READERS,
    )
    async def entity_job_failures(
        self, job_id: str, **options: Unpack[RequestOptions]
    ) -> BatchFailures:
        """Row failures and skips of an entity import job."""
        data = await self._request(
            "bulk_imports.entity_job_failures", {"job_id": job_id}, **options
        )
        return BatchFailures.from_api(data)

    @endpoint(
        "GET",
        "/batch-import/entity-jobs/{job_id}/failures.csv",
        operation="bulk_imports.entity_job_failures_csv",
        doc=28,
        any_of=_JOB_READERS,
        note="Returns CSV (failed rows only).",
    )
    async def entity_job_failures_csv(self, job_id: str, **options: Unpack[RequestOptions]) -> str:
        """The failed rows of an entity import job as CSV text."""
        data = await self._request(
            "bulk_imports.entity_job_failures_csv", {"job_id": job_id}, **options
        )
        return _text(data)

    @endpoint(
        "GET",
        "/entities/automatic/bulk/imports/{job_id}/failures.csv",
        operation="bulk_imports.entity_job_failures_csv_legacy",
        doc=29,
        any_of=_JOB_READERS,
        note="Legacy alias of #28; prefer entity_job_failures_csv.",
    )
    async def entity_job_failures_csv_legacy(
        self, job_id: str, **options: Unpack[RequestOptions]
    ) -> str:
        """The legacy path of `entity_job_failures_csv`."""
        data = await self._request(
            "bulk_imports.entity_job_failures_csv_legacy", {"job_id": job_id}, **options
        )
        return _text(data)

    @endpoint(
        "GET",
        "/batch-import/user-event-jobs/{job_id}/failures",
        operation="bulk_imports.user_event_job_failures",
        doc=30,
        any_of=_JOB_READERS,
    )
    async def user_event_job_failures(
        self, job_id: str, **options: Unpack[RequestOptions]
    ) -> BatchFailures:
        """Row failures of a user-event import job."""
        data = await self._request(
            "bulk_imports.user_event_job_failures", {"job_id": job_id}, **options
        )
        return BatchFailures.from_api(data)

    @endpoint(
        "GET",
        "/batch-import/user-event-jobs/{job_id}/failures.csv",
        operation="bulk_imports.user_event_job_failures_csv",
        doc=31,
        any_of=_JOB_READERS,
        note="Returns CSV.",
    )
    async def user_event_job_failures_csv(
        self, job_id: str, **options: Unpack[RequestOptions]
    ) -> str:
        """The failures of a user-event import job as CSV text."""
        data = await self._request(
            "bulk_imports.user_event_job_failures_csv", {"job_id": job_id}, **options
        )
        return _text(data)

    async def wait(
        self,
        job_id: str,
        *,
        poll_interval: float = 2.0,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        request_options: RequestOptions | None = None,
    ) -> BatchJob:
        """Poll `GET /batch-import/jobs/{job_id}` until the job is terminal; return it.

        Terminal statuses: completed, failed, cancelled, interrupted. A failed job is
        returned, not raised: inspect `job.status` and the failures endpoints.

        Args:
            job_id: the job to follow.
            poll_interval: seconds between polls (gu1 recommends 2-5 s).
            timeout: give up after this many seconds (None: wait for ever).
            on_progress: called with each polled job (sync or async).
            sleep: the sleep to use between polls (inject a fake one in tests).
            request_options: request options for each poll (its `timeout` is per poll;
                the `timeout` argument above bounds the whole wait).

        Raises:
            ConfigurationError: poll_interval <= 0 or timeout < 0.
            APITimeoutError: the job is still running after `timeout` seconds.
        """
        options = request_options or {}
        return await poll_job(
            lambda: self.get_job(job_id, **options),
            job_id=job_id,
            poll_interval=poll_interval,
            timeout=timeout,
            on_progress=on_progress,
            sleep=sleep,
        )
