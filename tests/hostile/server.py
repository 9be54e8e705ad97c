"""A hostile HTTP server for the SDK's tests: a real aiohttp app on 127.0.0.1, scripted per path.

Each test says what a path answers (`server.on("/entities/e1", behaviour)`); anything else
gets `server.default`. Every request that arrives is recorded as it came off the wire (raw
path, headers, body), so a test can assert what the SDK did *not* send (a POST body after
a redirect to another origin). `RawServer` answers with bytes no HTTP library would write
(garbage status lines and headers).
"""

from __future__ import annotations

import asyncio
import functools
import json
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
from aiohttp import web

__all__ = [
    "MiB",
    "Behaviour",
    "HostileServer",
    "RawServer",
    "Seen",
    "chunked",
    "chunked_zeros",
    "declared_length",
    "drip",
    "gzip_body",
    "gzip_zeros",
    "json_body",
    "never_answer",
    "raw",
    "redirect",
]

MiB = 1024 * 1024
Behaviour = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ZEROS = b"0" * 65536  # one chunk, reused: the server's own memory stays flat


@attrs.frozen
class Seen:
    """One request as it arrived."""

    method: str
    raw_path: str
    headers: Mapping[str, str]
    body: bytes


class HostileServer:
    """An aiohttp app on a free loopback port; `on(path, behaviour)` scripts its answers."""

    def __init__(self) -> None:
        self.routes: dict[str, Behaviour] = {}
        self.default: Behaviour = json_body({"id": "e1"})
        self.seen: list[Seen] = []
        self.disconnects = 0  # streamed answers the client stopped reading
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def on(self, path: str, behaviour: Behaviour) -> HostileServer:
        self.routes[path] = behaviour
        return self

    async def start(self) -> HostileServer:
        app = web.Application()
        app.router.add_route("*", r"/{tail:[\s\S]*}", self._handle)  # even a newline
        # No access log: the fuzz sends thousands of requests.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def aclose(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        path = request.raw_path.split("?", 1)[0]
        self.seen.append(Seen(request.method, request.raw_path, dict(request.headers), body))
        behaviour = self.routes.get(path, self.default)
        try:
            return await behaviour(request)
        except asyncio.CancelledError:
            self.disconnects += 1  # the client hung up mid-answer (a cap, a timeout)
            raise
        except ConnectionError:
            self.disconnects += 1
            return web.Response()  # nothing is written to a closed connection


def json_body(
    value: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Behaviour:
    """Answer `value` as JSON."""
    return raw(json.dumps(value).encode(), status=status, headers=headers)


def raw(
    body: bytes,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> Behaviour:
    """Answer these exact bytes (with a Content-Length)."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.Response(status=status, body=body, headers=dict(headers or {}))
        if "Content-Type" not in response.headers:
            response.headers["Content-Type"] = content_type
        return response

    return answer


def redirect(status: int, location: str) -> Behaviour:
    """Answer a redirect with a JSON body (which a followed POST->GET would return)."""
    return json_body({"redirected": True}, status=status, headers={"Location": location})


def chunked(body: bytes, *, piece: int = 1000) -> Behaviour:
    """Answer `body` with chunked transfer encoding, `piece` bytes at a time."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "application/json"
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), piece):
            await response.write(body[start : start + piece])
        await response.write_eof()
        return response

    return answer


def chunked_zeros(total: int, *, status: int = 200) -> Behaviour:
    """Stream `total` bytes with chunked transfer encoding (no Content-Length)."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=status)
        response.content_type = "application/json"
        response.enable_chunked_encoding()
        await response.prepare(request)
        sent = 0
        while sent < total:
            piece = _ZEROS if total - sent >= len(_ZEROS) else _ZEROS[: total - sent]
            await response.write(piece)
            sent += len(piece)
        await response.write_eof()
        return response

    return answer


def declared_length(declared: int) -> Behaviour:
    """Declare a huge Content-Length, then send nothing and wait (the client must not)."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(declared)})
        response.content_type = "application/json"
        await response.prepare(request)
        await asyncio.sleep(30)  # a client that waits for the body times out instead
        return response

    return answer


@functools.cache
def gzip_zeros(mib: int) -> bytes:
    """A gzip stream that inflates to `mib` MiB of zeros (1024 -> about 1 MB compressed).

    Each MiB, fully flushed, compresses to the same bytes after the first, so the body is
    built by repetition rather than by compressing a GiB (which takes seconds).
    """
    block = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    steady = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH) == steady
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    # The last member is ended by hand: an empty final block, then CRC32 and size.
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    trailer = crc.to_bytes(4, "little") + (mib * MiB % 2**32).to_bytes(4, "little")
    return first + steady * (mib - 1) + end + trailer


def gzip_body(compressed: bytes, *, chunked: bool = False) -> Behaviour:
    """Answer an already-compressed body with Content-Encoding: gzip."""

    async def answer(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        if not chunked:
            return web.Response(body=compressed, headers=headers)
        response = web.StreamResponse(headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(compressed), 65536):
            await response.write(compressed[start : start + 65536])
        await response.write_eof()
        return response

    return answer


def drip(interval: float, *, pieces: int = 1000) -> Behaviour:
    """Send a valid start, then one byte every `interval` seconds (a slowloris answer)."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "application/json"
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"[")
        for _ in range(pieces):
            await asyncio.sleep(interval)
            await response.write(b" ")
        await response.write_eof()
        return response

    return answer


def never_answer() -> Behaviour:
    """Accept the request and never send a status line."""

    async def answer(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.Response()

    return answer


class RawServer:
    """A TCP server on loopback that answers every request with the same raw bytes."""

    def __init__(self, reply: bytes = b"") -> None:
        self.reply = reply
        self.port = 0
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")  # the request head; any body is ignored
            writer.write(self.reply)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
