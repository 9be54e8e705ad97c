"""Garbage on the wire, slow answers and odd headers: each ends in a result or a Gu1Error."""

from __future__ import annotations

import pytest

from gu1_async import APIConnectionError, APITimeoutError, Gu1Error

from .conftest import client_for
from .server import HostileServer, RawServer, drip, never_answer, raw

RAW_REPLIES = {
    "not http": b"SSH-2.0-OpenSSH_9.6\r\n",
    "bad status": b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\n{}",
    "huge header": b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 100_000 + b"\r\n\r\n{}",
    "many headers": b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 10_000 + b"\r\n",
    "nul in header": b"HTTP/1.1 200 OK\r\nX-RateLimit-Remaining: 1\x00\r\n"
    + b"Content-Length: 2\r\n\r\n{}",
    "bad length": b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n{}",
    "two lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}",
    "bad chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "huge chunk size line": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"1" * 100_000,
    "cut off": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}",
    "bad gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd",
    "nothing": b"",
}


@pytest.mark.parametrize("name", list(RAW_REPLIES))
async def test_raw_garbage_is_a_connection_error(raw_server: RawServer, name: str) -> None:
    raw_server.reply = RAW_REPLIES[name]
    async with client_for(raw_server.url, timeout=2.0) as c:
        with pytest.raises(Gu1Error) as caught:
            await c.entities.get("e1")
    assert isinstance(caught.value, APIConnectionError)


async def test_an_unknown_encoding_is_passed_through(raw_server: RawServer) -> None:
    raw_server.reply = b"HTTP/1.1 200 OK\r\nContent-Encoding: snappy\r\nContent-Length: 2\r\n\r\n{}"
    async with client_for(raw_server.url, timeout=2.0) as c:
        # aiohttp leaves an encoding it does not know as it is: here, plain JSON.
        assert await c.request("GET", "/x") == {}


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Limit": "-1", "X-RateLimit-Remaining": "1e309", "X-RateLimit-Reset": "x"},
        {"X-RateLimit-Remaining": "99999999999999999999999", "Retry-After": "-3"},
        {"Date": "Thu, 01 Jan 9999 00:00:00 GMT", "X-RateLimit-Reset": "0"},
        {"Content-Type": "application/json; charset=utf-32"},
        {"Content-Type": "text/\u00e9"},
        {"X-Request-ID": "\u00e9" * 2000},
        {"Set-Cookie": "session=" + "x" * 4000},
    ],
)
async def test_odd_headers_do_not_break_a_good_answer(
    hostile: HostileServer, headers: dict[str, str]
) -> None:
    hostile.on("/entities/e1", raw(b'{"id": "e1"}', headers=headers))
    async with client_for(hostile.url) as c:
        try:
            entity = await c.entities.get("e1")
        except Gu1Error:
            return
        assert entity.id == "e1"


async def test_a_slow_drip_ends_at_the_total_timeout(hostile: HostileServer) -> None:
    hostile.on("/entities/e1", drip(0.02))
    async with client_for(hostile.url, timeout=0.3) as c:
        with pytest.raises(APITimeoutError):
            await c.entities.get("e1")


async def test_no_answer_at_all_ends_at_the_total_timeout(hostile: HostileServer) -> None:
    hostile.on("/entities/e1", never_answer())
    async with client_for(hostile.url, timeout=0.2) as c:
        with pytest.raises(APITimeoutError):
            await c.entities.get("e1")


async def test_cookies_are_not_kept(hostile: HostileServer) -> None:
    # A server cannot grow the client's memory with cookies, nor make it send them back.
    hostile.on("/entities/e1", raw(b'{"id": "e1"}', headers={"Set-Cookie": "s=1; Path=/"}))
    # By host name: aiohttp's default jar ignores cookies from bare IP addresses.
    async with client_for(f"http://localhost:{hostile.port}") as c:
        await c.entities.get("e1")
        await c.entities.get("e1")
    assert all("Cookie" not in s.headers for s in hostile.seen)
