"""Write docs/reference/*.md: one mkdocstrings entry per name in each public module's
`__all__` (tests/test_reference.py checks that nothing public is left out).

    .venv/bin/python scripts/gen_reference.py
"""

from __future__ import annotations

import importlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "reference"

# page -> (title, introduction, modules)
PAGES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "client": (
        "Client, configuration and errors",
        "Everything importable from `gu1_async` itself: the client, its settings, the "
        "pagination types and the error tree (at its public path, `gu1_async.<Error>`).",
        ("gu1_async", "gu1_async.pagination"),
    ),
    "resources": (
        "Resources",
        "Each API area is a resource class on the client (`client.entities`, ...); every "
        "method lists its parameters and the model it returns.",
        ("gu1_async.resources",),
    ),
    "models": (
        "Models",
        "The attrs models the resources return; unknown fields are kept.",
        ("gu1_async.models",),
    ),
    "governor": (
        "Governor, plans and stores",
        "The rate-limit governor, its plans and quotas, and the Redis store that shares "
        "one key's budget between processes.",
        ("gu1_async.governor", "gu1_async.governor.redis"),
    ),
    "ingest": (
        "Batch ingestion",
        "The ingestion engine behind `client.entities.ingest(...)` and `gu1 ingest`.",
        ("gu1_async.ingest",),
    ),
    "testing": (
        "Fake server and pytest plugin",
        "`FakeGu1Server` and the opt-in pytest fixtures "
        '(`pytest_plugins = ["gu1_async.testing.pytest_plugin"]`).',
        ("gu1_async.testing", "gu1_async.testing.pytest_plugin"),
    ),
    "observability": (
        "Hooks and OpenTelemetry",
        "The typed events the client emits, and the optional OpenTelemetry hooks built on "
        "them (`pip install 'gu1-async[otel]'`).",
        ("gu1_async.hooks", "gu1_async.otel"),
    ),
    "webhooks": (
        "Webhooks",
        "Signature verification and parsing (framework-free), and the aiohttp receiver.",
        ("gu1_async.webhooks", "gu1_async.webhook_receiver"),
    ),
}

SKIP = {"__version__"}


def page(title: str, intro: str, modules: tuple[str, ...]) -> str:
    lines = [f"# {title}", "", intro, ""]
    for name in modules:
        module = importlib.import_module(name)
        lines += [f"## `{name}`", ""]
        for public in module.__all__:
            if public in SKIP:
                continue
            lines += [f"::: {name}.{public}", "    options:", "      heading_level: 3", ""]
    return "\n".join(lines)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for slug, (title, intro, modules) in PAGES.items():
        (OUT / f"{slug}.md").write_text(page(title, intro, modules), encoding="utf-8")


if __name__ == "__main__":
    main()
