"""Read input rows lazily from JSONL or CSV, one dict per row, in a stable order.

A row's index is its position among the data rows (blank lines are not rows), so the same
file always numbers its rows the same way: the checkpoint relies on that. A row that cannot
be read (invalid JSON, a cell too many, bytes that are not text in the file's encoding) is
not an exception that ends the run: it becomes a `BadRow` holding its line number and raw
text (and raw bytes, when they would not decode), which the run reports as a failure and
writes to the rejects file, without sending anything.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

import attrs

__all__ = [
    "BadRow",
    "InvalidRowError",
    "Row",
    "UndecodableRowError",
    "UnreadableFileError",
    "check_encoding",
    "count_rows",
    "detect_format",
    "read_rows",
]

Format = Literal["jsonl", "csv"]
Row = dict[str, Any]

DEFAULT_ENCODING = "utf-8"

# CSV cells are text; these gu1 fields are numbers or booleans in the JSON bodies.
_NUMERIC = frozenset({"amount", "failedAttemptsCount", "shareholderDepth", "depth"})
_BOOLEAN = frozenset(
    {"isClient", "isVpn", "isProxy", "isNewDevice", "skipRulesExecution", "executeRules"}
)
# What `errors="surrogateescape"` turns each undecodable byte into: valid text in any
# encoding never holds these lone surrogates, so finding one means the row did not decode.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_BOM = codecs.BOM_UTF8


class InvalidRowError(ValueError):
    """An input row is not a JSON object (or not valid JSON); nothing was sent for it."""


class UndecodableRowError(InvalidRowError):
    """An input row has bytes that are not text in the file's encoding; nothing was sent."""


class UnreadableFileError(ValueError):
    """The input cannot be read at all: an unusable encoding, or a CSV header that won't decode."""


@attrs.frozen
class BadRow:
    """A row that could not be read: where it was, its text, its bytes if undecodable, and why.

    `text` is the row as it stands in the file (a CSV row whole, every cell); for a row that
    would not decode, undecodable bytes show as `\\xe9` escapes and `raw` holds the bytes.
    """

    line: int
    text: str
    error: InvalidRowError
    raw: bytes | None = None


def check_encoding(encoding: str) -> str:
    """The codec's canonical name, if rows can be split on its newline bytes.

    Raises:
        UnreadableFileError: an unknown codec, or one (UTF-16, UTF-32) whose newline and
            comma are not the ASCII bytes: such files must be converted first.
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise UnreadableFileError(
            f"unknown encoding {encoding!r}; try utf-8, utf-8-sig, latin-1 or cp1252"
        ) from None
    if '\n,"'.encode(_plain(name), errors="replace") != b'\n,"':
        raise UnreadableFileError(
            f"encoding {encoding!r} is not ASCII-compatible; convert the file to UTF-8 "
            f"first (e.g. iconv -f {encoding} -t UTF-8)"
        )
    return name


def detect_format(path: Path, requested: str | None) -> Format:
    """`jsonl` or `csv`, from `requested` or else the file name (`.csv` -> csv)."""
    if requested in ("jsonl", "csv"):
        return requested  # type: ignore[return-value]
    return "csv" if path.suffix.lower() == ".csv" else "jsonl"


def read_rows(path: Path, fmt: Format, encoding: str = DEFAULT_ENCODING) -> Iterator[Row | BadRow]:
    """Yield each data row of the file (one at a time: memory stays flat).

    Raises:
        UnreadableFileError: see `check_encoding`; a CSV header that does not decode.
    """
    codec = check_encoding(encoding)
    return _jsonl_rows(path, codec) if fmt == "jsonl" else _csv_rows(path, codec)


def count_rows(path: Path, fmt: Format, encoding: str = DEFAULT_ENCODING) -> int:
    """How many rows `read_rows` will yield (for the progress bar's total).

    Raises:
        UnreadableFileError: as `read_rows` would, before any row is sent.
    """
    codec = check_encoding(encoding)
    if fmt == "csv":
        with _open_text(path, codec) as handle:
            records = (record for record in csv.reader(handle) if record)
            header = next(records, None)
            if header is not None:
                _check_header(header, codec)
            return sum(1 for _ in records)
    count = 0
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                count += 1
    return count


def _jsonl_rows(path: Path, codec: str) -> Iterator[Row | BadRow]:
    # Bytes, split on b"\n" only, decoded line by line: one bad byte costs one row.
    with path.open("rb") as handle:
        for number, raw_line in enumerate(handle, start=1):
            raw = raw_line.rstrip(b"\r\n")
            if number == 1 and codec.startswith("utf-8") and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            try:
                text = raw.decode(codec).strip()
            except UnicodeDecodeError:
                yield _undecodable(number, raw, codec)
                continue
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


def _csv_rows(path: Path, codec: str) -> Iterator[Row | BadRow]:
    with _open_text(path, codec) as handle:
        consumed: list[str] = []  # the physical lines of the record being read

        def lines() -> Iterator[str]:
            for line in handle:
                consumed.append(line)
                yield line

        reader = csv.reader(lines())
        header: list[str] | None = None
        while True:
            consumed.clear()
            start = reader.line_num + 1
            record = next(reader, None)
            if record is None:
                return
            if not record:  # a blank line
                continue
            if header is None:
                header = _check_header(record, codec)
                continue
            text = "".join(consumed).rstrip("\r\n")
            if _ESCAPED_BYTE.search(text) is not None:
                yield _undecodable(start, text.encode(_plain(codec), "surrogateescape"), codec)
                continue
            if len(record) > len(header):
                extra = len(record) - len(header)
                error = InvalidRowError(
                    f"line {start}: {len(record)} cells but {len(header)} columns "
                    f"(more cells than columns: {extra} too many)"
                )
                yield BadRow(start, text, error)
                continue
            row: dict[str, str | None] = dict.fromkeys(header)
            row.update(zip(header, record, strict=False))  # a short row: the rest are empty
            try:
                yield _nest(row)
            except ValueError as exc:
                yield BadRow(start, text, InvalidRowError(f"line {start}: {exc}"))


def _open_text(path: Path, codec: str) -> IO[str]:
    # newline="" as the csv module asks; surrogateescape keeps undecodable bytes as lone
    # surrogates, so one bad row does not end the file and its bytes can be recovered.
    # utf-8-sig for utf-8: a BOM at the start of the file is dropped, not read as text.
    opened = "utf-8-sig" if codec == "utf-8" else codec
    return path.open(newline="", encoding=opened, errors="surrogateescape")


def _plain(codec: str) -> str:
    """The codec to turn text back into the file's bytes (utf-8-sig would add a BOM)."""
    return "utf-8" if codec == "utf-8-sig" else codec


def _check_header(header: list[str], codec: str) -> list[str]:
    if any(_ESCAPED_BYTE.search(name) for name in header):
        raise UnreadableFileError(
            f"the CSV header (its first line) is not valid {codec}; pass --encoding with "
            "the file's encoding (e.g. --encoding latin-1 or cp1252)"
        )
    return header


def _undecodable(line: int, raw: bytes, codec: str) -> BadRow:
    try:
        raw.decode(codec)
        offset = 0  # not reached: only rows that failed to decode come here
    except UnicodeDecodeError as exc:
        offset = exc.start
    byte = raw[offset : offset + 1].hex() or "?"
    error = UndecodableRowError(
        f"line {line}: not valid {codec} (byte 0x{byte} at byte {offset + 1} of the row); "
        "if the file is in another encoding, run again with --encoding (e.g. latin-1)"
    )
    return BadRow(line, raw.decode(_plain(codec), errors="backslashreplace"), error, raw)


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
