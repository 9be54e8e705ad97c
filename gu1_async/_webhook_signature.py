"""gu1's webhook signature: HMAC-SHA256 over the raw body, in whichever encoding it comes.

The docs do not show how the digest is encoded, so every common encoding is accepted (an
assumption, see `verify_signature`): hex (either case, 64 characters), the same with a
`sha256=` prefix (what `sign_payload` produces, and what the SDK's fake gu1 server sends),
base64 standard or URL-safe, padded or not. `gu1_async.webhooks` re-exports the public
names; this module holds the byte-level part only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import Final

from gu1_async._errors import ConfigurationError, WebhookVerificationError

__all__ = ["SIGNATURE_HEADER", "is_valid_signature", "sign_payload", "verify_signature"]

SIGNATURE_HEADER: Final = "X-Webhook-Signature"
"""The request header gu1 puts the signature in."""

_PREFIX: Final = "sha256="
_DIGEST_SIZE: Final = hashlib.sha256().digest_size
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
# "name=value" where value does not start with "=": an algorithm prefix such as "sha1=".
# A base64 digest only ever has "=" padding at its very end, so it never matches.
_OTHER_ALGORITHM = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,15})=[^=]")


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    elif not isinstance(secret, (bytes, bytearray)):
        raise ConfigurationError("the webhook secret must be str or bytes")
    if not secret:
        # An empty key would make every forged body "verify" against HMAC(b"", body).
        raise ConfigurationError("the webhook secret is empty; copy it from the gu1 dashboard")
    return bytes(secret)


def _body_bytes(raw_body: bytes) -> bytes:
    if isinstance(raw_body, (bytes, bytearray, memoryview)):
        return bytes(raw_body)
    # A str or dict here almost always means the body was already decoded or parsed,
    # which is exactly what breaks signatures; say so instead of guessing an encoding.
    raise TypeError(
        f"verify the raw request body as bytes, not {type(raw_body).__name__}; "
        "read it before any JSON parsing"
    )


def _digest(body: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, body, hashlib.sha256).digest()


def sign_payload(raw_body: bytes, secret: str | bytes) -> str:
    """Sign a body the way the SDK assumes gu1 does: `"sha256=<lowercase hex>"`.

    Useful for tests and for the fake gu1 server, which sends this in `SIGNATURE_HEADER`.

    Raises:
        ConfigurationError: The secret is empty or not str/bytes.
    """
    return _PREFIX + _digest(_body_bytes(raw_body), _secret_bytes(secret)).hex()


def _decode_signature(header: str) -> bytes:
    """Turn a signature header into the 32 digest bytes it claims, in any accepted form."""
    text = header.strip()
    if text[: len(_PREFIX)].lower() == _PREFIX:
        text = text[len(_PREFIX) :].strip()
    else:
        other = _OTHER_ALGORITHM.match(text)
        if other:
            raise WebhookVerificationError(
                f"{SIGNATURE_HEADER} uses algorithm {other.group(1)!r}; only sha256 is accepted"
            )
    if _HEX_DIGEST.fullmatch(text):
        return bytes.fromhex(text)
    # Hex digits are also base64 characters, but 64 of them decode to 48 bytes, not 32,
    # so the two encodings cannot be confused.
    candidate = text.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        decoded = base64.b64decode(candidate + "=" * (-len(candidate) % 4), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != _DIGEST_SIZE:
        raise WebhookVerificationError(
            f"{SIGNATURE_HEADER} is not an HMAC-SHA256 digest in hex or base64"
        )
    return decoded


def verify_signature(raw_body: bytes, signature_header: str | None, secret: str | bytes) -> None:
    """Check that `raw_body` was signed by gu1 with `secret`, in constant time.

    Assumption (gu1's docs name the header and HMAC-SHA256 over the raw body, but not
    the encoding): the header holds the digest as hex (any case), optionally prefixed
    `sha256=`, or as base64 (standard or URL-safe, padding optional). No timestamp is
    part of the signed string; see `construct_event` for an optional age check.

    Args:
        raw_body: The request body exactly as received, before any JSON parsing.
        signature_header: The value of the `X-Webhook-Signature` header (None if absent).
        secret: The webhook secret from the gu1 dashboard.

    Raises:
        WebhookVerificationError: The header is missing, malformed, or does not match.
            Messages never contain the secret or the expected digest.
        ConfigurationError: The secret is empty or not str/bytes.
        TypeError: `raw_body` is not bytes (e.g. an already-parsed body).
    """
    key = _secret_bytes(secret)
    body = _body_bytes(raw_body)
    if signature_header is None or not signature_header.strip():
        raise WebhookVerificationError(
            f"missing {SIGNATURE_HEADER} header; is a secret configured for this webhook?"
        )
    claimed = _decode_signature(signature_header)
    if not hmac.compare_digest(_digest(body, key), claimed):
        raise WebhookVerificationError(
            "webhook signature does not match the body; check the secret, and verify the "
            "raw request body before any JSON parsing"
        )


def is_valid_signature(raw_body: bytes, signature_header: str | None, secret: str | bytes) -> bool:
    """Return whether `verify_signature` would accept this delivery.

    Raises:
        ConfigurationError: The secret is empty: a setup bug, not a bad delivery.
    """
    try:
        verify_signature(raw_body, signature_header, secret)
    except WebhookVerificationError:
        return False
    return True
