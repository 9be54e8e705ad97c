"""gu1_async.otel against the real OpenTelemetry SDK (in-memory reader and exporter)."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gu1_async import ConflictError, Gu1Client, NotFoundError, Plan, Quota, RetryPolicy
from gu1_async.otel import OpenTelemetryHooks
from gu1_async.testing import FakeGu1Server

SECRET = "gk_test_OTELsecretOTELsecret4242"
PLANTED = ("Ana Souza", "111.111.111-11", "11111111111", "ana@example.com", "+5511999990000")


class Telemetry:
    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.hooks = OpenTelemetryHooks(
            tracer_provider=tracer_provider,
            meter_provider=MeterProvider(metric_readers=[self.reader]),
        )

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)
        return found

    def spans(self) -> tuple[ReadableSpan, ...]:
        return tuple(self.exporter.get_finished_spans())

    def every_attribute_value(self) -> Iterator[str]:
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        yield from (f"{k}={v}" for k, v in point.attributes.items())
        for span in self.spans():
            yield span.name
            yield from (f"{k}={v}" for k, v in (span.attributes or {}).items())
            for event in span.events:
                yield event.name
                yield from (f"{k}={v}" for k, v in (event.attributes or {}).items())


async def run_calls(telemetry: Telemetry, server: FakeGu1Server) -> Gu1Client:
    server.add_key(SECRET)
    retry = RetryPolicy(backoff_base=0.001, backoff_max=0.002)
    async with Gu1Client(
        SECRET, base_url=server.url, hooks=[telemetry.hooks], retry=retry
    ) as client:
        created = await client.entities.create(
            type="person",
            name=PLANTED[0],
            tax_id=PLANTED[1],
            country_code="BR",
            external_id="otel-1",
            email=PLANTED[3],
            phone=PLANTED[4],
        )
        assert created.entity is not None and created.entity.id is not None
        await client.entities.get(created.entity.id)
        await client.entities.get_by_tax_id(PLANTED[1])
        with pytest.raises(ConflictError):
            await client.entities.create(
                type="person",
                name=PLANTED[0],
                tax_id=PLANTED[1],
                country_code="BR",
                external_id="otel-1",
            )
        with pytest.raises(NotFoundError):
            await client.entities.get_by_external_id("nobody")
        server.force_429(1, retry_after=0.01)
        await client.entities.list(tax_id=PLANTED[1])  # a personal query parameter
    return client


async def test_counts_equal_requests_and_spans_equal_calls() -> None:
    telemetry = Telemetry()
    async with FakeGu1Server(plan="professional") as server:
        await run_calls(telemetry, server)
        stats = server.stats(SECRET)
    durations = telemetry.points("http.client.request.duration")
    assert sum(p.count for p in durations) == stats.requests == 7  # 6 calls, one retried 429
    by_status: dict[int, int] = {}
    for p in durations:
        status = p.attributes["http.response.status_code"]
        by_status[status] = by_status.get(status, 0) + p.count
        assert p.attributes["http.request.method"] in {"GET", "POST"}
        assert p.attributes["server.address"] == "127.0.0.1"
        assert ("error.type" in p.attributes) == (status >= 400)
    assert by_status == {201: 1, 200: 3, 409: 1, 404: 1, 429: 1}
    (throttled,) = telemetry.points("gu1.ratelimit.throttled")
    assert throttled.value == 1 == stats.rate_limited

    spans = telemetry.spans()
    assert [s.name for s in spans] == [
        "POST /entities",
        "GET /entities/{entity_id}",
        "GET /entities/by-tax-id/{tax_id}",
        "POST /entities",
        "GET /entities/by-external-id/{external_id}",
        "GET /entities",
    ]
    assert all(s.kind is SpanKind.CLIENT for s in spans)
    assert [s.status.status_code for s in spans] == [
        StatusCode.UNSET,
        StatusCode.UNSET,
        StatusCode.UNSET,
        StatusCode.ERROR,
        StatusCode.ERROR,
        StatusCode.UNSET,
    ]
    retried = spans[-1]
    assert retried.attributes is not None
    assert retried.attributes["http.request.resend_count"] == 1
    assert retried.attributes["gu1.attempts"] == 2
    # The 429 paused the governor: the retry waited for the pause before its attempt.
    assert [e.name for e in retried.events] == [
        "gu1.attempt",
        "gu1.retry",
        "gu1.governor.wait",
        "gu1.attempt",
    ]
    assert spans[1].attributes is not None
    assert spans[1].attributes["url.template"] == "/entities/{entity_id}"


async def test_nothing_secret_or_personal_in_any_attribute() -> None:
    telemetry = Telemetry()
    async with FakeGu1Server(plan="professional") as server:
        client = await run_calls(telemetry, server)
        entity_ids = [e["id"] for e in server.entities.values()]
    values = list(telemetry.every_attribute_value())
    assert len(values) > 50
    forbidden = (SECRET, SECRET[-12:], *PLANTED, "nobody", *entity_ids, "otel-1")
    for value in values:
        for bad in forbidden:
            assert bad not in value, f"{bad!r} leaked into {value!r}"
    assert client.api_key.fingerprint[:12] in "".join(values)  # the key's id, not the key


async def test_waits_add_up_and_the_gauges_show_each_window() -> None:
    telemetry = Telemetry()
    plan = Plan.custom(Quota(5, 0.2), Quota(1000, 3600))
    async with FakeGu1Server(plan=[(5, 0.2), (1000, 3600)]) as server:
        server.add_key(SECRET)
        async with Gu1Client(
            SECRET, base_url=server.url, plan=plan, hooks=[telemetry.hooks]
        ) as client:
            batch = client.with_options(priority=1)
            await asyncio.gather(*(batch.request("GET", "/entities") for _ in range(15)))
            stats = client.governor.stats()
            limits = {
                p.attributes["gu1.ratelimit.window"]: p.value
                for p in telemetry.points("gu1.ratelimit.limit")
            }
            remaining = {
                p.attributes["gu1.ratelimit.window"]: p.value
                for p in telemetry.points("gu1.ratelimit.remaining")
            }
            waiters = telemetry.points("gu1.governor.waiters")
        assert server.stats().rate_limited == 0
    (wait,) = telemetry.points("gu1.governor.wait.duration")
    assert wait.attributes == {"gu1.priority": "batch"}
    assert wait.count == stats.waited >= 10
    assert math.isclose(wait.sum, stats.total_wait, abs_tol=1e-3)
    span_waits = sum(
        (s.attributes or {}).get("gu1.governor.wait.duration", 0.0) for s in telemetry.spans()
    )
    assert math.isclose(span_waits, stats.total_wait, abs_tol=1e-3)
    assert limits == {"0.2s": 5, "3600s": 1000}
    assert remaining["3600s"] == 1000 - 15 and 0 <= remaining["0.2s"] <= 5
    assert {p.attributes["gu1.priority"] for p in waiters} == {"interactive", "batch"}
    assert all(p.value == 0 for p in waiters)  # nobody waits any more


def test_nothing_of_opentelemetry_is_imported_without_the_hooks() -> None:
    code = (
        "import sys, asyncio\n"
        "import gu1_async, gu1_async.hooks, gu1_async.testing\n"
        "from gu1_async import Gu1Client\n"
        "from gu1_async.testing import FakeGu1Server, DEFAULT_KEY\n"
        "async def main():\n"
        "    async with FakeGu1Server() as s, Gu1Client(DEFAULT_KEY, base_url=s.url) as c:\n"
        "        await c.request('GET', '/entities')\n"
        "asyncio.run(main())\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('opentelemetry'))\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


async def test_with_the_api_alone_nothing_is_recorded_and_calls_work() -> None:
    # No SDK provider given or set globally: OpenTelemetry's no-op providers.
    async with (
        FakeGu1Server() as server,
        Gu1Client(
            "gk_test_fake_key_0001", base_url=server.url, hooks=[OpenTelemetryHooks()]
        ) as client,
    ):
        assert await client.request("GET", "/entities") is not None
