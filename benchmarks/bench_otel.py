"""Benchmark: what hooks and OpenTelemetry cost per request (issue 15: <= 5 % req/s).

The same no-limit set-up as bench_overhead.py (the minimal server in its own process,
`GET /entities` looped by 1 or 100 tasks; `_common.py` holds both), with gu1-async
configured six ways, measured in the same run:

- none: no hooks (the plain requester);
- no-op hook: a `Hooks` watching every per-call event and doing nothing (the events' cost);
- OTel governor-only: `OpenTelemetryHooks(spans=False, durations=False)`: waits, waiters,
  windows, 429s and store errors, recorded only when they happen;
- OTel metrics: `OpenTelemetryHooks(spans=False)`: + `http.client.request.duration`;
- OTel spans: `OpenTelemetryHooks()`: + one span per call, every call sampled;
- OTel spans 1 %: the same with `ParentBased(TraceIdRatioBased(0.01))`.

Every OTel client runs on the real SDK: a `MeterProvider` with an `InMemoryMetricReader`
(aggregating every instrument; never collected during the run) and a `TracerProvider`
with a `BatchSpanProcessor` into an exporter that drops the spans (the network is not
what is measured).

Modes (combine them):

- `--instructions`: client instructions per request under valgrind (1,300 minus 300
  requests, each client a process of its own): deterministic, the figure to quote;
- `--rounds N --seconds S`: req/s, rounds interleaved and rotated, each round's req/s
  divided by the no-hooks run of the same round; the median ratio is reported;
- `--latency 0,10,50`: the req/s rounds against a server holding each answer back that
  many ms: 0 is loopback at its fastest (every µs of client CPU shows), 10 to 50 ms is
  what a remote API such as gu1 takes to answer;
- `--split`: the transport stubbed (no network): CPU µs per request for each client,
  and what the OpenTelemetry SDK's own calls cost alone (one `Histogram.record`, one
  span started and ended), so that ours = client - none - the SDK's.

Run:
    .venv/bin/python benchmarks/bench_otel.py --rounds 0 --instructions --levels 100
    .venv/bin/python benchmarks/bench_otel.py --rounds 7 --seconds 2 --levels 1,100
    .venv/bin/python benchmarks/bench_otel.py --rounds 5 --seconds 3 --levels 1,100 --latency 10,50
    .venv/bin/python benchmarks/bench_otel.py --rounds 0 --split
    .venv/bin/python benchmarks/bench_otel.py --rounds 0 --instructions --levels 100 --gc-off
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import gc
import shutil
import time
from typing import Any

from _common import (
    FEW,
    MANY,
    Request,
    count_instructions,
    drive,
    machine_note,
    measure,
    median,
    percentile,
    print_table,
    server_process,
    stub_response,
)

from gu1_async import Gu1Client, Plan, Quota
from gu1_async._transport import RawRequest, RawResponse
from gu1_async.hooks import (
    Call,
    CallEnded,
    Hooks,
    RequestSent,
    ResponseReceived,
    Retried,
    Throttled,
    Waited,
)

KEY = "gk_test_bench_otel"
PLAN = Plan.custom(Quota(10**9, 3600))

NONE = "none"
NOOP = "no-op hook"
GOVERNOR = "OTel governor-only"
METRICS = "OTel metrics"
SPANS = "OTel metrics + spans"
SAMPLED = "OTel metrics + spans 1 %"
CLIENTS = {
    NONE: "none",
    NOOP: "noop",
    GOVERNOR: "governor",
    METRICS: "metrics",
    SPANS: "spans",
    SAMPLED: "sampled",
}


class NoOp(Hooks):
    """Watches every per-call event and does nothing with it."""

    def on_call_start(self, call: Call) -> None:
        pass

    def on_request_sent(self, event: RequestSent) -> None:
        pass

    def on_response(self, event: ResponseReceived) -> None:
        pass

    def on_wait(self, event: Waited) -> None:
        pass

    def on_throttled(self, event: Throttled) -> None:
        pass

    def on_retry(self, event: Retried) -> None:
        pass

    def on_call_end(self, event: CallEnded) -> None:
        pass


def providers(sampled: bool = False) -> tuple[Any, Any]:
    """A configured SDK, as production runs it (see the module docstring)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased

    class Drop(SpanExporter):
        def export(self, spans: object) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    sampler = ParentBased(TraceIdRatioBased(0.01)) if sampled else ALWAYS_ON
    tracer_provider = TracerProvider(sampler=sampler)
    tracer_provider.add_span_processor(BatchSpanProcessor(Drop()))
    return tracer_provider, MeterProvider(metric_readers=[InMemoryMetricReader()])


