"""The decoded body is capped while it streams and while it inflates; memory stays flat."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from gu1_async import (
    DEFAULT_MAX_RESPONSE_SIZE,
    APIResponseError,
    ConfigurationError,
    Gu1Client,
    Gu1Error,
    NotFoundError,
    ResponseTooLargeError,
)

from .conftest import client_for
from .server import (
    HostileServer,
    MiB,
    chunked,
    chunked_zeros,
    declared_length,
    gzip_body,
    gzip_zeros,
    raw,
)

# What reading may hold beyond the cap: aiohttp's read buffer and one inflated step
# (64 KiB to a few hundred KiB each), the error, the test's own bookkeeping.
SLACK = 8 * MiB


async def peak_while(call: Callable[[], Awaitable[Any]]) -> tuple[int, BaseException | None]:
    """Peak traced memory (bytes above the start) while `call` runs, and what it raised."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        error: BaseException | None = None
        try:
            await call()
        except BaseException as exc:
            error = exc
        return tracemalloc.get_traced_memory()[1] - before, error
    finally:
        tracemalloc.stop()


def test_the_default_cap_is_a_few_tens_of_mib() -> None:
    assert 32 * MiB == DEFAULT_MAX_RESPONSE_SIZE


async def test_a_chunked_200_mib_body_stops_at_the_cap(
    client: Gu1Client, hostile: HostileServer
) -> None:
    hostile.on("/entities/e1", chunked_zeros(200 * MiB))
    peak, error = await peak_while(lambda: client.entities.get("e1"))
    assert isinstance(error, ResponseTooLargeError), error
    assert peak < DEFAULT_MAX_RESPONSE_SIZE + SLACK, f"peak {peak / MiB:.1f} MiB"


async def test_a_gzip_bomb_stops_at_the_cap_while_inflating(
    client: Gu1Client, hostile: HostileServer
) -> None:
    bomb = gzip_zeros(1024)  # about 1 MB on the wire, 1 GiB inflated
    assert len(bomb) < 1.1 * 1000 * 1000
    hostile.on("/entities/e1", gzip_body(bomb))  # with a small, honest Content-Length
    peak, error = await peak_while(lambda: client.entities.get("e1"))
    assert isinstance(error, ResponseTooLargeError), error
    assert peak < DEFAULT_MAX_RESPONSE_SIZE + SLACK, f"peak {peak / MiB:.1f} MiB"


async def test_a_chunked_gzip_bomb_stops_at_the_cap(
    hostile: HostileServer,
) -> None:
    hostile.on("/entities/e1", gzip_body(gzip_zeros(64), chunked=True))
    async with client_for(hostile.url, max_response_size=MiB) as c:
        peak, error = await peak_while(lambda: c.entities.get("e1"))
    assert isinstance(error, ResponseTooLargeError), error
    assert peak < MiB + SLACK


async def test_a_declared_length_over_the_cap_fails_before_reading(
    hostile: HostileServer,
) -> None:
    hostile.on("/entities/e1", declared_length(10 * 1024 * MiB))
    # The server sends no body at all: a client that waited for it would time out instead.
    async with client_for(hostile.url, timeout=2.0) as c:
        with pytest.raises(ResponseTooLargeError) as caught:
            await c.entities.get("e1")
    assert caught.value.size == 10 * 1024 * MiB


async def test_the_error_names_the_cap_and_how_to_raise_it(
    client: Gu1Client, hostile: HostileServer
) -> None:
    hostile.on("/entities/e1", chunked_zeros(40 * MiB))
    with pytest.raises(ResponseTooLargeError) as caught:
        await client.entities.get("e1")
    error = caught.value
    assert isinstance(error, APIResponseError) and isinstance(error, Gu1Error)
    assert error.limit == DEFAULT_MAX_RESPONSE_SIZE
    assert (error.method, error.path, error.status) == ("GET", "/entities/e1", 200)
    assert "32 MiB" in str(error) and "max_response_size" in str(error)


@pytest.mark.parametrize("how", ["length", "chunked", "gzip"])
async def test_a_body_of_exactly_the_cap_passes_and_one_byte_more_fails(
    hostile: HostileServer, how: str
) -> None:
    cap = 4096
    fits = json.dumps(["x" * (cap - 4)]).encode()
    assert len(fits) == cap
    too_big = json.dumps(["x" * (cap - 3)]).encode()

    def behaviour(body: bytes) -> Any:
        if how == "length":
            return raw(body)
        if how == "chunked":
            return chunked(body)
        return gzip_body(gzip.compress(body))

    hostile.on("/fits", behaviour(fits)).on("/too-big", behaviour(too_big))
    async with client_for(hostile.url, max_response_size=cap) as c:
        assert await c.request("GET", "/fits") == ["x" * (cap - 4)]
        with pytest.raises(ResponseTooLargeError):
            await c.request("GET", "/too-big")


async def test_an_error_status_body_is_capped_too(hostile: HostileServer) -> None:
    hostile.on("/entities/e1", chunked_zeros(8 * MiB, status=404))
    hostile.on("/entities/e2", raw(b'{"error": "nope"}', status=404))
    async with client_for(hostile.url, max_response_size=MiB) as c:
        with pytest.raises(ResponseTooLargeError):
            await c.entities.get("e1")
        with pytest.raises(NotFoundError):  # a small error body still reads as before
            await c.entities.get("e2")


async def test_gzip_bodies_under_the_cap_still_decode(
    client: Gu1Client, hostile: HostileServer
) -> None:
    hostile.on("/entities/e1", gzip_body(gzip.compress(b'{"id": "e1", "name": "Ana"}')))
    entity = await client.entities.get("e1")
    assert (entity.id, entity.name) == ("e1", "Ana")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_the_cap_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="max_response_size"):
        Gu1Client(api_key="gk_test_hostileKEY0001", max_response_size=bad)
