"""The RedisStore's scripts, how it reaches Redis, and the state the scripts store.

The Lua files in `_lua/` port `_window.py` and `MemoryStore`, one script per operation
(`_redis_scripts.py` reads them); `_lua/lib/head.lua` documents the arguments and the
state's layout, which `_redis_state.decode_state` reads back.

`Link` sends the scripts. It talks to Redis over connections of its own, made by the
client's connection pool (so with the client's address, credentials, TLS, database and
retry policy), and sends each call as one pre-packed `EVALSHA`: no per-call pool checkout
or command encoding, one timer per call (retries included), the reply read raw.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from ._redis_scripts import script_source

__all__ = ["NOPLAN", "Link", "Lost", "Words", "script_source"]

_log = logging.getLogger("gu1_async.governor.redis")

Lost = Callable[[list[Any]], Awaitable[None]]
"""What to do with the answer to a call whose caller went away (e.g. give a take back)."""

Words = tuple[bytes, ...]
"""A script call's keys, or its arguments, encoded."""

NOPLAN = -1
"""A script's first reply item when the state is missing and no plan came with the call."""

_OPERATIONS = ("take", "estimate", "end", "record", "pause", "cancel", "dispatch")
"""One script each, `_lua/<operation>.lua` (`_redis_scripts.script_source`)."""

MAX_CONNECTIONS = 8
"""Connections a link opens at most; more calls at once wait for one to be free (a burst
of permit ends must not open a connection each)."""

_QUIET_TURNS = 3
"""`Link.settle`: loop turns in a row with no call in flight before the link counts as
settled. A permit given back by a waiter cancelled as it was granted reaches the store on
the second turn after the cancellation (the waiter's handler spawns the update, which
starts on the next turn)."""


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%b\r\n" % (len(value), value)


def _packed(*words: bytes) -> bytes:
    """A command in the Redis protocol (requests are arrays of bulk strings, RESP2 or 3)."""
    return b"*%d\r\n" % len(words) + b"".join(map(_bulk, words))


