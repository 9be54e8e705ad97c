"""What a caller hands the client, checked before anything is sent.

Base URLs, header names and values, and whether the key's environment fits the host. Each
check raises `ConfigurationError` saying what is wrong and what to do, and none repeats the
value it refuses: a base URL may carry a key in its user-info or query string, and a header
value may be a credential.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Collection, Mapping
from urllib.parse import urlsplit

from ._auth import ApiKey
from ._errors import ConfigurationError, EnvironmentMismatchError

__all__ = [
    "check_base_url",
    "check_environment",
    "check_header_value",
    "check_headers",
    "check_keywords",
    "check_organization_id",
    "host_environment",
    "is_loopback",
]

# RFC 9110 token characters: anything else in a name ("Authorization ", "X-A\r\nB", "A:B")
# is either refused by aiohttp late, or — worse — read differently by a proxy than by us.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Header values: visible ASCII and Latin-1, space and tab; no CR, LF, NUL or other controls.
_BAD_VALUE_CHAR = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Headers the client owns. Authorization carries the key; the others would let one call's
# extras smuggle a second request or body past the connection (request smuggling).
_RESERVED = frozenset(
    {"authorization", "proxy-authorization", "host", "content-length", "transfer-encoding"}
)

# Host labels that name an environment. gu1 itself documents one host for both
# (`api.gu1.ai`, the key picks the environment), so these only ever match proxies,
# gateways and mirrors whose operators named them.
_NON_PRODUCTION_LABELS = frozenset(
    {"sandbox", "test", "testing", "staging", "stage", "dev", "development", "local", "qa"}
)
_PRODUCTION_LABELS = frozenset({"prod", "production", "live"})


def check_keywords(given: Collection[str], known: Collection[str], *, call: str) -> None:
    """Refuse a keyword `call` does not take, as Python does for a plain signature.

    Methods typed with `**kwargs: Unpack[SomeTypedDict]` get no such check from Python;
    without it a misspelled keyword (`jsn=`) would be dropped silently.

    Raises:
        TypeError: naming the keyword and the nearest known one.
    """
    for key in given:
        if key not in known:
            near = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise TypeError(f"{call}() got an unexpected keyword argument {key!r}{hint}")


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: object) -> str:
    """The base URL without a trailing slash; https only, plain http only on loopback.

    Raises:
        ConfigurationError: not a str, credentials, query or fragment, bad scheme, host or
            port, whitespace or control characters, or plain http to a remote host.
    """
    if not isinstance(url, str):
        raise ConfigurationError(f"base_url must be a str, not {type(url).__name__}")
    for position, ch in enumerate(url, start=1):
        if ch.isspace() or not ch.isprintable():
            raise ConfigurationError(
                f"base_url has whitespace or a control character (U+{ord(ch):04X}) at position "
                f"{position}; give it as https://host[:port][/path]"
            )
    parts = urlsplit(url)
    if "@" in parts.netloc:
        # Checked before anything that would print the URL: this is where a key ends up
        # when someone writes https://user:gk_live_...@host.
        raise ConfigurationError(
            "base_url must not contain credentials (user:password@host); remove them and "
            "pass the key as api_key= or in GU1_API_KEY (it is sent as a Bearer header)"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(
            "base_url must not have a query string or fragment (?... or #...); give only "
            "https://host[:port][/path], and the key as api_key= or GU1_API_KEY"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        got = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        raise ConfigurationError(
            f"base_url must be an http(s) URL with a host, such as https://api.gu1.ai ({got})"
        )
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise ConfigurationError(
            f"base_url has an invalid port for host {parts.hostname}; ports are 1-65535"
        ) from None
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"refusing plain http to {parts.hostname}: the API key would travel unencrypted; "
            "use https (plain http is allowed only for loopback, e.g. the fake server)"
        )
    return url.rstrip("/")


def check_header_value(name: str, value: object) -> str:
    """`value`, if it can be sent as one header line.

    Raises:
        ConfigurationError: not a str, or CR, LF, NUL or another control character in it.
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"header {name} must be a str, not {type(value).__name__}")
    bad = _BAD_VALUE_CHAR.search(value)
    if bad is not None:
        raise ConfigurationError(
            f"header {name} has a control character (U+{ord(bad.group()):04X}) at position "
            f"{bad.start() + 1}: a line break there would start a new header; remove it"
        )
    return value


def check_organization_id(organization_id: str | None) -> str | None:
    """The organization id, if it can travel as the `X-Organization-ID` header."""
    if organization_id is None:
        return None
    return check_header_value("X-Organization-ID (organization_id)", organization_id)


def check_headers(headers: Mapping[str, str]) -> None:
    """Refuse extra headers that are malformed or would replace one the client owns.

    Raises:
        ConfigurationError: a name that is not an HTTP token (spaces, CR/LF, colons...),
            a reserved name in any spelling (Authorization, Host...), or a bad value.
    """
    for name, value in headers.items():
        if not isinstance(name, str):
            raise ConfigurationError(f"header names must be str, not {type(name).__name__}")
        bare = name.strip().lower()  # "Authorization " is still an attempt at Authorization
        if bare in _RESERVED:
            advice = "; for another key use client.with_options(api_key=...)"
            raise ConfigurationError(
                f"header {name.strip()} cannot be set per call (in any spelling): the client "
                f"sends it itself{advice if bare == 'authorization' else ''}"
            )
        if _TOKEN.fullmatch(name) is None:
            shown = repr(name) if len(name) <= 64 else "a name"
            raise ConfigurationError(
                f"header name {shown} is not a valid HTTP header name (letters, digits and "
                "!#$%&'*+-.^_`|~ only: no spaces, line breaks or colons)"
            )
        check_header_value(name, value)


def host_environment(host: str) -> str | None:
    """`local`, `sandbox` or `production` as far as the host name says; None if it does not.

    `api.gu1.ai` says nothing: gu1 serves sandbox and production from that one host and
    lets the key choose. The last label (the TLD: `.dev`, `.live`) is not read.
    """
    host = host.lower().rstrip(".")
    if is_loopback(host):
        return "local"
    name = host.rsplit(".", 1)[0] if "." in host else host
    labels = set(re.split(r"[.\-_]", name))
    if labels & _NON_PRODUCTION_LABELS:
        return "sandbox"
    if labels & _PRODUCTION_LABELS:
        return "production"
    return None


def check_environment(api_key: ApiKey, base_url: str, allow_mismatch: bool = False) -> None:
    """Refuse a production key against a sandbox or local host, and the reverse.

    Raises:
        EnvironmentMismatchError: the key's environment contradicts the host's (and
            `allow_mismatch` is false).
    """
    if allow_mismatch:
        return
    production = api_key.is_production
    host = urlsplit(base_url).hostname or ""
    place = host_environment(host)
    if production is None or place is None:
        return
    opt_out = "or pass allow_environment_mismatch=True if this is really intended"
    if production and place != "production":
        what = (
            "a loopback address (a fake or local server)"
            if place == "local"
            else "a host named as non-production"
        )
        raise EnvironmentMismatchError(
            f"refusing a production key ({api_key.masked}) for {host}, {what}: use a sandbox "
            f"key there (gk_sandbox_...), {opt_out}",
            key_environment=api_key.environment,
            host=host,
        )
    if not production and place == "production":
        raise EnvironmentMismatchError(
            f"refusing a {api_key.environment} key ({api_key.masked}) for {host}, a host "
            f"named as production: use a production key there, {opt_out}",
            key_environment=api_key.environment,
            host=host,
        )
