"""Puts `benchmarks/` on sys.path: the smoke tests run the benchmark's own servers and clients
(`benchmarks/_thirdparty.py`, `benchmarks/_dialect_clients.py`), so they check what
`benchmarks/bench_dialects.py` measures."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))
