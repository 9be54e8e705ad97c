"""What the `gu1` command says when something is wrong: the reason, and what to do.

In-process through click's runner (the subprocess tests in test_commands.py cover the real
entry point); nothing here waits for a retry: the probes are not retried, the demo's
client is built without retries.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gu1_async import Gu1Client, RetryPolicy
from gu1_async.cli import _demo
from gu1_async.cli._app import cli


@pytest.fixture
def closed_url() -> str:
    """A loopback URL where nothing listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def _empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout


def run(*args: str, **env: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize("command", [("limits",), ("key", "check"), ("ingest", "rows.jsonl")])
def test_a_missing_key_says_what_to_set_not_401(command: tuple[str, ...]) -> None:
    Path("rows.jsonl").write_text('{"externalId": "x"}\n')
    result = run(*command)
    assert result.exit_code == 1
    text = result.output
    assert "MissingApiKeyError" in text and "GU1_API_KEY" in text and ".env" in text
    assert "401" not in text  # nothing was sent, so nothing answered 401
    assert "Gu1Client(" not in text  # advice for code, not for a command line
    assert not Path("rows.jsonl.checkpoint").exists()  # the keyed re-run needs no --resume


def test_a_malformed_key_is_named_by_kind_and_source_never_echoed() -> None:
    result = run("limits", GU1_API_KEY="gk_test_SECRETsecret\x07SECRET")
    assert result.exit_code == 1
    assert "InvalidApiKeyFormatError" in result.output
    assert "control character" in result.output and "environment variable" in result.output
    assert "SECRET" not in result.output


def test_key_check_after_a_refused_connection_says_so(closed_url: str) -> None:
    result = run("key", "check", GU1_API_KEY="gk_test_fake_key_0001", GU1_BASE_URL=closed_url)
    assert result.exit_code == 1
    assert "APIConnectionError" in result.output
    assert f"the connection to {closed_url} failed" in result.output
    # It used to say this, as if a response had come back without headers.
    assert "carried no X-RateLimit" not in result.output


def test_limits_after_a_refused_connection_says_so(closed_url: str) -> None:
    result = run("limits", GU1_API_KEY="gk_test_fake_key_0001", GU1_BASE_URL=closed_url)
    assert result.exit_code == 1
    assert f"the connection to {closed_url} failed" in result.output
    assert "GU1_BASE_URL" in result.output
    assert "carried no X-RateLimit" not in result.output


def test_the_environment_guard_names_the_cli_opt_out(closed_url: str) -> None:
    key = "gk_prod_SECRETsecretSECRET1234"
    result = run("limits", GU1_API_KEY=key, GU1_BASE_URL=closed_url)
    assert result.exit_code == 1
    assert "EnvironmentMismatchError" in result.output
    assert "--allow-environment-mismatch" in result.output
    assert "allow_environment_mismatch=True" not in result.output
    assert "SECRETsecret" not in result.output
    relaxed = run(
        "limits", "--allow-environment-mismatch", GU1_API_KEY=key, GU1_BASE_URL=closed_url
    )
    assert "the connection to" in relaxed.output  # past the guard, to the (refused) request


def test_demo_with_nothing_reachable_prints_the_first_error_of_each_kind(
    closed_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo's own fake server runs, but the client cannot reach anything.
    def unreachable(key: str, **options: Any) -> Gu1Client:
        options.update(base_url=closed_url, retry=RetryPolicy(max_retries=0))
        return Gu1Client(key, **options)

    monkeypatch.setattr(_demo, "Gu1Client", unreachable)
    result = run("demo", "--entities", "5", "--no-progress")
    assert result.exit_code == 1
    assert "0 succeeded, 5 failed" in result.output  # all it used to say
    assert "failed: APIConnectionError x5, the first: cannot connect to gu1 at" in result.output
