from __future__ import annotations

import pickle

import pytest

from gu1_async._auth import ApiKey
from gu1_async._errors import InvalidApiKeyFormatError, MissingApiKeyError

SECRET = "gk_prod_SECRETsecretSECRET9z8y"


def test_parses_environment_and_masks() -> None:
    key = ApiKey(SECRET)
    assert key.environment == "prod"
    assert key.is_production is True
    assert key.masked == "gk_prod_…9z8y"
    assert SECRET not in repr(key)
    assert SECRET not in str(key)
    assert SECRET not in f"{key!r} {key} {[key]}"
    assert key.reveal() == SECRET
    assert key.authorization_header() == {"Authorization": f"Bearer {SECRET}"}


@pytest.mark.parametrize(
    ("secret", "env", "production"),
    [
        ("gk_sandbox_abcdefghijkl", "sandbox", False),
        ("gk_test_abcdefghijkl", "test", False),
        ("gk_production_abc_def_ghi", "production", True),
        ("sk_live_abcdefghijkl", "live", True),
        ("sk_test_abcdefghijkl", "test", False),
        ("opaque-token-abcdef", None, None),
        ("gk_weird_abcdefghijkl", "weird", None),
    ],
)
def test_environments(secret: str, env: str | None, production: bool | None) -> None:
    key = ApiKey(secret)
    assert key.environment == env
    assert key.is_production is production


def test_short_suffix_is_not_revealed_by_its_last_four() -> None:
    assert ApiKey("gk_test_abc123").masked == "gk_test_…"


@pytest.mark.parametrize("bad", ["", " ", "gk_test_abc def", "gk_test_abc\n", "\tgk_test_x"])
def test_empty_or_whitespace_rejected(bad: str) -> None:
    with pytest.raises(InvalidApiKeyFormatError) as info:
        ApiKey(bad)
    expected = "empty" if bad == "" else "whitespace"
    assert expected in str(info.value)


def test_whitespace_error_does_not_echo_the_key() -> None:
    with pytest.raises(InvalidApiKeyFormatError) as info:
        ApiKey(SECRET + "\n")
    assert SECRET not in str(info.value)
    assert "whitespace" in str(info.value)


def test_from_env() -> None:
    assert ApiKey.from_env({"GU1_API_KEY": SECRET}).reveal() == SECRET
    with pytest.raises(MissingApiKeyError, match="GU1_API_KEY"):
        ApiKey.from_env({})


def test_equality_and_hash_without_exposing() -> None:
    assert ApiKey(SECRET) == ApiKey(SECRET)
    assert ApiKey(SECRET) != ApiKey("gk_prod_other_key_1234")
    assert len({ApiKey(SECRET), ApiKey(SECRET)}) == 1
    assert SECRET not in ApiKey(SECRET).fingerprint


def test_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(ApiKey(SECRET))


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        ("gk_test_SECRETsecret\x00SECRET", "a control character (U+0000)"),
        ("gk_test_SECRETsecret\x7fSECRET", "a control character (U+007F)"),
        ("gk_test_SECRETsecret\x1bSECRET", "a control character (U+001B)"),
        ("gk_test_SECRETsecret\u0085SECRET", "(U+0085)"),
        ("gk_test_SECRETsecretJosé", "a non-ASCII character"),
        ("gk_test_SECRETsecret\u00a0SECRET", "whitespace (U+00A0)"),
    ],
)
def test_unsendable_characters_are_refused_without_echoing_the_key(bad: str, kind: str) -> None:
    # Such a key used to pass and fail only at the first request, with aiohttp's bare
    # ValueError about the header.
    with pytest.raises(InvalidApiKeyFormatError) as info:
        ApiKey(bad)
    message = str(info.value)
    assert kind in message and "position" in message
    assert "SECRET" not in message and "secret" not in message
    assert "é" not in message  # not even the offending character, when it is printable
