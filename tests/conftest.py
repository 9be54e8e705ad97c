from __future__ import annotations

import inspect
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aioresponses.core
import pytest
from aiohttp import ClientResponse
from aioresponses import aioresponses as AioResponses

FAKE_KEY = "gk_test_conftestKEY0001"


class _FinishedUpload:
    """Stands in for the request's stream writer: the mocked upload is already done."""

    output_size = 0


class _CompatClientResponse(ClientResponse):
    """aiohttp 3.14 made `stream_writer` a required argument that aioresponses 0.7.9
    does not pass yet; supply a finished one so mocked responses build on every aiohttp
    we support (>=3.12,<4)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if _NEEDS_STREAM_WRITER:
            kwargs.setdefault("stream_writer", _FinishedUpload())
        super().__init__(*args, **kwargs)


_NEEDS_STREAM_WRITER = "stream_writer" in inspect.signature(ClientResponse.__init__).parameters
aioresponses.core.ClientResponse = _CompatClientResponse  # type: ignore[misc]


@pytest.fixture
def mock_api() -> Iterator[AioResponses]:
    """aioresponses patching aiohttp's ClientSession for request-shape tests."""
    with AioResponses() as mocked:
        yield mocked


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's real key or base URL from the environment."""
    monkeypatch.delenv("GU1_API_KEY", raising=False)
    monkeypatch.delenv("GU1_BASE_URL", raising=False)


# -- a redis-server for tests outside tests/redis (examples, sharded ingest) --------------

REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A fresh redis-server on a free loopback port, nothing persisted; its URL."""
    if REDIS_SERVER is None:
        reason = "no redis-server binary on PATH (scripts/test.sh installs Debian's)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the Redis tests, not skip them")
        pytest.skip(reason)
    port = _free_port()
    command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10.0
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {port}")
            time.sleep(0.01)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
