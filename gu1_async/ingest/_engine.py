"""The ingestion engine: bounded concurrency over any (async) iterable, outcomes streamed.

Pull-based, with no background task: each `__anext__` tops up the in-flight sends from
the input, then waits for the first one to finish. Nothing runs while nobody iterates, so
a slow consumer slows the reading down (backpressure), and memory holds at most
`concurrency` items — started or finished-but-not-yet-yielded — whatever the input size.

The engine knows nothing of HTTP: `send_one(item)` is any coroutine function. It is
called the moment an item is taken, in input order, and its awaitable is awaited later:
a plain function returning a future may therefore collect items before sending them
(the bulk path groups rows into jobs this way, see `_bulk.py`). The
resources build it from their idempotent upsert/create (see `_senders.py`); the quota
pacing happens below, in the governor, where every request waits for its slot.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from gu1_async._errors import AuthenticationError, PermissionDeniedError

from ._report import IngestReport, Outcome

__all__ = ["DEFAULT_CONCURRENCY", "FATAL_ERRORS", "Ingestion", "ingest"]

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_CONCURRENCY = 16
FATAL_ERRORS: tuple[type[BaseException], ...] = (AuthenticationError, PermissionDeniedError)
"""Errors that would fail every following item the same way: the run stops taking items."""


class Ingestion(Generic[T, R], AsyncIterator[Outcome[T, R]]):
    """Send every item with `send_one`, at most `concurrency` at a time; iterate the outcomes.

    Outcomes arrive in completion order, one per item that was not skipped. Use it as an
    async context manager so that leaving early (break, exception) cancels what is in
    flight::

        async with ingest(rows, send_one) as run:
            async for outcome in run:
                ...
        print(run.report().summary())

    Args:
        items: any iterable or async iterable; read lazily, never held as a whole.
        send_one: the coroutine function that sends one item and returns its result.
        concurrency: most items started and not yet yielded at any time.
        skip: `skip(index)` true means the item is counted as skipped and not sent
            (resuming from a checkpoint).
        fatal: exception types that stop the run (the failing item is still reported).

    Raises:
        ValueError: concurrency below 1.
    """

    def __init__(
        self,
        items: Iterable[T] | AsyncIterable[T],
        send_one: Callable[[T], Awaitable[R]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        skip: Callable[[int], bool] | None = None,
        fatal: tuple[type[BaseException], ...] = FATAL_ERRORS,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self._sync: Iterator[T] | None = None
        self._async: AsyncIterator[T] | None = None
        if isinstance(items, AsyncIterable):
            self._async = aiter(items)
        else:
            self._sync = iter(items)
        self._send_one = send_one
        self._concurrency = concurrency
        self._skip = skip
        self._fatal = fatal
        self._sending: dict[asyncio.Task[R], tuple[int, T]] = {}
        self._reader: asyncio.Future[T] | None = None
        self._ready: collections.deque[Outcome[T, R]] = collections.deque()
        self._input_error: BaseException | None = None
        self._exhausted = False
        self._stopped = False
        self._stop_reason: str | None = None
        self._aborted = False
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._read = self._succeeded = self._failed = self._skipped = self._cancelled = 0
        self._errors: collections.Counter[str] = collections.Counter()

    # -- control -------------------------------------------------------------------------

    def stop(self, reason: str = "stopped") -> None:
        """Take no new items; the ones in flight finish and are still yielded."""
        if not self._stopped:
            self._stopped = True
            self._stop_reason = reason
        self._cancel_reader()

    def abort(self, reason: str = "aborted") -> None:
        """Stop and cancel what is in flight; those items are counted as `cancelled`.

        Outcomes already finished are still yielded, so a checkpoint stays exact.
        """
        self.stop(reason)
        self._aborted = True
        for task in self._sending:
            task.cancel()

    async def aclose(self) -> None:
        """Abort and wait for the cancelled sends to end (outcomes left are dropped)."""
        self.abort("closed")
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
            self._take_read()
        if self._sending:
            await asyncio.wait(list(self._sending))
            self._collect(list(self._sending))
        self._ready.clear()
        self._mark_ended()

    def report(self) -> IngestReport:
        """The counters now (live during the run, final after it)."""
        return IngestReport(
            read=self._read,
            succeeded=self._succeeded,
            failed=self._failed,
            skipped=self._skipped,
            cancelled=self._cancelled,
            in_flight=len(self._sending),
            elapsed=self._elapsed(),
            exhausted=self._exhausted,
            stopped=self._stopped,
            stop_reason=self._stop_reason,
            errors=dict(self._errors),
        )

    async def run(self) -> IngestReport:
        """Consume every outcome (discarding them) and return the final report."""
        async with self:
            async for _ in self:
                pass
        return self.report()

    # -- iteration -----------------------------------------------------------------------

    def __aiter__(self) -> Ingestion[T, R]:
        return self

    async def __anext__(self) -> Outcome[T, R]:
        if self._started_at is None:
            self._started_at = asyncio.get_running_loop().time()
        while not self._ready:
            self._fill()
            waiting: set[asyncio.Future[Any]] = set(self._sending)
            if self._reader is not None:
                waiting.add(self._reader)
            if not waiting:
                self._mark_ended()
                if self._input_error is not None:
                    error, self._input_error = self._input_error, None
                    raise error
                raise StopAsyncIteration
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if self._reader is not None and self._reader in done:
                self._take_read()
            self._collect([t for t in done if t is not self._reader and t in self._sending])
        return self._ready.popleft()

    async def __aenter__(self) -> Ingestion[T, R]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._sending or self._reader is not None:
            await self.aclose()

    # -- internals -----------------------------------------------------------------------

    def _room(self) -> bool:
        return len(self._sending) + len(self._ready) < self._concurrency

    def _fill(self) -> None:
        """Start sends until the concurrency bound, the input's end or a stop."""
        if self._sync is not None:
            while not self._stopped and not self._exhausted and self._room():
                try:
                    item = next(self._sync)
                except StopIteration:
                    self._exhausted = True
                except Exception as exc:  # a broken input: finish what is in flight, then raise
                    self._input_failed(exc)
                else:
                    self._accept(item)
        elif (
            self._async is not None
            and self._reader is None
            and not self._stopped
            and not self._exhausted
            and self._room()
        ):
            self._reader = asyncio.ensure_future(_next(self._async))

    def _take_read(self) -> None:
        reader, self._reader = self._reader, None
        assert reader is not None
        if reader.cancelled():
            return
        error = reader.exception()
        if isinstance(error, StopAsyncIteration):
            self._exhausted = True
        elif error is not None:
            self._input_failed(error)
        else:
            self._accept(reader.result())

    def _accept(self, item: T) -> None:
        index = self._read
        self._read += 1
        if self._skip is not None and self._skip(index):
            self._skipped += 1
            return
        if self._aborted:  # read just as the run was aborted: never sent
            self._cancelled += 1
            return
        task = asyncio.ensure_future(self._send_one(item))
        self._sending[task] = (index, item)

    def _collect(self, done: list[asyncio.Task[R]]) -> None:
        # Input order among simultaneous completions keeps outcomes deterministic.
        for task in sorted(done, key=lambda t: self._sending[t][0]):
            index, item = self._sending.pop(task)
            if task.cancelled():
                self._cancelled += 1
                continue
            error = task.exception()
            if error is None:
                self._succeeded += 1
                self._ready.append(Outcome(index, item, result=task.result()))
                continue
            if not isinstance(error, Exception):  # KeyboardInterrupt, SystemExit...
                raise error
            self._failed += 1
            self._errors[type(error).__name__] += 1
            self._ready.append(Outcome(index, item, error=error))
            if isinstance(error, self._fatal):
                self.stop(f"{type(error).__name__}: every further item would fail the same way")

    def _input_failed(self, error: BaseException) -> None:
        self._input_error = error
        self.stop(f"the input raised {type(error).__name__}")

    def _cancel_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()

    def _elapsed(self) -> float:
        if self._started_at is None:
            return 0.0
        end = self._ended_at
        if end is None:
            end = asyncio.get_running_loop().time()
        return end - self._started_at

    def _mark_ended(self) -> None:
        if self._ended_at is None and self._started_at is not None:
            self._ended_at = asyncio.get_running_loop().time()


async def _next(iterator: AsyncIterator[T]) -> T:
    return await iterator.__anext__()


def ingest(
    items: Iterable[T] | AsyncIterable[T],
    send_one: Callable[[T], Awaitable[R]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    skip: Callable[[int], bool] | None = None,
    fatal: tuple[type[BaseException], ...] = FATAL_ERRORS,
) -> Ingestion[T, R]:
    """An `Ingestion` of `items` through `send_one` (see `Ingestion` for the arguments)."""
    return Ingestion(items, send_one, concurrency=concurrency, skip=skip, fatal=fatal)
