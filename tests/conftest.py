from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aioresponses.core
import pytest
from aiohttp import ClientResponse
from aioresponses import aioresponses as AioResponses

from tests.redis.conftest import running_redis_server

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


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A fresh redis-server on a free loopback port, nothing persisted; its URL."""
    for server in running_redis_server(tmp_path):
        yield server.url
