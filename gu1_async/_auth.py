"""API keys: where they come from, what they say, and how they stay secret.

A key is shown only as its prefix and last four characters (`gk_prod_…Xy9Z`); the full
secret is reachable through `ApiKey.reveal()` alone, which only the transport calls to
build the `Authorization` header.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping

import attrs

from ._errors import InvalidApiKeyFormatError, MissingApiKeyError

__all__ = ["API_KEY_ENV_VAR", "ApiKey"]

API_KEY_ENV_VAR = "GU1_API_KEY"

# gk_<environment>_<suffix>: the environment segment is letters/digits only, so a key such
# as gk_prod_abc_def has environment "prod" and suffix "abc_def".
_GK_KEY = re.compile(r"^gk_(?P<env>[A-Za-z0-9]+)_(?P<suffix>.+)$")
_LEGACY_KEY = re.compile(r"^sk_(?P<env>live|test)_(?P<suffix>.+)$")
_ENV_ALIASES = {"prod": "production", "live": "production", "sandbox": "sandbox", "test": "test"}


def _unsendable(secret: str) -> str | None:
    """What makes the key unusable in an HTTP header, by kind and position; None if nothing.

    gu1 documents no charset, but the key travels in `Authorization: Bearer <key>`: a control
    character or line break there is refused by aiohttp (a bare ValueError at the first
    request) or worse, splits the header; a space or non-ASCII letter is a paste error.
    """
    for position, ch in enumerate(secret, start=1):
        if "!" <= ch <= "~":
            continue
        where = f"at position {position} of {len(secret)}"
        if ch.isprintable() and not ch.isspace():
            # A letter may be part of the secret typed wrong: its code point is not shown.
            return f"a non-ASCII character {where}"
        kind = "whitespace" if ch.isspace() else "a control character"
        return f"{kind} (U+{ord(ch):04X}) {where}"
    return None


def _masked(secret: str) -> str:
    """The key as it may be shown: prefix up to the environment, then the last 4 chars."""
    match = _GK_KEY.match(secret) or _LEGACY_KEY.match(secret)
    prefix = secret[: match.start("suffix")] if match else secret[:3]
    if len(secret) - len(prefix) <= 8:
        # A suffix this short would be mostly revealed by its last four characters.
        return f"{prefix}…"
    return f"{prefix}…{secret[-4:]}"


@attrs.frozen(repr=False, eq=False)
class ApiKey:
    """A gu1 API key; its secret never appears in repr, str or any error.

    Construct it from the key exactly as the dashboard showed it (`gk_<env>_<suffix>`;
    older `sk_live_`/`sk_test_` keys and other opaque strings are accepted too).

    Raises:
        InvalidApiKeyFormatError: the key is empty, or has a character that is not
            printable ASCII (whitespace, a control character, a non-ASCII letter).
    """

    _secret: str = attrs.field(alias="secret")

    def __attrs_post_init__(self) -> None:
        if not isinstance(self._secret, str):
            raise InvalidApiKeyFormatError(
                f"API key must be a str, not {type(self._secret).__name__}"
            )
        if not self._secret:
            raise InvalidApiKeyFormatError(
                f"API key is empty; pass api_key='gk_...' or set {API_KEY_ENV_VAR}"
            )
        problem = _unsendable(self._secret)
        if problem is not None:
            # Said by kind and position only: the masked form could show the bad character
            # itself, and any more of the key would be a leak.
            raise InvalidApiKeyFormatError(
                f"API key contains {problem}; gu1 keys are printable ASCII with no spaces: "
                "copy the key again from the dashboard (Settings -> API Keys)"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiKey:
        """Read the key from `GU1_API_KEY`.

        Raises:
            MissingApiKeyError: the variable is unset or empty.
        """
        value = (os.environ if environ is None else environ).get(API_KEY_ENV_VAR, "")
        if not value:
            raise missing_key_error()
        return cls(value)

    @classmethod
    def coerce(cls, value: ApiKey | str | None) -> ApiKey:
        """An ApiKey from a key, a string, or (None) the environment."""
        if isinstance(value, ApiKey):
            return value
        if value is None:
            return cls.from_env()
        return cls(value)

    @property
    def environment(self) -> str | None:
        """The environment segment (`prod`, `sandbox`, `test`, ...), or None if opaque."""
        match = _GK_KEY.match(self._secret) or _LEGACY_KEY.match(self._secret)
        return match.group("env") if match else None

    @property
    def is_production(self) -> bool | None:
        """True for production keys, False for sandbox/test keys, None when unknown."""
        env = self.environment
        if env is None:
            return None
        normalized = _ENV_ALIASES.get(env.lower(), env.lower())
        if normalized == "production":
            return True
        if normalized in ("sandbox", "test", "dev", "development", "staging"):
            return False
        return None

    @property
    def masked(self) -> str:
        """The key as safe to show: prefix and last four characters."""
        return _masked(self._secret)

    @property
    def fingerprint(self) -> str:
        """A stable, non-reversible id for the key (e.g. to namespace shared state)."""
        return hashlib.sha256(self._secret.encode()).hexdigest()[:32]

    def reveal(self) -> str:
        """The secret itself; only for the Authorization header."""
        return self._secret

    def authorization_header(self) -> dict[str, str]:
        """`{"Authorization": "Bearer <key>"}`."""
        return {"Authorization": f"Bearer {self._secret}"}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._secret == self._secret

    def __hash__(self) -> int:
        return hash(("ApiKey", self.fingerprint))

    def __repr__(self) -> str:
        return f"ApiKey({self.masked!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the secret into a file or queue; refuse rather than leak.
        raise TypeError("ApiKey cannot be pickled; pass the key through the environment")


def missing_key_error() -> MissingApiKeyError:
    """The error for 'no key anywhere', with how to supply one."""
    return MissingApiKeyError(
        f"No gu1 API key: pass Gu1Client(api_key='gk_...') or set the {API_KEY_ENV_VAR} "
        "environment variable (keys are created at app.gu1.ai, Settings -> API Keys)",
        status=401,
        code="MISSING_API_KEY",
    )
