"""Feed Prometheus from gu1-async's hooks, without OpenTelemetry (docs/observability.md).

pip install prometheus_client
python examples/prometheus_hooks.py      # runs against the fake server, prints /metrics
"""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from gu1_async import Gu1Client
from gu1_async.governor import Governor
from gu1_async.hooks import GovernorAttached, Hooks, ResponseReceived, Throttled, Waited
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server


class PrometheusHooks(Hooks):
    """gu1 request durations, governor waits, 429s and each window's remaining requests."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        kw = {"registry": registry} if registry is not None else {}
        self.duration = Histogram(
            "gu1_request_duration_seconds",
            "Each HTTP attempt to gu1.",
            ["method", "route", "status"],
            **kw,
        )
        self.wait = Histogram(
            "gu1_governor_wait_seconds", "Waits for the rate-limit governor.", ["priority"], **kw
        )
        self.throttled = Counter("gu1_throttled", "429 answers from gu1.", ["route"], **kw)
        self.remaining = Gauge(
            "gu1_ratelimit_remaining", "Requests left in each window.", ["key", "window"], **kw
        )
        self.governors: dict[str, Governor] = {}

    def on_governor(self, event: GovernorAttached) -> None:
        self.governors[event.key_id] = event.governor

    def on_response(self, event: ResponseReceived) -> None:
        call = event.call
        status = str(event.status) if event.status is not None else event.error_type
        self.duration.labels(call.method, call.route or "-", status).observe(event.duration)
        governor = self.governors.get(call.key_id)
        if governor is not None:
            for window in governor.stats().windows:
                labels = (call.key_id, f"{window.period:g}s")
                self.remaining.labels(*labels).set(window.available)

    def on_wait(self, event: Waited) -> None:
        self.wait.labels(event.priority.name.lower()).observe(event.seconds)

    def on_throttled(self, event: Throttled) -> None:
        self.throttled.labels(event.call.route or "-").inc()


async def main(registry: CollectorRegistry | None = None) -> CollectorRegistry:
    registry = registry or CollectorRegistry()
    async with FakeGu1Server() as server:
        hooks = PrometheusHooks(registry)
        async with Gu1Client(DEFAULT_KEY, base_url=server.url, hooks=[hooks]) as client:
            person = await client.entities.create(
                type="person", name="Ana Souza", country_code="BR", external_id="prom-1"
            )
            assert person.entity is not None and person.entity.id is not None
            await client.entities.get(person.entity.id)
    return registry


if __name__ == "__main__":
    print(generate_latest(asyncio.run(main())).decode())
