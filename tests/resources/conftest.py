"""A recording fake Requester: resources are tested without HTTP, against the protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import attrs
import pytest

from gu1_async._types import FilePart

from .harness import Api, client


@attrs.define
class Call:
    """One request a resource made."""

    method: str
    path: str
    params: Mapping[str, Any] | None
    json: Any
    files: Mapping[str, FilePart | str] | None
    operation: str | None
    options: dict[str, Any]


@attrs.define
class FakeRequester:
    """Answers each request with the next queued body and records what was asked."""

    responses: list[Any] = attrs.field(factory=list)
    calls: list[Call] = attrs.field(factory=list)

    def queue(self, *bodies: Any) -> FakeRequester:
        self.responses.extend(bodies)
        return self

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Mapping[str, FilePart | str] | None = None,
        operation: str | None = None,
        **options: Any,
    ) -> Any:
        self.calls.append(Call(method, path, params, json, files, operation, dict(options)))
        if not self.responses:
            raise AssertionError(f"unexpected request {method} {path}")
        return self.responses.pop(0)

    @property
    def last(self) -> Call:
        return self.calls[-1]


@pytest.fixture
def requester() -> FakeRequester:
    return FakeRequester()


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    """A real client; request tests patch its HTTP with the `mock_api` fixture."""
    async with client() as gu1:
        yield gu1
