"""Opt-in pytest fixtures for FakeGu1Server (not registered as an entry point).

Enable them in your top-level `conftest.py`:

```python
pytest_plugins = ["gu1_async.testing.pytest_plugin"]
```

Override `fake_gu1_options` to configure the server for a module or a test:

```python
@pytest.fixture
def fake_gu1_options() -> dict[str, object]:
    return {"plan": [(5, 60)], "time_scale": 60}
```
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ._keys import DEFAULT_KEY
from ._server import FakeGu1Server

__all__ = ["fake_gu1", "fake_gu1_key", "fake_gu1_options"]


@pytest.fixture
def fake_gu1_options() -> dict[str, Any]:
    """Keyword arguments for the `fake_gu1` server; override to change plan, faults, clock."""
    return {}


@pytest.fixture
async def fake_gu1(fake_gu1_options: dict[str, Any]) -> AsyncIterator[FakeGu1Server]:
    """A started FakeGu1Server on a free loopback port, closed after the test."""
    async with FakeGu1Server(**fake_gu1_options) as server:
        yield server


@pytest.fixture
def fake_gu1_key(fake_gu1_options: dict[str, Any]) -> str:
    """The key `fake_gu1` accepts with every permission (a fake: safe to print)."""
    key = fake_gu1_options.get("default_key", DEFAULT_KEY)
    if key is None:
        raise pytest.UsageError("fake_gu1_options sets default_key=None: register your own keys")
    return str(key)