def hooks_for(kind: str) -> list[Hooks]:
    if kind == "none":
        return []
    if kind == "noop":
        return [NoOp()]
    from gu1_async.otel import OpenTelemetryHooks

    tracer_provider, meter_provider = providers(sampled=kind == "sampled")
    return [
        OpenTelemetryHooks(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            spans=kind in ("spans", "sampled"),
            durations=kind != "governor",
        )
    ]


def client_for(kind: str, url: str) -> Gu1Client:
    return Gu1Client(KEY, base_url=url, plan=PLAN, max_connections=100, hooks=hooks_for(kind))


def request_of(client: Gu1Client) -> Request:
    async def request() -> object:
        return await client.request("GET", "/entities")

    return request


# -- req/s ----------------------------------------------------------------------------------------


async def one_round(kind: str, url: str, tasks: int, seconds: float) -> tuple[float, float]:
    async with client_for(kind, url) as client:
        return await measure(request_of(client), tasks, seconds)


async def rounds_table(url: str, rounds: int, seconds: float, levels: list[int]) -> list[list[str]]:
    names = list(CLIENTS)
    rows = []
    for tasks in levels:
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        for r in range(rounds):
            # Interleaved and rotated: outside load hits every client alike.
            for name in names[r % len(names) :] + names[: r % len(names)]:
                samples[name].append(await one_round(CLIENTS[name], url, tasks, seconds))
        for name in names:
            mine, base = samples[name], samples[NONE]
            ratios = [m[0] / b[0] for m, b in zip(mine, base, strict=True)]
            rows.append(
                [
                    name,
                    str(tasks),
                    f"{median([m[0] for m in mine]):,.0f}",
                    f"{median(ratios):.1%}",
                    f"{percentile(ratios, 25):.1%}-{percentile(ratios, 75):.1%}",
                    f"{median([m[1] for m in mine]):.1f}",
                ]
            )
        print(f"  done: {tasks} tasks", flush=True)
    return rows


# -- instructions ---------------------------------------------------------------------------------


async def client_run(kind: str, url: str, requests: int, tasks: int, gc_off: bool) -> None:
    """The process valgrind counts: `requests` requests shared by `tasks` tasks."""
    async with client_for(kind, url) as client:
        if gc_off:
            gc.disable()  # what the garbage collector's passes add is then left out
        await drive(request_of(client), requests, tasks)


def instructions_table(url: str, levels: list[int], gc_off: bool = False) -> list[list[str]]:
    jobs = [(name, tasks, n) for tasks in levels for name in CLIENTS for n in (FEW, MANY)]

    def count(job: tuple[str, int, int]) -> int:
        name, tasks, requests = job
        args = ["--client", CLIENTS[name], "--url", url, "--requests", str(requests)]
        extra = ["--gc-off"] if gc_off else []
        return count_instructions(__file__, [*args, "--tasks", str(tasks), *extra])

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(jobs, pool.map(count, jobs), strict=True))
    rows = []
    for tasks in levels:
        per_request = {
            name: (counts[(name, tasks, MANY)] - counts[(name, tasks, FEW)]) / (MANY - FEW)
            for name in CLIENTS
        }
        base = per_request[NONE]
        for name, value in per_request.items():
            rows.append(
                [
                    name,
                    str(tasks),
                    f"{value:,.0f}",
                    f"{value / base - 1:+.1%}",
                    f"{value - base:+,.0f}",
                ]
            )
    return rows


# -- split: ours vs the OpenTelemetry SDK's -------------------------------------------------------

STUB_REQUESTS = 20_000


async def stub_micros(kind: str) -> float:
    """CPU µs per `client.request()` with the transport replaced by a canned answer."""
    response = stub_response()

    async def send(_request: RawRequest) -> RawResponse:
        return response  # type: ignore[return-value]

    async with client_for(kind, "http://127.0.0.1:9") as client:
        # Diagnostics only: swap the private transport's send for the canned answer.
        setattr(client._pool.transport, "send", send)  # noqa: B010
        for _ in range(1_000):
            await client.request("GET", "/entities")
        cpu = time.process_time()
        for _ in range(STUB_REQUESTS):
            await client.request("GET", "/entities")
        return (time.process_time() - cpu) / STUB_REQUESTS * 1e6


