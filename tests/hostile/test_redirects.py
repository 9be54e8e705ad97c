"""Redirects: none followed by default; the opt-in follows same-origin GETs only."""

from __future__ import annotations

import pytest

from gu1_async import APIStatusError, Gu1Client, UnexpectedRedirectError

from .conftest import client_for
from .server import HostileServer, json_body, redirect

PII = {"type": "person", "name": "José Pérez", "country_code": "AR", "tax_id": "20-12345678-9"}


async def test_a_307_to_another_origin_does_not_resend_the_post_body(
    client: Gu1Client, hostile: HostileServer, foreign: HostileServer
) -> None:
    hostile.on("/entities", redirect(307, f"{foreign.url}/steal"))
    with pytest.raises(UnexpectedRedirectError) as caught:
        await client.entities.create(**PII)  # type: ignore[arg-type]
    assert foreign.seen == []  # neither the body nor the key left for the other origin
    error = caught.value
    assert isinstance(error, APIStatusError)
    assert (error.status, error.location) == (307, f"{foreign.url}/steal")
    assert "307" in str(error) and f"{foreign.url}/steal" in str(error)
    assert "follow_redirects" in str(error)  # says what the opt-in is and why it is off


@pytest.mark.parametrize("status", [301, 302, 303])
async def test_a_post_is_never_turned_into_a_get(
    client: Gu1Client, hostile: HostileServer, foreign: HostileServer, status: int
) -> None:
    hostile.on("/entities", redirect(status, f"{foreign.url}/other"))
    foreign.default = json_body({"id": "foreign", "entity": {"id": "foreign"}})
    with pytest.raises(UnexpectedRedirectError):
        await client.entities.create(**PII)  # type: ignore[arg-type]
    assert foreign.seen == []
    assert [s.method for s in hostile.seen] == ["POST"]


async def test_the_organization_header_never_reaches_another_origin(
    hostile: HostileServer, foreign: HostileServer
) -> None:
    hostile.on("/entities/e1", redirect(302, f"{foreign.url}/entities/e1"))
    for follow in (False, True):
        async with client_for(hostile.url, organization_id="org-1", follow_redirects=follow) as c:
            with pytest.raises(UnexpectedRedirectError):
                await c.entities.get("e1")
    assert foreign.seen == []


async def test_a_same_origin_redirect_is_refused_by_default(
    client: Gu1Client, hostile: HostileServer
) -> None:
    hostile.on("/entities/e1", redirect(302, "/entities/e2"))
    with pytest.raises(UnexpectedRedirectError, match="/entities/e2"):
        await client.entities.get("e1")
    assert [s.raw_path for s in hostile.seen] == ["/entities/e1"]


async def test_a_redirect_without_location_is_still_an_error(
    client: Gu1Client, hostile: HostileServer
) -> None:
    hostile.on("/entities/e1", json_body({"id": "e1"}, status=302))
    with pytest.raises(UnexpectedRedirectError) as caught:
        await client.entities.get("e1")
    assert caught.value.location is None


async def test_opt_in_follows_a_same_origin_get(hostile: HostileServer) -> None:
    hostile.on("/entities/e1", redirect(301, "/entities/e2"))
    hostile.on("/entities/e2", redirect(307, f"{hostile.url}/entities/e3"))
    hostile.on("/entities/e3", json_body({"id": "e3", "name": "moved"}))
    async with client_for(hostile.url, organization_id="org-1", follow_redirects=True) as c:
        entity = await c.entities.get("e1")
    assert entity.id == "e3"
    assert [s.raw_path for s in hostile.seen] == ["/entities/e1", "/entities/e2", "/entities/e3"]
    # Same origin: the key and the organization go along, as they did to the first URL.
    assert all(s.headers.get("X-Organization-ID") == "org-1" for s in hostile.seen)
    assert all(s.headers["Authorization"].startswith("Bearer ") for s in hostile.seen)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_opt_in_never_follows_a_non_get(hostile: HostileServer, status: int) -> None:
    hostile.on("/entities", redirect(status, "/entities/elsewhere"))
    async with client_for(hostile.url, follow_redirects=True) as c:
        with pytest.raises(UnexpectedRedirectError):
            await c.entities.create(**PII)  # type: ignore[arg-type]
    assert [s.method for s in hostile.seen] == ["POST"]


@pytest.mark.parametrize(
    "location",
    [
        "https://127.0.0.1:{port}/entities/e2",  # another scheme
        "http://localhost:{port}/entities/e2",  # another host name for the same machine
        "//evil.example/entities/e2",  # scheme-relative: another host
        "http://user:pw@127.0.0.1:{port}/entities/e2",  # credentials smuggled in
    ],
)
async def test_opt_in_never_leaves_the_origin(hostile: HostileServer, location: str) -> None:
    hostile.on("/entities/e1", redirect(302, location.format(port=hostile.port)))
    async with client_for(hostile.url, follow_redirects=True) as c:
        with pytest.raises(UnexpectedRedirectError):
            await c.entities.get("e1")
    assert [s.raw_path for s in hostile.seen] == ["/entities/e1"]


async def test_opt_in_stops_a_redirect_loop(hostile: HostileServer) -> None:
    hostile.on("/entities/a", redirect(302, "/entities/b"))
    hostile.on("/entities/b", redirect(302, "/entities/a"))
    async with client_for(hostile.url, follow_redirects=True) as c:
        with pytest.raises(UnexpectedRedirectError, match="redirects"):
            await c.entities.get("a")
    assert len(hostile.seen) == 1 + 5  # the request and at most five hops


async def test_opt_in_refuses_a_redirect_to_a_dot_segment_path(hostile: HostileServer) -> None:
    hostile.on("/entities/e1", redirect(302, "/entities/%2e%2e/admin"))
    async with client_for(hostile.url, follow_redirects=True) as c:
        with pytest.raises(UnexpectedRedirectError):
            await c.entities.get("e1")
    assert [s.raw_path for s in hostile.seen] == ["/entities/e1"]
