"""The endpoint registry: complete against gu1's docs, consistent with the code and docs."""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest
from aioresponses import aioresponses

from gu1_async._errors import ConfigurationError
from gu1_async.resources import (
    ENDPOINTS,
    RESOURCES,
    Devices,
    Entities,
    endpoint,
    permissions_for,
)

from . import (
    test_bulk_imports,
    test_enrichment_lists_schemas,
    test_entities,
    test_events_devices_kyc,
    test_rules_intelligence,
    test_transactions,
)
from .conftest import FakeRequester
from .harness import ANY_GU1_URL, Api

ROOT = Path(__file__).resolve().parents[2]

# Every endpoint gu1-api.md §2 tags [doc], copied here because tests must not read
# ../shared (a fresh clone does not have it): (number, method, path).
DOCUMENTED = [
    (1, "POST", "/entities"),
    (2, "POST", "/entities/automatic"),
    (3, "GET", "/entities"),
    (4, "GET", "/entities/{id}"),
    (5, "GET", "/entities/by-external-id/{externalId}"),
    (6, "GET", "/entities/by-tax-id/{taxId}"),
    (7, "PATCH", "/entities/{id}"),
    (8, "PATCH", "/entities/by-external-id/{externalId}"),
    (10, "PATCH", "/entities/{id}/attributes"),
    (11, "PUT", "/entities/upsert"),
    (12, "POST", "/entities/change-external-id"),
    (13, "POST", "/entities/{entityId}/analyze"),
    (14, "POST", "/entities/{entityId}/refresh"),
    (17, "POST", "/entities/automatic/bulk"),
    (18, "POST", "/batch-import/import/entities"),
    (19, "POST", "/batch-import/import/user-events"),
    (20, "POST", "/batch-import/import/transactions"),
    (21, "GET", "/batch-import/mappings"),
    (22, "POST", "/batch-import/mappings"),
    (23, "PATCH", "/batch-import/mappings/{id}"),
    (24, "DELETE", "/batch-import/mappings/{id}"),
    (25, "GET", "/batch-import/jobs/{jobId}"),
    (26, "POST", "/batch-import/jobs/{jobId}/control"),
    (27, "GET", "/batch-import/entity-jobs/{jobId}/failures"),
    (28, "GET", "/batch-import/entity-jobs/{jobId}/failures.csv"),
    (29, "GET", "/entities/automatic/bulk/imports/{jobId}/failures.csv"),
    (30, "GET", "/batch-import/user-event-jobs/{jobId}/failures"),
    (31, "GET", "/batch-import/user-event-jobs/{jobId}/failures.csv"),
    (32, "POST", "/transactions"),
    (33, "POST", "/transactions/batch"),
    (34, "POST", "/transactions/batch/background"),
    (35, "POST", "/transactions/batch/background-multi"),
    (36, "POST", "/transactions/batch/upload"),
    (37, "GET", "/transactions/{id}"),
    (38, "GET", "/transactions/external/{externalId}"),
    (39, "POST", "/events/user"),
    (40, "GET", "/events/user"),
    (41, "GET", "/events/user/entity/{entityId}"),
    (42, "GET", "/events/user/stats"),
    (43, "POST", "/devices/entity/{entityId}"),
    (44, "GET", "/devices/entity/{entityId}"),
    (45, "POST", "/api/kyc/validations"),
    (46, "GET", "/api/kyc/validations/{id}"),
    (47, "GET", "/api/kyc/entities/{entityId}/validations"),
    (48, "GET", "/api/kyc/entities/{entityId}/current"),
    (49, "DELETE", "/api/kyc/validations/{id}/cancel"),
    (50, "POST", "/api/kyc/validations/{id}/approve"),
    (51, "POST", "/api/kyc/validations/{id}/reject"),
    (52, "POST", "/integration-execution/marketplace/enrichment"),
    (53, "POST", "/integration-execution/marketplace/enrichment-by-external-id"),
    (54, "POST", "/integration-execution/execute-without-entity"),
    (55, "GET", "/integration-execution/headless-executions"),
    (57, "GET", "/rules"),
    (58, "GET", "/rules/{id}"),
    (59, "PATCH", "/rules/{id}"),
    (60, "POST", "/rules/{ruleId}/execute"),
    (61, "GET", "/risk-matrices"),
    (62, "POST", "/risk-matrices"),
    (63, "PUT", "/risk-matrices/{id}"),
    (64, "GET", "/intelligence/alerts"),
    (65, "POST", "/intelligence/alerts/{id}/acknowledge"),
    (66, "POST", "/intelligence/alerts/{id}/resolve"),
    (67, "GET", "/intelligence/investigations"),
    (68, "GET", "/intelligence/investigations/{id}/alerts"),
    (69, "PUT", "/intelligence/investigations/{id}/assign"),
    (70, "PATCH", "/intelligence/investigations/{id}/status"),
    (71, "POST", "/data-lists"),
    (72, "POST", "/data-lists/{id}/items"),
    (73, "POST", "/data-lists/{id}/items/bulk"),
    (74, "POST", "/data-lists/{type}/items"),
    (75, "GET", "/data-lists/{id}/items"),
    (77, "POST", "/data-lists/{type}/check"),
    (82, "POST", "/custom-schemas"),
    (83, "GET", "/custom-schemas"),
    (85, "POST", "/custom-schemas/mappings"),
]

_PLACEHOLDER = re.compile(r"\{[^}]+\}")


def _shape(path: str) -> str:
    return _PLACEHOLDER.sub("{}", path)


