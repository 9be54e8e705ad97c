"""The public surface of `gu1_async.governor` is what `__all__` says, and stays pure."""

from __future__ import annotations

import subprocess
import sys

import gu1_async.governor as governor
from gu1_async._types import Priority


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(governor) if not name.startswith("_")}
    modules = {"annotations", "redis"}  # `from __future__`, the optional store's module
    assert set(governor.__all__) == public - modules
    assert governor.__all__ == sorted(governor.__all__)
    assert governor.Priority is Priority


def test_importing_the_governor_pulls_in_no_http_or_retry_library() -> None:
    code = (
        "import sys, gu1_async.governor\n"
        "bad = [m for m in ('aiohttp', 'tenacity', 'redis') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    # `gu1_async/__init__` may import the client (and aiohttp); check the governor alone
    # by stubbing the package's top level out of the way.
    probe = (
        "import importlib.util, sys, types, pathlib\n"
        "root = pathlib.Path(importlib.util.find_spec('gu1_async').origin).parent\n"
        "pkg = types.ModuleType('gu1_async'); pkg.__path__ = [str(root)]\n"
        "sys.modules['gu1_async'] = pkg\n" + code
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
