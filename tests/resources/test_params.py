"""The keyword specs (`*Params` TypedDicts) at run time: every key reaches the request under
its wire name, the request options reach the requester, and a keyword the spec does not
know (or a missing required one) fails as loudly as a plain signature would."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pytest

import gu1_async.resources as resources
from gu1_async import Priority
from gu1_async._serde import to_camel
from gu1_async.resources import (
    BulkImports,
    Enrichment,
    Entities,
    Resource,
    RiskMatrices,
    Transactions,
)
from gu1_async.resources._params import EXTRA_KEYS, OPTION_KEYS

from .conftest import Call, FakeRequester


@attrs.frozen
class Method:
    """One method typed `**params: Unpack[spec]`, with its positional path argument."""

    resource: type[Resource]
    name: str
    spec: type[Any]
    args: tuple[str, ...] = ()
    # Keys the method never sends as-is (checked by their own tests below).
    skip: tuple[str, ...] = ()


METHODS = (
    Method(Entities, "create", resources.EntityCreateParams),
    Method(Entities, "create_automatic", resources.EntityAutomaticParams),
    Method(Entities, "list", resources.EntityListParams),
    Method(Entities, "update", resources.EntityUpdateParams, ("ent-1",)),
    Method(Entities, "update_by_external_id", resources.EntityUpdateParams, ("cust-1",)),
    Method(Entities, "update_attributes", resources.AttributesUpdateParams, ("ent-1",)),
    Method(Entities, "upsert", resources.EntityUpsertParams),
    Method(
        Entities,
        "change_external_id",
        resources.ExternalIdChangeParams,
        skip=("external_id", "tax_id"),  # exactly one lookup per call
    ),
    Method(Entities, "analyze", resources.EntityAnalyzeParams, ("ent-1",)),
    Method(Entities, "refresh", resources.EntityRefreshParams, ("ent-1",)),
    Method(BulkImports, "import_entities", resources.EntityImportParams),
    Method(BulkImports, "import_entities_csv", resources.EntityCsvImportParams),
    Method(BulkImports, "import_user_events_csv", resources.UserEventCsvImportParams),
    Method(BulkImports, "import_transactions", resources.TransactionFileParams),
    Method(BulkImports, "create_mapping", resources.MappingCreateParams),
    Method(BulkImports, "update_mapping", resources.MappingUpdateParams, ("map-1",)),
    Method(Transactions, "create", resources.TransactionCreateParams),
    Method(Transactions, "create_batch", resources.TransactionBatchParams),
    Method(Transactions, "create_batch_background", resources.TransactionBatchParams),
    Method(Transactions, "create_batch_background_multi", resources.BatchSourcesParams),
    Method(Transactions, "upload", resources.TransactionFileParams),
    Method(Enrichment, "enrich", resources.EnrichParams),
    Method(Enrichment, "enrich_by_external_id", resources.EnrichByExternalIdParams),
    Method(RiskMatrices, "create", resources.RiskMatrixCreateParams),
    Method(RiskMatrices, "update", resources.RiskMatrixUpdateParams, ("rm-1",)),
)
IDS = [f"{m.resource.__name__}.{m.name}" for m in METHODS]

OPTIONS: dict[str, Any] = {
    "timeout": 7.5,
    "priority": Priority.BATCH,
    "max_wait": 1.25,
    "extra_headers": {"X-Trace": "t-1"},
}


def _fields(spec: type[Any]) -> list[str]:
    return [key for key in spec.__annotations__ if key not in OPTION_KEYS + EXTRA_KEYS]


def _every_key(method: Method) -> dict[str, Any]:
    """A value for every field of the spec, each one telling which key it came from."""
    return {key: f"v-{key}" for key in _fields(method.spec) if key not in method.skip}


def _sent(call: Call) -> dict[str, Any]:
    """Everything one request carried (query, JSON body, the upsert's options, form)."""
    sent: dict[str, Any] = {**(call.params or {}), **(call.files or {})}
    if isinstance(call.json, Mapping):
        sent.update(call.json)
        sent.update(call.json.get("options") or {})
    return sent


async def _call(method: Method, requester: FakeRequester, **params: Any) -> Call:
    requester.queue({"success": True, "job": {"id": "job-1", "status": "queued"}})
    resource = method.resource(requester)
    await getattr(resource, method.name)(*method.args, **params)
    return requester.last


def test_the_table_covers_every_exported_spec() -> None:
    exported = {name for name in resources.__all__ if name.endswith("Params")}
    assert {m.spec.__name__ for m in METHODS} == exported


@pytest.mark.parametrize("method", METHODS, ids=IDS)
async def test_every_spec_key_reaches_the_request(method: Method, requester: FakeRequester) -> None:
    params = _every_key(method)
    sent = _sent(await _call(method, requester, **params))
    for key, value in params.items():
        assert sent.get(to_camel(key)) == value, key


@pytest.mark.parametrize("method", METHODS, ids=IDS)
async def test_the_extra_mapping_is_sent_last_and_verbatim(
    method: Method, requester: FakeRequester
) -> None:
    (extra,) = set(method.spec.__annotations__) & set(EXTRA_KEYS)
    params = _every_key(method)
    call = await _call(method, requester, **params, **{extra: {"futureField": "x"}})
    assert _sent(call)["futureField"] == "x"


@pytest.mark.parametrize("method", METHODS, ids=IDS)
async def test_per_call_options_reach_the_requester(
    method: Method, requester: FakeRequester
) -> None:
    call = await _call(method, requester, **_every_key(method), **OPTIONS)
    assert call.options == OPTIONS
    assert not set(_sent(call)) & {to_camel(key) for key in OPTIONS}


@pytest.mark.parametrize("method", METHODS, ids=IDS)
async def test_an_unknown_keyword_is_a_type_error_naming_it(
    method: Method, requester: FakeRequester
) -> None:
    params = {**_every_key(method), "no_such_field": 1}
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'no_such_field'"):
        await getattr(method.resource(requester), method.name)(*method.args, **params)
    assert requester.calls == []


REQUIRING = [m for m in METHODS if m.spec.__required_keys__]


def test_only_partial_updates_and_filters_have_no_required_keyword() -> None:
    optional_only = {f"{m.resource.__name__}.{m.name}" for m in METHODS if m not in REQUIRING}
    assert optional_only == {
        "Entities.list",
        "Entities.update",
        "Entities.update_by_external_id",
        "Entities.refresh",
        "BulkImports.update_mapping",
        "RiskMatrices.update",
    }


@pytest.mark.parametrize(
    "method", REQUIRING, ids=[f"{m.resource.__name__}.{m.name}" for m in REQUIRING]
)
async def test_a_missing_required_keyword_is_a_type_error_naming_it(
    method: Method, requester: FakeRequester
) -> None:
    for key in method.spec.__required_keys__:
        params = _every_key(method)
        del params[key]
        with pytest.raises(TypeError, match=rf"missing required keyword argument\(s\): '{key}'"):
            await getattr(method.resource(requester), method.name)(*method.args, **params)
    assert requester.calls == []


async def test_a_misspelled_keyword_names_the_nearest_one(requester: FakeRequester) -> None:
    with pytest.raises(
        TypeError,
        match=r"entities\.create\(\) got an unexpected keyword argument 'contry_code'; "
        r"did you mean 'country_code'\?",
    ):
        await Entities(requester).create(
            type="person",
            name="Ada",
            contry_code="AR",  # type: ignore[call-arg]
        )


async def test_keys_not_given_are_not_sent(requester: FakeRequester) -> None:
    requester.queue({"success": True})
    await Entities(requester).create(type="person", name="Ada", country_code="AR")
    assert requester.last.json == {"type": "person", "name": "Ada", "countryCode": "AR"}
    assert requester.last.options == {}


async def test_a_spec_dict_can_be_built_first_and_passed_with_stars(
    requester: FakeRequester,
) -> None:
    spec: resources.EntityUpdateParams = {"status": "blocked", "reason": "fraud", "timeout": 3}
    requester.queue({"success": True})
    await Entities(requester).update("ent-1", **spec)
    assert requester.last.json == {"status": "blocked", "reason": "fraud"}
    assert requester.last.options == {"timeout": 3}


async def test_upsert_sends_its_options_object_only_when_one_is_given(
    requester: FakeRequester,
) -> None:
    requester.queue({"success": True}, {"success": True})
    entities = Entities(requester)
    await entities.upsert(entity={"externalId": "c-1"})
    assert requester.last.json == {"entity": {"externalId": "c-1"}}
    await entities.upsert(entity={"externalId": "c-1"}, create_relationships=False)
    assert requester.last.json == {
        "entity": {"externalId": "c-1"},
        "options": {"createRelationships": False},
    }


async def test_the_transaction_file_keeps_validate_gap_in_the_query(
    requester: FakeRequester,
) -> None:
    requester.queue({"success": True})
    await Transactions(requester).upload(file="csv text", validate_gap=True)
    assert requester.last.params == {"validateGap": "true"}
    assert requester.last.files == {"file": "csv text"}
