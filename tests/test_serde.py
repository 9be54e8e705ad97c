"""The one converter: camelCase, datetimes, unknown fields, envelopes, leniency, bodies."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from gu1_async._serde import (
    CLEAR,
    compact,
    form_fields,
    parse_datetime,
    query,
    structure,
    to_camel,
    to_snake,
    unwrap,
    unwrap_list,
)
from gu1_async._types import FilePart
from gu1_async.models import BatchJob, Entity, EntityCreateResult, EventStat, Rule, Transaction

UTC = dt.timezone.utc


def test_camel_and_snake_round_trip() -> None:
    assert to_camel("risk_score") == "riskScore"
    assert to_camel("amount_in_usd") == "amountInUsd"
    assert to_camel("id") == "id"
    assert to_snake("riskScore") == "risk_score"
    assert to_snake("amountInUsd") == "amount_in_usd"


def test_camel_case_keys_map_onto_snake_case_fields() -> None:
    entity = Entity.from_api(
        {"id": "e1", "externalId": "c1", "countryCode": "AR", "kycVerified": True}
    )
    assert (entity.id, entity.external_id, entity.country_code, entity.kyc_verified) == (
        "e1",
        "c1",
        "AR",
        True,
    )


def test_snake_case_keys_are_accepted_too() -> None:
    # Some gu1 routes answer in snake_case (events stats, list-by-entity's entity block).
    assert Entity.from_api({"external_id": "c1"}).external_id == "c1"
    stat = EventStat.from_api({"event_type": "LOGIN_SUCCESS", "count": 2})
    assert (stat.event_type, stat.count) == ("LOGIN_SUCCESS", 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-07T10:00:00.000Z", dt.datetime(2025, 1, 7, 10, tzinfo=UTC)),
        ("2025-01-07T10:00:00Z", dt.datetime(2025, 1, 7, 10, tzinfo=UTC)),
        ("2025-01-07T10:00:00.5Z", dt.datetime(2025, 1, 7, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2025-01-07T10:00:00.1234567Z", dt.datetime(2025, 1, 7, 10, 0, 0, 123456, tzinfo=UTC)),
        (
            "2025-01-07T07:00:00-03:00",
            dt.datetime(2025, 1, 7, 7, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
        ),
        ("2025-01-07T10:00:00", dt.datetime(2025, 1, 7, 10, tzinfo=UTC)),  # naive: UTC
        (1736244000, dt.datetime(2025, 1, 7, 10, tzinfo=UTC)),  # epoch seconds
        (1736244000000, dt.datetime(2025, 1, 7, 10, tzinfo=UTC)),  # epoch milliseconds
    ],
)
def test_datetimes_are_parsed_to_aware_datetimes(text: str | int, expected: dt.datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is not None


@pytest.mark.parametrize("bad", ["yesterday", "2025-13-45T99:00:00Z", "", True, {"a": 1}])
def test_parse_datetime_rejects_garbage(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        parse_datetime(bad)


def test_unknown_fields_are_kept_in_extra_and_raw_is_the_original() -> None:
    data = {"id": "e1", "brandNewField": {"x": 1}, "score2": 3}
    entity = Entity.from_api(data)
    assert entity.extra == {"brandNewField": {"x": 1}, "score2": 3}
    assert entity.raw == data


def test_values_that_do_not_fit_stay_in_extra_instead_of_raising() -> None:
    entity = Entity.from_api(
        {
            "id": "e1",
            "createdAt": "not a date",
            "riskScore": {"weird": True},
            "kycVerified": "maybe",
            "name": ["not", "a", "string"],
            "updatedAt": "2025-01-07T10:00:00Z",
        }
    )
    assert entity.created_at is None and entity.risk_score is None
    assert entity.kyc_verified is None and entity.name is None
    assert entity.extra == {
        "createdAt": "not a date",
        "riskScore": {"weird": True},
        "kycVerified": "maybe",
        "name": ["not", "a", "string"],
    }
    assert entity.updated_at == dt.datetime(2025, 1, 7, 10, tzinfo=UTC)


def test_missing_and_null_fields_are_none() -> None:
    entity = Entity.from_api({"id": "e1", "email": None})
    assert entity.email is None and entity.phone is None
    assert entity.extra == {}


def test_numbers_sent_as_strings_are_read() -> None:
    # gu1 documents `total` as a string on some routes; ids may arrive as numbers.
    assert Transaction.from_api({"amount": "12.50"}).amount == 12.5
    assert Rule.from_api({"version": "3", "id": 17}).version == 3
    assert Rule.from_api({"id": 17}).id == "17"
    assert Rule.from_api({"version": True}).version is None  # a bool is not a number


def test_open_string_enums_let_unknown_values_through() -> None:
    entity = Entity.from_api({"type": "trust_fund", "status": "frozen_by_regulator"})
    assert (entity.type, entity.status) == ("trust_fund", "frozen_by_regulator")
    job = BatchJob.from_api({"status": "paused"})
    assert job.status == "paused" and not job.is_terminal


def test_nested_models_and_lists_are_built() -> None:
    result = EntityCreateResult.from_api(
        {
            "success": True,
            "entity": {"id": "e1", "riskFactors": [{"factor": "pep", "impact": 30}]},
            "rulesExecutionSummary": {"rulesHit": [{"ruleId": "r1"}], "totalScore": "30"},
        }
    )
    assert result.entity is not None and result.entity.risk_factors is not None
    assert result.entity.risk_factors[0].factor == "pep"
    assert result.rules_execution_summary is not None
    assert result.rules_execution_summary.total_score == 30.0
    assert result.rules_execution_summary.rules_hit == ({"ruleId": "r1"},)


def test_extra_and_raw_do_not_take_part_in_equality() -> None:
    assert Entity.from_api({"id": "e1", "x": 1}) == Entity(id="e1")


def test_models_are_frozen() -> None:
    entity = Entity(id="e1")
    with pytest.raises(AttributeError):
        entity.id = "e2"  # type: ignore[misc]


def test_structure_builds_lists_of_models() -> None:
    assert structure([{"id": "a"}, {"id": "b"}], list[Entity]) == [Entity(id="a"), Entity(id="b")]


def test_a_model_needs_an_object() -> None:
    with pytest.raises(TypeError, match=r"a JSON array where a JSON object \(Entity\)"):
        Entity.from_api(["not", "an", "object"])  # type: ignore[arg-type]


def test_unwrap_accepts_wrapped_and_unwrapped_shapes() -> None:
    inner = {"id": "e1"}
    assert unwrap({"success": True, "entity": inner}, "entity") == inner
    assert unwrap(inner, "entity") == inner
    assert unwrap({"data": inner}, "validation", "data") == inner
    assert unwrap({"entity": "not an object"}, "entity") == {"entity": "not an object"}
    assert unwrap_list({"entities": [inner]}, "entities") == [inner]
    assert unwrap_list([inner], "entities") == [inner]
    assert unwrap_list(None, "entities") == []


def test_compact_drops_none_sends_clear_as_null_and_serialises_values() -> None:
    when = dt.datetime(2025, 1, 7, 10, tzinfo=UTC)
    body = compact(
        {
            "name": "Ada",
            "email": CLEAR,
            "phone": None,
            "at": when,
            "day": dt.date(2025, 1, 7),
            "nested": {"when": when, "keep": None},
            "ids": ("a", "b"),
        },
        {"newField": None, "name": "Override"},
    )
    assert body == {
        "name": "Override",
        "email": None,
        "at": "2025-01-07T10:00:00+00:00",
        "day": "2025-01-07",
        "nested": {"when": "2025-01-07T10:00:00+00:00", "keep": None},
        "ids": ["a", "b"],
        "newField": None,
    }
    assert json.dumps(body)  # JSON-serialisable as is
    assert repr(CLEAR) == "CLEAR"


def test_query_formats_values_for_a_url() -> None:
    params = query(
        {"a": True, "b": False, "c": None, "d": ["x", "y"], "e": 3},
        {"f": dt.datetime(2025, 1, 7, tzinfo=UTC)},
    )
    assert params == {
        "a": "true",
        "b": "false",
        "d": "x,y",
        "e": 3,
        "f": "2025-01-07T00:00:00+00:00",
    }


def test_form_fields_encode_multipart_values_like_gu1_expects() -> None:
    part = FilePart("a.csv", b"x\n", "text/csv")
    form = form_fields(
        {"file": part, "flag": True, "depth": 2, "attrs": {"a": 1}, "emails": ["x@y.z"]},
        {"skip": None, "extra": "v"},
    )
    assert form == {
        "file": part,
        "flag": "true",
        "depth": "2",
        "attrs": '{"a":1}',
        "emails": '["x@y.z"]',
        "extra": "v",
    }


def test_repr_shows_only_what_gu1_sent() -> None:
    entity = Entity.from_api({"id": "e1", "riskScore": 3, "zz": 1})
    assert repr(entity) == "Entity(id='e1', risk_score=3.0, extra={'zz': 1})"
    assert repr(EntityCreateResult.from_api({"entity": {"id": "e"}})) == (
        "EntityCreateResult(entity=Entity(id='e'))"
    )