class Link:
    """How the stores of one Redis client reach it; `RedisStore.bind()` shares it.

    Args:
        client: a `redis.asyncio.Redis`. A client without a connection pool is called
            through its `execute_command` instead.
        timeout: seconds any one call may take, retries included; None: the client's
            socket timeout, or 1 s.
        make: makes a connection (default: the client's pool's); a Redis Cluster link
            (`_redis_cluster.py`) keeps one Link per node, each with that node's.
        scripts: the scripts' sources and SHAs, shared by the links of one cluster.
    """

    def __init__(
        self,
        client: Any,
        timeout: float | None,
        *,
        sharded: bool = False,
        make: Callable[[], Any] | None = None,
        scripts: tuple[dict[str, str], dict[str, bytes]] | None = None,
    ) -> None:
        from redis.client import NEVER_DECODE
        from redis.exceptions import NoScriptError, ResponseError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self.client = client
        self.source, self.sha = scripts or _scripts(sharded)
        pool = getattr(client, "connection_pool", None)
        kwargs = getattr(pool, "connection_kwargs", None) or {}
        bounds = [t for t in (timeout, kwargs.get("socket_timeout")) if t]
        self.bound = min(bounds) if bounds else 1.0
        """Seconds any one call may take, retries included."""
        self._make: Callable[[], Any] | None = make or getattr(pool, "make_connection", None)
        self._idle: list[Any] = []
        self._all: list[Any] = []
        self._waiting: deque[asyncio.Future[Any]] = deque()  # calls waiting for a connection
        self._commands: dict[tuple[str, tuple[bytes, ...], int], bytes] = {}
        self.calls = 0
        """Calls made (all stores on this link): benchmarks count round trips with it."""
        self.busy = 0
        """Calls in flight (all stores on this link)."""
        self._quiet: asyncio.Future[None] | None = None
        self._draining: set[Any] = set()  # their last answer is being read in the background
        self._stale: set[Any] = set()  # their last answer may be unread: reconnect first
        self._tasks: set[asyncio.Task[None]] = set()
        self._never_decode = {NEVER_DECODE: True}
        self._no_script = NoScriptError
        self._response_error = ResponseError
        self._timeout_error = RedisTimeoutError

    async def call(
        self, operation: str, keys: Words, args: Words, lost: Lost | None = None
    ) -> list[Any]:
        """EVALSHA of `operation` on `keys`; the reply is never decoded.

        On NOSCRIPT (first use, a Redis restart, SCRIPT FLUSH) the script is loaded and
        called again. If the caller goes away (cancelled, or out of time) once the script
        is on its way, its answer is still read, in the background, and handed to `lost`
        (a take that Redis granted must be given back).
        """
        self.busy += 1
        self.calls += 1
        try:
            if self._make is None:
                return await self._call_client(operation, keys, args)
            head = self._commands.get((operation, keys, len(args)))
            if head is None:
                head = self._head(operation, keys, len(args))
            command = head + b"".join([_bulk(a) for a in args])
            idle = self._idle
            if idle:
                conn = idle.pop()
            elif len(self._all) < MAX_CONNECTIONS:
                conn = self._connection()
            else:
                conn = await self._next_free()
            if self._stale and conn in self._stale:
                self._stale.discard(conn)
                with contextlib.suppress(Exception):
                    await conn.disconnect(nowait=True)
            try:
                # The client's retry policy (e.g. reconnect once after a restart), all of
                # it within one bound: a timer per call, not one per socket operation.
                reply: list[Any] = await _within(
                    self.bound,
                    conn.retry.call_with_retry(
                        lambda: self._attempt(conn, operation, command, lost),
                        lambda _error: conn.disconnect(),
                    ),
                )
            except self._response_error:
                self._free(conn)  # the reply was read: the connection is in step
                raise
            except BaseException as exc:
                if conn not in self._draining:
                    # Whatever was left unread must never pass for the next call's reply.
                    with contextlib.suppress(Exception):
                        await conn.disconnect(nowait=True)
                    self._free(conn)
                if isinstance(exc, asyncio.TimeoutError):
                    raise self._timeout_error(
                        f"Timeout: no answer from Redis within {self.bound:g} s"
                    ) from None
                raise
            self._free(conn)
            return reply
        finally:
            self._done()

    async def settle(self, seconds: float) -> None:
        """Wait (at most `seconds`) until no call has been in flight for a few loop turns.

        What the governor spawned just before (a permit's end, its give-back when the
        waiter was cancelled as it was granted, a 429 pause) reaches Redis first.
        """
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        quiet = 0
        while quiet < _QUIET_TURNS:
            await asyncio.sleep(0)
            if not self.busy:
                quiet += 1
                continue
            quiet = 0
            left = end - loop.time()
            if left <= 0:
                return
            self._quiet = loop.create_future()
            await asyncio.wait({self._quiet}, timeout=left)

    async def aclose(self) -> None:
        """Close the link's connections (a later call opens them again)."""
        self._stale.clear()
        for conn in self._all:
            with contextlib.suppress(Exception):
                await conn.disconnect()

    # -- internals ------------------------------------------------------------------------

    def _head(self, operation: str, keys: tuple[bytes, ...], count: int) -> bytes:
        """The packed EVALSHA up to its `count` arguments (kept: one key set per store)."""
        words = (b"EVALSHA", self.sha[operation], b"%d" % len(keys), *keys)
        head = b"*%d\r\n" % (len(words) + count) + b"".join(map(_bulk, words))
        self._commands[(operation, keys, count)] = head
        return head

    async def _next_free(self) -> Any:
        """The next connection a call frees (every one is busy), within the call's bound."""
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await _within(self.bound, waiter)
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self._free(waiter.result())  # handed over just as we gave up: pass it on
            if isinstance(exc, asyncio.TimeoutError):
                raise self._timeout_error(
                    f"Timeout: no free connection to Redis within {self.bound:g} s"
                ) from None
            raise

    def _free(self, conn: Any) -> None:
        """The call is done with `conn`: to the longest-waiting call, or idle."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _connection(self) -> Any:
        assert self._make is not None
        conn = self._make()
        conn.socket_timeout = None  # each call is bounded as a whole (`call`)
        self._all.append(conn)
        return conn

    async def _attempt(self, conn: Any, operation: str, command: bytes, lost: Lost | None) -> Any:
        try:
            return await self._exchange(conn, command, lost)
        except self._no_script:
            # The same call as EVAL, which also caches the script (on this node: each
            # Redis Cluster node has a script cache of its own).
            by_sha = _bulk(b"EVALSHA") + _bulk(self.sha[operation])
            by_source = _bulk(b"EVAL") + _bulk(self.source[operation].encode())
            return await self._exchange(conn, command.replace(by_sha, by_source, 1), lost)

    async def _exchange(self, conn: Any, command: bytes, lost: Lost | None) -> Any:
        """Send one packed command and read its reply, undecoded (redis-py's Connection)."""
        await conn.send_packed_command(command, check_health=False)
        try:
            # Not disconnected if interrupted: the reply can still be read (`_drain`).
            return await conn.read_response(disable_decoding=True, disconnect_on_error=False)
        except asyncio.CancelledError:
            # The command is in Redis, or on its way: it will run. Read its answer in the
            # background (the connection stays in step) and hand it to `lost`.
            self._draining.add(conn)
            self.busy += 1
            task = asyncio.get_running_loop().create_task(self._drain(conn, lost))
            self._tasks.add(task)
            task.add_done_callback(partial(self._drained, conn))
            raise

    async def _drain(self, conn: Any, lost: Lost | None) -> None:
        """Read the answer its caller gave up on, free the connection, hand it to `lost`."""
        reply = None
        try:
            reply = await _within(
                self.bound, conn.read_response(disable_decoding=True, disconnect_on_error=False)
            )
        except self._response_error:
            pass  # read (NOSCRIPT: the script never ran): the connection is in step
        except BaseException as exc:
            self._stale.add(conn)
            if not isinstance(exc, Exception):
                raise
            _log.warning("governor store: the answer to an abandoned call was lost: %r", exc)
        finally:
            self._draining.discard(conn)
            self._free(conn)
        if lost is not None and isinstance(reply, list):
            try:
                await lost(reply)
            except Exception as exc:  # nobody is left to tell but the log
                _log.warning("governor store: an abandoned take was not given back: %r", exc)

    def _drained(self, conn: Any, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if conn in self._draining:  # cancelled before it began: the answer is still unread
            self._draining.discard(conn)
            self._stale.add(conn)
            self._free(conn)
        self._done()

    def _done(self) -> None:
        self.busy -= 1
        if not self.busy and self._quiet is not None and not self._quiet.done():
            self._quiet.set_result(None)

    async def _call_client(
        self, operation: str, keys: tuple[bytes, ...], args: tuple[bytes, ...]
    ) -> list[Any]:
        """The same call through the client's `execute_command` (a client without a pool);
        on NOSCRIPT, EVAL (command names and the SHA as str: redis-py routes on them)."""
        client = self.client
        sha = self.sha[operation].decode()
        reply: list[Any]
        try:
            call = client.execute_command(
                "EVALSHA", sha, len(keys), *keys, *args, **self._never_decode
            )
            reply = await _within(self.bound, call)
        except self._no_script:
            source = self.source[operation]
            call = client.execute_command(
                "EVAL", source, len(keys), *keys, *args, **self._never_decode
            )
            reply = await _within(self.bound, call)
        return reply


def _scripts(sharded: bool) -> tuple[dict[str, str], dict[str, bytes]]:
    source = {op: script_source(op, sharded=sharded) for op in _OPERATIONS}
    return source, {op: hashlib.sha1(s.encode()).hexdigest().encode() for op, s in source.items()}


if sys.version_info >= (3, 11):

    async def _within(seconds: float, call: Awaitable[Any]) -> Any:
        async with asyncio.timeout(seconds):
            return await call

else:  # pragma: no cover - Python 3.10

    async def _within(seconds: float, call: Awaitable[Any]) -> Any:
        return await asyncio.wait_for(call, seconds)
