"""The rejects file of `gu1 ingest`: one JSON line per failed row, with its error.

Each line holds the row's index, the input row exactly as read (so the file can be fixed
and fed back to `gu1 ingest`), and the error's class name, message, and HTTP status and
code when gu1 answered. A row that could not be read keeps its line number and its whole
text; one whose bytes would not decode keeps those bytes too, base64-encoded, because JSON
can hold only text.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from ._rows import BadRow

__all__ = ["Rejects", "describe_failures", "reject_record"]

_MAX_MESSAGE = 300  # characters of each first error shown: one line, not a body dump


def reject_record(index: int, row: Any, error: BaseException) -> dict[str, Any]:
    """The JSON object written for one failed row."""
    details: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    for name in ("status", "code", "request_id"):
        value = getattr(error, name, None)
        if value is not None:
            details[name] = value
    if isinstance(row, BadRow):
        record = {"index": index, "line": row.line, "text": row.text, "error": details}
        if row.raw is not None:
            record["raw_base64"] = base64.b64encode(row.raw).decode("ascii")
        return record
    return {"index": index, "row": row, "error": details}


class Rejects:
    """Appends failed rows to a JSONL file, opened on the first failure."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = 0
        self._handle: IO[str] | None = None

    def write(self, index: int, row: Any, error: BaseException) -> None:
        """Append one failed row and flush it (the checkpoint is written after this)."""
        if self._handle is None:
            self._handle = self.path.open("a", encoding="utf-8")
        record = reject_record(index, row, error)
        self._handle.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
        self._handle.flush()
        self.written += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def describe_failures(counts: Mapping[str, int], first: Mapping[str, BaseException]) -> list[str]:
    """One line per kind of failure: how many, and the first one's message (the reason).

    "2000 failed" alone does not say whether the server was down, the key wrong or the
    rows bad; the first error of each kind does, without printing 2,000 of them.
    """
    lines = []
    for name, count in sorted(counts.items()):
        line = f"{name} x{count}"
        error = first.get(name)
        if error is not None:
            message = " ".join(str(error).split()) or "(no message)"
            if len(message) > _MAX_MESSAGE:
                message = message[: _MAX_MESSAGE - 1] + "…"
            line += f", the first: {message}"
        lines.append(line)
    return lines
