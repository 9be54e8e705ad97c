"""OpenTelemetry metrics and spans for gu1-async, built on `gu1_async.hooks`.

    pip install 'gu1-async[otel]'     # opentelemetry-api only; bring your own SDK

    from gu1_async.otel import OpenTelemetryHooks
    client = Gu1Client(hooks=[OpenTelemetryHooks()])

Nothing in the SDK imports this module: without it (or without the `otel` extra) no
OpenTelemetry code is loaded. With the API but no SDK configured, the global providers
are OpenTelemetry's no-ops. See docs/observability.md for the metric table.

Attributes follow the OpenTelemetry HTTP semantic conventions; a path appears only as
its template (`url.template`: `/entities/{entity_id}`), never filled in, and there is no
URL, query, header or body in any attribute. A key appears only as `gu1.key.id`, a
12-digit hash.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ._types import Priority
from ._version import __version__
from .governor import Governor
from .hooks import (
    Call,
    CallEnded,
    GovernorAttached,
    Hooks,
    ResponseReceived,
    Retried,
    StoreError,
    Throttled,
    Waited,
)

__all__ = ["OpenTelemetryHooks"]

SCOPE = "gu1_async"
# The HTTP semantic conventions' advice for http.client.request.duration, in seconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)


_SPAN_ONLY = frozenset({"on_call_start", "on_call_end", "on_retry"})


def _priority(priority: int) -> str:
    return Priority(priority).name.lower()


class OpenTelemetryHooks(Hooks):
    """Records the issue-15 metrics and one client span per logical call.

    Each part costs the OpenTelemetry SDK's own work per request (docs/observability.md,
    "Cost"); turn off what you do not use.

    Args:
        tracer_provider: default the global one (`trace.set_tracer_provider`).
        meter_provider: default the global one (`metrics.set_meter_provider`).
        spans: False: no span per call (the hooks then skip every per-call event spans
            need).
        durations: False: no `http.client.request.duration` histogram (one record per
            attempt, the costliest metric). With `spans=False` too, only the governor's
            metrics remain (waits, waiters, windows, 429s, store errors), recorded only
            when something happens: a request that neither waits nor is throttled
            costs next to nothing.
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        spans: bool = True,
        durations: bool = True,
    ) -> None:
        self._tracer = trace.get_tracer(SCOPE, __version__, tracer_provider) if spans else None
        meter = metrics.get_meter(SCOPE, __version__, meter_provider)
        self._duration = (
            _histogram(
                meter,
                "http.client.request.duration",
                "Duration of each HTTP attempt to gu1.",
                DURATION_BUCKETS,
            )
            if durations
            else None
        )
        self._wait = _histogram(
            meter,
            "gu1.governor.wait.duration",
            "Time an attempt waited for the rate-limit governor (only attempts that waited).",
            WAIT_BUCKETS,
        )
        self._throttled = meter.create_counter(
            "gu1.ratelimit.throttled", unit="{response}", description="429 answers from gu1."
        )
        self._store_errors = meter.create_counter(
            "gu1.governor.store.errors",
            unit="{error}",
            description="Failures of the shared governor store (Redis).",
        )
        for name, observe, description in (
            (
                "gu1.governor.waiters",
                self._observe_waiters,
                "Requests waiting for the governor now, by priority.",
            ),
            (
                "gu1.ratelimit.remaining",
                self._observe_remaining,
                "Requests the governor may still start in each window now.",
            ),
            (
                "gu1.ratelimit.limit",
                self._observe_limit,
                "Each window's limit (the plan's, or the server's once it said).",
            ),
        ):
            meter.create_observable_gauge(
                name, callbacks=[observe], unit="{request}", description=description
            )
        self._governors: list[tuple[str, weakref.ref[Governor]]] = []
        self._spans: dict[Call, tuple[trace.Span, object]] = {}
        # Attribute dicts repeat (per route, status, error): built once each.
        self._attempt_attributes: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._call_attributes: dict[tuple[Any, ...], dict[str, Any]] = {}

    def watches(self, name: str) -> bool:
        if name in _SPAN_ONLY:
            return self._tracer is not None
        if name == "on_response":
            return self._duration is not None or self._tracer is not None
        return super().watches(name)

    # -- hooks ----------------------------------------------------------------------------

    def on_governor(self, event: GovernorAttached) -> None:
        self._governors.append((event.key_id, weakref.ref(event.governor)))

    def on_call_start(self, call: Call) -> None:
        if self._tracer is None:
            return
        span = self._tracer.start_span(
            call.name, kind=SpanKind.CLIENT, attributes=self._span_attributes(call)
        )
        if not span.is_recording():
            return  # sampled out: nothing to add to it, nothing to end
        # Current for the call, so spans the transport may make (aiohttp instrumentation)
        # are its children.
        token = otel_context.attach(trace.set_span_in_context(span))
        self._spans[call] = (span, token)

    def _span_attributes(self, call: Call) -> dict[str, Any]:
        key = _identity(call)
        attributes = self._call_attributes.get(key)
        if attributes is None:
            attributes = self._call_attributes[key] = _call_attributes(call)
        return attributes

    def on_response(self, event: ResponseReceived) -> None:
        call = event.call
        key = (_identity(call), event.status, event.error_type)
        attributes = self._attempt_attributes.get(key)
        if attributes is None:
            attributes = self._attempt_attributes[key] = _attempt_attributes(call, event)
        if self._duration is not None:
            self._duration.record(event.duration, attributes)
        if event.error_type is None and event.attempt == 1:
            return  # the common case: the span's own attributes say it all
        found = self._spans.get(call)
        if found is not None:
            found[0].add_event(
                "gu1.attempt",
                {
                    "gu1.attempt": event.attempt,
                    "gu1.attempt.duration": event.duration,
                    **{k: v for k, v in attributes.items() if not k.startswith("server.")},
                },
            )

    def on_wait(self, event: Waited) -> None:
        self._wait.record(event.seconds, {"gu1.priority": _priority(event.priority)})
        found = self._spans.get(event.call)
        if found is not None:
            found[0].add_event("gu1.governor.wait", {"gu1.governor.wait.duration": event.seconds})

    def on_throttled(self, event: Throttled) -> None:
        call = event.call
        attributes: dict[str, Any] = {"http.request.method": call.method}
        if call.route is not None:
            attributes["url.template"] = call.route
        self._throttled.add(1, attributes)

    def on_retry(self, event: Retried) -> None:
        found = self._spans.get(event.call)
        if found is not None:
            found[0].add_event(
                "gu1.retry", {"gu1.attempt": event.attempt, "error.type": event.reason}
            )

    def on_call_end(self, event: CallEnded) -> None:
        found = self._spans.pop(event.call, None)
        if found is None:
            return
        span, token = found
        attributes: dict[str, Any] = {}
        if event.status is not None:
            attributes["http.response.status_code"] = event.status
        if event.retries:
            attributes["http.request.resend_count"] = event.retries
        if event.attempts != 1:
            attributes["gu1.attempts"] = event.attempts
        if event.waited:
            attributes["gu1.governor.wait.duration"] = event.waited
        if event.error_type is not None:
            attributes["error.type"] = event.error_type
            span.set_status(Status(StatusCode.ERROR))
        span.set_attributes(attributes)
        span.end()
        otel_context.detach(token)  # type: ignore[arg-type]

    def on_store_error(self, event: StoreError) -> None:
        self._store_errors.add(
            1, {"error.type": event.error_type, "gu1.store.fallback": event.fallback}
        )

    # -- observable gauges ---------------------------------------------------------------

    def _live(self) -> Iterable[tuple[str, Governor]]:
        alive = []
        for key, ref in self._governors:
            governor = ref()
            if governor is not None:
                alive.append((key, ref))
                yield key, governor
        self._governors[:] = alive

    def _observe_waiters(self, options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        for key, governor in list(self._live()):
            for priority, count in enumerate(governor.stats().waiters_by_priority):
                yield metrics.Observation(
                    count, {"gu1.key.id": key, "gu1.priority": _priority(priority)}
                )

    def _windows(self) -> Iterable[tuple[dict[str, Any], int, int]]:
        for key, governor in list(self._live()):
            for window in governor.stats().windows:
                attributes = {"gu1.key.id": key, "gu1.ratelimit.window": f"{window.period:g}s"}
                yield attributes, window.available, window.limit

    def _observe_remaining(self, options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        return [metrics.Observation(left, attrs) for attrs, left, _ in self._windows()]

    def _observe_limit(self, options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        return [metrics.Observation(limit, attrs) for attrs, _, limit in self._windows()]


def _identity(call: Call) -> tuple[Any, ...]:
    """What a call's attributes are made of (its priority is not among them)."""
    return (
        call.method,
        call.route,
        call.operation,
        call.server_address,
        call.server_port,
        call.key_id,
    )


def _call_attributes(call: Call) -> dict[str, Any]:
    return _attributes(call, ("gu1.key.id", call.key_id), ("gu1.operation", call.operation))


def _attempt_attributes(call: Call, event: ResponseReceived) -> dict[str, Any]:
    return _attributes(
        call, ("http.response.status_code", event.status), ("error.type", event.error_type)
    )


def _attributes(call: Call, *extra: tuple[str, Any]) -> dict[str, Any]:
    """What every span and attempt of `call` carries, and each of `extra` that is not None."""
    attributes: dict[str, Any] = {
        "http.request.method": call.method,
        "server.address": call.server_address,
        "server.port": call.server_port,
    }
    for name, value in (("url.template", call.route), *extra):
        if value is not None:
            attributes[name] = value
    return attributes


def _histogram(
    meter: metrics.Meter, name: str, description: str, buckets: tuple[float, ...]
) -> metrics.Histogram:
    try:
        return meter.create_histogram(
            name,
            unit="s",
            description=description,
            explicit_bucket_boundaries_advisory=list(buckets),
        )
    except TypeError:  # an API older than 1.23 takes no bucket advice
        return meter.create_histogram(name, unit="s", description=description)
