"""Auth like gu1: 401 bodies for missing, invalid and expired keys; 403 naming the permission."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from gu1_async.testing import FakeGu1Server

from .conftest import WallClock, auth

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Date")


async def _get(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[int, Any, CIMultiDictProxy[str]]:
    async with session.get(url, headers=headers) as response:
        return response.status, await response.json(), response.headers


async def test_missing_key_is_401_missing_api_key(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    status, body, headers = await _get(session, f"{server.url}/entities")
    assert status == 401
    assert body == {
        "success": False,
        "error": {"code": "MISSING_API_KEY", "message": "Missing API key"},
    }
    assert all(h in headers for h in RATE_HEADERS)


async def test_unknown_key_is_401_invalid_api_key(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    status, body, headers = await _get(session, f"{server.url}/entities", auth("gk_test_nope"))
    assert status == 401
    assert body["error"] == {"code": "INVALID_API_KEY", "message": "Invalid API key"}
    assert all(h in headers for h in RATE_HEADERS)


async def test_non_bearer_scheme_counts_as_missing(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    status, body, _ = await _get(session, f"{server.url}/entities", {"Authorization": "Basic x"})
    assert (status, body["error"]["code"]) == (401, "MISSING_API_KEY")


async def test_expired_key_is_401_expired_api_key(
    server: FakeGu1Server, session: aiohttp.ClientSession, clock: WallClock
) -> None:
    expiry = dt.datetime.fromtimestamp(clock.now + 60, dt.timezone.utc)
    server.add_key("gk_test_expiring", expires_at=expiry)
    status, _, _ = await _get(session, f"{server.url}/entities", auth("gk_test_expiring"))
    assert status == 200
    clock.advance(61)
    status, body, headers = await _get(session, f"{server.url}/entities", auth("gk_test_expiring"))
    assert status == 401
    assert body["error"] == {"code": "EXPIRED_API_KEY", "message": "API key expired"}
    assert all(h in headers for h in RATE_HEADERS)


async def test_missing_permission_is_403_naming_it(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    server.add_key("gk_test_reader", permissions={"entities:read"})
    async with session.post(
        f"{server.url}/entities",
        json={"type": "person", "name": "Ada", "countryCode": "AR"},
        headers=auth("gk_test_reader"),
    ) as response:
        assert response.status == 403
        assert await response.json() == {
            "success": False,
            "error": {"code": "FORBIDDEN", "message": "Missing permission entities:create"},
            "requiredPermission": "entities:create",
        }
        assert all(h in response.headers for h in RATE_HEADERS)
    status, body, _ = await _get(session, f"{server.url}/entities", auth("gk_test_reader"))
    assert (status, body) == (200, {"entities": []})
    assert len(server.entities) == 0


async def test_legacy_write_permission_allows_edits(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    server.add_key("gk_test_legacy", permissions={"entities:create", "entities:write"})
    async with session.post(
        f"{server.url}/entities",
        json={"type": "company", "name": "Acme", "countryCode": "BR"},
        headers=auth("gk_test_legacy"),
    ) as response:
        entity_id = (await response.json())["entity"]["id"]
    async with session.patch(
        f"{server.url}/entities/{entity_id}/attributes",
        json={"attributes": {"tier": "gold"}},
        headers=auth("gk_test_legacy"),
    ) as response:
        assert response.status == 200


async def test_organization_header_is_accepted(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    headers = {**auth(), "X-Organization-ID": "00000000-0000-4000-8000-000000000001"}
    status, _, _ = await _get(session, f"{server.url}/entities", headers)
    assert status == 200


async def test_unknown_route_is_a_json_404_with_headers(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    status, body, headers = await _get(session, f"{server.url}/no/such/path", auth())
    assert status == 404
    assert body["success"] is False
    assert body["error"]["code"] == "NOT_FOUND"
    assert all(h in headers for h in RATE_HEADERS)


async def test_documented_but_unmodelled_path_is_501(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    status, body, _ = await _get(session, f"{server.url}/rules", auth())
    assert status == 501
    assert body["error"]["code"] == "NOT_IMPLEMENTED_IN_FAKE"


async def test_key_never_appears_in_repr(server: FakeGu1Server) -> None:
    fake = server.add_key("gk_test_secretish_9f3a")
    assert "secretish" not in repr(fake)
    assert fake.hint.endswith("9f3a")
