"""Gu1Client against FakeGu1Server over real loopback HTTP: auth, permissions, pacing."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from gu1_async import (
    ConflictError,
    ExpiredApiKeyError,
    Gu1Client,
    InvalidApiKeyError,
    NotFoundError,
    PermissionDeniedError,
    Plan,
    Quota,
)
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server


async def test_entity_flow_and_permissions_used() -> None:
    async with FakeGu1Server() as server, Gu1Client(DEFAULT_KEY, base_url=server.url) as client:
        created = await client.entities.create(
            type="person", name="Ada Lovelace", country_code="GB", external_id="ada", tax_id="1"
        )
        assert created.entity is not None
        entity_id = created.entity.id
        assert entity_id is not None
        fetched = await client.entities.get(entity_id)
        assert (fetched.name, fetched.external_id) == ("Ada Lovelace", "ada")
        listed = await client.entities.list(type="person")
        assert [e.id for e in listed] == [entity_id]
        with pytest.raises(ConflictError):
            await client.entities.create(
                type="person", name="Twin", country_code="GB", external_id="twin", tax_id="1"
            )
        with pytest.raises(NotFoundError):
            await client.entities.get("does-not-exist")
        await client.entities.update_attributes(entity_id, attributes={"tier": "gold"})
        assert client.operations_used() == {
            "entities.create",
            "entities.get",
            "entities.list",
            "entities.update_attributes",
        }
        # Only PATCH .../attributes has a documented permission among these calls.
        assert client.permissions_used() == {"entities:edit"}
        snapshot = client.rate_limit
        assert snapshot is not None
        assert snapshot.limit == 100
        assert snapshot.remaining is not None
        assert snapshot.remaining < 100


async def test_auth_errors_from_the_server() -> None:
    async with FakeGu1Server() as server:
        server.add_key(
            "gk_test_expiredKEY0001", expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
        )
        server.add_key("gk_test_readonlyKEY001", permissions={"entities:read"})
        async with Gu1Client("gk_test_unknownKEY0001", base_url=server.url) as client:
            with pytest.raises(InvalidApiKeyError):
                await client.entities.list()
            with pytest.raises(ExpiredApiKeyError):
                await client.with_options(api_key="gk_test_expiredKEY0001").entities.list()
            readonly = client.with_options(api_key="gk_test_readonlyKEY001")
            with pytest.raises(PermissionDeniedError) as info:
                await readonly.entities.create(type="person", name="X", country_code="AR")
            assert info.value.permission == "entities:create"


async def test_governor_paces_a_burst_without_429s() -> None:
    # 5 requests per window; a window lasts 0.25 s of real time. 23 concurrent creates
    # need five windows; the governor must spread them with no 429 at all.
    async with FakeGu1Server(plan=[(5, 3600.0)], time_scale=3600 / 0.25) as server:
        plan = Plan.custom(Quota(5, 0.25))
        async with Gu1Client(DEFAULT_KEY, base_url=server.url, plan=plan) as client:
            results = await asyncio.gather(
                *(
                    client.entities.create(
                        type="person", name=f"P{i}", country_code="AR", external_id=f"p{i}"
                    )
                    for i in range(23)
                )
            )
        assert len({r.entity.id for r in results if r.entity}) == 23
        stats = server.stats()
        assert stats.rate_limited == 0
        assert stats.requests == 23
        assert client.governor.stats().rate_limited == 0


async def test_mis_seeded_plan_is_corrected_by_headers() -> None:
    # The client believes it may send 50 per window; the server allows 4.
    async with FakeGu1Server(plan=[(4, 3600.0)], time_scale=3600 / 0.25) as server:
        plan = Plan.custom(Quota(50, 0.25))
        async with Gu1Client(DEFAULT_KEY, base_url=server.url, plan=plan) as client:
            await asyncio.gather(*(client.request("GET", "/entities") for _ in range(14)))
        stats = server.stats()
        assert stats.requests - stats.rate_limited == 14
        assert stats.rate_limited == 0
