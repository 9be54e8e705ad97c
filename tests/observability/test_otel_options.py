"""OpenTelemetryHooks(spans=..., durations=...): each choice records what it says, and
only that, on the real OpenTelemetry SDK (in-memory reader and exporter)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from gu1_async import Gu1Client, NotFoundError, Plan, Quota, RetryPolicy
from gu1_async._observed import ObservedRequester
from gu1_async.otel import OpenTelemetryHooks
from gu1_async.testing import FakeGu1Server

SECRET = "gk_test_OTELoptionsSECRET0042"
TAX_ID = "222.222.222-22"
FAST = RetryPolicy(backoff_base=0.001, backoff_max=0.002)
PER_CALL = ("on_call_start", "on_call_end", "on_retry", "on_response", "on_request_sent")


class Telemetry:
    def __init__(self, *, spans: bool, durations: bool, sampler: Any = None) -> None:
        self.reader = InMemoryMetricReader()
        self.collected: dict[str, list[Any]] = {}
        self.exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider(sampler=sampler) if sampler else TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.hooks = OpenTelemetryHooks(
            tracer_provider=tracer_provider,
            meter_provider=MeterProvider(metric_readers=[self.reader]),
            spans=spans,
            durations=durations,
        )

    def metrics(self) -> dict[str, list[Any]]:
        data = self.reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found

    def every_value(self) -> list[str]:
        values = [
            f"{k}={v}"
            for points in self.metrics().values()
            for p in points
            for k, v in p.attributes.items()
        ]
        for span in self.exporter.get_finished_spans():
            values.append(span.name)
            values += [f"{k}={v}" for k, v in (span.attributes or {}).items()]
            for event in span.events:
                values += [f"{k}={v}" for k, v in (event.attributes or {}).items()]
        return values


async def exercise(telemetry: Telemetry) -> tuple[int, int, float]:
    """Calls that answer, fail, get a 429 and wait: (requests, calls, governor wait total)."""
    plan = Plan.custom(Quota(4, 0.2), Quota(1000, 3600))
    async with FakeGu1Server(plan=[(4, 0.2), (1000, 3600)]) as server:
        server.add_key(SECRET)
        async with Gu1Client(
            SECRET, base_url=server.url, plan=plan, hooks=[telemetry.hooks], retry=FAST
        ) as client:
            await client.request("GET", "/entities")
            with pytest.raises(NotFoundError):
                await client.entities.get_by_tax_id(TAX_ID)
            server.force_429(1, retry_after=0.01)
            await client.entities.list()
            # 8 more calls on 4 per 0.2 s: some wait for the next window.
            await asyncio.gather(*(client.entities.list() for _ in range(8)))
            waited = client.governor.stats().total_wait
            telemetry.collected = telemetry.metrics()  # the gauges read the live governor
        return server.stats(SECRET).requests, 11, waited


@pytest.mark.parametrize(
    ("spans", "durations"), [(False, False), (False, True), (True, False), (True, True)]
)
async def test_each_choice_records_its_part_and_counts_match(spans: bool, durations: bool) -> None:
    telemetry = Telemetry(spans=spans, durations=durations)
    requests, calls, waited = await exercise(telemetry)
    assert requests == 12  # 11 calls, one retried after its 429
    metrics = telemetry.collected

    # The governor's metrics, whatever the choice: the 429, every wait, the windows.
    (throttled,) = metrics["gu1.ratelimit.throttled"]
    assert throttled.value == 1
    (waits,) = metrics["gu1.governor.wait.duration"]
    assert waits.count >= 4 and math.isclose(waits.sum, waited, abs_tol=1e-3)
    assert {p.attributes["gu1.ratelimit.window"] for p in metrics["gu1.ratelimit.limit"]} == {
        "0.2s",
        "3600s",
    }

    durations_points = metrics.get("http.client.request.duration", [])
    if durations:
        assert sum(p.count for p in durations_points) == requests
        by_status: dict[int, int] = {}
        for p in durations_points:
            status = p.attributes["http.response.status_code"]
            by_status[status] = by_status.get(status, 0) + p.count
        assert by_status == {200: 10, 404: 1, 429: 1}
    else:
        assert durations_points == []

    finished = telemetry.exporter.get_finished_spans()
    assert len(finished) == (calls if spans else 0)
    if spans:
        assert sum(s.attributes.get("http.request.resend_count", 0) for s in finished) == 1
        span_waits = sum(s.attributes.get("gu1.governor.wait.duration", 0.0) for s in finished)
        assert math.isclose(span_waits, waited, abs_tol=1e-3)

    values = telemetry.every_value()
    assert values  # something was recorded, in every choice
    for value in values:
        assert SECRET not in value and SECRET[-12:] not in value and TAX_ID not in value


def test_the_hooks_watch_only_what_their_choice_needs() -> None:
    def watched(**options: bool) -> set[str]:
        hooks = OpenTelemetryHooks(**options)
        return {name for name in PER_CALL if hooks.watches(name)}

    assert watched(spans=False, durations=False) == set()
    assert watched(spans=False) == {"on_response"}
    assert watched(durations=False) == {"on_call_start", "on_call_end", "on_retry", "on_response"}
    assert "on_request_sent" not in watched()
    governor_only = OpenTelemetryHooks(spans=False, durations=False)
    assert all(governor_only.watches(name) for name in ("on_wait", "on_throttled"))


async def test_governor_only_keeps_the_governors_own_fast_path() -> None:
    hooks = OpenTelemetryHooks(spans=False, durations=False)
    async with Gu1Client(
        "gk_test_fake_key_0001", base_url="http://127.0.0.1:9", hooks=[hooks]
    ) as c:
        requester = c._requester
        assert type(requester) is ObservedRequester
        # No wrapper around the governor's try_acquire: nothing happens at an attempt's start.
        governor = requester._governor
        assert governor.try_acquire == governor._governor.try_acquire


async def test_a_sampled_out_span_records_nothing_but_metrics_still_count() -> None:
    telemetry = Telemetry(spans=True, durations=True, sampler=ALWAYS_OFF)
    requests, _, _ = await exercise(telemetry)
    assert telemetry.exporter.get_finished_spans() == ()
    points = telemetry.collected["http.client.request.duration"]
    assert sum(p.count for p in points) == requests
    assert telemetry.hooks._spans == {}  # nothing kept for spans nobody records
