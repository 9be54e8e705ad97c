"""The live progress display of an ingestion, and the ETA it shows.

The ETA is computed from the quota, not only from the past rate: with 9,000 rows left and
a 1,200-an-hour plan, the answer is "about 7.5 hours" even if the first 100 rows flew by
in a second. For every window the governor tracks, the rows left are spent first from
what is available now, then from one full window per period after its reset; the slowest
window decides. The recent request rate bounds it from below (the quota may be ample
while the server is slow).
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from .. import Gu1Client
from ..governor import WindowStats
from ..ingest import Ingestion
from ._limits import next_wait

__all__ = ["IngestProgress", "format_duration", "quota_eta"]

_RATE_WINDOW = 3.0  # seconds of history behind the requests/s figure


def quota_eta(remaining: int, windows: Sequence[WindowStats], rate: float | None) -> float:
    """Seconds until `remaining` more requests can have been sent.

    Args:
        remaining: requests still to send (one per row; retries make it an estimate).
        windows: the governor's windows now.
        rate: the recent requests per second, or None when unknown.
    """
    if remaining <= 0:
        return 0.0
    eta = 0.0
    for window in windows:
        available = max(window.available, 0)
        if remaining <= available:
            continue
        refills = math.ceil((remaining - available) / window.limit)
        eta = max(eta, window.reset_in + (refills - 1) * window.period)
    if rate:
        eta = max(eta, remaining / rate)
    return eta


def format_duration(seconds: float) -> str:
    """`42s`, `3m05s`, `2h07m`."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s" if seconds >= 1 else f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class IngestProgress:
    """A rich progress bar fed from the run's report and the governor's stats.

    Columns: done/total, failed, requests/s, the governor's current wait, ETA.
    """

    def __init__(
        self,
        run: Ingestion[object, object],
        client: Gu1Client,
        *,
        total: int | None,
        description: str,
        console: Console,
        enabled: bool = True,
        refresh: float = 0.25,
        rows_per_request: float = 1.0,
    ) -> None:
        self._run = run
        self._rows_per_request = rows_per_request
        self._client = client
        self._total = total
        self._refresh = refresh
        self._history: collections.deque[tuple[float, int]] = collections.deque()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("{task.fields[rate]} req/s"),
            TextColumn("wait {task.fields[wait]}"),
            TextColumn("ETA {task.fields[eta]}"),
            console=console,
            disable=not enabled,
            refresh_per_second=8,
        )
        self._task = self._progress.add_task(
            description, total=total, failed=0, rate="-", wait="0s", eta="-"
        )
        self._ticker: asyncio.Task[None] | None = None

    def update(self) -> None:
        """Refresh every column from the current counters."""
        report = self._run.report()
        stats = self._client.governor.stats()
        now = time.monotonic()
        self._history.append((now, stats.granted))
        while len(self._history) > 2 and now - self._history[0][0] > _RATE_WINDOW:
            self._history.popleft()
        rate = None
        (t0, g0), (t1, g1) = self._history[0], self._history[-1]
        if t1 > t0:
            rate = (g1 - g0) / (t1 - t0)
        done = report.succeeded + report.failed + report.skipped
        eta = "-"
        if self._total is not None:
            # Bulk jobs carry many rows per request: the quota counts requests, not rows.
            requests_left = math.ceil((self._total - done) / self._rows_per_request)
            eta = format_duration(quota_eta(requests_left, stats.windows, rate or None))
        self._progress.update(
            self._task,
            completed=done,
            failed=report.failed,
            rate="-" if rate is None else f"{rate:.1f}",
            wait=format_duration(next_wait(stats)),
            eta=eta,
        )

    async def _tick(self) -> None:
        while True:
            self.update()
            await asyncio.sleep(self._refresh)

    def __enter__(self) -> IngestProgress:
        self._progress.start()
        self._ticker = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        self.update()
        self._progress.stop()
