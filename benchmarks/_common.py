"""Helpers shared by the benchmark scripts: percentiles, medians and plain-text tables."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence

__all__ = ["machine_note", "median", "percentile", "print_table"]


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    """The median; NaN for no values."""
    return statistics.median(values) if values else math.nan


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a Markdown table (pasteable into docs/benchmarks.md), columns padded."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        # The first column is a name (left-aligned); the rest are figures (right-aligned).
        padded = [cells[0].ljust(widths[0])]
        padded += [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "| " + " | ".join(padded) + " |"

    print(line(headers))
    print(
        "|"
        + "|".join([":" + "-" * (widths[0] + 1)] + ["-" * (w + 1) + ":" for w in widths[1:]])
        + "|"
    )
    for row in rows:
        print(line(row))


def machine_note() -> str:
    """One line describing where and when the figures were measured, and how busy it was."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; Python {sys.version.split()[0]} "
        f"on {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs shared by client "
        f"and server; load average {load} (other work on the machine inflates CPU figures)"
    )
