"""The only module that touches aiohttp on the client side.

`AiohttpTransport` owns one `ClientSession` over one `TCPConnector` (keep-alive pool),
created lazily inside the running loop, and turns every aiohttp failure into the SDK's
own `APIConnectionError` / `APITimeoutError`, saying whether the request could have
reached the server (which decides whether a POST may be retried).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL

from ._errors import APIConnectionError, APITimeoutError, ConfigurationError, ResponseTooLargeError
from ._types import JSON, FilePart, FormFields, Params, Timeout

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "AiohttpTransport", "RawRequest", "RawResponse"]

log = logging.getLogger("gu1_async")

DEFAULT_MAX_RESPONSE_SIZE = 32 * 1024 * 1024
"""The largest decoded response body read, in bytes (gu1's answers are kilobytes)."""

_CONTENT_ENCODING = istr("Content-Encoding")
_URL_CACHE_SIZE = 1024


class RawRequest(NamedTuple):
    """One HTTP attempt, as plain data (a named tuple: one is built for every request).

    `headers` holds the Authorization header, so the repr leaves headers and body out.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    params: Params | None = None
    json: JSON = None
    files: FormFields | None = None
    timeout: Timeout | None = None

    def __repr__(self) -> str:
        return f"RawRequest({self.method} {self.url})"


class RawResponse(NamedTuple):
    """One HTTP answer, as plain data (a named tuple: one is built for every response).

    `headers` is case-insensitive: aiohttp's own read-only multidict, kept as it is, since
    copying every header of every response costs more than the few lookups the SDK makes.
    """

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @classmethod
    def of(
        cls, status: int, headers: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes
    ) -> RawResponse:
        """Build one from any headers (tests, stubs): copied into a case-insensitive mapping."""
        return cls(status, CIMultiDictProxy(CIMultiDict(headers)), body)

    def header(self, name: str) -> str | None:
        """The first value of a header, case-insensitively."""
        return self.headers.get(name)

    def __repr__(self) -> str:
        return f"RawResponse(status={self.status}, body=<{len(self.body)} bytes>)"


_new_tuple = tuple.__new__


class AiohttpTransport:
    """Sends `RawRequest`s over a shared aiohttp connection pool."""

    def __init__(
        self,
        *,
        max_connections: int = 100,
        timeout: Timeout = Timeout(),
        headers: Mapping[str, str] | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        """
        Args:
            max_connections: the keep-alive pool's size.
            timeout: every request's timeout unless it passes its own.
            headers: sent with every request of this pool (e.g. Accept, User-Agent); a
                request's own headers replace those of the same name.
            max_response_size: the largest decoded body read, in bytes; a larger one
                raises `ResponseTooLargeError` once that many bytes (plus one) arrived.
        """
        if max_connections < 1:
            raise ConfigurationError(f"max_connections must be >= 1, got {max_connections}")
        if (
            isinstance(max_response_size, bool)
            or not isinstance(max_response_size, int)
            or max_response_size < 1
        ):
            raise ConfigurationError(
                f"max_response_size must be a positive number of bytes, got {max_response_size!r}"
            )
        self._max_response_size = max_response_size
        self._urls: dict[str, URL] = {}
        self._max_connections = max_connections
        self._timeout = timeout
        self._headers = dict(headers or {})
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    @property
    def default_timeout(self) -> Timeout:
        """The timeout every request gets unless it passes its own."""
        return self._timeout

    @property
    def closed(self) -> bool:
        return self._closed

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ConfigurationError("this client is closed; create a new Gu1Client")
        if self._session is None:
            # Created here, on first use, so that it binds to the running loop.
            connector = aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(
                connector=connector,
                # The session's own headers: aiohttp copies them per request in C, where a
                # request's headers are merged one by one in Python.
                headers=self._headers,
                timeout=_client_timeout(self._timeout),
                raise_for_status=False,
                auto_decompress=True,
                # gu1 authenticates by key, never by cookie: a server must not be able to
                # grow the client's memory with cookies, nor have them sent back.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    @staticmethod
    def prepare_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
        """`headers` in the form aiohttp merges fastest, for a caller that sends them often.

        (aiohttp takes a case-insensitive multidict as it is, and converts anything else
        anew for every request: ~0.6 µs each time for three headers.)
        """
        return CIMultiDictProxy(CIMultiDict(headers))

    @staticmethod
    def encoded_url(url: str) -> str:
        """`url` in the encoded form `send` expects (IDNA host, escaped path), made once.

        `send` takes URLs as already encoded, so the requester builds each one from this
        base and a path it escaped itself.
        """
        return str(URL(url))

    @staticmethod
    def header_key(name: str) -> str:
        """`name` as a key that `RawResponse.headers` looks up fastest (for repeated lookups).

        (multidict's `istr` keeps its case-folded form: about half the cost of a plain
        string's lookup, which folds it anew every time.)
        """
        return istr(name)

    async def send(self, request: RawRequest) -> RawResponse:
        """Send one attempt and read the whole body.

        Raises:
            APITimeoutError: the connect or total timeout elapsed.
            APIConnectionError: the connection failed or broke.
        """
        session = self._session  # None until the first request, and again once closed
        if session is None:
            session = self._get_session()
        # Only what this request needs: aiohttp does work for every argument it is given.
        # Never a redirect: gu1 does not send them, and aiohttp would re-send a POST body
        # (307) or the organization header to wherever Location points (the requester
        # follows same-origin GETs itself when asked to).
        kwargs: dict[str, Any] = {"headers": request.headers, "allow_redirects": False}
        if request.params:
            kwargs["params"] = _query(request.params)
        if request.files is not None:
            kwargs["data"] = _form(request.files)
        elif request.json is not None:
            kwargs["json"] = request.json
        if request.timeout is not None:
            kwargs["timeout"] = _client_timeout(request.timeout)
        try:
            url = self._urls.get(request.url)
            if url is None:
                url = self._url(request.url)
            limit = self._max_response_size
            async with session.request(request.method, url, **kwargs) as response:
                length = response.content_length
                if length is not None and length > limit:
                    self._check_declared(response, request, length)
                # Read aiohttp's decoded stream piece by piece, counting: a gzip bomb or an
                # endless chunked body stops at cap + 1 bytes held. (readany keeps aiohttp's
                # bound on each inflation step, which read() lifts; and for a small body it
                # costs what read() does: read() loops over readany too.)
                content = response.content
                pieces: list[bytes] = []
                held = 0
                while piece := await content.readany():
                    held += len(piece)
                    if held > limit:
                        raise self._too_large(response, request)
                    pieces.append(piece)
                body = pieces[0] if len(pieces) == 1 else b"".join(pieces)
                # tuple.__new__ directly: a named tuple's own __new__ is one more Python call.
                return _new_tuple(RawResponse, (response.status, response.headers, body))
        except aiohttp.ConnectionTimeoutError as exc:
            raise APITimeoutError(
                f"timed out connecting to gu1 ({exc.__class__.__name__})",
                sent=False,
                **_where(request),
            ) from None
        except (aiohttp.ServerTimeoutError, asyncio.TimeoutError) as exc:
            raise APITimeoutError(
                f"timed out waiting for gu1 to answer ({exc.__class__.__name__})",
                **_where(request),
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise APIConnectionError(
                f"cannot connect to gu1 at {_host_of(request.url)}: {exc.strerror or exc}",
                sent=False,
                **_where(request),
            ) from None
        except aiohttp.ServerDisconnectedError:
            raise APIConnectionError(
                "gu1 closed the connection before answering", **_where(request)
            ) from None
        except aiohttp.ClientPayloadError as exc:
            raise APIConnectionError(
                f"the response body was cut off ({exc.__class__.__name__})",
                sent=True,
                **_where(request),
            ) from None
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                f"connection to gu1 failed ({exc.__class__.__name__})", **_where(request)
            ) from None
        except OSError as exc:
            raise APIConnectionError(
                f"connection to gu1 failed ({exc.__class__.__name__}: {exc.strerror})",
                **_where(request),
            ) from None

    def _url(self, url: str) -> URL:
        """`url` as a yarl URL taken as already encoded, kept for the next request to it.

        encoded=True: the URL goes out as the requester built it. Parsed the default way,
        yarl decodes `%2e%2e` and resolves it (`/entities/%2e%2e/admin` reached the server
        as `/admin`) and turns `%3B` back into `;`. (Kept because building one costs more
        than aiohttp's own cached parse of a string; the dict is emptied when it fills.)
        """
        parsed = URL(url, encoded=True)
        if len(self._urls) >= _URL_CACHE_SIZE:
            self._urls.clear()
        self._urls[url] = parsed
        return parsed

    def _check_declared(
        self, response: aiohttp.ClientResponse, request: RawRequest, length: int
    ) -> None:
        """Refuse a Content-Length past the cap before reading any of it."""
        # Compressed, the length says nothing about the decoded size (the stream decides);
        # a HEAD's length describes a body that is not sent.
        if _CONTENT_ENCODING not in response.headers and request.method != "HEAD":
            raise self._too_large(response, request, declared=length)

    def _too_large(
        self, response: aiohttp.ClientResponse, request: RawRequest, declared: int | None = None
    ) -> ResponseTooLargeError:
        """The error for a body past the cap; `declared` is a Content-Length past it."""
        # Not reused: the rest of the body is still on the wire.
        response.close()
        limit = self._max_response_size
        said = f" (Content-Length: {declared:,})" if declared is not None else ""
        return ResponseTooLargeError(
            f"gu1 answered {response.status} with a body larger than the "
            f"{_size(limit)} cap{said}; reading stopped there. If gu1 really sends "
            f"bodies this large, raise it: Gu1Client(max_response_size=...)",
            limit=limit,
            size=declared,
            status=response.status,
            body_excerpt="",
            **_where(request),
        )

    async def aclose(self) -> None:
        """Close the pool; idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    @property
    def session_open(self) -> bool:
        """True while an aiohttp session exists and is open (for the unclosed warning)."""
        return self._session is not None and not self._session.closed


def _where(request: RawRequest) -> dict[str, Any]:
    """Where a failed request was going, for its error (built only when one is raised)."""
    return {"method": request.method, "path": _path_of(request.url)}


def _size(count: int) -> str:
    """`33554432` -> `32 MiB`, for messages."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count:,} bytes"


def _client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=timeout.total, connect=timeout.connect)


def _query(params: Params) -> list[tuple[str, str]]:
    """Flatten params: drop None, booleans as 'true'/'false', sequences repeated."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, (list, tuple)):
            out.extend((key, str(item)) for item in value)
        else:
            out.append((key, str(value)))
    return out


def _form(files: FormFields) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in files.items():
        if isinstance(value, str):
            form.add_field(name, value)
            continue
        for part in [value] if isinstance(value, FilePart) else value:
            form.add_field(
                name, part.content, filename=part.filename, content_type=part.content_type
            )
    return form


def _path_of(url: str) -> str:
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:].split("?", 1)[0] if slash >= 0 else "/"


def _host_of(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]