def sdk_micros() -> dict[str, float]:
    """The OpenTelemetry SDK's own calls alone, with the attributes the hooks pass."""
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    tracer_provider, meter_provider = providers()
    histogram = meter_provider.get_meter("bench").create_histogram("d", unit="s")
    attempt = {
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": 9,
        "http.response.status_code": 200,
    }
    call = {
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": 9,
        "gu1.key.id": "0123456789ab",
    }
    tracer = tracer_provider.get_tracer("bench")
    sampled_tracer = providers(sampled=True)[0].get_tracer("bench")

    def record() -> None:
        histogram.record(0.003, attempt)

    def span() -> None:
        tracer.start_span("GET", kind=SpanKind.CLIENT, attributes=call).end()

    def span_as_used() -> None:
        # What OpenTelemetryHooks asks of the SDK for one sampled call: the span started,
        # made current for the call, its status code set, ended, and the context restored.
        started = tracer.start_span("GET", kind=SpanKind.CLIENT, attributes=call)
        started.is_recording()
        token = otel_context.attach(trace.set_span_in_context(started))
        started.set_attributes({"http.response.status_code": 200})
        started.end()
        otel_context.detach(token)

    def sampled_out() -> None:
        sampled_tracer.start_span("GET", kind=SpanKind.CLIENT, attributes=call)

    found = {}
    for name, work in (
        ("Histogram.record", record),
        ("span start + end", span),
        ("span as the hooks use it", span_as_used),
        ("span start, sampled out", sampled_out),
    ):
        runs = []
        for _ in range(5):
            cpu = time.process_time()
            for _ in range(STUB_REQUESTS):
                work()
            runs.append((time.process_time() - cpu) / STUB_REQUESTS * 1e6)
        found[name] = min(runs)
    tracer_provider.shutdown()
    return found


def split_report() -> None:
    micros = {
        name: min(asyncio.run(stub_micros(kind)) for _ in range(3))
        for name, kind in CLIENTS.items()
    }
    sdk = sdk_micros()
    record, span = sdk["Histogram.record"], sdk["span as the hooks use it"]
    sampled_out = sdk["span start, sampled out"]
    # What each client asks of the SDK per request (one attempt, no wait, no 429).
    theirs = {
        NONE: 0.0,
        NOOP: 0.0,
        GOVERNOR: 0.0,
        METRICS: record,
        SPANS: record + span,
        SAMPLED: record + 0.99 * sampled_out + 0.01 * span,
    }
    base = micros[NONE]
    print(f"transport stubbed, best of 3 x {STUB_REQUESTS:,} requests (CPU µs per request):")
    print_table(
        ["client", "µs/request", "vs none", "added µs", "the SDK's µs", "ours µs"],
        [
            [
                name,
                f"{value:.2f}",
                f"{value / base - 1:+.1%}",
                f"{value - base:+.2f}",
                f"{theirs[name]:.2f}",
                f"{value - base - theirs[name]:.2f}",
            ]
            for name, value in micros.items()
        ],
    )
    print()
    print("the OpenTelemetry SDK alone (best of 5, CPU µs per call):")
    print_table(["call", "µs"], [[name, f"{value:.2f}"] for name, value in sdk.items()])


def main() -> None:
    parser = argparse.ArgumentParser(description="hooks and OpenTelemetry: cost per request")
    parser.add_argument("--rounds", type=int, default=7, help="req/s rounds per client and level")
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds per round")
    parser.add_argument("--levels", default="1,100", help="concurrent tasks, comma-separated")
    parser.add_argument("--instructions", action="store_true", help="count instructions (valgrind)")
    parser.add_argument("--split", action="store_true", help="ours vs the SDK's, transport stubbed")
    parser.add_argument("--pin", action="store_true", help="server on the last CPU")
    parser.add_argument(
        "--latency",
        default="0",
        help="req/s rounds against a server answering after each of these ms (comma-separated)",
    )
    parser.add_argument(
        "--gc-off", action="store_true", help="--instructions with gc disabled in the clients"
    )
    # Internal: the client process that --instructions runs under valgrind.
    parser.add_argument("--client", choices=list(CLIENTS.values()), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=FEW, help=argparse.SUPPRESS)
    parser.add_argument("--tasks", type=int, default=100, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_run(args.client, args.url, args.requests, args.tasks, args.gc_off))
        return
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind (apt-get install -y valgrind)")
    levels = [int(level) for level in args.levels.split(",")]
    latencies = [float(ms) for ms in args.latency.split(",")]
    print(machine_note())
    if args.split:
        split_report()
    if args.rounds > 0:
        for latency in latencies:
            with server_process(pin=args.pin, latency=latency / 1000) as url:
                print(
                    f"\nreq/s, {args.rounds} rounds x {args.seconds:g} s, server in its own"
                    f" process, answering after {latency:g} ms:"
                )
                rows = asyncio.run(rounds_table(url, args.rounds, args.seconds, levels))
            print_table(
                ["client", "tasks", "req/s (median)", "vs none*", "vs none p25-p75", "CPU µs/req"],
                rows,
            )
            print("* median over rounds of (this client's req/s / no hooks' in the same round)")
    if args.instructions:
        with server_process(pin=args.pin) as url:
            gc_note = ", gc disabled in the clients" if args.gc_off else ""
            print(
                f"\nclient instructions per request (valgrind callgrind, {MANY} minus {FEW}"
                f"{gc_note}):"
            )
            rows = instructions_table(url, levels, args.gc_off)
        print_table(["client", "tasks", "instructions/req", "vs none", "added"], rows)


if __name__ == "__main__":
    main()
