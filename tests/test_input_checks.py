"""Hostile or mistaken input to the client is refused at construction (or before a call is
sent) with a ConfigurationError that says what to do and never repeats the secret."""

from __future__ import annotations

import traceback

import pytest
from aioresponses import aioresponses

from gu1_async import ConfigurationError, EnvironmentMismatchError, Gu1Client
from gu1_async._checks import host_environment

FAKE_KEY = "gk_test_inputKEY0001"
# Distinctive enough that any echo of it shows up in a substring check.
SECRET = "gk_test_LEAKYleakyLEAKY4242"
SECRET_BODY = "LEAKYleakyLEAKY"


def texts(exc: BaseException) -> str:
    return " ".join(
        [str(exc), repr(exc), "".join(traceback.format_exception(type(exc), exc, None))]
    )


# -- base_url ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"http://x:{SECRET}@127.0.0.1:8080",
        f"https://x:{SECRET}@api.gu1.ai",
        f"https://{SECRET}@api.gu1.ai",
        f"https://api.gu1.ai/?api_key={SECRET}",
        f"https://api.gu1.ai/#{SECRET}",
        f"https://api.gu1.ai/{SECRET}\r\nX-Injected: 1",
        f"{SECRET}",  # a key pasted where the URL belongs
        "https://api.gu1.ai:99999",
    ],
)
async def test_bad_base_url_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Gu1Client(FAKE_KEY, base_url=url)
    assert SECRET_BODY not in texts(info.value)


async def test_credentials_in_the_base_url_say_where_the_key_goes() -> None:
    with pytest.raises(ConfigurationError, match=r"credentials.*GU1_API_KEY"):
        Gu1Client(FAKE_KEY, base_url=f"http://x:{SECRET}@127.0.0.1:8080")


async def test_credentials_in_gu1_base_url_are_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GU1_BASE_URL", f"https://x:{SECRET}@api.gu1.ai")
    with pytest.raises(ConfigurationError) as info:
        Gu1Client(FAKE_KEY)
    assert SECRET_BODY not in texts(info.value)


# -- extra headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {SECRET}"},
        {"authorization": f"Bearer {SECRET}"},
        {"Authorization ": f"Bearer {SECRET}"},
        {" Authorization": f"Bearer {SECRET}"},
        {"Authorization\t": f"Bearer {SECRET}"},
        {"AUTHORIZATION": f"Bearer {SECRET}"},
        {"Proxy-Authorization": f"Bearer {SECRET}"},
        {"Host": "evil.example"},
        {"Transfer-Encoding": "chunked"},
        {"X-Trace\r\nAuthorization": f"Bearer {SECRET}"},
        {"X-A:B": "1"},
        {"": "1"},
        {"X-Trace": f"1\r\nAuthorization: Bearer {SECRET}"},
        {"X-Trace": f"{SECRET}\n"},
        {"X-Trace": f"a\x00{SECRET}"},
        {"X-Trace": f"a\x7f{SECRET}"},
    ],
)
async def test_bad_extra_headers_are_refused_before_anything_is_sent(
    headers: dict[str, str],
) -> None:
    with aioresponses() as mocked:  # no routes: a request that went out would fail otherwise
        async with Gu1Client(FAKE_KEY) as client:
            with pytest.raises(ConfigurationError) as info:
                await client.request("GET", "/entities", headers=headers)
            with pytest.raises(ConfigurationError):
                await client.entities.get("e1", extra_headers=headers)
            assert client.governor.stats().in_flight == 0
        assert not mocked.requests
    assert SECRET_BODY not in texts(info.value)


async def test_authorization_refusal_says_how_to_use_another_key() -> None:
    async with Gu1Client(FAKE_KEY) as client:
        with pytest.raises(ConfigurationError, match=r"with_options\(api_key="):
            await client.request("GET", "/x", headers={"Authorization ": "Bearer x"})


