"""`gu1 ingest --shard K/N`: one machine's stable share of an input file's rows.

N processes (on one machine or many) each run `gu1 ingest FILE --shard K/N` on the same
file, K = 1..N, and together send every row exactly once: each row belongs to exactly
one shard, decided by the row alone, so the shares never overlap or leave a gap whatever
order the processes start in or how often they are resumed.

* `--shard-by row` (default): row number modulo N, the cheapest.
* `--shard-by external-id`: a SHA-256 of the row's `externalId`, modulo N, so all rows
  about one entity land in the same shard even if the file is reordered between runs or
  split differently (Python's `hash()` is salted per process and would not do). A row
  without an `externalId`, or that could not be read, falls back to its row number.

Each shard numbers its rows 0, 1, 2... in file order: that is what its checkpoint
records (so its low-water mark folds as usual), and `ShardedRows.number_of` turns it back
into the row's number in the file for the rejects file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

__all__ = ["SHARD_BY", "Shard", "ShardedRows", "rows_in_shard"]

SHARD_BY = ("row", "external-id")


@attrs.frozen
class Shard:
    """Shard `index` of `count` (1-based, as `--shard 2/3` says), by row or externalId."""

    index: int = 1
    count: int = 1
    by: str = "row"

    @classmethod
    def parse(cls, text: str, by: str = "row") -> Shard:
        """`"K/N"` with 1 <= K <= N.

        Raises:
            ValueError: not of that form.
        """
        k, slash, n = text.partition("/")
        if not (slash and k.strip().isdigit() and n.strip().isdigit()):
            raise ValueError(f"--shard takes K/N (e.g. 2/3), not {text!r}")
        index, count = int(k), int(n)
        if not 1 <= index <= count:
            raise ValueError(f"--shard {text}: K must be between 1 and N")
        if by not in SHARD_BY:
            raise ValueError(f"--shard-by must be one of {', '.join(SHARD_BY)}")
        return cls(index, count, by)

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def suffix(self) -> str:
        """What the shard's own files add to the input's name: `.shard-2-of-3`."""
        return f".shard-{self.index}-of-{self.count}" if self.count > 1 else ""

    def owns(self, number: int, row: Any) -> bool:
        """Whether the row at `number` (0-based, in the file) is this shard's."""
        if self.count == 1:
            return True
        key = row.get("externalId") if self.by == "external-id" and isinstance(row, dict) else None
        if key is None or key == "":
            bucket = number % self.count
        else:
            digest = hashlib.sha256(str(key).encode("utf-8")).digest()
            bucket = int.from_bytes(digest[:8], "big") % self.count
        return bucket == self.index - 1


class ShardedRows:
    """The shard's rows of `rows`, in order, each remembered by its number in the file
    until its outcome (or its skip) has been seen."""

    def __init__(self, rows: Iterable[Any], shard: Shard) -> None:
        self._rows = rows
        self._shard = shard
        self._numbers: dict[int, int] = {}

    def __iter__(self) -> Iterator[Any]:
        local = 0
        for number, row in enumerate(self._rows):
            if self._shard.owns(number, row):
                self._numbers[local] = number
                local += 1
                yield row

    def number_of(self, local: int) -> int:
        """The file row number of the shard's row `local`, forgotten once asked."""
        return self._numbers.pop(local, local)

    def skipping(self, is_done: Callable[[int], bool]) -> Callable[[int], bool]:
        """`is_done` for the engine's `skip`, forgetting the rows it skips (no outcome)."""

        def skip(local: int) -> bool:
            if is_done(local):
                self._numbers.pop(local, None)
                return True
            return False

        return skip


def rows_in_shard(total: int, shard: Shard, rows: Callable[[], Iterable[Any]]) -> int:
    """How many of the file's `total` rows are the shard's; `rows()` reads them only when
    the share depends on their content (`--shard-by external-id`)."""
    if shard.count == 1:
        return total
    if shard.by == "row":
        return len(range(shard.index - 1, total, shard.count))
    return sum(1 for number, row in enumerate(rows()) if shard.owns(number, row))
