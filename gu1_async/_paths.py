"""Request paths: what could make a server address another resource, and escaping that doesn't.

A path reaches gu1 as the SDK built it (the transport sends URLs as already encoded), so
nothing on the client re-resolves it. What is left is what a server or a proxy on the way
might do: decode `%2e%2e` and resolve it, drop `;params` before resolving (`..;`), or take
`\\` for `/`. A segment that could read as `.` or `..` in any of those ways is refused.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urljoin, urlsplit

from ._errors import UnexpectedRedirectError

__all__ = ["escape_path", "has_dot_segment", "redirect_target"]

_SEPARATORS = re.compile(r"[/\\]")
# RFC 3986 path characters, with '%' kept as it is: an escape the caller wrote stays one.
_PATH_SAFE = "/!$&'()*+,;=:@-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"


def has_dot_segment(text: str) -> bool:
    """Whether a server may read any segment of `text` as `.` or `..`.

    Decoded once, split at `/` and `\\`, each piece cut at `;`: so `%2e%2e`, `.%2E`,
    `..;x`, `..%2F` and `..\\` all count; `...` and `..a` do not.
    """
    return any(piece.split(";", 1)[0] in (".", "..") for piece in _SEPARATORS.split(unquote(text)))


def escape_path(path: str) -> str:
    """Escape what may not appear raw in a request target (spaces, non-ASCII, controls),
    leaving existing `%XX` escapes and the reserved characters exactly as they are."""
    route, mark, query = path.partition("?")
    return quote(route, safe=_PATH_SAFE) + mark + quote(query, safe=_QUERY_SAFE)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return None  # credentials in a Location: never the same origin
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # a port that is not a number
        return None
    return parts.scheme, (parts.hostname or "").lower(), port


def redirect_target(method: str, url: str, redirect: UnexpectedRedirectError) -> str:
    """Where a followable redirect goes, as an encoded URL; else raise `redirect` itself."""
    location = redirect.location
    if method != "GET" or location is None:
        raise redirect
    here = _origin(url)
    target = urljoin(url, location)
    if here is None or _origin(target) != here:
        redirect.message = f"refused to follow a redirect to another origin: {redirect.message}"
        raise redirect
    if has_dot_segment(urlsplit(location).path):
        redirect.message = f"refused to follow a redirect to a dot segment: {redirect.message}"
        raise redirect
    parts = urlsplit(target)
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}" + escape_path((parts.path or "/") + query)
