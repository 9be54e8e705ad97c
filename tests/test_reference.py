"""Nothing public goes undocumented: every name in a public module's `__all__` has its
mkdocstrings entry (`::: module.name`) in docs/reference/, and no entry names a ghost."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference"
PUBLIC_MODULES = (
    "gu1_async",
    "gu1_async.governor",
    "gu1_async.governor.redis",
    "gu1_async.hooks",
    "gu1_async.ingest",
    "gu1_async.models",
    "gu1_async.otel",
    "gu1_async.pagination",
    "gu1_async.resources",
    "gu1_async.testing",
    "gu1_async.testing.pytest_plugin",
    "gu1_async.webhook_receiver",
    "gu1_async.webhooks",
)
NOT_DOCUMENTED = {"gu1_async.__version__"}  # a string; its docs are the changelog


def documented() -> set[str]:
    entries = set()
    for page in REFERENCE.glob("*.md"):
        entries |= set(re.findall(r"^::: ([\w.]+)$", page.read_text(encoding="utf-8"), re.M))
    return entries


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_has_a_reference_entry(name: str) -> None:
    module = importlib.import_module(name)
    public = {f"{name}.{item}" for item in module.__all__} - NOT_DOCUMENTED
    assert public - documented() == set()


def test_every_entry_names_something_public() -> None:
    for entry in documented():
        module, _, item = entry.rpartition(".")
        assert module in PUBLIC_MODULES, entry
        assert item in importlib.import_module(module).__all__, entry