@pytest.mark.parametrize("org", ["org-1\r\nX-Injected: 1", "org\n", "org\x00"])
async def test_organization_id_with_control_characters_is_refused(org: str) -> None:
    with pytest.raises(ConfigurationError, match="X-Organization-ID"):
        Gu1Client(FAKE_KEY, organization_id=org)
    async with Gu1Client(FAKE_KEY) as client:
        with pytest.raises(ConfigurationError, match="X-Organization-ID"):
            client.with_options(organization_id=org)


# -- environment guard -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("gk_prod_LEAKYleakyLEAKY4242", "http://127.0.0.1:8765"),
        ("gk_live_LEAKYleakyLEAKY4242", "http://localhost:8765"),
        ("gk_production_LEAKYleakyLEAKY4242", "https://sandbox.gu1.ai"),
        ("sk_live_LEAKYleakyLEAKY4242", "https://api-sandbox.example.com"),
        ("gk_prod_LEAKYleakyLEAKY4242", "https://gu1.staging.internal.example.com/api"),
        ("gk_sandbox_LEAKYleakyLEAKY4242", "https://api.prod.gu1.ai"),
        ("gk_test_LEAKYleakyLEAKY4242", "https://gu1-production.example.com"),
        ("sk_test_LEAKYleakyLEAKY4242", "https://live.gu1.example.com"),
    ],
)
async def test_a_key_for_the_other_environment_is_refused(key: str, url: str) -> None:
    with pytest.raises(EnvironmentMismatchError, match="allow_environment_mismatch=True") as info:
        Gu1Client(key, base_url=url)
    assert SECRET_BODY not in texts(info.value)
    assert info.value.key_environment == key.split("_")[1] and info.value.host in url
    # The explicit opt-out.
    async with Gu1Client(key, base_url=url, allow_environment_mismatch=True) as client:
        assert client.base_url == url


@pytest.mark.parametrize(
    ("key", "url"),
    [
        # gu1 serves sandbox and production from one host; the key picks the environment.
        ("gk_prod_abcdefghijkl", "https://api.gu1.ai"),
        ("gk_sandbox_abcdefghijkl", "https://api.gu1.ai"),
        ("gk_test_abcdefghijkl", "https://api.gu1.ai"),
        # The fake server on loopback keeps working with test and sandbox keys.
        ("gk_test_fake_key_0001", "http://127.0.0.1:8765"),
        ("gk_sandbox_abcdefghijkl", "http://[::1]:8765"),
        ("opaque-token-abcdef", "http://127.0.0.1:8765"),
        # Hosts that say nothing, and a TLD that is not read as an environment.
        ("gk_prod_abcdefghijkl", "https://gu1-proxy.corp.example.com"),
        ("gk_prod_abcdefghijkl", "https://gu1.example.dev"),
        ("gk_weird_abcdefghijkl", "http://127.0.0.1:8765"),
    ],
)
async def test_matching_or_unknown_environments_pass(key: str, url: str) -> None:
    async with Gu1Client(key, base_url=url) as client:
        assert client.base_url == url


async def test_a_view_with_a_production_key_is_checked_too() -> None:
    async with Gu1Client(FAKE_KEY, base_url="http://127.0.0.1:8765") as client:
        with pytest.raises(ConfigurationError, match="production key"):
            client.with_options(api_key="gk_prod_abcdefghijkl")
    relaxed = Gu1Client(FAKE_KEY, base_url="http://127.0.0.1:1", allow_environment_mismatch=True)
    async with relaxed:
        relaxed.with_options(api_key="gk_prod_abcdefghijkl")  # the client's opt-out carries over


@pytest.mark.parametrize(
    ("host", "environment"),
    [
        ("api.gu1.ai", None),
        ("127.0.0.1", "local"),
        ("localhost", "local"),
        ("::1", "local"),
        ("sandbox.gu1.ai", "sandbox"),
        ("gu1-sandbox", "sandbox"),
        ("api.prod.gu1.ai", "production"),
        ("gu1.example.live", None),
        ("contest.example.com", None),  # a label containing "test" is not the label "test"
    ],
)
def test_host_environment(host: str, environment: str | None) -> None:
    assert host_environment(host) == environment
