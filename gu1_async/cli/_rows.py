"""Read input rows lazily from JSONL or CSV, one dict per row, in a stable order.

A row's index is its position among the data rows (blank JSONL lines are not rows), so
the same file always numbers its rows the same way: the checkpoint relies on that. A row
that cannot be parsed is not an exception that ends the run: it becomes a `BadRow`, which
the run reports as a failure (and writes to the rejects file) without sending anything.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import attrs

__all__ = ["BadRow", "InvalidRowError", "Row", "count_rows", "detect_format", "read_rows"]

Format = Literal["jsonl", "csv"]
Row = dict[str, Any]

# CSV cells are text; these gu1 fields are numbers or booleans in the JSON bodies.
_NUMERIC = frozenset({"amount", "failedAttemptsCount", "shareholderDepth", "depth"})
_BOOLEAN = frozenset(
    {"isClient", "isVpn", "isProxy", "isNewDevice", "skipRulesExecution", "executeRules"}
)


class InvalidRowError(ValueError):
    """An input row is not a JSON object (or not valid JSON); nothing was sent for it."""


@attrs.frozen
class BadRow:
    """A row that could not be read: where it was, its text, and why."""

    line: int
    text: str
    error: InvalidRowError


def detect_format(path: Path, requested: str | None) -> Format:
    """`jsonl` or `csv`, from `requested` or else the file name (`.csv` -> csv)."""
    if requested in ("jsonl", "csv"):
        return requested  # type: ignore[return-value]
    return "csv" if path.suffix.lower() == ".csv" else "jsonl"


def read_rows(path: Path, fmt: Format) -> Iterator[Row | BadRow]:
    """Yield each data row of the file (one at a time: memory stays flat)."""
    return _jsonl_rows(path) if fmt == "jsonl" else _csv_rows(path)


def count_rows(path: Path, fmt: Format) -> int:
    """How many rows `read_rows` will yield (for the progress bar's total)."""
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return max(0, sum(1 for record in csv.reader(handle) if record) - 1)
    count = 0
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                count += 1
    return count


def _jsonl_rows(path: Path) -> Iterator[Row | BadRow]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                value = json.loads(text)
            except ValueError as exc:
                yield BadRow(number, text, InvalidRowError(f"line {number}: not JSON: {exc}"))
                continue
            if not isinstance(value, dict):
                kind = type(value).__name__
                yield BadRow(
                    number, text, InvalidRowError(f"line {number}: a {kind}, not an object")
                )
                continue
            yield value


def _csv_rows(path: Path) -> Iterator[Row | BadRow]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            line = reader.line_num
            if None in row:  # more cells than headers
                text = json.dumps(row.get(None))
                yield BadRow(line, text, InvalidRowError(f"line {line}: more cells than columns"))
                continue
            try:
                yield _nest(row)
            except ValueError as exc:
                yield BadRow(line, json.dumps(row), InvalidRowError(f"line {line}: {exc}"))


def _nest(row: dict[str, str | None]) -> Row:
    """Empty cells are left out; `entityData.firstName` columns become nested objects."""
    out: Row = {}
    for column, cell in row.items():
        if cell is None or cell == "":
            continue
        *parents, leaf = column.split(".")
        target = out
        for part in parents:
            child = target.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"column {column!r} clashes with column {part!r}")
            target = child
        target[leaf] = _cell(leaf, cell)
    return out


def _cell(name: str, cell: str) -> Any:
    if name in _NUMERIC:
        try:
            number = float(cell)
        except ValueError:
            raise ValueError(f"{name} must be a number, got {cell!r}") from None
        return int(number) if number.is_integer() and "." not in cell else number
    if name in _BOOLEAN:
        lowered = cell.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"{name} must be true or false, got {cell!r}")
    return cell