def test_every_documented_endpoint_is_registered() -> None:
    registered = {(e.doc, e.method, _shape(e.path)) for e in ENDPOINTS}
    missing = [d for d in DOCUMENTED if (d[0], d[1], _shape(d[2])) not in registered]
    assert missing == []


def test_registry_entries_are_unique_and_well_formed() -> None:
    operations = [e.operation for e in ENDPOINTS]
    assert len(operations) == len(set(operations))
    assert len({e.doc for e in ENDPOINTS}) == len(ENDPOINTS)
    for e in ENDPOINTS:
        assert e.path.startswith("/")
        assert e.operation.split(".", 1)[0] in RESOURCES
        assert all(re.fullmatch(r"[a-z_]+:[a-z_]+", p) for p in e.permissions | e.any_of)


def test_every_public_resource_method_is_registered_under_its_own_name() -> None:
    registered = {e.operation for e in ENDPOINTS}
    seen = set()
    for area, cls in RESOURCES.items():
        for name, fn in inspect.getmembers(cls, inspect.isfunction):
            if name.startswith("_") or name in ("wait", "ingest"):  # wait() polls get_job
                continue
            entry = getattr(fn, "__gu1_endpoint__", None)
            assert entry is not None, f"{cls.__name__}.{name} has no @endpoint"
            assert entry.operation == f"{area}.{name}"
            seen.add(entry.operation)
    assert seen == registered


def _case_paths() -> set[tuple[str, str]]:
    modules = [
        test_entities,
        test_bulk_imports,
        test_transactions,
        test_events_devices_kyc,
        test_rules_intelligence,
        test_enrichment_lists_schemas,
    ]
    return {(c.method, c.path) for m in modules for c in m.CASES}


def test_every_endpoint_has_a_request_shape_test() -> None:
    cases = _case_paths()
    # CSV downloads are covered by test_failure_csv_downloads (fake requester).
    csv_ops = {e.operation for e in ENDPOINTS if e.path.endswith(".csv")}
    untested = []
    for e in ENDPOINTS:
        literal_parts = _PLACEHOLDER.split(e.path)
        pattern = re.compile("^" + "[^/]+".join(map(re.escape, literal_parts)) + "$")
        if e.operation not in csv_ops and not any(
            method == e.method and pattern.match(path) for method, path in cases
        ):
            untested.append(e.operation)
    assert untested == []


def test_permissions_for_reads_the_documented_permissions() -> None:
    assert permissions_for("bulk_imports.import_entities") == {
        "entities:bulk_import",
        "entities:create",
    }
    assert permissions_for("transactions.get") == {"transactions:read"}
    assert permissions_for("entities.update_attributes") == {"entities:edit"}
    assert permissions_for("entities.create") == frozenset()  # undocumented: not invented
    with pytest.raises(KeyError):
        permissions_for("entities.delete")


def test_registering_twice_or_an_unknown_style_fails_loudly() -> None:
    with pytest.raises(ValueError, match="twice"):
        endpoint("GET", "/entities", operation="entities.list", doc=None)
    with pytest.raises(ValueError, match="pagination style"):
        endpoint("GET", "/x", operation="x.unique_probe", doc=None, paginated="cursor")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_endpoints_doc", ROOT / "scripts" / "gen_endpoints_doc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("rel", ["docs/endpoints.md", "docs/permissions.md"])
def test_generated_docs_are_up_to_date(rel: str) -> None:
    expected = _generator().OUTPUTS[rel]()
    committed = (ROOT / rel).read_text(encoding="utf-8")
    assert committed == expected, f"{rel} is stale: run python scripts/gen_endpoints_doc.py"


def test_endpoints_doc_lists_every_operation() -> None:
    text = (ROOT / "docs" / "endpoints.md").read_text(encoding="utf-8")
    for e in ENDPOINTS:
        assert f"`client.{e.operation}()`" in text


@pytest.mark.parametrize("bad", ["", "   ", "a/b", "/", ".", "..", "\t"])
async def test_bad_path_parameters_are_rejected_before_any_request(
    requester: FakeRequester, bad: str
) -> None:
    with pytest.raises(ConfigurationError, match="entity_id"):
        await Entities(requester).get(bad)
    assert requester.calls == []


async def test_paginated_methods_validate_ids_at_call_time(requester: FakeRequester) -> None:
    with pytest.raises(ConfigurationError, match="entity_id"):
        Devices(requester).list("a/b")


@pytest.mark.parametrize(
    ("value", "quoted"),
    [("a b", "a%20b"), ("ñandú", "%C3%B1and%C3%BA"), ("x?y#z", "x%3Fy%23z"), ("..a", "..a")],
)
async def test_path_parameters_are_url_quoted(
    requester: FakeRequester, value: str, quoted: str
) -> None:
    requester.queue({"id": "e"})
    await Entities(requester).get(value)
    assert requester.last.path == f"/entities/{quoted}"


async def test_every_call_names_its_operation_and_forwards_options(
    requester: FakeRequester,
) -> None:
    requester.queue({"id": "e"})
    await Entities(requester).get("e", timeout=45.0, max_wait=1.0)
    assert requester.last.operation == "entities.get"
    assert requester.last.options == {"timeout": 45.0, "max_wait": 1.0}


async def test_calls_feed_the_clients_permissions_used(api: Api, mock_api: aioresponses) -> None:
    mock_api.add(ANY_GU1_URL, "GET", payload={"transaction": {"id": "tx-1"}})
    mock_api.add(ANY_GU1_URL, "GET", payload={"id": "ent-1"})
    await api.transactions.get("tx-1")
    await api.entities.get("ent-1")  # undocumented permission: adds nothing
    assert api.permissions_used() == {"transactions:read"}
