"""An in-memory fake of the gu1 API on a real loopback port, for tests, demos and benchmarks.

```python
from gu1_async.testing import FakeGu1Server

async with FakeGu1Server(plan="free", time_scale=3600) as server:
    ...  # point a client at server.url with the key gk_test_fake_key_0001
```
"""

from __future__ import annotations

from ._keys import DEFAULT_KEY, PLANS, FakeKey
from ._ratelimit import WindowUsage
from ._serve import serve
from ._server import FakeGu1Server
from ._stats import FakeServerStats
from ._webhooks import WebhookDelivery, sign

__all__ = [
    "DEFAULT_KEY",
    "PLANS",
    "FakeGu1Server",
    "FakeKey",
    "FakeServerStats",
    "WebhookDelivery",
    "WindowUsage",
    "serve",
    "sign",
]
