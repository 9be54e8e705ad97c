"""Paths reach the server as the SDK built them: never re-resolved, dot segments refused."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gu1_async import ConfigurationError, Gu1Client

from .conftest import LoopHarness
from .server import HostileServer

TRAVERSALS = [
    "/entities/%2e%2e/admin",
    "/entities/%2E%2E/admin",
    "/entities/.%2e/admin",
    "/entities/../admin",
    "/entities/./admin",
    "/entities/..;/admin",
    "/entities/..%3B/admin",
    "/entities/..%3bjsessionid=x/admin",
    "/entities/..%2Fadmin",
    "/entities/..%5Cadmin",
    "/entities/..\\admin",
    "/entities/%2e",
    "/..",
    "/entities/x/..?limit=1",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_a_low_level_dot_segment_is_refused_before_sending(
    client: Gu1Client, hostile: HostileServer, path: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        await client.request("GET", path)
    assert repr(path) in str(caught.value)
    assert hostile.seen == []


@pytest.mark.parametrize(
    ("path", "arrives"),
    [
        ("/entities/a%3Bb", "/entities/a%3Bb"),  # an escaped ';' stays escaped
        ("/entities/a%2Fb", "/entities/a%2Fb"),  # an escaped '/' stays one segment
        ("/entities/a%252e%252e", "/entities/a%252e%252e"),
        ("/entities/a b", "/entities/a%20b"),  # what must be escaped is escaped
        ("/entities/ñandú", "/entities/%C3%B1and%C3%BA"),
        ("/entities/...", "/entities/..."),  # three dots are a name, not a segment step
        ("/entities/e1?q=a b&x=%2e", "/entities/e1?q=a%20b&x=%2e"),
        ("/batch-import/entity-jobs/j1/failures.csv", "/batch-import/entity-jobs/j1/failures.csv"),
    ],
)
async def test_a_low_level_path_is_sent_verbatim(
    client: Gu1Client, hostile: HostileServer, path: str, arrives: str
) -> None:
    await client.request("GET", path)
    assert [s.raw_path for s in hostile.seen] == [arrives]


@pytest.mark.parametrize(
    "bad", ["..;", ".;x", "..;jsessionid=1", ".%2e", "%2e%2e", "..%2F", "..\\"]
)
async def test_an_id_that_a_server_could_read_as_a_dot_segment_is_refused(
    client: Gu1Client, hostile: HostileServer, bad: str
) -> None:
    with pytest.raises(ConfigurationError, match="entity_id"):
        await client.entities.get(bad)
    assert hostile.seen == []


@pytest.mark.parametrize(
    ("entity_id", "arrives"),
    [
        ("a;b", "/entities/a%3Bb"),
        ("a%2Fb", "/entities/a%252Fb"),
        ("..a", "/entities/..a"),
        ("a\\b", "/entities/a%5Cb"),
        ("100%", "/entities/100%25"),
    ],
)
async def test_resource_ids_are_quoted_and_kept(
    client: Gu1Client, hostile: HostileServer, entity_id: str, arrives: str
) -> None:
    await client.entities.get(entity_id)
    assert [s.raw_path for s in hostile.seen] == [arrives]


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(entity_id=st.text(min_size=1, max_size=12))
def test_no_id_changes_the_path(harness: LoopHarness, entity_id: str) -> None:
    harness.server.seen.clear()
    try:
        harness.run(harness.client.entities.get(entity_id))
    except ConfigurationError:
        assert harness.server.seen == []  # refused before sending, never sent elsewhere
        return
    [seen] = harness.server.seen
    assert seen.raw_path == "/entities/" + quote(entity_id, safe="")
