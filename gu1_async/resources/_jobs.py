"""Following an asynchronous bulk job to its end (gu1-api.md §2.2 #25, §6.4)."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from gu1_async._errors import APITimeoutError, ConfigurationError
from gu1_async.models import BatchJob

__all__ = ["ProgressCallback", "poll_job"]

ProgressCallback = Callable[[BatchJob], Awaitable[None] | None]
"""Called with each polled job; may be a plain function or a coroutine function."""


async def poll_job(
    fetch: Callable[[], Awaitable[BatchJob]],
    *,
    job_id: str,
    poll_interval: float,
    timeout: float | None,
    on_progress: ProgressCallback | None,
    sleep: Callable[[float], Awaitable[Any]],
) -> BatchJob:
    """Call `fetch` every `poll_interval` seconds until the job is terminal.

    Raises:
        ConfigurationError: poll_interval <= 0 or timeout < 0.
        APITimeoutError: the job is still running after `timeout` seconds.
    """
    if poll_interval <= 0:
        raise ConfigurationError(f"poll_interval must be > 0, got {poll_interval}")
    if timeout is not None and timeout < 0:
        raise ConfigurationError(f"timeout must be >= 0, got {timeout}")
    started = time.monotonic()
    slept = 0.0
    while True:
        job = await fetch()
        if on_progress is not None:
            outcome = on_progress(job)
            if inspect.isawaitable(outcome):
                await outcome
        if job.is_terminal:
            return job
        # Elapsed time counts both the real clock and the time asked to sleep, so an
        # injected (instant) sleep still reaches the timeout deterministically.
        elapsed = max(time.monotonic() - started, slept)
        if timeout is not None and elapsed >= timeout:
            raise APITimeoutError(
                f"bulk job {job_id} still {job.status!r} after {timeout:g} s "
                f"({job.processed}/{job.total_items} items processed)",
                method="GET",
                path=f"/batch-import/jobs/{job_id}",
                sent=True,
            )
        delay = poll_interval if timeout is None else min(poll_interval, timeout - elapsed)
        await sleep(delay)
        slept += delay
