"""The fleet queue's worker side: tickets that wait in Redis, granted over pub/sub.

A refused take with a ticket joins one FIFO queue per priority in Redis (`_lua/lib/queue.lua`).
Whoever frees room there grants the heads and publishes each grant on its worker's channel;
this module listens on that channel (one connection per store, subscribed before the first
ticket is sent, so no grant can find nobody listening), resolves the waiting futures, gives
back a grant whose waiter has gone, and, when it owns the queue's head, keeps the one timer
at which the head's turn can come (the `h` notice). Waiting costs Redis nothing else.

If the subscription drops, Redis may have published grants nobody heard: it undid them and
dropped this worker's tickets (PUBLISH answered 0), so every pending ticket is resolved
False ("ask again") and the governor takes again. On Redis Cluster the channel is a sharded
one (SSUBSCRIBE, on the master of the keys' slot); a failover or a moved slot ends it
(the connection drops, or the server sends `sunsubscribe`): the same, and the next
channel opens on the slot's new master.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from ._redis_cluster import ClusterLink
from ._redis_lua import Link, Lost, _packed, _within
from ._store import MemoryStore

__all__ = ["Fleet", "FleetStore", "Ticket"]

_log = logging.getLogger("gu1_async.governor.redis")


class Ticket:
    """One request waiting in the fleet queue: its number and what it waits on.

    `future` resolves True when Redis granted it (a token now counts in this worker's
    lease), False when the worker lost its place (the subscription dropped): ask again.
    """

    __slots__ = ("future", "id")

    def __init__(self, ticket_id: bytes, future: asyncio.Future[bool]) -> None:
        self.id = ticket_id
        self.future = future


class Fleet:
    """A store's tickets and its subscription to its worker's channel.

    Args:
        connect: makes a new connection to the Redis (node) holding the store's keys;
            its argument is True when an earlier channel dropped.
        channel: the worker's channel.
        sharded: subscribe with SSUBSCRIBE (Redis Cluster) rather than SUBSCRIBE.
        bound: seconds the subscription may take to be confirmed.
        give_back: returns a granted token nobody waits for any more (never sent).
        dispatch: asks Redis to grant the queue's heads (the head's timer).
    """

    def __init__(
        self,
        connect: Callable[[bool], Awaitable[Any]],
        channel: bytes,
        *,
        sharded: bool,
        bound: float,
        give_back: Callable[[], Awaitable[None]],
        dispatch: Callable[[], Awaitable[None]],
    ) -> None:
        self._connect = connect
        self._channel = channel
        self._subscribe = b"SSUBSCRIBE" if sharded else b"SUBSCRIBE"
        self._bound = bound
        self._give_back = give_back
        self._dispatch = dispatch
        self._pending: dict[bytes, asyncio.Future[bool]] = {}
        self._next = 0
        self._opened = 0  # channels opened so far
        self._reader: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.messages = 0
        """Messages received (benchmarks report them beside the round trips)."""

    @property
    def waiting(self) -> int:
        """Tickets whose answer has not come yet."""
        return len(self._pending)

    async def listen(self) -> None:
        """Be subscribed (one round trip the first time, and after a dropped connection)."""
        ready = self._ready
        if ready is not None and ready.done() and ready.exception() is None:
            return  # (the common case: subscribed, and still listening)
        if ready is None or ready.done():
            ready = self._ready = asyncio.get_running_loop().create_future()
            self._reader = asyncio.get_running_loop().create_task(self._read(ready))
        await _within(self._bound, asyncio.shield(ready))

    def ticket(self) -> Ticket:
        """A new ticket, registered before it is sent (its grant may beat the reply)."""
        self._next += 1
        ticket = Ticket(b"%d" % self._next, asyncio.get_running_loop().create_future())
        self._pending[ticket.id] = ticket.future
        return ticket

    def forget(self, ticket: Ticket) -> None:
        """Its waiter is gone: a grant that still comes for it is given back."""
        self._pending.pop(ticket.id, None)

    async def aclose(self) -> None:
        """Stop listening; pending tickets are told to ask again."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    # -- internals ------------------------------------------------------------------------

    async def _read(self, ready: asyncio.Future[None]) -> None:
        conn: Any = None
        try:
            self._opened += 1
            conn = await _within(self._bound, self._connect(self._opened > 1))
            conn.socket_timeout = None  # waits for grants as long as it takes
            await _within(self._bound, conn.connect())
            await conn.send_packed_command(_packed(self._subscribe, self._channel))
            while True:
                # (push_request: RESP3 sends pub/sub messages as pushes.)
                message = await conn.read_response(
                    disable_decoding=True, disconnect_on_error=False, push_request=True
                )
                kind = message[0]
                if kind in (b"message", b"smessage"):
                    self.messages += 1
                    self._on_message(message[2])
                elif kind in (b"subscribe", b"ssubscribe") and not ready.done():
                    ready.set_result(None)
                elif kind in (b"unsubscribe", b"sunsubscribe"):
                    # Redis Cluster: the slot moved (a failover): its grants go elsewhere.
                    raise ConnectionError("the server ended the grant channel")
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(
                    exc if isinstance(exc, Exception) else ConnectionError("closed")
                )
                ready.exception()  # (retrieved: the caller may have gone)
            if isinstance(exc, Exception):
                _log.debug("governor store: the grant channel dropped: %r", exc)
            if self._ready is ready:
                self._ready = None  # the next ticket subscribes again
            self._lost()
            if not isinstance(exc, Exception):
                raise
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.disconnect(nowait=True)

    def _on_message(self, data: bytes) -> None:
        words = data.split()
        if not words:
            return
        if words[0] == b"g":
            for ticket_id in words[1:]:
                future = self._pending.pop(ticket_id, None)
                if future is not None and not future.done():
                    future.set_result(True)
                else:  # its waiter went away meanwhile: the token goes back
                    self._spawn(self._give_back())
        elif words[0] == b"h" and len(words) == 3:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            wait_us = int(words[2])
            if words[1] in self._pending and wait_us >= 0:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(wait_us / 1e6, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self._pending:
            self._spawn(self._dispatch())

    def _lost(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_result(False)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.get_running_loop().create_task(_logged(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class FleetStore:
    """The RedisStore's fleet-queue half (a mixin: it shares the store's state)."""

    _client: Any
    _degraded: bool
    _errors: tuple[type[BaseException], ...]
    _fallback: MemoryStore
    _fleet: Fleet
    _key: str
    _keys: tuple[bytes, bytes]
    _lease_arg: str
    _link: Link | ClusterLink
    _local_out: int
    _next_probe: float
    _recheck: float

    def _args(self, now: float, *fields: str) -> bytes:
        raise NotImplementedError

    def _failed(self, now: float, exc: BaseException) -> None:
        raise NotImplementedError

    async def _run(
        self, operation: str, now: float, args: bytes, lost: Lost | None = None
    ) -> list[Any] | None:
        raise NotImplementedError

    # -- the fleet queue --------------------------------------------------------------------

    async def aqueue(
        self, now: float, priority: int, limit: float | None
    ) -> tuple[int, float, Ticket | None]:
        """Take, or wait in the fleet's queue for this priority, in one round trip.

        Returns `(1, 0, None)`: granted; `(2, wait, ticket)`: queued, `ticket.future`
        says when Redis grants it (`wait` is the estimate); `(0, wait, None)`: not queued,
        because the wait exceeds `limit`, or because the local fallback answers (the
        governor then waits locally).
        """
        reserved = priority > 0
        if not (self._degraded and now < self._next_probe):
            try:
                await self._fleet.listen()  # before the ticket: its grant must be heard
            except self._errors as exc:
                self._failed(now, exc)
        if self._degraded and now < self._next_probe:
            return await self._local_take(now, reserved)
        ticket = self._fleet.ticket()
        most = "-" if limit is None else repr(float(limit))
        args = self._args(now, str(int(reserved)), "0", self._lease_arg, ticket.id.decode(), most)
        try:
            reply = await self._run("take", now, args, partial(self._abandoned, now, ticket))
        except BaseException:
            self._fleet.forget(ticket)
            raise
        if reply is None or reply[0] != 2:
            self._fleet.forget(ticket)
        if reply is None:
            return await self._local_take(now, reserved)
        if reply[0] == 2:
            return 2, reply[1] / 1e6, ticket
        if reply[0] == 1:
            return 1, 0.0, None
        return 0, reply[1] / 1e6 or self._recheck, None

    async def acancel(self, now: float, ticket: Ticket) -> None:
        """A queued request gave up: its ticket leaves the queue (a grant that beat it
        is given back when its message comes)."""
        self._fleet.forget(ticket)
        await self._run("cancel", now, self._args(now, ticket.id.decode()))

    async def _local_take(self, now: float, reserved: bool) -> tuple[int, float, None]:
        granted, wait = await self._fallback.atake(now, reserved, 0)
        self._local_out += granted
        return int(granted), wait, None

    async def _abandoned(self, now: float, ticket: Ticket | None, reply: list[Any]) -> None:
        """A take whose caller went away (cancelled, or out of time) once it was sent: if
        Redis granted it, the token goes back at once, as never sent; if it queued it, the
        ticket leaves the queue (straight to Redis, even if the store has fallen back to
        local meanwhile).

        Raises:
            redis.exceptions.RedisError: Redis failed (the link logs it).
        """
        if reply[0] == 1:
            await self._give_back_granted()
        elif reply[0] == 2 and ticket is not None:
            self._fleet.forget(ticket)
            await self._link.call("cancel", self._keys, (self._args(now, ticket.id.decode()),))

    async def _give_back_granted(self) -> None:
        """A granted token nobody waits for any more goes back to Redis, as never sent."""
        args = self._args(0.0, "0", "0", "-", "-", "-")
        await self._link.call("end", self._keys, (args,))

    async def _dispatch(self) -> None:
        """The queue's head is ours and its turn can have come: let Redis grant."""
        now = asyncio.get_running_loop().time()
        await self._run("dispatch", now, self._args(now))

    async def _connector(self, again: bool) -> Any:
        """A new connection to the Redis (node) holding this store's keys (pub/sub)."""
        if isinstance(self._link, ClusterLink):
            return await self._link.connection(self._keys[0], again)
        return self._client.connection_pool.make_connection()


async def _logged(coro: Awaitable[None]) -> None:
    try:
        await coro
    except Exception as exc:  # nobody is left to tell but the log
        _log.warning("governor store: a fleet queue update failed: %r", exc)
