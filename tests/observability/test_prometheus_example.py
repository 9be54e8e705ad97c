"""examples/prometheus_hooks.py (shown in docs/observability.md) works as documented."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("prometheus_client")

from prometheus_client import CollectorRegistry

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "prometheus_hooks.py"


async def test_the_example_counts_each_request() -> None:
    spec = importlib.util.spec_from_file_location("gu1_examples_prometheus", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    registry = await module.main(CollectorRegistry())
    count = "gu1_request_duration_seconds_count"
    assert (
        registry.get_sample_value(count, {"method": "POST", "route": "/entities", "status": "201"})
        == 1
    )
    assert (
        registry.get_sample_value(
            count, {"method": "GET", "route": "/entities/{entity_id}", "status": "200"}
        )
        == 1
    )
    remaining = registry.get_sample_value(
        "gu1_ratelimit_remaining", {"key": next(iter(module_keys(registry))), "window": "3600s"}
    )
    assert remaining is not None and remaining <= 98


def module_keys(registry: CollectorRegistry) -> set[str]:
    return {
        sample.labels["key"]
        for metric in registry.collect()
        if metric.name == "gu1_ratelimit_remaining"
        for sample in metric.samples
    }
