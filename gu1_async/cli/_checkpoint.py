"""The checkpoint of `gu1 ingest`: which input rows are finished, surviving any crash.

The file is an append-only log. Its first line is a JSON header naming the input (path,
size, kind) so that a resume against another file is refused. Every following line is
either `<index>` — row `index` finished (succeeded, or failed and went to the rejects
file) — or `<N` — every row below N finished, the compact form written when a run starts.

Why a log and not a rewritten file: each finished row costs one small append, flushed to
the operating system at once, so even `kill -9` loses nothing that had finished (the
kernel still writes the page cache out); only a power cut can lose the tail, and `fsync`
every second bounds that. On load the indices fold into a low-water mark plus the few
finished rows above it, so memory stays small however long the log grew.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import IO, Any

__all__ = ["Checkpoint", "CheckpointMismatchError"]

_VERSION = 1
_FSYNC_EVERY = 1.0  # seconds


class CheckpointMismatchError(Exception):
    """The checkpoint belongs to another input file or kind (or is not a checkpoint)."""


class Checkpoint:
    """Finished input rows: a low-water mark plus the finished rows above it.

    Use `Checkpoint.open(...)`, then `is_done(index)` to skip and `record(index)` after each
    row ends; `close()` fsyncs.
    """

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.header = header
        self.low_water = 0
        self.above: set[int] = set()
        self.finished_before = 0
        self._handle: IO[str] | None = None
        self._last_sync = time.monotonic()

    @classmethod
    def open(
        cls, path: Path, *, input_path: Path, kind: str, resume: bool, shard: str | None = None
    ) -> Checkpoint:
        """Start a fresh checkpoint, or (resume) load the old one and compact it.

        With `shard` ("2/3", "2/3 by external-id"), the indices are the shard's own row
        numbers, and only the same shard may resume it.

        Raises:
            CheckpointMismatchError: resuming a checkpoint of another input, kind or shard.
        """
        header: dict[str, Any] = {
            "gu1_checkpoint": _VERSION,
            "input": str(input_path.resolve()),
            "size": input_path.stat().st_size,
            "kind": kind,
        }
        if shard is not None:  # absent, not null: checkpoints of unsharded runs stay as they were
            header["shard"] = shard
        checkpoint = cls(path, header)
        if resume and path.exists():
            checkpoint._load()
        checkpoint._rewrite()
        return checkpoint

    # -- queries ---------------------------------------------------------------------------

    def is_done(self, index: int) -> bool:
        """Whether row `index` finished in an earlier run (or this one)."""
        return index < self.low_water or index in self.above

    @property
    def finished(self) -> int:
        """Rows recorded as finished, all runs together."""
        return self.low_water + len(self.above)

    # -- updates ---------------------------------------------------------------------------

    def record(self, index: int) -> None:
        """Append `index` as finished and hand it to the OS now (fsync at most every 1 s)."""
        self._add(index)
        handle = self._require_handle()
        handle.write(f"{index}\n")
        handle.flush()
        now = time.monotonic()
        if now - self._last_sync >= _FSYNC_EVERY:
            os.fsync(handle.fileno())
            self._last_sync = now

    def close(self) -> None:
        """Flush and fsync; idempotent."""
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _add(self, index: int) -> None:
        if index < self.low_water:
            return
        self.above.add(index)
        self._fold()

    def _fold(self) -> None:
        while self.low_water in self.above:  # the contiguous prefix joins the mark
            self.above.remove(self.low_water)
            self.low_water += 1

    def _raise_mark(self, mark: int) -> None:
        """Every row below `mark` is finished."""
        if mark <= self.low_water:
            return
        self.low_water = mark
        self.above = {i for i in self.above if i >= mark}
        self._fold()

    def _load(self) -> None:
        with self.path.open(encoding="utf-8") as handle:
            first = handle.readline()
            try:
                old = json.loads(first)
            except ValueError:
                old = None
            if not isinstance(old, dict) or old.get("gu1_checkpoint") != _VERSION:
                raise CheckpointMismatchError(f"{self.path} is not a gu1 ingest checkpoint")
            for name in ("input", "size", "kind", "shard"):
                if old.get(name) != self.header.get(name):
                    raise CheckpointMismatchError(
                        f"{self.path} was written for {name}={old.get(name)!r}, not "
                        f"{self.header.get(name)!r}; use --restart to start over"
                    )
            for line in handle:
                if not line.endswith("\n"):
                    # A torn last line (the process died mid-write: "2" of "25") must not
                    # mark another row finished. Ignored, row 25 is simply sent again.
                    break
                text = line.strip()
                if text.startswith("<") and text[1:].isdigit():
                    self._raise_mark(int(text[1:]))
                elif text.isdigit():
                    self._add(int(text))
        self.finished_before = self.finished

    def _rewrite(self) -> None:
        """Write the compact form to a temporary file, fsync, and rename it into place."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.header) + "\n")
            if self.low_water:
                handle.write(f"<{self.low_water}\n")
            for index in sorted(self.above):
                handle.write(f"{index}\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        self._handle = self.path.open("a", encoding="utf-8")

    def _require_handle(self) -> IO[str]:
        if self._handle is None:
            raise RuntimeError("the checkpoint is closed")
        return self._handle
