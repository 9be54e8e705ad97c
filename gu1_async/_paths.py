"""Request paths: what could make a server address another resource, and escaping that doesn't.

A path reaches gu1 as the SDK built it (the transport sends URLs as already encoded), so
nothing on the client re-resolves it. What is left is what a server or a proxy on the way
might do: decode `%2e%2e` and resolve it, drop `;params` before resolving (`..;`), or take
`\\` for `/`. A segment that could read as `.` or `..` in any of those ways is refused.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

__all__ = ["escape_path", "has_dot_segment"]

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
